"""The live stream of public meetings: one hub per process, Server-Sent Events to attendees.

The hub subscribes ONCE to the bus topic `event:<id>` of each event that has listeners on this process and fans
every message out to them; the last listener leaving unsubscribes. A message is encoded into its SSE bytes once,
whatever the number of listeners. Each listener has a bounded queue (QUEUE): one that cannot keep up is
disconnected (EventSource reconnects and gets a fresh snapshot) instead of growing memory. A `removed` message
closes the streams of that handle; a bus `resync` (messages may have been lost while the bus was away, or the
service archived the meeting and forgot its chat) closes every stream of the topic, so each reconnects to a fresh
snapshot. While a floor is held, the hub keeps a timer
that asks the service to end it at `until`, so the change is published even if nobody writes. A `deleted` event's
streams end after that message (a reconnect is then 404, and EventSource stops).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..bus import Bus, Subscription
from ..keys import BUS, CATALOG, CONFIG, EVENT_AUDIO, EVENT_HUB, EVENTS, METRICS, STORE
from ..security import HEADERS
from .audio import AudioHub
from .service import EventService, topic
from .slides import SlideFiles

log = logging.getLogger("civic.events")
QUEUE = 200
KEEP_ALIVE = 15.0
RETRY_MS = 3000
_CLOSE = b""  # queued to end a stream


def sse(kind: str, data: dict[str, Any], with_id: bool = False) -> bytes:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    head = f"id: {data['id']}\n" if with_id else ""
    return f"{head}event: {kind}\ndata: {text}\n\n".encode()


@dataclass(eq=False)
class Listener:
    handle: str
    queue: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(QUEUE))
    closed: bool = False

    def send(self, frame: bytes) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:  # too slow: drop it (it reconnects to a fresh snapshot)
            self.close()

    def close(self, after_queued: bool = False) -> None:
        """End the stream: at once (what is queued is dropped), or `after_queued` (e.g. after `removed`)."""
        if self.closed:
            return
        self.closed = True
        if not after_queued or self.queue.full():
            while not self.queue.empty():
                self.queue.get_nowait()
        self.queue.put_nowait(_CLOSE)


@dataclass(eq=False)
class Topic:
    event_id: int
    listeners: set[Listener] = field(default_factory=set)
    subscription: Subscription | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    floor_timer: asyncio.TimerHandle | None = None


class Hub:
    """This process's listeners of every event, and one bus subscription per event they listen to."""

    def __init__(self, bus: Bus, service: EventService) -> None:
        self.bus, self.service = bus, service
        self.topics: dict[int, Topic] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def listeners(self, event_id: int) -> int:
        found = self.topics.get(event_id)
        return len(found.listeners) if found else 0

    async def join(self, event_id: int, handle: str) -> Listener:
        listener = Listener(handle)
        found = self.topics.get(event_id)
        if found is None:
            found = self.topics[event_id] = Topic(event_id)
            found.listeners.add(listener)
            try:
                found.subscription = await self.bus.pubsub.subscribe(
                    topic(event_id), lambda message: self._deliver(found, message))
            finally:
                found.ready.set()
        else:
            found.listeners.add(listener)
            await found.ready.wait()
        return listener

    async def leave(self, event_id: int, listener: Listener) -> None:
        found = self.topics.get(event_id)
        if found is None:
            return
        found.listeners.discard(listener)
        if not found.listeners:
            del self.topics[event_id]
            if found.floor_timer is not None:
                found.floor_timer.cancel()
            if found.subscription is not None:
                await self.bus.pubsub.unsubscribe(found.subscription)

    def _deliver(self, found: Topic, message: dict[str, Any]) -> None:
        kind = message.pop("type", None)
        if kind == "resync":
            for listener in list(found.listeners):
                listener.close()
            return
        if not isinstance(kind, str):
            return
        frame = sse(kind, message, with_id=kind == "caption")
        for listener in list(found.listeners):
            listener.send(frame)
        if kind == "deleted":
            for listener in list(found.listeners):
                listener.close(after_queued=True)
        elif kind == "removed":
            for listener in [x for x in found.listeners if x.handle == message.get("handle")]:
                listener.close(after_queued=True)  # it reads why it was removed, then the stream ends
        elif kind == "state":
            self._time_floor(found, message.get("floor"))

    def _time_floor(self, found: Topic, floor: dict[str, Any] | None) -> None:
        if found.floor_timer is not None:
            found.floor_timer.cancel()
            found.floor_timer = None
        if floor:
            delay = max(0.0, float(floor["until"]) - self.service.clock()) + 0.05
            found.floor_timer = asyncio.get_running_loop().call_later(delay, self._expire, found.event_id)

    def _expire(self, event_id: int) -> None:
        task = asyncio.ensure_future(self.service.expire_floor(event_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Shutdown: end every stream now, so aiohttp need not wait for them."""
        for found in self.topics.values():
            if found.floor_timer is not None:
                found.floor_timer.cancel()
            for listener in list(found.listeners):
                listener.close()


def install_events(app: web.Application) -> None:
    """The meetings' service and this process's hub on the app (after its store, bus and catalog); the streams
    end at once on shutdown, so browsers reconnect to another process instead of aiohttp waiting for them."""
    config = app[CONFIG]
    app[EVENTS] = EventService(app[STORE], app[BUS], app[CATALOG], SlideFiles(config.data_dir / "event-slides"))
    app[EVENT_HUB] = Hub(app[BUS], app[EVENTS])
    app[EVENT_AUDIO] = AudioHub(app[BUS], app[EVENTS], app[METRICS])

    async def end_streams(app: web.Application) -> None:
        app[EVENT_HUB].close()
        await app[EVENT_AUDIO].close()

    app.on_shutdown.append(end_streams)


async def stream(request: web.Request, hub: Hub, event: dict[str, Any], handle: str,
                 before_headers: Callable[[web.StreamResponse], object]) -> web.StreamResponse:
    """The SSE response of one listener: subscribe first (nothing published meanwhile is missed), then the
    snapshot, then live messages and a keep-alive comment every KEEP_ALIVE seconds, until the client goes, the
    server removes it or it falls behind."""
    event_id = event["id"]
    if request.method == "HEAD":  # the headers a stream would have, and no stream
        head = web.Response(headers={**HEADERS, "Content-Type": "text/event-stream; charset=utf-8",
                                     "Cache-Control": "no-store"})
        before_headers(head)
        return head
    listener = await hub.join(event_id, handle)
    try:
        snapshot = await hub.service.snapshot(event)
        response = web.StreamResponse(headers={
            **HEADERS, "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no"})
        before_headers(response)  # e.g. the resident cookie of a first visit
        await response.prepare(request)
        await response.write(f"retry: {RETRY_MS}\n\n".encode()
                             + b"".join(sse(kind, data, kind == "caption") for kind, data in snapshot))
        while True:
            try:  # asyncio.timeout, not wait_for: no task per message per listener (a fifth of the CPU per message)
                async with asyncio.timeout(KEEP_ALIVE):
                    frame = await listener.queue.get()
            except TimeoutError:
                frame = b": keep-alive\n\n"
            if frame == _CLOSE:
                break
            batch = [frame]
            while not listener.queue.empty() and batch[-1] != _CLOSE:
                batch.append(listener.queue.get_nowait())
            closing = batch[-1] == _CLOSE
            await response.write(b"".join(batch))
            if closing:
                break
        with contextlib.suppress(ConnectionError, RuntimeError):
            await response.write_eof()
        return response
    finally:
        await hub.leave(event_id, listener)
