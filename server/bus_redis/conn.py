"""The Redis connection of one node: the pool, timeouts, liveness heartbeat, and reconnection after an outage.

The pub/sub and the registry are "parts" of the connection: it tells them when it (re)connected, when traffic
resumed, at each heartbeat, and when it stops; it never knows what they keep.

Invariants: no Redis call runs without a timeout (`timed`); redis-py's own retries are off, this class alone
reconnects, with capped, jittered exponential backoff, and never gives up; the loss of Redis is logged once per
outage and the recovery once; `up` is True only after every part has set itself up again on the new connection;
the liveness key `<prefix>:node:<node>:alive` lives `ttl` s and is renewed every `heartbeat` s while up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

log = logging.getLogger("civic.bus")

# What an unreachable, restarting or overloaded Redis looks like from here. Other Redis errors (a wrong script,
# a wrong type) are bugs and propagate.
OUTAGE = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)

T = TypeVar("T")


class Part(Protocol):
    """Something that lives on the connection (the pub/sub, the registry)."""

    async def connected(self) -> None:
        """The connection is new (first start or after an outage): set up again, before traffic resumes."""

    async def resumed(self) -> None:
        """`up` is True again: catch up with what changed while `connected` ran."""

    async def beat(self, lapsed: bool) -> None:
        """A heartbeat; `lapsed`: this node's liveness key had expired (it stalled past the TTL)."""

    async def halt(self) -> None:
        """Stop using the connection (close, or a simulated crash)."""


class RedisConnection:
    def __init__(
        self,
        url: str,
        node_id: str,
        *,
        prefix: str,
        heartbeat: float,
        ttl: float,
        op_timeout: float,
        backoff_min: float,
        backoff_max: float,
        max_connections: int,
    ) -> None:
        self.node_id, self.prefix = node_id, prefix
        self.heartbeat, self.ttl_ms, self.op_timeout = heartbeat, int(ttl * 1000), op_timeout
        self._backoff_min, self._backoff_max = backoff_min, backoff_max
        # A bounded pool that makes callers queue (for at most op_timeout) instead of failing when a burst of
        # joins outnumbers the connections.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=op_timeout,
            socket_timeout=op_timeout,
            socket_connect_timeout=op_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self.redis = aioredis.Redis.from_pool(pool)
        self.alive_args = (f"{prefix}:node:", ":alive")  # liveness key of node N: prefix + N + suffix
        self.alive_key = f"{prefix}:node:{node_id}:alive"
        self.parts: list[Part] = []
        # Called after recovery and after a late heartbeat, once every part caught up: tell everyone to re-read.
        self.resync: Callable[[], Awaitable[None]] | None = None
        self.up = False
        self.dropped = 0  # messages dropped during the current outage
        self._outage_logged = False
        self._down_since = 0.0
        self._wake = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None

    async def timed(self, call: Awaitable[T]) -> T:
        return await asyncio.wait_for(call, self.op_timeout)

    async def start(self) -> None:
        try:
            await self._connect()
        except OUTAGE as exc:
            self.lost(exc)
        self._keeper = asyncio.create_task(self._keep(), name=f"bus-keeper-{self.node_id}")

    async def close(self) -> None:
        """Stop and delete the liveness key, so the other nodes reap this node's members at once."""
        was_up = self.up
        await self.halt()
        if was_up:
            with contextlib.suppress(*OUTAGE):
                await self.timed(self.redis.delete(self.alive_key))
        await self.redis.aclose()

    async def halt(self) -> None:
        """Stop heartbeating and listening without telling anyone: what a crash looks like to the other nodes."""
        self.up = False
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._keeper
            self._keeper = None
        for part in self.parts:
            await part.halt()

    def lost(self, exc: BaseException) -> None:
        """Note that Redis is unreachable: log once per outage, drop traffic, let the keeper reconnect."""
        was_up, self.up = self.up, False
        if not self._outage_logged:
            self._outage_logged = True
            self._down_since = time.monotonic()
            self.dropped = 0
            log.warning(
                "redis unreachable; serving local members only and retrying",
                extra={"node": self.node_id, "error": type(exc).__name__},
            )
        if was_up:
            self._wake.set()

    async def _keep(self) -> None:
        """Heartbeat while up; reconnect with capped, jittered exponential backoff while down. Never dies: without
        it this node's members would be reaped by the others."""
        delay = self._backoff_min
        while True:
            if self.up:
                delay = self._backoff_min
                try:
                    await self._beat()
                except Exception as exc:
                    self._failed(exc)
                    continue
                self._wake.clear()
                if not self.up:
                    continue
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.heartbeat)
            else:
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, self._backoff_max)
                try:
                    await self._connect()
                except Exception as exc:
                    self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        if not isinstance(exc, OUTAGE) and not self._outage_logged:
            log.error("bus maintenance failed; reconnecting", exc_info=exc, extra={"node": self.node_id})
        self.lost(exc)

    async def _connect(self) -> None:
        for part in self.parts:
            await part.halt()
        # Pooled connections to a Redis that went away may look healthy until their first use: start afresh, or the
        # first calls after recovery fail and look like a second outage.
        await self.timed(self.redis.connection_pool.disconnect())
        await self.timed(self.redis.ping())
        await self.timed(self.redis.set(self.alive_key, b"1", px=self.ttl_ms))
        for part in self.parts:
            await part.connected()
        self.up = True
        for part in self.parts:
            await part.resumed()
        if self._outage_logged and self.up:
            self._outage_logged = False
            if self.resync is not None:
                await self.resync()
            log.info(
                "redis reachable again",
                extra={
                    "node": self.node_id,
                    "down_s": round(time.monotonic() - self._down_since, 1),
                    "dropped": self.dropped,
                },
            )

    async def _beat(self) -> None:
        previous = await self.timed(self.redis.set(self.alive_key, b"1", px=self.ttl_ms, get=True))
        lapsed = previous is None
        if lapsed:
            log.warning("bus heartbeat was late; registering members again", extra={"node": self.node_id})
        for part in self.parts:
            await part.beat(lapsed)
        if lapsed and self.resync is not None:
            await self.resync()
