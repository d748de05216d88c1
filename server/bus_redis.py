"""The bus over Redis: one room spread over several server processes (nodes). See server/bus.py for the contract.

Layout (prefix "cs" by default; docs/bus.md has the full table):
- channels `cs:room:<room>:poses` and `cs:room:<room>:events`; every message is framed as
  <1 byte: length of node id><node id, UTF-8><body>: poses bodies are the room's opaque bytes, event bodies JSON.
  A node drops messages carrying its own id, so it never receives its own traffic.
- `cs:node:<node>:alive`: this node's liveness key, set every `heartbeat` s with a TTL of `ttl` s.
- hashes `cs:room:<room>:owners` (id -> node) and `cs:room:<room>:infos` (id -> JSON info), and the string
  `cs:room:<room>:next` (last id handed out: ids rotate, so a freed id is not reused at once).
Ids 1..49151 are allocated in Redis by a Lua script (atomic capacity check + allocation). While Redis is unreachable
a node admits residents with ids from 49152..65535 (a per-node starting point in that range), which the shared
allocator never hands out; on recovery they are registered like any other (a clash with a live node's id is logged).

Invariants: no Redis call runs without a timeout; publish_* never raises and never waits for a reconnect; the loss
of Redis is logged once and the recovery once; members claimed on this node are kept locally (the truth for
re-registration after a Redis restart); the members of a node whose liveness key expired are reaped by one Lua call,
so exactly one live node publishes each {"type": "leave", "reason": "node_lost"} event.
Lua scripts read liveness keys they are not passed in KEYS: fine on one Redis server, not on Redis Cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
import zlib
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from server.bus import OnEvent, OnPoses, _Subscription, node_lost_event, safe_call

log = logging.getLogger("civic.bus")

SHARED_ID_MAX = 49151
FALLBACK_ID_MIN = SHARED_ID_MAX + 1
FALLBACK_ID_COUNT = 65535 - SHARED_ID_MAX

# What an unreachable, restarting or overloaded Redis looks like from here. Other Redis errors (a wrong script,
# a wrong type) are bugs and propagate.
OUTAGE = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)

T = TypeVar("T")

_LIVE = """
local function alive(cache, node)
  if cache[node] == nil then cache[node] = redis.call('EXISTS', ARGV[1] .. node .. ARGV[2]) == 1 end
  return cache[node]
end
"""

# KEYS: owners, infos, next. ARGV: alive prefix, alive suffix, node, info, capacity, max id.
_CLAIM = (
    _LIVE
    + """
local owners, infos, nextkey = KEYS[1], KEYS[2], KEYS[3]
local capacity, max_id = tonumber(ARGV[5]), tonumber(ARGV[6])
local count = redis.call('HLEN', owners)
if count >= max_id then return false end
if count >= capacity then
  -- members of dead nodes count until they are reaped; refuse only if the live ones fill the room
  local cache, live, flat = {}, 0, redis.call('HGETALL', owners)
  for i = 2, #flat, 2 do
    if alive(cache, flat[i]) then live = live + 1 end
  end
  if live >= capacity then return false end
end
local id = tonumber(redis.call('GET', nextkey) or '0')
for _ = 1, max_id do
  id = id % max_id + 1
  if redis.call('HEXISTS', owners, id) == 0 then
    redis.call('HSET', owners, id, ARGV[3])
    redis.call('HSET', infos, id, ARGV[4])
    redis.call('SET', nextkey, id)
    return id
  end
end
return false
"""
)

# KEYS: owners, infos. ARGV: alive prefix, alive suffix. Returns id, info, id, info, ... of live nodes' members.
_MEMBERS = (
    _LIVE
    + """
local cache, out, flat = {}, {}, redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  if alive(cache, flat[i + 1]) then
    local info = redis.call('HGET', KEYS[2], flat[i])
    if info then out[#out + 1] = flat[i]; out[#out + 1] = info end
  end
end
return out
"""
)

# KEYS: owners, infos. ARGV: alive prefix, alive suffix. Deletes dead nodes' members; returns their ids. Atomic, so
# when several live nodes reap at once each id is returned to exactly one of them.
_REAP = (
    _LIVE
    + """
local cache, out, flat = {}, {}, redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  if not alive(cache, flat[i + 1]) then
    redis.call('HDEL', KEYS[1], flat[i]); redis.call('HDEL', KEYS[2], flat[i])
    out[#out + 1] = flat[i]
  end
end
return out
"""
)

# KEYS: owners, infos. ARGV: alive prefix, alive suffix, node, delete stale (0/1), then id, info pairs: this node's
# members. Registers them (taking over ids of dead nodes), optionally drops this node's entries not listed,
# returns the ids held by another live node.
_SYNC = (
    _LIVE
    + """
local node, keep, cache = ARGV[3], {}, {}
for i = 5, #ARGV, 2 do keep[ARGV[i]] = ARGV[i + 1] end
if ARGV[4] == '1' then
  local flat = redis.call('HGETALL', KEYS[1])
  for i = 1, #flat, 2 do
    if flat[i + 1] == node and keep[flat[i]] == nil then
      redis.call('HDEL', KEYS[1], flat[i]); redis.call('HDEL', KEYS[2], flat[i])
    end
  end
end
local conflicts = {}
for id, info in pairs(keep) do
  local owner = redis.call('HGET', KEYS[1], id)
  if owner and owner ~= node and alive(cache, owner) then
    conflicts[#conflicts + 1] = id
  else
    redis.call('HSET', KEYS[1], id, node); redis.call('HSET', KEYS[2], id, info)
  end
end
return conflicts
"""
)

# KEYS: owners, infos. ARGV: node, id, info (absent: release). Touches the member only if this node owns it.
_OWN = """
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[1] then return 0 end
if ARGV[3] then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
else
  redis.call('HDEL', KEYS[1], ARGV[2]); redis.call('HDEL', KEYS[2], ARGV[2])
end
return 1
"""


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


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
        op_timeout: float = 1.0,
        backoff_min: float = 0.1,
        backoff_max: float = 2.0,
        max_connections: int = 32,
    ) -> None:
        self.node_id = node_id or uuid.uuid4().hex[:12]
        tag = self.node_id.encode()
        if not 0 < len(tag) < 256:
            raise ValueError("node_id must be 1..255 bytes of UTF-8")
        self._tag = bytes([len(tag)]) + tag
        self._prefix = prefix
        self._heartbeat, self._ttl_ms, self._op_timeout = heartbeat, int(ttl * 1000), op_timeout
        self._backoff_min, self._backoff_max = backoff_min, backoff_max
        # A bounded pool that makes callers queue (for at most op_timeout) instead of failing when a burst of
        # joins outnumbers the connections; redis-py's own retries are off: this class owns reconnection.
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=op_timeout,
            socket_timeout=op_timeout,
            socket_connect_timeout=op_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._redis = aioredis.Redis.from_pool(pool)
        self._claim = self._redis.register_script(_CLAIM)
        self._members = self._redis.register_script(_MEMBERS)
        self._reap = self._redis.register_script(_REAP)
        self._sync = self._redis.register_script(_SYNC)
        self._own = self._redis.register_script(_OWN)
        self._alive_args = (f"{prefix}:node:", ":alive")
        self._alive_key = f"{prefix}:node:{self.node_id}:alive"

        self._rooms: dict[str, _Subscription] = {}
        self._channels: dict[bytes, tuple[str, bool]] = {}  # channel -> (room, is poses)
        self._confirmations: dict[bytes, asyncio.Future[None]] = {}
        self._local: dict[str, dict[int, dict[str, Any]]] = {}  # members claimed here: room -> id -> info
        self._fallback_next = zlib.crc32(tag) % FALLBACK_ID_COUNT

        self._up = False
        self._outage_logged = False
        self._down_since = 0.0
        self._dropped = 0
        self._wake = asyncio.Event()
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None

    # --- life cycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self._connect()
        except OUTAGE as exc:
            self._lost(exc)
        self._keeper = asyncio.create_task(self._keep(), name=f"bus-keeper-{self.node_id}")

    async def close(self) -> None:
        """Stop; the other nodes reap this node's members at their next heartbeat (leave, reason node_lost)."""
        was_up = self._up
        await self._halt()
        if was_up:
            with contextlib.suppress(*OUTAGE):
                await self._timed(self._redis.delete(self._alive_key))
        await self._redis.aclose()

    async def _halt(self) -> None:
        """Stop heartbeating and listening without telling anyone: what a crash looks like to the other nodes."""
        self._up = False
        for task in (self._keeper, self._reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._keeper = self._reader = None
        await self._drop_pubsub()

    # --- rooms and traffic ------------------------------------------------------------------------------------

    def _key(self, room: str, what: str) -> str:
        return f"{self._prefix}:room:{room}:{what}"

    def _room_channels(self, room: str) -> tuple[bytes, bytes]:
        return self._key(room, "poses").encode(), self._key(room, "events").encode()

    async def join_room(self, room: str, on_poses: OnPoses, on_event: OnEvent) -> None:
        self._rooms[room] = _Subscription(on_poses, on_event)
        poses, events = self._room_channels(room)
        self._channels[poses], self._channels[events] = (room, True), (room, False)
        if self._up and self._pubsub is not None:
            try:
                await self._subscribe(self._pubsub, [poses, events])
            except OUTAGE as exc:
                self._lost(exc)  # subscribed again on recovery

    async def leave_room(self, room: str) -> None:
        if self._rooms.pop(room, None) is None:
            return
        channels = self._room_channels(room)
        for channel in channels:
            self._channels.pop(channel, None)
        if self._up and self._pubsub is not None:
            try:
                await self._timed(self._pubsub.unsubscribe(*channels))
            except OUTAGE as exc:
                self._lost(exc)

    async def publish_poses(self, room: str, payload: bytes) -> None:
        await self._publish(self._key(room, "poses"), self._tag + payload)

    async def publish_event(self, room: str, event: dict[str, Any]) -> None:
        await self._publish(self._key(room, "events"), self._tag + _json(event).encode())

    async def _publish(self, channel: str, message: bytes) -> None:
        if not self._up:
            self._dropped += 1
            return
        try:
            await self._timed(self._redis.publish(channel, message))
        except (*OUTAGE, RedisError) as exc:  # a publish never fails the tick
            self._dropped += 1
            self._lost(exc)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind, channel = message["type"], message["channel"]
        if kind == "subscribe":
            waiter = self._confirmations.pop(channel, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        if kind != "message":
            return
        target = self._channels.get(channel)
        data: bytes = message["data"]
        size = data[0] if data else 0
        sender = data[1 : 1 + size].decode(errors="replace")
        if target is None or sender == self.node_id:
            return
        sub = self._rooms.get(target[0])
        if sub is None:
            return
        body = data[1 + size :]
        if target[1]:
            safe_call(sub.on_poses, sender, body)
        else:
            try:
                event = json.loads(body)
            except ValueError:
                log.warning("bus event is not JSON; dropped", extra={"room": target[0], "sender": sender})
                return
            safe_call(sub.on_event, event)

    # --- members ----------------------------------------------------------------------------------------------

    def _member_keys(self, room: str) -> list[str]:
        return [self._key(room, "owners"), self._key(room, "infos")]

    async def claim_member(self, room: str, info: dict[str, Any], capacity: int) -> int | None:
        text = _json(info)
        local = self._local.setdefault(room, {})
        if self._up:
            try:
                claimed = await self._timed(
                    self._claim(
                        keys=[*self._member_keys(room), self._key(room, "next")],
                        args=[*self._alive_args, self.node_id, text, capacity, SHARED_ID_MAX],
                    )
                )
            except OUTAGE as exc:
                self._lost(exc)
            else:
                if claimed is None:
                    return None
                local[int(claimed)] = json.loads(text)
                return int(claimed)
        # Redis is unreachable: admit up to `capacity` here, with ids the shared allocator never hands out.
        if len(local) >= min(capacity, FALLBACK_ID_COUNT):
            return None
        while True:  # ends: fewer than FALLBACK_ID_COUNT ids are taken locally
            self._fallback_next = (self._fallback_next + 1) % FALLBACK_ID_COUNT
            member_id = FALLBACK_ID_MIN + self._fallback_next
            if member_id not in local:
                local[member_id] = json.loads(text)
                return member_id

    async def release_member(self, room: str, member_id: int) -> None:
        local = self._local.get(room, {})
        if local.pop(member_id, None) is None:
            return
        if not local:
            self._local.pop(room, None)
        await self._own_call(room, [self.node_id, member_id])

    async def update_member(self, room: str, member_id: int, info: dict[str, Any]) -> None:
        local = self._local.get(room, {})
        if member_id not in local:
            return
        text = _json(info)
        local[member_id] = json.loads(text)
        await self._own_call(room, [self.node_id, member_id, text])

    async def _own_call(self, room: str, args: list[Any]) -> None:
        # While Redis is down the local record is the truth; re-registration on recovery carries it over.
        if not self._up:
            return
        try:
            await self._timed(self._own(keys=self._member_keys(room), args=args))
        except OUTAGE as exc:
            self._lost(exc)

    async def members(self, room: str) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        if self._up:
            try:
                flat = await self._timed(self._members(keys=self._member_keys(room), args=list(self._alive_args)))
            except OUTAGE as exc:
                self._lost(exc)
            else:
                found = {int(flat[i]): json.loads(flat[i + 1]) for i in range(0, len(flat), 2)}
        # This node's own members are always known here, even before they are registered again after a restart.
        for member_id, info in self._local.get(room, {}).items():
            found[member_id] = json.loads(_json(info))
        return found

    # --- connection, heartbeat, reaping, recovery -------------------------------------------------------------

    async def _timed(self, call: Awaitable[T]) -> T:
        return await asyncio.wait_for(call, self._op_timeout)

    def _lost(self, exc: BaseException) -> None:
        """Note that Redis is unreachable: log once per outage, drop traffic, let the keeper reconnect."""
        was_up, self._up = self._up, False
        if not self._outage_logged:
            self._outage_logged = True
            self._down_since = time.monotonic()
            self._dropped = 0
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
            if self._up:
                delay = self._backoff_min
                try:
                    await self._beat()
                except Exception as exc:
                    self._failed(exc)
                    continue
                self._wake.clear()
                if not self._up:
                    continue
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._heartbeat)
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
        self._lost(exc)

    async def _connect(self) -> None:
        """(Re)connect: listen to every joined room, register this node's members, then resume traffic."""
        await self._drop_pubsub()
        # Pooled connections to a Redis that went away may look healthy until their first use: start afresh, or the
        # first calls after recovery fail and look like a second outage.
        await self._timed(self._redis.connection_pool.disconnect())
        await self._timed(self._redis.ping())
        await self._timed(self._redis.set(self._alive_key, b"1", px=self._ttl_ms))
        pubsub = self._redis.pubsub()
        self._pubsub = pubsub
        await self._timed(pubsub.connect())
        self._reader = asyncio.create_task(self._read(pubsub), name=f"bus-reader-{self.node_id}")
        await self._subscribe(pubsub, list(self._channels))
        # Redis may have restarted empty, or kept entries this node released while cut off: make them match.
        snapshot = {room: dict(local) for room, local in self._local.items()}
        for room, local in snapshot.items():
            await self._register(room, local, delete_stale=True)
        if self._reader.done():  # the connection broke while we were setting up
            raise RedisConnectionError("pub/sub connection lost during reconnect")
        self._up = True
        # Rooms joined or left, members claimed or released, while the above was in flight.
        joined = [channel for channel in self._channels if channel not in pubsub.channels]
        left = [channel for channel in pubsub.channels if channel not in self._channels]
        await self._subscribe(pubsub, joined)
        if left:
            await self._timed(pubsub.unsubscribe(*left))
        for room in set(snapshot) | set(self._local):
            now, then = self._local.get(room, {}), snapshot.get(room, {})
            await self._register(room, {i: info for i, info in now.items() if i not in then}, delete_stale=False)
            for member_id in then.keys() - now.keys():
                await self._own_call(room, [self.node_id, member_id])
        await self._reap_rooms()
        if self._outage_logged and self._up:
            self._outage_logged = False
            log.info(
                "redis reachable again",
                extra={
                    "node": self.node_id,
                    "down_s": round(time.monotonic() - self._down_since, 1),
                    "dropped": self._dropped,
                },
            )
            await self._announce_resync()

    async def _drop_pubsub(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            pubsub, self._pubsub = self._pubsub, None
            try:
                await self._timed(pubsub.aclose())
            except (*OUTAGE, RuntimeError):
                pass
        for waiter in self._confirmations.values():
            waiter.cancel()
        self._confirmations.clear()

    async def _subscribe(self, pubsub: PubSub, channels: list[bytes]) -> None:
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
        await self._timed(pubsub.subscribe(*channels))
        await self._timed(asyncio.gather(*waiters))

    async def _read(self, pubsub: PubSub) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None:
                    self._dispatch(message)
        except asyncio.CancelledError:
            raise
        except OUTAGE as exc:
            self._lost(exc)
        except Exception as exc:  # a protocol surprise: start over with a fresh connection
            log.exception("bus reader failed")
            self._lost(exc)

    async def _beat(self) -> None:
        previous = await self._timed(self._redis.set(self._alive_key, b"1", px=self._ttl_ms, get=True))
        if previous is None:
            # Our liveness key had expired (this process stalled longer than the TTL): the other nodes have reaped
            # our members and told their rooms they left. Register them again and have everyone re-read members.
            log.warning("bus heartbeat was late; registering members again", extra={"node": self.node_id})
            for room, local in list(self._local.items()):
                await self._register(room, dict(local), delete_stale=False)
            await self._announce_resync()
        await self._reap_rooms()

    async def _register(self, room: str, local: dict[int, dict[str, Any]], delete_stale: bool) -> None:
        if not local and not delete_stale:
            return
        pairs: list[Any] = []
        for member_id, info in local.items():
            pairs += [member_id, _json(info)]
        conflicts = await self._timed(
            self._sync(
                keys=self._member_keys(room),
                args=[*self._alive_args, self.node_id, "1" if delete_stale else "0", *pairs],
            )
        )
        if conflicts:
            log.warning(
                "member ids admitted during an outage clash with another node; kept local only",
                extra={"node": self.node_id, "room": room, "ids": sorted(int(i) for i in conflicts)},
            )

    async def _reap_rooms(self) -> None:
        for room in list(self._rooms):
            reaped: Iterable[bytes] = await self._timed(
                self._reap(keys=self._member_keys(room), args=list(self._alive_args))
            )
            for raw in reaped:
                event = node_lost_event(int(raw))
                await self.publish_event(room, event)
                self._deliver_locally(room, event)

    async def _announce_resync(self) -> None:
        for room in set(self._rooms) | set(self._local):
            await self.publish_event(room, {"type": "resync", "node": self.node_id})
            self._deliver_locally(room, {"type": "resync"})

    def _deliver_locally(self, room: str, event: dict[str, Any]) -> None:
        sub = self._rooms.get(room)
        if sub is not None:
            asyncio.get_running_loop().call_soon(safe_call, sub.on_event, event)
