"""The member registry over Redis: who is in which room on every node, with ids unique across nodes.

Keys (prefix "cs"): hashes `cs:registry:<room>:owners` (id -> node) and `cs:registry:<room>:infos` (id -> JSON
info), the string `cs:registry:<room>:next` (last id handed out: ids rotate, so a freed id is not reused at once),
`cs:registry:epoch` (present while Redis keeps the registry) and `cs:registry:settling` (see below).

Ids 1..49151 are allocated by a Lua script (atomic capacity check + allocation). While Redis is unreachable a node
admits residents with ids from 49152..65535 (a per-node starting point in that range), which the shared allocator
never hands out; on recovery they are registered like any other.

Why no id is handed out twice after Redis restarts EMPTY: the nodes still hold their members and register them again
when they reconnect, but not all at the same instant. The first script to find `epoch` missing (a fresh or restarted
Redis) sets it and opens a settling window of `settle` seconds (default: the liveness TTL, longer than the longest
reconnection backoff); the allocator hands out no id until it closes (a claim waits), so every live node has
registered its members again before a newcomer can be given one of their ids. A node that did not re-register within
the window was dead by the liveness rule anyway.

Invariants: members claimed on this node are kept locally (the truth for re-registration); every change is one Lua
script, atomic across nodes; the members of a node whose liveness key expired are reaped by one Lua call, so exactly
one live node publishes each {"type": "leave", "reason": "node_lost"} event, on the room's topic.
Lua scripts read liveness keys they are not passed in KEYS: fine on one Redis server, not on Redis Cluster.
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections.abc import Iterable
from typing import Any

from server.bus import encode, node_lost_event

from .conn import OUTAGE, RedisConnection
from .pubsub import RedisPubSub

log = logging.getLogger("civic.bus")

SHARED_ID_MAX = 49151
FALLBACK_ID_MIN = SHARED_ID_MAX + 1
FALLBACK_ID_COUNT = 65535 - SHARED_ID_MAX

_LIVE = """
local function alive(cache, node)
  if cache[node] == nil then cache[node] = redis.call('EXISTS', ARGV[1] .. node .. ARGV[2]) == 1 end
  return cache[node]
end
-- The ids in an owners hash whose node is alive (living true) or gone (living false), in the hash's order.
local function ids_where(owners, living)
  local cache, ids, flat = {}, {}, redis.call('HGETALL', owners)
  for i = 1, #flat, 2 do
    if alive(cache, flat[i + 1]) == living then ids[#ids + 1] = flat[i] end
  end
  return ids
end
"""

# Opens the settling window when Redis has lost (or never had) the registry; returns the ms left in it.
_SETTLE = """
local function settling(epoch, window, ms)
  if redis.call('EXISTS', epoch) == 0 then
    redis.call('SET', epoch, '1')
    if tonumber(ms) > 0 then redis.call('SET', window, '1', 'PX', ms) end
  end
  local left = redis.call('PTTL', window)
  if left > 0 then return left end
  return 0
end
"""

# KEYS: owners, infos, next, epoch, settling. ARGV: alive prefix, alive suffix, node, info, capacity, max id,
# settle ms. Returns the id, false when full, or -(ms left) while the registry settles.
_CLAIM = (
    _LIVE
    + _SETTLE
    + """
local wait = settling(KEYS[4], KEYS[5], ARGV[7])
if wait > 0 then return -wait end
local owners, infos, nextkey = KEYS[1], KEYS[2], KEYS[3]
local capacity, max_id = tonumber(ARGV[5]), tonumber(ARGV[6])
local count = redis.call('HLEN', owners)
if count >= max_id then return false end
if count >= capacity then
  -- members of dead nodes count until they are reaped; refuse only if the live ones fill the room
  if #ids_where(owners, true) >= capacity then return false end
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
local out = {}
for _, id in ipairs(ids_where(KEYS[1], true)) do
  local info = redis.call('HGET', KEYS[2], id)
  if info then out[#out + 1] = id; out[#out + 1] = info end
end
return out
"""
)

# KEYS: owners, infos. ARGV: alive prefix, alive suffix. Deletes dead nodes' members; returns their ids. Atomic, so
# when several live nodes reap at once each id is returned to exactly one of them.
_REAP = (
    _LIVE
    + """
local dead = ids_where(KEYS[1], false)
for _, id in ipairs(dead) do
  redis.call('HDEL', KEYS[1], id); redis.call('HDEL', KEYS[2], id)
end
return dead
"""
)

# KEYS: owners, infos, epoch, settling. ARGV: alive prefix, alive suffix, node, delete stale (0/1), settle ms, then
# id, info pairs: this node's members. Opens the settling window if Redis lost the registry, registers the members
# (taking over ids of dead nodes), optionally drops this node's entries not listed, returns the ids held by another
# live node.
_SYNC = (
    _LIVE
    + _SETTLE
    + """
settling(KEYS[3], KEYS[4], ARGV[5])
local node, keep, cache = ARGV[3], {}, {}
for i = 6, #ARGV, 2 do keep[ARGV[i]] = ARGV[i + 1] end
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


class RedisRegistry:
    def __init__(self, conn: RedisConnection, pubsub: RedisPubSub, settle: float) -> None:
        self.conn, self.pubsub = conn, pubsub
        self._settle = settle
        self._settle_ms = int(settle * 1000)
        redis = conn.redis
        self._claim = redis.register_script(_CLAIM)
        self._members = redis.register_script(_MEMBERS)
        self._reap = redis.register_script(_REAP)
        self._sync = redis.register_script(_SYNC)
        self._own = redis.register_script(_OWN)
        self._window = [f"{conn.prefix}:registry:epoch", f"{conn.prefix}:registry:settling"]
        self._local: dict[str, dict[int, dict[str, Any]]] = {}  # members claimed here: room -> id -> info
        self._snapshot: dict[str, dict[int, dict[str, Any]]] = {}  # what `connected` registered
        self._fallback_next = zlib.crc32(conn.node_id.encode()) % FALLBACK_ID_COUNT

    def _keys(self, room: str, *what: str) -> list[str]:
        return [f"{self.conn.prefix}:registry:{room}:{name}" for name in what]

    # --- the Registry contract --------------------------------------------------------------------------------

    async def claim(self, room: str, info: dict[str, Any], capacity: int) -> int | None:
        text = encode(info)
        conn, loop = self.conn, asyncio.get_running_loop()
        deadline = loop.time() + self._settle + conn.op_timeout
        while conn.up:
            try:
                claimed = await conn.timed(
                    self._claim(
                        keys=[*self._keys(room, "owners", "infos", "next"), *self._window],
                        args=[*conn.alive_args, conn.node_id, text, capacity, SHARED_ID_MAX, self._settle_ms],
                    )
                )
            except OUTAGE as exc:
                conn.lost(exc)
                break
            if claimed is None:
                return None
            if int(claimed) > 0:
                self._local.setdefault(room, {})[int(claimed)] = json.loads(text)
                return int(claimed)
            if loop.time() > deadline:  # not expected: the window expires on its own
                break
            await asyncio.sleep(min(-int(claimed) / 1000, 0.25))  # the registry settles: wait, then retry
        # Redis is unreachable: admit up to `capacity` here, with ids the shared allocator never hands out.
        local = self._local.setdefault(room, {})
        if len(local) >= min(capacity, FALLBACK_ID_COUNT):
            if not local:
                del self._local[room]
            return None
        while True:  # ends: fewer than FALLBACK_ID_COUNT ids are taken locally
            self._fallback_next = (self._fallback_next + 1) % FALLBACK_ID_COUNT
            member_id = FALLBACK_ID_MIN + self._fallback_next
            if member_id not in local:
                local[member_id] = json.loads(text)
                return member_id

    async def release(self, room: str, member_id: int) -> None:
        local = self._local.get(room, {})
        if local.pop(member_id, None) is None:
            return
        if not local:
            self._local.pop(room, None)
        await self._own_call(room, [self.conn.node_id, member_id])

    async def update(self, room: str, member_id: int, info: dict[str, Any]) -> None:
        local = self._local.get(room, {})
        if member_id not in local:
            return
        text = encode(info)
        local[member_id] = json.loads(text)
        await self._own_call(room, [self.conn.node_id, member_id, text])

    async def _own_call(self, room: str, args: list[Any]) -> None:
        # While Redis is down the local record is the truth; re-registration on recovery carries it over.
        if not self.conn.up:
            return
        try:
            await self.conn.timed(self._own(keys=self._keys(room, "owners", "infos"), args=args))
        except OUTAGE as exc:
            self.conn.lost(exc)

    async def members(self, room: str) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        conn = self.conn
        if conn.up:
            try:
                flat = await conn.timed(
                    self._members(keys=self._keys(room, "owners", "infos"), args=list(conn.alive_args))
                )
            except OUTAGE as exc:
                conn.lost(exc)
            else:
                found = {int(flat[i]): json.loads(flat[i + 1]) for i in range(0, len(flat), 2)}
        # This node's own members are always known here, even before they are registered again after a restart.
        for member_id, info in self._local.get(room, {}).items():
            found[member_id] = json.loads(encode(info))
        return found

    def rooms(self) -> list[str]:
        """The rooms where this node holds members."""
        return list(self._local)

    # --- the connection's part --------------------------------------------------------------------------------

    async def connected(self) -> None:
        # Redis may have restarted empty, or kept entries this node released while cut off: make them match.
        self._snapshot = {room: dict(local) for room, local in self._local.items()}
        for room, local in self._snapshot.items():
            await self._register(room, local, delete_stale=True)

    async def resumed(self) -> None:
        # Members claimed or released while `connected` ran.
        snapshot, self._snapshot = self._snapshot, {}
        for room in set(snapshot) | set(self._local):
            now, then = self._local.get(room, {}), snapshot.get(room, {})
            await self._register(room, {i: info for i, info in now.items() if i not in then}, delete_stale=False)
            for member_id in then.keys() - now.keys():
                await self._own_call(room, [self.conn.node_id, member_id])
        await self._reap_rooms()

    async def beat(self, lapsed: bool) -> None:
        if lapsed:
            # Our liveness key had expired (this process stalled longer than the TTL): the other nodes have reaped
            # our members and told their rooms they left. Register them again (the connection then announces a
            # resync, so everyone re-reads members).
            for room, local in list(self._local.items()):
                await self._register(room, dict(local), delete_stale=False)
        await self._reap_rooms()

    async def halt(self) -> None:
        return None

    async def _register(self, room: str, local: dict[int, dict[str, Any]], delete_stale: bool) -> None:
        if not local and not delete_stale:
            return
        pairs: list[Any] = []
        for member_id, info in local.items():
            pairs += [member_id, encode(info)]
        conn = self.conn
        conflicts = await conn.timed(
            self._sync(
                keys=[*self._keys(room, "owners", "infos"), *self._window],
                args=[*conn.alive_args, conn.node_id, "1" if delete_stale else "0", self._settle_ms, *pairs],
            )
        )
        if conflicts:
            log.warning(
                "member ids admitted during an outage clash with another node; kept local only",
                extra={"node": conn.node_id, "room": room, "ids": sorted(int(i) for i in conflicts)},
            )

    async def _reap_rooms(self) -> None:
        """Reap the rooms this node listens to; whoever reaps a member tells everyone, itself included."""
        for room in self.pubsub.topics():
            reaped: Iterable[bytes] = await self.conn.timed(
                self._reap(keys=self._keys(room, "owners", "infos"), args=list(self.conn.alive_args))
            )
            for raw in reaped:
                await self.pubsub.publish(room, node_lost_event(int(raw)), local=True)
