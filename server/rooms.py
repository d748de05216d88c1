"""Rooms: who is in a scene instance, their poses, and the fixed tick that sends everyone what they can see.

Life cycle of a room: opened on first use (subscribes to the bus), members are admitted (capacity checked
through the bus, so it holds across processes), send poses, chat and rename, and are removed; every tick the
room plans frames (server/interest.py), offers each local member its frame, and publishes ONE message with its
local avatars to the other nodes on the room's topic. A room listens to three bus topics: its own
(`room:<scene>/<instance>`), its scene's and the site's; it forwards to its members every event it receives there
whose type it does not own (ROOM_OWN): adding a content event touches its producer and its consumer only. A room
with no local member for ROOM_GRACE seconds is disposed (it stops listening); a joiner never lands in a disposed one.

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
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .bus import SITE, Bus, Subscription, room_topic, scene_topic
from .codec import AVATAR, CodecError, Quantizer, decode_frame, encode_frame, ws_binary_frame
from .interest import plan_frames
from .metrics import Metrics
from .outbound import Outbound

log = logging.getLogger("civic.rooms")
AVATAR_RECORD = struct.Struct("<HHHHHB")  # one avatar of a frame, as dtype AVATAR lays it out
assert AVATAR_RECORD.size == AVATAR.itemsize

REMOTE_STALE = 2.0  # seconds
MAX_INSTANCE = 64
# How long a room with no local member stays open: a resident who reloads the page, or a flaky link that drops and
# rejoins, finds it still open instead of costing three unsubscribes, three subscribes and a roster re-read.
ROOM_GRACE = 10.0  # seconds
# Event types a room handles itself; every other event it receives on its topics is content and goes to its members.
ROOM_OWN = {"join", "leave", "rename", "roster", "resync"}


@dataclass(frozen=True)
class SceneInfo:
    """What a room needs to know of its scene."""

    capacity: int
    bounds: dict[str, list[float]]
    spawn: list[float]


def room_key(scene_id: str, instance: int) -> str:
    """A room's name: its bus topic, also its name in the registry."""
    return room_topic(scene_id, instance)


@dataclass(eq=False)
class Member:
    """One local resident: identity, last pose, and the outbound side of their connection (server/outbound.py),
    to which the room only offers messages and frames."""

    id: int
    name: str
    # The last pose as this member's record in a frame (dtype AVATAR: id, x, y, z, yaw, pitch; 11 bytes), kept as
    # bytes: a pose message is stored with one concatenation and a tick joins the records into one array.
    pose: bytes | None = None
    outbound: Outbound = field(default_factory=Outbound)
    standing: bytes = b""  # the record used for this member as a viewer until a first pose arrives

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
        self.subscriptions: list[Subscription] = []
        self.admitting = 0  # admissions waiting for the registry: the room is not idle meanwhile
        self.idle_since: float | None = time.monotonic()  # since when no local member was here (None: in use)

    # --- life cycle -----------------------------------------------------------------------------------------
    async def open(self) -> None:
        """Listen to the room's own topic (poses, presence, chat) and to its scene's and the site's topics."""
        pubsub = self.bus.pubsub
        self.subscriptions = [
            await pubsub.subscribe(self.key, self._on_remote_event, self._on_remote_poses),
            await pubsub.subscribe(scene_topic(self.scene_id), self._on_wide_event),
            await pubsub.subscribe(SITE, self._on_wide_event),
        ]
        await self._refresh_roster()

    async def close(self) -> None:
        """Stop listening (the room is empty and dropped from `Rooms`)."""
        subscriptions, self.subscriptions = self.subscriptions, []
        for subscription in subscriptions:
            await self.bus.pubsub.unsubscribe(subscription)

    def idle_for(self, now: float) -> float:
        """Seconds without a local member nor an admission in progress (0 while in use)."""
        if self.local or self.admitting:
            self.idle_since = None
            return 0.0
        if self.idle_since is None:
            self.idle_since = now
        return now - self.idle_since

    async def admit(self, name: str) -> Member | None:
        self.admitting += 1
        try:
            member_id = await self.bus.registry.claim(self.key, {"name": name}, self.capacity)
        finally:
            self.admitting -= 1
        if member_id is None:
            return None
        member = Member(member_id, name, standing=AVATAR_RECORD.pack(member_id, *self.arrival, 0, 0))
        self.local[member_id] = member
        self.idle_since = None  # the grace counts from the last leave, even between two ticks
        self.roster[member_id] = {"name": name}
        self._announce({"type": "join", "member": {"id": member_id, "name": name}})
        return member

    async def remove(self, member: Member, reason: str) -> None:
        if self.local.pop(member.id, None) is None:
            return
        self.roster.pop(member.id, None)
        await self.bus.registry.release(self.key, member.id)
        self._announce({"type": "leave", "id": member.id, "reason": reason})

    def roster_list(self) -> list[dict[str, Any]]:
        return [{"id": i, "name": info.get("name", "Guest")} for i, info in sorted(self.roster.items())]

    # --- what members do --------------------------------------------------------------------------------------
    def set_pose(self, member: Member, x: int, y: int, z: int, yaw: int, pitch: int) -> None:
        member.pose = AVATAR_RECORD.pack(member.id, x, y, z, yaw, pitch)

    @staticmethod
    def set_pose_message(member: Member, message: bytes) -> None:
        """A POSE message already checked (10 bytes, kind POSE): its fields are the record's after the id."""
        member.pose = member.standing[:2] + message[1:]

    async def rename(self, member: Member, name: str) -> None:
        member.name = name
        self.roster[member.id] = {"name": name}
        await self.bus.registry.update(self.key, member.id, {"name": name})
        self._announce({"type": "rename", "id": member.id, "name": name})

    def chat(self, member: Member, text: str) -> None:
        self._announce({"type": "chat", "id": member.id, "name": member.name, "text": text,
                        "ts": round(time.time(), 3)})

    def _announce(self, event: dict[str, Any]) -> None:
        """To every local member at the next tick, and to this room's other nodes now (on the room's topic)."""
        self.pending.append(event)
        task = asyncio.ensure_future(self.bus.pubsub.publish(self.key, event))
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
        poses = [m.pose for m in local]
        if None in poses:  # someone has not moved yet: seen nowhere, sent what is around the entrance
            visible = np.frombuffer(b"".join([p for p in poses if p is not None]), dtype=AVATAR)
            viewers = np.frombuffer(b"".join([m.pose or m.standing for m in local]), dtype=AVATAR)
        else:
            visible = viewers = np.frombuffer(b"".join(poses), dtype=AVATAR)  # type: ignore[arg-type]
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
            for index in plan.viewers.tolist():
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
        """An event on the room's topic: presence updates the roster (and is passed on), anything else is content
        for the local members."""
        kind = event.get("type")
        if kind == "resync":
            asyncio.ensure_future(self._resync()).add_done_callback(_log_failure)
            return
        if kind == "join":
            self.roster[int(event["member"]["id"])] = {"name": event["member"]["name"]}
        elif kind == "leave":
            self.roster.pop(int(event["id"]), None)
        elif kind == "rename":
            self.roster[int(event["id"])] = {"name": event["name"]}
        elif kind == "roster":
            return
        self.pending.append(event)

    def _on_wide_event(self, event: dict[str, Any]) -> None:
        """An event on the scene's or the site's topic: content for the local members. Presence never travels
        there (a stray one is dropped; the bus's resync is handled on the room's topic)."""
        if event.get("type") not in ROOM_OWN:
            self.pending.append(event)

    async def _resync(self) -> None:
        """The bus lost messages (this node, or another node of this room, was cut off and is back): re-read who is
        here, then tell each local member once that content events may have been missed, so its client re-reads
        what it shows (hotspots, proposals) from the store. One message per resync the room hears; a client
        coalesces repeats."""
        try:
            await self._refresh_roster()
        finally:  # the registry may be gone again; the store the clients re-read is another service
            message = json.dumps({"type": "resync"})
            for member in self.local.values():
                member.send(message)

    async def _refresh_roster(self) -> None:
        """Re-read who is here (after opening, or after the bus lost contact) and tell local members."""
        known = await self.bus.registry.members(self.key)
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
        """The open room of this scene instance, opened on first use; None for an unknown scene.

        A room is returned only while it is in `rooms`, and the caller's `admit` marks it in use before its first
        await; disposal (`dispose_idle`) decides and drops without awaiting: so a joiner never lands in a disposed
        room."""
        key = room_key(scene_id, instance)
        while True:  # ends: a room is disposed only after ROOM_GRACE idle seconds, far longer than one resumption
            room = self.rooms.get(key)
            if room is not None:
                return room
            info = self.scene_info(scene_id)
            if info is None:
                return None
            if key not in self._opening:
                self._opening[key] = asyncio.ensure_future(self._open(scene_id, instance, info))
            room = await asyncio.shield(self._opening[key])
            if self.rooms.get(key) is room:
                return room

    async def _open(self, scene_id: str, instance: int, info: SceneInfo) -> Room:
        # A disposed room of the same key may still be unsubscribing: subscriptions are handles, so the two never
        # undo each other's.
        room = Room(scene_id, instance, info, self.bus, self.metrics)
        try:
            await room.open()
        finally:
            self._opening.pop(room.key, None)
        self.rooms[room.key] = room
        self.metrics.rooms.set(len(self.rooms))
        return room

    def dispose_idle(self, now: float) -> None:
        """Drop the rooms that had no local member (and no admission in progress) for ROOM_GRACE seconds; they
        stop listening to their topics. Decided and dropped without an await, so `get` never hands out a room
        that is being disposed."""
        for key, room in list(self.rooms.items()):
            if room.idle_for(now) >= ROOM_GRACE:
                del self.rooms[key]
                asyncio.ensure_future(room.close()).add_done_callback(_log_failure)
                self.metrics.rooms.set(len(self.rooms))

    def broadcast_scene(self, scene_id: str, event: dict[str, Any]) -> None:
        """To every instance of a scene, on every node: ONE publish on `scene:<scene>`, which every open instance
        of the scene subscribes to (this node's own too: `local=True`)."""
        self._publish(scene_topic(scene_id), event)

    def broadcast_all(self, event: dict[str, Any]) -> None:
        """To every room on every node: ONE publish on `site` (this node's rooms too)."""
        self._publish(SITE, event)

    def _publish(self, topic: str, event: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self.bus.pubsub.publish(topic, event, local=True))
        task.add_done_callback(_log_failure)

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
                    publishes.append(self.bus.pubsub.publish_poses(room.key, payload))
            if publishes:
                await asyncio.gather(*publishes, return_exceptions=True)
            self.dispose_idle(time.monotonic())
            self.metrics.tick_seconds.observe(time.perf_counter() - started)
            next_at = max(next_at + interval, loop.time() - interval)
