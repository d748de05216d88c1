"""The realtime endpoint `GET /ws`: one resident's connection, from hello to goodbye (docs/protocol.md).

Every message is validated and bounded (size by aiohttp's max_msg_size, rate by token buckets, shape by
pydantic); a violation closes THIS connection with a specific code and reason, and nothing else. One task
reads, one task writes; the writer sends queued control messages, then the newest frame, so a client that
stops reading only ever costs one frame slot and a bounded queue. Compression is off (it costs CPU and
memory for small binary frames).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from typing import Annotated, Any, Literal

from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .codec import PROTOCOL_VERSION, CodecError, decode_pose
from .errors import ApiError
from .metrics import Metrics
from .ratelimit import TokenBucket
from .rooms import MAX_INSTANCE, Member, Room, Rooms

log = logging.getLogger("civic.realtime")

MAX_MESSAGE = 4096
HELLO_TIMEOUT = 10.0
HEARTBEAT = 10.0
SEND_TIMEOUT = 5.0  # a client that takes longer than this to accept one message is too slow

CLOSE_PROTOCOL = 4000
CLOSE_BAD_MESSAGE = 4001
CLOSE_ROOM_FULL = 4003
CLOSE_SCENE_NOT_FOUND = 4004
CLOSE_RATE_LIMITED = 4008
CLOSE_TOO_SLOW = 4009

NAME_PATTERN = re.compile(r"^[\w .,'()\-]{1,32}$")
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Hello(Message):
    type: Literal["hello"]
    protocol: int
    scene: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    instance: int = Field(default=1, ge=1, le=MAX_INSTANCE)
    name: Name | None = None


class Chat(Message):
    type: Literal["chat"]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class Rename(Message):
    type: Literal["rename"]
    name: Name


class Closing(Exception):
    """Close this connection with a protocol code and reason."""

    def __init__(self, code: int, reason: str, message: str | None = None) -> None:
        super().__init__(reason)
        self.code, self.reason, self.message = code, reason, message


def clean_name(name: str | None) -> str:
    if name is None:
        return "Guest"
    if not NAME_PATTERN.match(name) or "\n" in name:
        raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Names use letters, digits, spaces and .,'-_() only.")
    return name


def parse_json(data: str) -> dict[str, Any]:
    try:
        message = json.loads(data)
    except json.JSONDecodeError:
        raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Messages must be JSON.") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Messages must be objects with a type.")
    return message


def check_origin(request: web.Request, allowed: frozenset[str]) -> None:
    """Browsers always send Origin on a WebSocket upgrade: it must be this site or an allowed one.
    Non-browser clients (bots, tests) may omit it; they cannot ride a resident's browser anyway."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    own = {f"{scheme}://{request.host}" for scheme in ("http", "https")}
    if origin not in own and origin not in allowed:
        raise ApiError(403, "origin_not_allowed", "This page may not connect here.")


class Connection:
    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None, rooms: Rooms,
                 metrics: Metrics, tick_hz: float) -> None:
        self.ws, self.transport, self.rooms, self.metrics = ws, transport, rooms, metrics
        self.poses = TokenBucket(rate=2 * tick_hz, burst=4 * tick_hz)
        self.control = TokenBucket(rate=10, burst=20)
        self.chat_lines = TokenBucket(rate=0.5, burst=5)
        self.room: Room | None = None
        self.member: Member | None = None

    async def run(self) -> None:
        writer: asyncio.Task[None] | None = None
        watchdog: asyncio.Task[None] | None = None
        try:
            await self._join()
            writer = asyncio.ensure_future(self._write())
            watchdog = asyncio.ensure_future(self._watch(writer))
            await self._read()
        except Closing as closing:
            await self._close(closing)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("connection failed")
            self._stop_frames()
            self.metrics.closed.labels("internal_error").inc()
            await self.ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal_error")
        finally:
            self._stop_frames()
            for task in (writer, watchdog):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            if self.room is not None and self.member is not None:
                reason = "timeout" if self.ws.close_code == WSCloseCode.ABNORMAL_CLOSURE else "left"
                await self.room.remove(self.member, reason)
                self.metrics.members.dec()

    def _stop_frames(self) -> None:
        """Nothing may follow the close frame: the tick stops writing to this socket."""
        if self.member is not None:
            self.member.transport = None

    async def _close(self, closing: Closing) -> None:
        self._stop_frames()
        self.metrics.closed.labels(closing.reason).inc()
        if closing.message and not self.ws.closed:
            with contextlib.suppress(Exception):
                error = {"type": "error", "code": closing.reason, "message": closing.message}
                await self.ws.send_str(json.dumps(error))
        await self.ws.close(code=closing.code, message=closing.reason.encode())

    async def _join(self) -> None:
        try:
            first = await self.ws.receive(timeout=HELLO_TIMEOUT)
        except TimeoutError:
            raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Say hello first.") from None
        if first.type != WSMsgType.TEXT:
            self._raise_for_non_text(first)
        raw = parse_json(first.data)
        if raw.get("type") == "hello" and raw.get("protocol") != PROTOCOL_VERSION:
            raise Closing(CLOSE_PROTOCOL, "protocol_version",
                          f"This server speaks protocol {PROTOCOL_VERSION}; please reload the page.")
        try:
            hello = Hello.model_validate(raw)
        except ValidationError:
            raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "The first message must be a valid hello.") from None
        name = clean_name(hello.name)
        room = await self.rooms.get(hello.scene, hello.instance)
        if room is None:
            raise Closing(CLOSE_SCENE_NOT_FOUND, "scene_not_found", "There is no scene with this id.")
        member = await room.admit(name)
        if member is None:
            await self.ws.send_str(json.dumps({
                "type": "error", "code": "room_full", "message": "This room is full; another instance is open.",
                "overflow": {"scene": hello.scene, "instance": min(hello.instance + 1, MAX_INSTANCE)},
            }))
            raise Closing(CLOSE_ROOM_FULL, "room_full")
        self.room, self.member = room, member
        self.metrics.members.inc()
        # Welcome first, then anything else: room events wait in the outbox until the writer starts, and the
        # tick writes pose frames only once it has the socket.
        await self.ws.send_str(json.dumps({
            "type": "welcome", "protocol": PROTOCOL_VERSION, "id": member.id, "name": member.name,
            "room": room.scene_id, "instance": room.instance, "tickHz": self.rooms.tick_hz,
            "bounds": room.bounds, "members": room.roster_list(), "capacity": room.capacity,
        }, ensure_ascii=False))
        member.transport = self.transport

    def _raise_for_non_text(self, message: Any) -> None:
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise Closing(WSCloseCode.OK, "left")
        if message.type == WSMsgType.ERROR:
            raise Closing(WSCloseCode.MESSAGE_TOO_BIG, "too_big")
        raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Say hello first.")

    async def _read(self) -> None:
        assert self.room is not None and self.member is not None
        room, member = self.room, self.member
        async for message in self.ws:
            if message.type == WSMsgType.BINARY:
                if not self.poses.allow():
                    raise Closing(CLOSE_RATE_LIMITED, "rate_limited")
                try:
                    room.set_pose(member, *decode_pose(message.data))
                except CodecError:
                    raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Binary messages must be 10-byte poses.") from None
            elif message.type == WSMsgType.TEXT:
                if not self.control.allow():
                    raise Closing(CLOSE_RATE_LIMITED, "rate_limited")
                await self._control(parse_json(message.data))
            elif message.type == WSMsgType.ERROR:
                # aiohttp reports an oversized message (and has closed with 1009) or a broken connection
                too_big = self.ws.close_code == WSCloseCode.MESSAGE_TOO_BIG
                self.metrics.closed.labels("too_big" if too_big else "connection_lost").inc()
                return
            if member.too_slow:
                raise Closing(CLOSE_TOO_SLOW, "too_slow")
        self._stop_frames()  # the client closed: aiohttp has answered with its close frame

    async def _control(self, raw: dict[str, Any]) -> None:
        assert self.room is not None and self.member is not None
        try:
            if raw["type"] == "chat":
                chat = Chat.model_validate(raw)
                if "\n" in chat.text or "\r" in chat.text:
                    raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Chat lines are single lines.")
                if not self.chat_lines.allow():
                    self.member.send({"type": "error", "code": "chat_rate_limited",
                                      "message": "Please wait a moment before sending another message."})
                    return
                self.room.chat(self.member, chat.text)
            elif raw["type"] == "rename":
                rename = Rename.model_validate(raw)
                await self.room.rename(self.member, clean_name(rename.name))
            else:
                raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Unknown message type.")
        except ValidationError:
            raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "The message does not have the expected fields.") from None

    async def _write(self) -> None:
        """Send the control messages the room queued (pose frames are written by the tick itself). A send only
        waits when the socket's buffer is full (the client stopped reading); `busy_since` lets the watchdog in
        `_watch` close such a connection after SEND_TIMEOUT without a timer per message."""
        assert self.member is not None
        member, ws = self.member, self.ws
        loop = asyncio.get_running_loop()
        while not ws.closed:
            await member.wake.wait()
            member.wake.clear()
            if member.too_slow:
                return  # the watchdog closes the connection
            member.busy_since = loop.time()
            while member.outbox:
                text = member.outbox.popleft()
                await ws.send_str(text)
                self.metrics.bytes_out.inc(len(text))
            member.busy_since = None

    async def _watch(self, writer: asyncio.Task[None]) -> None:
        """Once a second: a writer stuck on one send for SEND_TIMEOUT means the client stopped reading."""
        assert self.member is not None
        member = self.member
        loop = asyncio.get_running_loop()
        while not self.ws.closed:
            await asyncio.sleep(1.0)
            stuck = (member.busy_since is not None and loop.time() - member.busy_since > SEND_TIMEOUT) or (
                member.backed_up_since is not None and time.monotonic() - member.backed_up_since > SEND_TIMEOUT)
            if member.too_slow or stuck:
                self._stop_frames()
                writer.cancel()
                self.metrics.closed.labels("too_slow").inc()
                with contextlib.suppress(Exception):
                    await self.ws.close(code=CLOSE_TOO_SLOW, message=b"too_slow")
                return


async def websocket_handler(request: web.Request, rooms: Rooms, metrics: Metrics, tick_hz: float,
                            allowed_origins: frozenset[str],
                            sockets: set[web.WebSocketResponse]) -> web.WebSocketResponse:
    check_origin(request, allowed_origins)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE, compress=False)
    await ws.prepare(request)
    metrics.connections.inc()
    sockets.add(ws)
    try:
        await Connection(ws, request.transport, rooms, metrics, tick_hz).run()
    finally:
        sockets.discard(ws)
        metrics.connections.dec()
    return ws


async def say_goodbye(sockets: set[web.WebSocketResponse]) -> None:
    """Server shutdown: tell every resident, then close their sockets (1001, `server_shutdown`)."""
    goodbye = json.dumps({"type": "error", "code": "server_shutdown", "message": "The server is restarting."})
    for ws in list(sockets):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.send_str(goodbye), 1.0)
    await asyncio.gather(*(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server_shutdown")
                           for ws in list(sockets)), return_exceptions=True)
