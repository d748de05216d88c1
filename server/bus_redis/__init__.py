"""The bus over Redis: one room spread over several server processes (nodes). See server/bus.py for the contract
and docs/bus.md for the keys and channels.

Three parts, one job each:
- `conn.py`: the connection, its timeouts, the liveness heartbeat, and reconnection after an outage;
- `pubsub.py`: topics over Redis pub/sub;
- `registry.py`: the member registry (Lua scripts), re-registration after Redis restarts, reaping dead nodes.
`RedisBus` only wires them together.
"""

from __future__ import annotations

import uuid

from .conn import RedisConnection
from .pubsub import RedisPubSub
from .registry import FALLBACK_ID_MIN, SHARED_ID_MAX, RedisRegistry

__all__ = ["FALLBACK_ID_MIN", "SHARED_ID_MAX", "RedisBus"]


class RedisBus:
    """A node of possibly many, sharing rooms through one Redis server."""

    def __init__(
        self,
        url: str,
        node_id: str | None = None,
        *,
        prefix: str = "cs",
        heartbeat: float = 1.0,
        ttl: float = 3.0,
        settle: float | None = None,
        op_timeout: float = 1.0,
        backoff_min: float = 0.1,
        backoff_max: float = 2.0,
        max_connections: int = 32,
    ) -> None:
        self.node_id = node_id or uuid.uuid4().hex[:12]
        self.conn = RedisConnection(
            url, self.node_id, prefix=prefix, heartbeat=heartbeat, ttl=ttl, op_timeout=op_timeout,
            backoff_min=backoff_min, backoff_max=backoff_max, max_connections=max_connections,
        )
        self.pubsub = RedisPubSub(self.conn)
        # The settling window must outlast a live node's reconnection (backoff_max) plus its re-registration.
        self.registry = RedisRegistry(self.conn, self.pubsub, ttl if settle is None else settle)
        self.conn.parts = [self.pubsub, self.registry]
        self.conn.resync = self._resync

    async def _resync(self) -> None:
        await self.pubsub.announce_resync(self.registry.rooms())

    async def start(self) -> None:
        await self.conn.start()

    async def close(self) -> None:
        await self.conn.close()
