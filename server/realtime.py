"""The realtime endpoint `GET /ws`: one resident's connection, from hello to goodbye (docs/protocol.md).

Every message is validated and bounded (size by aiohttp's max_msg_size, rate by token buckets, shape by
pydantic); a violation closes THIS connection with a specific code and reason, and nothing else. WebSocket
pings and pongs are messages like any other: aiohttp's automatic answers are off, so they are counted against
the control budget and answered here. Connections per client address are capped. Everything the server sends
goes through the member's `Outbound` (server/outbound.py): the bounded queue, frames written straight to the
socket, our own pings and the watchdog that drops a client too slow to keep. Compression is off (it costs CPU
and memory for small binary frames).

Text a resident writes (chat, names) is stripped of control characters, bidirectional overrides and isolates
and line/paragraph separators before anyone else sees it: it can never reorder or break another resident's
page.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from aiohttp import WSCloseCode, WSMsgType, web, web_ws
from aiohttp._websocket.reader import WebSocketDataQueue
from aiohttp.http_websocket import WebSocketWriter
from aiohttp.web_request import BaseRequest
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .addresses import LOOPBACK, in_networks, networks
from .codec import CodecError, decode_pose
from .errors import ApiError
from .metrics import Metrics
from .protocol import (
    CHAT_BURST,
    CHAT_RATE,
    CLOSE_BAD_MESSAGE,
    CLOSE_PROTOCOL,
    CLOSE_RATE_LIMITED,
    CLOSE_ROOM_FULL,
    CLOSE_SCENE_NOT_FOUND,
    CLOSE_SCENE_PREPARING,
    CLOSE_TOO_MANY_CONNECTIONS,
    CLOSE_TOO_SLOW,
    CONTROL_BURST,
    CONTROL_RATE,
    HELLO_TIMEOUT_S,
    INSTANCE_MAX,
    INSTANCE_MIN,
    MAX_CHAT_LENGTH,
    MAX_JOINS_PER_ADDRESS,
    MAX_MESSAGE_BYTES,
    NAME_DEFAULT,
    NAME_MAX_LENGTH,
    POSE,
    POSE_BURST_TICKS,
    POSE_RATE_PER_TICK,
    POSE_SIZE,
    PREPARING_RETRY_SECONDS,
    PROTOCOL_VERSION,
    SCENE_ID_PATTERN,
    valid_name,
)
from .ratelimit import TokenBucket
from .rooms import Member, Room, Rooms

log = logging.getLogger("civic.realtime")

# Addresses the per-address cap does not apply to: this machine (the load generator, the tests, and a reverse
# proxy on the same host that is not listed in --trusted-proxies, which would otherwise put every resident
# behind one address and shut the site at MAX_JOINS_PER_ADDRESS residents).
CAP_EXEMPT = networks(frozenset(LOOPBACK))

# C0 and C1 controls, DEL, bidirectional embeddings/overrides (U+202A-202E) and isolates (U+2066-2069), and the
# line and paragraph separators (U+2028/2029).
UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH)]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Hello(Message):
    type: Literal["hello"]
    protocol: int
    scene: Annotated[str, StringConstraints(pattern=f"^{SCENE_ID_PATTERN.pattern}$")]
    instance: int = Field(default=INSTANCE_MIN, ge=INSTANCE_MIN, le=INSTANCE_MAX)
    name: Name | None = None


class Chat(Message):
    type: Literal["chat"]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CHAT_LENGTH)]


class Rename(Message):
    type: Literal["rename"]
    name: Name


class Closing(Exception):
    """Close this connection with a protocol code and reason."""

    def __init__(self, code: int, reason: str, message: str | None = None, **extra: Any) -> None:
        super().__init__(reason)
        self.code, self.reason, self.message, self.extra = code, reason, message, extra


def safe_text(text: str) -> str:
    """`text` without the characters in UNSAFE_TEXT, trimmed."""
    return UNSAFE_TEXT.sub("", text).strip()


def clean_name(name: str | None) -> str:
    if name is None:
        return NAME_DEFAULT
    cleaned = valid_name(safe_text(name))
    if cleaned is None:
        raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Names use letters, digits, spaces and .,'-_() only.")
    return cleaned


def parse_json(data: str) -> dict[str, Any]:
    try:
        message = json.loads(data)
    except RecursionError:
        raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Messages must not nest this deeply.") from None
    except ValueError:  # JSONDecodeError, and integers too long to convert
        raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Messages must be JSON.") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Messages must be objects with a type.")
    return message


def check_origin(request: web.Request, allowed: frozenset[str]) -> None:
    """Browsers always send Origin on a WebSocket upgrade: it must be this site or an allowed one. Other clients
    must send one too (this site's, or an allowed origin): a missing Origin is refused."""
    origin = request.headers.get("Origin")
    if origin is None:
        raise ApiError(403, "origin_required", "A WebSocket client must send an Origin header.")
    own = {f"{scheme}://{request.host}" for scheme in ("http", "https")}
    if origin not in own and origin not in allowed:
        raise ApiError(403, "origin_not_allowed", "This page may not connect here.")


class PoseQueue(WebSocketDataQueue):
    """aiohttp's queue of incoming messages, with a lean path for poses: `on_binary` (set once the resident has
    joined) takes a binary message as aiohttp's reader parses it and returns True when it handled it; anything
    else (text, pings, pongs, close, errors, and a pose it refuses) is queued for the connection's reader as
    before. Twenty poses a second per resident then cost no future, no task wake-up and no queue round trip."""

    on_binary: Callable[[bytes], bool] | None = None

    def feed_data(self, data: Any, size: int) -> None:
        on_binary = self.on_binary
        if on_binary is not None and data[0] is WSMsgType.BINARY and on_binary(data[1]):
            return
        super().feed_data(data, size)


class ResidentSocket(web.WebSocketResponse):
    """A /ws connection that remembers the client address it counts against (never logged, never stored), and
    whose incoming messages go through a `PoseQueue`."""

    address: str = ""

    def _post_start(self, request: BaseRequest, protocol: str | None, writer: WebSocketWriter) -> None:
        # aiohttp builds its queue from the module's name at this moment: the swap is synchronous (no other code
        # runs meanwhile). Should a future aiohttp build it otherwise, `pose_queue` is None and every message
        # takes the ordinary path.
        original = web_ws.WebSocketDataQueue
        web_ws.WebSocketDataQueue = PoseQueue  # type: ignore[misc]
        try:
            super()._post_start(request, protocol, writer)
        finally:
            web_ws.WebSocketDataQueue = original  # type: ignore[misc]

    @property
    def pose_queue(self) -> PoseQueue | None:
        reader = getattr(self, "_reader", None)
        return reader if isinstance(reader, PoseQueue) else None


class Connection:
    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None, rooms: Rooms,
                 metrics: Metrics, tick_hz: float, preparing: Callable[[str], bool] = lambda scene_id: False) -> None:
        self.ws, self.transport, self.rooms, self.metrics = ws, transport, rooms, metrics
        self.preparing = preparing  # is this scene id still being prepared (scene_preparing, not scene_not_found)?
        self.poses = TokenBucket(rate=POSE_RATE_PER_TICK * tick_hz, burst=POSE_BURST_TICKS * tick_hz)
        self.control = TokenBucket(rate=CONTROL_RATE, burst=CONTROL_BURST)  # text messages, pings and pongs
        self.chat_lines = TokenBucket(rate=CHAT_RATE, burst=CHAT_BURST)
        self.room: Room | None = None
        self.member: Member | None = None
        self.pose_refused = False  # the lean path found the pose budget spent: the reader closes the connection

    async def run(self) -> None:
        try:
            await self._join()
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
            if self.member is not None:
                await self.member.outbound.close()
            if self.room is not None and self.member is not None:
                outbound = self.member.outbound
                lost = outbound.timed_out or self.ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
                await self.room.remove(self.member, "timeout" if lost else "left")
                self.metrics.members.dec()

    def _stop_frames(self) -> None:
        """Nothing may follow the close frame: the tick stops writing to this socket."""
        if self.member is not None:
            self.member.outbound.stop()

    async def _close(self, closing: Closing) -> None:
        self._stop_frames()
        self.metrics.closed.labels(closing.reason).inc()
        if closing.message and not self.ws.closed:
            error = {"type": "error", "code": closing.reason, "message": closing.message, **closing.extra}
            await send_quietly(self.ws, json.dumps(error))
        await self.ws.close(code=closing.code, message=closing.reason.encode())

    def _count_control(self) -> None:
        if not self.control.allow():
            raise Closing(CLOSE_RATE_LIMITED, "rate_limited")

    async def _receive_hello(self) -> str:
        """The first text message. Pings before it are answered (and counted); anything else is refused."""
        try:
            async with asyncio.timeout(HELLO_TIMEOUT_S):
                while True:
                    first = await self.ws.receive()
                    if first.type == WSMsgType.TEXT:
                        return str(first.data)
                    if first.type in (WSMsgType.PING, WSMsgType.PONG):
                        self._count_control()
                        if first.type == WSMsgType.PING:
                            await self.ws.pong(first.data)
                        continue
                    self._raise_for_non_text(first)
        except TimeoutError:
            raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Say hello first.") from None

    async def _join(self) -> None:
        raw = parse_json(await self._receive_hello())
        if raw.get("type") == "hello" and raw.get("protocol") != PROTOCOL_VERSION:
            raise Closing(CLOSE_PROTOCOL, "protocol_version",
                          f"This server speaks protocol {PROTOCOL_VERSION}; please reload the page.")
        try:
            hello = Hello.model_validate(raw)
        except ValidationError:
            raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "The first message must be a valid hello.") from None
        name = clean_name(hello.name)
        room = await self.rooms.get(hello.scene, hello.instance)
        if room is None and self.preparing(hello.scene):
            raise Closing(CLOSE_SCENE_PREPARING, "scene_preparing", "This scene is being prepared; try again in a "
                          "few seconds.", retryAfter=PREPARING_RETRY_SECONDS)
        if room is None:
            raise Closing(CLOSE_SCENE_NOT_FOUND, "scene_not_found", "There is no scene with this id.")
        member = await room.admit(name)
        if member is None:
            full: dict[str, Any] = {"type": "error", "code": "room_full"}
            if hello.instance < INSTANCE_MAX:
                full["message"] = "This room is full; another instance is open."
                full["overflow"] = {"scene": hello.scene, "instance": hello.instance + 1}
            else:  # the last instance has nowhere to send anyone
                full["message"] = "Every instance of this scene is full; please try again later."
            await self.ws.send_str(json.dumps(full))
            raise Closing(CLOSE_ROOM_FULL, "room_full")
        self.room, self.member = room, member
        self.metrics.members.inc()
        # Welcome first, then anything else: room events wait in the outbox until the writer starts, and the
        # tick writes pose frames only once the outbound is attached to the socket.
        await self.ws.send_str(json.dumps({
            "type": "welcome", "protocol": PROTOCOL_VERSION, "id": member.id, "name": member.name,
            "room": room.scene_id, "instance": room.instance, "tickHz": self.rooms.tick_hz,
            "bounds": room.bounds, "members": room.roster_list(), "capacity": room.capacity,
        }, ensure_ascii=False))
        member.outbound.attach(self.ws, self.transport, self.metrics)
        if isinstance(self.ws, ResidentSocket) and (queue := self.ws.pose_queue) is not None:
            queue.on_binary = self._take_pose

    def _take_pose(self, data: bytes) -> bool:
        """The lean path for a pose (see `PoseQueue`): True when taken. A pose that is malformed, over budget,
        or arrives for a client already too slow goes to `_read`, which closes the connection as before."""
        member, room = self.member, self.room
        if member is None or room is None or member.outbound.too_slow or self.pose_refused:
            return False
        if len(data) != POSE_SIZE or data[0] != POSE:
            return False
        if not self.poses.allow():
            self.pose_refused = True
            return False
        room.set_pose_message(member, data)
        return True

    def _raise_for_non_text(self, message: Any) -> None:
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise Closing(WSCloseCode.OK, "left")
        if message.type == WSMsgType.ERROR:
            raise Closing(WSCloseCode.MESSAGE_TOO_BIG, "too_big")
        raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Say hello first.")

    async def _read(self) -> None:
        assert self.room is not None and self.member is not None
        room, member, outbound = self.room, self.member, self.member.outbound
        async for message in self.ws:
            if message.type == WSMsgType.BINARY:
                if self.pose_refused or not self.poses.allow():
                    raise Closing(CLOSE_RATE_LIMITED, "rate_limited")
                try:
                    room.set_pose(member, *decode_pose(message.data))
                except CodecError:
                    raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Binary messages must be 10-byte poses.") from None
            elif message.type == WSMsgType.TEXT:
                self._count_control()
                await self._control(parse_json(message.data))
            elif message.type == WSMsgType.PING:
                self._count_control()
                outbound.pong(message.data)
            elif message.type == WSMsgType.PONG:
                self._count_control()
                outbound.pong_received()
            elif message.type == WSMsgType.ERROR:
                # aiohttp reports an oversized message (and has closed with 1009) or a broken connection (which
                # the watchdog may have cut itself, and counted)
                if not (outbound.timed_out or outbound.too_slow):
                    too_big = self.ws.close_code == WSCloseCode.MESSAGE_TOO_BIG
                    self.metrics.closed.labels("too_big" if too_big else "connection_lost").inc()
                return
            if outbound.too_slow:
                raise Closing(CLOSE_TOO_SLOW, "too_slow")
        self._stop_frames()  # the client closed: aiohttp has answered with its close frame

    async def _control(self, raw: dict[str, Any]) -> None:
        assert self.room is not None and self.member is not None
        try:
            if raw["type"] == "chat":
                chat = Chat.model_validate(raw)
                if "\n" in chat.text or "\r" in chat.text:
                    raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Chat lines are single lines.")
                text = safe_text(chat.text)
                if not text:
                    raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Chat lines need some text.")
                if not self.chat_lines.allow():
                    self.member.outbound.offer({"type": "error", "code": "chat_rate_limited",
                                                "message": "Please wait a moment before sending another message."})
                    return
                self.room.chat(self.member, text)
            elif raw["type"] == "rename":
                rename = Rename.model_validate(raw)
                await self.room.rename(self.member, clean_name(rename.name))
            else:
                raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "Unknown message type.")
        except ValidationError:
            raise Closing(CLOSE_BAD_MESSAGE, "bad_message", "The message does not have the expected fields.") from None


async def send_quietly(ws: web.WebSocketResponse, text: str) -> None:
    """Send a last message before closing; a client already gone is no error."""
    with contextlib.suppress(Exception):
        await ws.send_str(text)


async def websocket_handler(request: web.Request, rooms: Rooms, metrics: Metrics, tick_hz: float,
                            allowed_origins: frozenset[str], sockets: set[web.WebSocketResponse],
                            preparing: Callable[[str], bool] = lambda scene_id: False) -> web.WebSocketResponse:
    check_origin(request, allowed_origins)
    # One byte over the limit: aiohttp refuses a message of max_msg_size bytes, the protocol allows exactly
    # MAX_MESSAGE_BYTES.
    ws = ResidentSocket(autoping=False, max_msg_size=MAX_MESSAGE_BYTES + 1, compress=False)
    ws.address = request.remote or ""
    try:
        await ws.prepare(request)
    except ConnectionError as aborted:
        # The client went away during the upgrade: routine on the internet, not a server error.
        log.info("websocket upgrade aborted", extra={"error": type(aborted).__name__})
        return ws
    if not in_networks(ws.address, CAP_EXEMPT):
        same = sum(1 for other in sockets if isinstance(other, ResidentSocket) and other.address == ws.address)
        if same >= MAX_JOINS_PER_ADDRESS:
            metrics.closed.labels("too_many_connections").inc()
            await send_quietly(ws, json.dumps({
                "type": "error", "code": "too_many_connections",
                "message": "Too many connections from your address; close another tab and try again."}))
            await ws.close(code=CLOSE_TOO_MANY_CONNECTIONS, message=b"too_many_connections")
            return ws
    metrics.connections.inc()
    sockets.add(ws)
    try:
        await Connection(ws, request.transport, rooms, metrics, tick_hz, preparing).run()
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
