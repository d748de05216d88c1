"""Topics over Redis pub/sub: one channel per topic, `<prefix>:topic:<topic>`, for poses and events alike.

Every message is framed as <1 byte kind: P (poses) or E (event)><1 byte: length of node id><node id, UTF-8><body>;
poses bodies are opaque bytes, event bodies compact JSON. A node drops messages carrying its own id: what a node's
own subscribers must hear (`publish(..., local=True)`) is delivered to them directly, in-process, so it reaches them
exactly once and even while Redis is unreachable.

Invariants: this node holds one Redis subscription per topic however many local subscriptions it has; the channels
subscribed converge to the topics with local subscribers (changes are serialised by one lock and re-checked after
each await); `subscribe` returns only once Redis confirmed, so what is published afterwards is received; publishing
never raises and never waits for a reconnect (dropped and counted while down).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from redis.asyncio.client import PubSub as RedisClientPubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from server.bus import OnEvent, OnPoses, Subscription, encode, safe_call

from .conn import OUTAGE, RedisConnection

log = logging.getLogger("civic.bus")

POSES, EVENT = b"P", b"E"


class RedisPubSub:
    def __init__(self, conn: RedisConnection) -> None:
        self.conn = conn
        tag = conn.node_id.encode()
        if not 0 < len(tag) < 256:
            raise ValueError("node_id must be 1..255 bytes of UTF-8")
        self._tag = bytes([len(tag)]) + tag
        self._subs: dict[str, list[Subscription]] = {}  # topic -> this node's subscriptions
        self._channels: dict[bytes, str] = {}  # channel -> topic, for the topics in _subs
        self._confirmations: dict[bytes, asyncio.Future[None]] = {}
        self._changing = asyncio.Lock()
        self._pubsub: RedisClientPubSub | None = None
        self._subscribed: set[bytes] = set()  # channels asked of Redis on the current pub/sub connection
        self._reader: asyncio.Task[None] | None = None

    def _channel(self, topic: str) -> bytes:
        return f"{self.conn.prefix}:topic:{topic}".encode()

    def topics(self) -> list[str]:
        return list(self._subs)

    # --- the PubSub contract ----------------------------------------------------------------------------------

    async def subscribe(self, topic: str, on_event: OnEvent, on_poses: OnPoses | None = None) -> Subscription:
        sub = Subscription(topic, self.conn.node_id, on_event, on_poses)
        subs = self._subs.setdefault(topic, [])
        subs.append(sub)
        if len(subs) == 1:
            self._channels[self._channel(topic)] = topic
            await self._converge()
        return sub

    async def unsubscribe(self, subscription: Subscription) -> None:
        subscription.active = False
        subs = self._subs.get(subscription.topic, [])
        if subscription in subs:
            subs.remove(subscription)
        if not subs and self._subs.pop(subscription.topic, None) is not None:
            self._channels.pop(self._channel(subscription.topic), None)
            await self._converge()

    async def publish(self, topic: str, message: dict[str, Any], *, local: bool = False) -> None:
        text = encode(message)
        if local:
            loop = asyncio.get_running_loop()
            for sub in self._subs.get(topic, ()):
                loop.call_soon(sub.deliver_event, text)
        await self._publish(topic, EVENT + self._tag + text.encode())

    async def publish_poses(self, topic: str, payload: bytes) -> None:
        await self._publish(topic, POSES + self._tag + payload)

    async def _publish(self, topic: str, message: bytes) -> None:
        conn = self.conn
        if not conn.up:
            conn.dropped += 1
            return
        try:
            await conn.timed(conn.redis.publish(self._channel(topic), message))
        except (*OUTAGE, RedisError) as exc:  # a publish never fails the tick
            conn.dropped += 1
            conn.lost(exc)

    async def announce_resync(self, topics: Iterable[str] = ()) -> None:
        """After this node was cut off: its own subscribers and the other nodes' (of its topics and of `topics`)
        re-read what they keep."""
        loop = asyncio.get_running_loop()
        for topic in dict.fromkeys([*self._subs, *topics]):
            for sub in self._subs.get(topic, ()):
                loop.call_soon(safe_call, sub.on_event, {"type": "resync"})
            await self.publish(topic, {"type": "resync", "node": self.conn.node_id})

    # --- receiving --------------------------------------------------------------------------------------------

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind, channel = message["type"], message["channel"]
        if kind == "subscribe":
            waiter = self._confirmations.pop(channel, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        if kind != "message":
            return
        topic = self._channels.get(channel)
        data: bytes = message["data"]
        if topic is None or len(data) < 2:
            return
        size = data[1]
        sender = data[2 : 2 + size].decode(errors="replace")
        if sender == self.conn.node_id:
            return
        body = data[2 + size :]
        subs = list(self._subs.get(topic, ()))
        if data[:1] == POSES:
            for sub in subs:
                sub.deliver_poses(sender, body)
            return
        for sub in subs:
            sub.deliver_event(body)

    async def _read(self, pubsub: RedisClientPubSub) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._dispatch(message)
        except asyncio.CancelledError:
            raise
        except OUTAGE as exc:
            self.conn.lost(exc)
        except Exception as exc:  # a protocol surprise: start over with a fresh connection
            log.exception("bus reader failed")
            self.conn.lost(exc)

    # --- the subscriptions on Redis ---------------------------------------------------------------------------

    async def _converge(self) -> None:
        """Make the Redis subscriptions match the topics with local subscribers (when up; on recovery otherwise)."""
        if not self.conn.up or self._pubsub is None:
            return
        try:
            async with self._changing:
                await self._converge_locked()
        except OUTAGE as exc:
            self.conn.lost(exc)  # converged again on recovery
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            # A reconnect cancelled the confirmation we waited for: `resumed` converges on the new connection.

    async def _converge_locked(self) -> None:
        pubsub = self._pubsub
        while pubsub is not None and pubsub is self._pubsub:  # ends: each pass handles what changed before it
            wanted = set(self._channels)
            joined, left = list(wanted - self._subscribed), list(self._subscribed - wanted)
            if not joined and not left:
                return
            if left:
                self._subscribed.difference_update(left)
                await self.conn.timed(pubsub.unsubscribe(*left))
            await self._subscribe(pubsub, joined)

    async def _subscribe(self, pubsub: RedisClientPubSub, channels: list[bytes]) -> None:
        """Subscribe and wait until Redis confirms, so traffic published after this returns is received."""
        if not channels:
            return
        loop = asyncio.get_running_loop()
        waiters = []
        for channel in channels:
            waiter = self._confirmations.get(channel)
            if waiter is None or waiter.done():
                waiter = self._confirmations[channel] = loop.create_future()
            waiters.append(waiter)
        self._subscribed.update(channels)
        await self.conn.timed(pubsub.subscribe(*channels))
        await self.conn.timed(asyncio.gather(*waiters))

    # --- the connection's part --------------------------------------------------------------------------------

    async def connected(self) -> None:
        await self.halt()
        pubsub = self.conn.redis.pubsub()
        self._pubsub, self._subscribed = pubsub, set()
        await self.conn.timed(pubsub.connect())
        self._reader = asyncio.create_task(self._read(pubsub), name=f"bus-reader-{self.conn.node_id}")
        async with self._changing:
            await self._subscribe(pubsub, list(self._channels))
        if self._reader.done():  # the connection broke while we were setting up
            raise RedisConnectionError("pub/sub connection lost during reconnect")

    async def resumed(self) -> None:
        await self._converge()  # topics subscribed or left while `connected` ran

    async def beat(self, lapsed: bool) -> None:
        if self._reader is None or self._reader.done():
            raise RedisConnectionError("pub/sub reader stopped")

    async def halt(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            pubsub, self._pubsub = self._pubsub, None
            try:
                await self.conn.timed(pubsub.aclose())
            except (*OUTAGE, RuntimeError):
                pass
        for waiter in self._confirmations.values():
            waiter.cancel()
        self._confirmations.clear()
