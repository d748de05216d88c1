"""The outbound half of one resident's connection: everything the server sends them, and the watch over it.

The room only OFFERS to an `Outbound`: a control message (`offer`), queued, or a ready pose frame
(`offer_frame`), written straight to the socket or dropped. Nothing the room does ever waits for a client.
One writer task sends the queued control messages; one watchdog task pings the client and decides when it is
too slow to keep.

Invariants:
- The control queue holds at most OUTBOX_LIMIT messages; one more marks the client too slow (closed with
  CLOSE_TOO_SLOW), it never grows.
- Pose frames are never queued: a frame is written whole to the transport (no await, no task) or dropped
  (counted by the caller) when the socket already holds more than SOCKET_BACKLOG bytes; a newer frame replaces
  it next tick. Pings and pongs are written the same way. Control messages queued when a frame is written
  (the tick's room events) go out in the same write, before it, unless the writer is in the middle of a send.
- Nothing is written once `stop()` ran (the close frame must be the last frame on the wire).
- A client is dropped when a send of ours has been stuck for SEND_TIMEOUT seconds, when its socket has refused
  frames for SEND_TIMEOUT seconds, or when it leaves a ping of ours unanswered for PONG_TIMEOUT_S seconds.
  The ping runs on its own schedule, whatever the client sends: a client that sends but never reads stops
  answering pings and is dropped (aiohttp's own heartbeat is reset by incoming data, so it never noticed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from typing import Any, cast

from aiohttp import web

from .codec import TEXT, ws_frame
from .metrics import Metrics
from .protocol import CLOSE_TOO_SLOW, PING_INTERVAL_S, PONG_TIMEOUT_S

OUTBOX_LIMIT = 256  # control messages waiting for one slow client
SOCKET_BACKLOG = 64 * 1024  # bytes waiting in a socket before pose frames to it are dropped
SEND_TIMEOUT = 5.0  # seconds one send (or a refused socket) may last before the client counts as too slow
WATCH_EVERY = 1.0  # seconds between two looks of the watchdog
PING, PONG = 0x9, 0xA  # WebSocket control opcodes


def control_frame(opcode: int, payload: bytes = b"") -> bytes:
    """An unmasked WebSocket control frame (RFC 6455 §5.5: FIN set, payload at most 125 bytes)."""
    if len(payload) > 125:
        raise ValueError("control frame payload over 125 bytes")
    return bytes((0x80 | opcode, len(payload))) + payload


class Outbound:
    """What is on its way to one resident. Created with the member (offers may arrive before the socket is
    attached: they wait in the queue), attached once the welcome is sent, stopped when the connection closes."""

    ping_every = PING_INTERVAL_S
    pong_timeout = PONG_TIMEOUT_S

    def __init__(self) -> None:
        self.outbox: deque[str] = deque()
        self.too_slow = False  # the queue overflowed, a send stuck or frames were refused too long
        self.timed_out = False  # a ping went unanswered
        self._wake = asyncio.Event()
        self._transport: asyncio.WriteTransport | None = None
        self._busy_since: float | None = None  # monotonic time the writer started its current round of sends
        self._backed_up_since: float | None = None  # monotonic time since when the socket refused frames
        self._ping_sent: float | None = None  # monotonic time of the unanswered ping, if any
        self._tasks: list[asyncio.Task[None]] = []
        self._metrics: Metrics | None = None

    # --- what the room offers -------------------------------------------------------------------------------
    def offer(self, message: dict[str, Any] | str) -> None:
        """Queue a control message (a dict is encoded here; a str is sent as is, so a batch is encoded once)."""
        if len(self.outbox) >= OUTBOX_LIMIT:
            self.too_slow = True
        else:
            self.outbox.append(message if isinstance(message, str) else json.dumps(message, ensure_ascii=False))
        self._wake.set()

    def offer_frame(self, wire: bytes, now: float) -> bool:
        """Write a ready WebSocket frame straight to the socket. False when it was dropped: nothing to write to,
        or the client is not reading (the socket holds more than SOCKET_BACKLOG bytes)."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return False
        if transport.get_write_buffer_size() > SOCKET_BACKLOG:
            if self._backed_up_since is None:
                self._backed_up_since = now
            return False
        self._backed_up_since = None
        if self.outbox and self._busy_since is None and not self.too_slow:
            # The tick's room events were offered just before its frame: they go out in the same write (one
            # syscall per resident per tick), ahead of the frame as they were offered. Only when the writer is
            # idle, so that no send of its own is half-way.
            texts = list(self.outbox)
            self.outbox.clear()
            if self._metrics is not None:
                self._metrics.bytes_out.inc(sum(map(len, texts)))
            transport.write(b"".join([ws_frame(text.encode(), TEXT) for text in texts]) + wire)
        else:
            transport.write(wire)
        return True

    # --- what the connection tells it ---------------------------------------------------------------------------
    def attach(self, ws: web.WebSocketResponse, transport: asyncio.BaseTransport | None, metrics: Metrics) -> None:
        """Start sending: the writer and the watchdog run until `stop()`."""
        self._metrics = metrics
        # Any transport that writes (uvloop's are not subclasses of asyncio's classes, only alike).
        if transport is not None and hasattr(transport, "get_write_buffer_size"):
            self._transport = cast(asyncio.WriteTransport, transport)
        self._tasks = [asyncio.ensure_future(self._write(ws, metrics)),
                       asyncio.ensure_future(self._watch(ws, metrics))]

    def pong_received(self) -> None:
        self._ping_sent = None

    def pong(self, payload: bytes) -> None:
        """Answer a client's ping (the connection has counted it against the client's budget)."""
        self._write_control(PONG, payload)

    def stop(self) -> None:
        """Nothing more is written by us: the tick's frames, pings and pongs stop at once."""
        self._transport = None

    async def close(self) -> None:
        """Stop and wait for the writer and the watchdog to end."""
        self.stop()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- its own tasks ------------------------------------------------------------------------------------------
    def _write_control(self, opcode: int, payload: bytes = b"") -> None:
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(control_frame(opcode, payload))

    async def _write(self, ws: web.WebSocketResponse, metrics: Metrics) -> None:
        """Send the queued control messages. A send only waits when the socket's buffer is full (the client
        stopped reading); `_busy_since` lets the watchdog see that without a timer per message."""
        while not ws.closed:
            await self._wake.wait()
            self._wake.clear()
            if self.too_slow:
                return  # the watchdog closes the connection
            self._busy_since = time.monotonic()
            while self.outbox:
                text = self.outbox.popleft()
                await ws.send_str(text)
                metrics.bytes_out.inc(len(text))
            self._busy_since = None

    async def _watch(self, ws: web.WebSocketResponse, metrics: Metrics) -> None:
        last_ping = time.monotonic()
        while not ws.closed:
            await asyncio.sleep(min(WATCH_EVERY, self.ping_every, self.pong_timeout))
            now = time.monotonic()
            if self._stuck(now):
                self.too_slow = True
                await self._drop(ws, metrics, "too_slow")
                return
            if self._ping_sent is not None and now - self._ping_sent > self.pong_timeout:
                self.timed_out = True
                await self._drop(ws, metrics, "timeout")
                return
            if self._ping_sent is None and now - last_ping >= self.ping_every:
                self._ping_sent = last_ping = now
                self._write_control(PING)

    def _stuck(self, now: float) -> bool:
        busy, backed_up = self._busy_since, self._backed_up_since
        return self.too_slow or (busy is not None and now - busy > SEND_TIMEOUT) or (
            backed_up is not None and now - backed_up > SEND_TIMEOUT)

    async def _drop(self, ws: web.WebSocketResponse, metrics: Metrics, reason: str) -> None:
        """Too slow: a close frame with CLOSE_TOO_SLOW (a client may still read it). No pong: the connection is
        cut without a close handshake, as a lost connection would be (its avatar leaves with "timeout")."""
        transport = self._transport
        self.stop()
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        metrics.closed.labels(reason).inc()
        if reason == "timeout":
            if transport is not None:
                transport.abort()
            return
        with contextlib.suppress(Exception):
            await ws.close(code=CLOSE_TOO_SLOW, message=b"too_slow")
