"""Live stage audio of a meeting (issue 11): the audio WebSocket `GET /api/events/{event_id}/audio`.

One connection per page (a second tab is a second connection), apart from the presence socket /ws (docs/audio.md
says why). The handler only translates: the Origin is this site's (else 403 before the upgrade), the caller is a
staff member (session cookie) and/or a resident (signed cookie -> this event's handle; a first visit gets a fresh
identity and its cookie on the upgrade's answer), the event exists (else close 4004), is not over (4409) and the
handle is not banned (4403). Then `AudioHub` (server/events/audio.py) decides who may speak and relays the packets.
Every message is bounded (1024 bytes, else 1009) and checked; a client sending MAX_BAD_MESSAGES bad messages is
closed (4001)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import cast

from aiohttp import WSMsgType, web

from .. import auth
from ..errors import ApiError
from ..events.audio import (
    CLOSE_BAD_MESSAGE,
    CLOSE_BANNED,
    CLOSE_ENDED,
    CLOSE_NOT_FOUND,
    MAX_BAD_MESSAGES,
    MAX_MESSAGE_BYTES,
    AudioHub,
    Peer,
    Stage,
)
from ..events.handles import event_handle
from ..keys import CONFIG, EVENT_AUDIO, EVENTS, RESIDENTS, STORE
from ..realtime import check_origin
from .client import is_https
from .route import Call, Route

log = logging.getLogger("civic.audio")
HEARTBEAT = 20.0  # seconds between pings: a listener that stopped answering is closed
OVER = ("ended", "archived")


def parse_control(text: str) -> bool | None:
    """A client's text message -> the `mic` state it announces; None when it is not a valid `mic` message."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if (not isinstance(message, dict) or set(message) != {"type", "on"} or message["type"] != "mic"
            or not isinstance(message["on"], bool)):
        return None
    return cast(bool, message["on"])


async def audio_socket(call: Call) -> web.StreamResponse:
    request, app = call.request, call.app
    check_origin(request, app[CONFIG].allowed_origins)
    event_id = call.path_id("event_id", "event")
    residents = app[RESIDENTS]
    known = residents.identity(request)
    resident = known or residents.new_id()
    found = await auth.session_of(request, app[STORE])
    staff = found[0] if found else None
    # One byte over: aiohttp refuses a message of max_msg_size bytes; the protocol allows exactly 1024.
    ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES + 1, compress=False, heartbeat=HEARTBEAT)
    if known is None:
        residents.set_cookie(ws, resident, secure=is_https(request))
    try:
        await ws.prepare(request)
    except ConnectionError:
        return ws  # the client went away during the upgrade
    handle = event_handle(residents.key, event_id, resident)
    service = app[EVENTS]
    try:
        event = await service.event(event_id)
    except ApiError:
        await ws.close(code=CLOSE_NOT_FOUND, message=b"event_not_found")
        return ws
    if event["state"] in OVER:
        await ws.close(code=CLOSE_ENDED, message=b"ended")
        return ws
    if staff is None and await service.store.is_restricted(event_id, handle, "ban"):
        await ws.close(code=CLOSE_BANNED, message=b"banned")
        return ws
    transport = request.transport
    writer = cast(asyncio.WriteTransport, transport) if hasattr(transport, "get_write_buffer_size") else None
    peer = Peer(ws, writer, handle, staff)
    hub: AudioHub = app[EVENT_AUDIO]
    try:
        stage = await hub.join(event_id, peer)
    except ApiError:
        await ws.close(code=CLOSE_NOT_FOUND, message=b"event_not_found")
        return ws
    try:
        await _serve(hub, stage, peer)
        if peer.close_task is not None:  # the hub closed it: the handshake ends before the connection does
            await peer.close_task
    finally:
        await hub.leave(stage, peer)
    return ws


async def _serve(hub: AudioHub, stage: Stage, peer: Peer) -> None:
    ws, bad = peer.ws, 0
    async for message in ws:
        if message.type == WSMsgType.BINARY:
            if await hub.speak(stage, peer, message.data):
                continue
        else:
            on = parse_control(message.data) if message.type == WSMsgType.TEXT else None
            if on is not None:
                hub.mic(stage, peer, on)
                continue
            peer.error("bad_message", 'Send {"type":"mic","on":true|false} or binary audio packets.', 0.0)
        bad += 1
        if bad >= MAX_BAD_MESSAGES:
            peer.transport = None
            with contextlib.suppress(Exception):
                await ws.close(code=CLOSE_BAD_MESSAGE, message=b"bad_message")
            return


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/events/{event_id}/audio", audio_socket,
          "The stage audio WebSocket of a meeting (docs/protocol.md, Stage audio)", "events", documented=False),
)
