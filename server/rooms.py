"""Rooms: who is in a scene instance, their poses, and the fixed tick that sends everyone what they can see.

Life cycle of a room: opened on first use (subscribes to the bus), members are admitted (capacity checked
through the bus, so it holds across processes), send poses, chat and rename, and are removed; every tick the
room plans frames (server/interest.py), offers each local member its frame, and publishes ONE message with its
local avatars to the other nodes. Rooms stay open once opened (their number is bounded by scenes × instances).

Room events (joins, leaves, renames, chat, hotspot changes) reach local members as ONE `batch` message per tick,
encoded once: presence traffic grows with the number of events, not with events × members.

Invariants: the tick never awaits a client: pose frames are written to sockets directly, once framed per group
of viewers, and dropped (counted) for a socket that holds a backlog; a member's control queue is bounded
(overflow closes the connection as too slow);
local members are served directly, so an unreachable bus only hides the other nodes. Remote avatars whose
node has been silent for REMOTE_STALE seconds are left out of frames.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .bus import Bus
from .codec import AVATAR, CodecError, Quantizer, decode_frame, encode_frame, ws_binary_frame
from .interest import plan_frames
from .metrics import Metrics
from .outbound import Outbound

log = logging.getLogger("civic.rooms")

REMOTE_STALE = 2.0  # seconds
MAX_INSTANCE = 64
# Events from other nodes passed on to local members as they are (besides join/leave/rename).
FORWARDED = {"chat", "hotspot", "proposal", "proposal_supports"}


@dataclass(frozen=True)
class SceneInfo:
    """What a room needs to know of its scene."""

    capacity: int
    bounds: dict[str, list[float]]
    spawn: list[float]


def room_key(scene_id: str, instance: int) -> str:
    return f"{scene_id}#{instance}"


@dataclass(eq=False)
class Member:
    """One local resident: identity, last pose, and the outbound side of their connection (server/outbound.py),
    to which the room only offers messages and frames."""

    id: int
    name: str
    pose: tuple[int, int, int, int, int, int] | None = None  # (id, x, y, z, yaw, pitch), quantised
    outbound: Outbound = field(default_factory=Outbound)

    def send(self, message: dict[str, Any] | str) -> None:
        """Offer a control message to this resident (queued, never awaited)."""
        self.outbound.offer(message)


class Room:
    def __init__(self, scene_id: str, instance: int, info: SceneInfo, bus: Bus, metrics: Metrics) -> None:
        self.scene_id, self.instance, self.capacity = scene_id, instance, info.capacity
        self.key = room_key(scene_id, instance)
        self.bounds = info.bounds
        self.step = Quantizer(info.bounds["min"], info.bounds["max"]).step
        # Where a resident who has not sent a pose yet is taken to stand (the scene's entrance).
        x, y, z = (int(v) for v in Quantizer(info.bounds["min"], info.bounds["max"]).position(info.spawn))
        self.arrival = (x, y, z)
        self.bus, self.metrics = bus, metrics
        self.local: dict[int, Member] = {}
        self.roster: dict[int, dict[str, Any]] = {}  # everyone, on every node: id -> {"name": ...}
        self.remote: dict[str, tuple[float, np.ndarray]] = {}  # node -> (received at, avatars)
        self.pending: list[dict[str, Any]] = []  # events for local members, sent as one batch at the next tick

    # --- life cycle -----------------------------------------------------------------------------------------
    async def open(self) -> None:
        await self.bus.join_room(self.key, self._on_remote_poses, self._on_remote_event)
        await self._refresh_roster()

    async def admit(self, name: str) -> Member | None:
        member_id = await self.bus.claim_member(self.key, {"name": name}, self.capacity)
        if member_id is None:
            return None
        member = Member(member_id, name)
        self.local[member_id] = member
        self.roster[member_id] = {"name": name}
        self._announce({"type": "join", "member": {"id": member_id, "name": name}})
        return member

    async def remove(self, member: Member, reason: str) -> None:
        if self.local.pop(member.id, None) is None:
            return
        self.roster.pop(member.id, None)
        await self.bus.release_member(self.key, member.id)
        self._announce({"type": "leave", "id": member.id, "reason": reason})

    def roster_list(self) -> list[dict[str, Any]]:
        return [{"id": i, "name": info.get("name", "Guest")} for i, info in sorted(self.roster.items())]

    # --- what members do --------------------------------------------------------------------------------------
    def set_pose(self, member: Member, x: int, y: int, z: int, yaw: int, pitch: int) -> None:
        member.pose = (member.id, x, y, z, yaw, pitch)

    async def rename(self, member: Member, name: str) -> None:
        member.name = name
        self.roster[member.id] = {"name": name}
        await self.bus.update_member(self.key, member.id, {"name": name})
        self._announce({"type": "rename", "id": member.id, "name": name})

    def chat(self, member: Member, text: str) -> None:
        self._announce({"type": "chat", "id": member.id, "name": member.name, "text": text,
                        "ts": round(time.time(), 3)})

    def broadcast(self, event: dict[str, Any]) -> None:
        """A change everyone in the room should see at once (a hotspot, a proposal's new state)."""
        self._announce(event)

    def _announce(self, event: dict[str, Any]) -> None:
        """To every local member at the next tick, and to the other nodes now."""
        self.pending.append(event)
        task = asyncio.ensure_future(self.bus.publish_event(self.key, event))
        task.add_done_callback(_log_failure)

    def _flush_events(self) -> None:
        """One `batch` message per tick with the room's events, encoded once for every local member: a thousand
        people arriving is a thousand events in a few batches, not a million messages."""
        if not self.pending:
            return
        text = json.dumps({"type": "batch", "events": self.pending}, ensure_ascii=False)
        self.pending = []
        for member in self.local.values():
            member.outbound.offer(text)

    # --- the tick -----------------------------------------------------------------------------------------------
    def tick(self, tick: int, now: float) -> bytes | None:
        """Send the tick's events, offer each local member its frame; return this node's poses for the bus."""
        self._flush_events()
        if not self.local:
            return None
        local = list(self.local.values())
        viewers = np.array([m.pose or (m.id, *self.arrival, 0, 0) for m in local], dtype=AVATAR)
        visible = viewers[np.fromiter((m.pose is not None for m in local), dtype=bool, count=len(local))]
        parts = [visible]
        for node, (stamp, avatars) in list(self.remote.items()):
            if now - stamp > REMOTE_STALE:
                del self.remote[node]
            elif len(avatars):
                parts.append(avatars[np.isin(avatars["id"], list(self.roster))])
        everyone = np.concatenate(parts) if len(parts) > 1 else visible
        sent = dropped = sent_bytes = 0
        for plan in plan_frames(everyone, viewers, self.step, tick):
            wire = ws_binary_frame(plan.frame)
            for index in plan.viewers:
                if local[index].outbound.offer_frame(wire, now):
                    sent += 1
                    sent_bytes += len(wire)
                else:
                    dropped += 1
        self.metrics.frames_out.inc(sent)
        self.metrics.bytes_out.inc(sent_bytes)
        self.metrics.dropped_frames.inc(dropped)
        return encode_frame(tick, visible) if len(visible) else None

    # --- from other nodes --------------------------------------------------------------------------------------
    def _on_remote_poses(self, node: str, payload: bytes) -> None:
        try:
            _, avatars = decode_frame(payload)
        except CodecError:
            log.warning("bad poses from another node", extra={"node": node})
            return
        self.remote[node] = (time.monotonic(), avatars)

    def _on_remote_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "resync":
            asyncio.ensure_future(self._refresh_roster()).add_done_callback(_log_failure)
            return
        if kind == "join":
            self.roster[int(event["member"]["id"])] = {"name": event["member"]["name"]}
        elif kind == "leave":
            self.roster.pop(int(event["id"]), None)
        elif kind == "rename":
            self.roster[int(event["id"])] = {"name": event["name"]}
        elif kind not in FORWARDED:
            return
        self.pending.append(event)

    async def _refresh_roster(self) -> None:
        """Re-read who is here (after opening, or after the bus lost contact) and tell local members."""
        known = await self.bus.members(self.key)
        roster = {i: {"name": info.get("name", "Guest")} for i, info in known.items()}
        roster.update({m.id: {"name": m.name} for m in self.local.values()})
        changed = roster != self.roster
        self.roster = roster
        if changed and self.local:
            message = json.dumps({"type": "roster", "members": self.roster_list()})
            for member in self.local.values():
                member.send(message)


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("room background task failed", exc_info=task.exception())


class Rooms:
    """Every open room of this process and the one tick loop that drives them."""

    def __init__(self, bus: Bus, metrics: Metrics, tick_hz: float,
                 scene_info: Callable[[str], SceneInfo | None]) -> None:
        self.bus, self.metrics, self.tick_hz = bus, metrics, tick_hz
        self.scene_info = scene_info  # None for an unknown scene
        self.rooms: dict[str, Room] = {}
        self._opening: dict[str, asyncio.Task[Room]] = {}
        self.tick_count = 0

    async def get(self, scene_id: str, instance: int) -> Room | None:
        key = room_key(scene_id, instance)
        if key in self.rooms:
            return self.rooms[key]
        info = self.scene_info(scene_id)
        if info is None:
            return None
        if key not in self._opening:
            self._opening[key] = asyncio.ensure_future(self._open(scene_id, instance, info))
        return await asyncio.shield(self._opening[key])

    async def _open(self, scene_id: str, instance: int, info: SceneInfo) -> Room:
        room = Room(scene_id, instance, info, self.bus, self.metrics)
        try:
            await room.open()
        finally:
            self._opening.pop(room.key, None)
        self.rooms[room.key] = room
        self.metrics.rooms.set(len(self.rooms))
        return room

    def broadcast_scene(self, scene_id: str, event: dict[str, Any]) -> None:
        """To every instance of a scene, on every node: the instances open here deliver it themselves (and pass
        it on); for the others the event goes straight to the bus, since another node may serve them. Staff
        edits are rare, so a publish per possible instance costs nothing that matters."""
        for instance in range(1, MAX_INSTANCE + 1):
            room = self.rooms.get(room_key(scene_id, instance))
            if room is not None:
                room.broadcast(event)
            else:
                task = asyncio.ensure_future(self.bus.publish_event(room_key(scene_id, instance), event))
                task.add_done_callback(_log_failure)

    def broadcast_all(self, event: dict[str, Any]) -> None:
        for room in list(self.rooms.values()):
            room.broadcast(event)

    async def run(self) -> None:
        """Fixed-rate tick: tick n runs at start + n / tick_hz; a late tick runs at once, missed ones are skipped."""
        interval = 1.0 / self.tick_hz
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            now = loop.time()
            if next_at > now:
                await asyncio.sleep(next_at - now)
            started = time.perf_counter()
            self.tick_count += 1
            publishes = []
            for room in list(self.rooms.values()):
                try:
                    payload = room.tick(self.tick_count, time.monotonic())
                except Exception:
                    log.exception("room tick failed", extra={"room": room.key})
                    continue
                if payload is not None:
                    publishes.append(self.bus.publish_poses(room.key, payload))
            if publishes:
                await asyncio.gather(*publishes, return_exceptions=True)
            self.metrics.tick_seconds.observe(time.perf_counter() - started)
            next_at = max(next_at + interval, loop.time() - interval)
