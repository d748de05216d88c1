"""The bus: what one node (server process) of a room tells the other nodes of the same room.

A room lives in one process per node and always serves its own local members directly; the bus only carries what
OTHER nodes need: one combined poses message per room per tick, control events (JSON), and the shared member
registry (short ids and capacity across all nodes). Two implementations sit behind the `Bus` protocol:
`InProcessBus` (one server, the default; tests run two nodes on one hub) and `bus_redis.RedisBus` (scale-out).

Invariants both implementations keep (pinned by tests/test_bus.py, run against both):
- a node never receives its own poses or events; a node receives a room's traffic only between join_room and
  leave_room; callbacks run from the event loop, never synchronously inside a publish call;
- events from one node arrive at another node in the order they were published;
- member ids are in 1..65535 and unique in a room across all nodes; a room never holds more than `capacity`
  members admitted through the shared registry;
- when a node goes away (close, or a crash with Redis), every other node in its rooms gets ONE
  {"type": "leave", "id": ..., "reason": "node_lost"} event per member it held.
Besides the rooms' own events, the bus itself delivers {"type": "resync"} after it lost contact with the other nodes
and regained it: whatever was published meanwhile was dropped, so the room re-reads `members()`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

log = logging.getLogger("civic.bus")

MEMBER_ID_MAX = 65535

OnPoses = Callable[[str, bytes], None]
OnEvent = Callable[[dict[str, Any]], None]


class Bus(Protocol):
    """The seam between a room and the other nodes serving the same room."""

    node_id: str

    async def start(self) -> None:
        """Connect and begin heartbeating. Never raises because the shared engine is unreachable."""

    async def close(self) -> None:
        """Leave every room; the other nodes see this node's members leave (reason "node_lost")."""

    async def join_room(self, room: str, on_poses: OnPoses, on_event: OnEvent) -> None:
        """Receive this room's traffic from OTHER nodes: `on_poses(node_id, payload)` once per remote node per tick,
        `on_event(event)` for each control event. Joining again replaces the callbacks."""

    async def leave_room(self, room: str) -> None:
        """Stop receiving this room's traffic. Members claimed here stay registered until released."""

    async def publish_poses(self, room: str, payload: bytes) -> None:
        """Send this node's combined poses for one tick (opaque bytes) to the room's other nodes. Never raises;
        dropped when they cannot be reached."""

    async def publish_event(self, room: str, event: dict[str, Any]) -> None:
        """Send a JSON-able control event to the room's other nodes. Never raises for an outage."""

    async def claim_member(self, room: str, info: dict[str, Any], capacity: int) -> int | None:
        """Allocate a member id unique in the room across all nodes and register `info` (JSON-able) for it.
        None when the room already holds `capacity` members."""

    async def release_member(self, room: str, member_id: int) -> None:
        """Unregister a member claimed by this node."""

    async def update_member(self, room: str, member_id: int, info: dict[str, Any]) -> None:
        """Replace the info of a member claimed by this node."""

    async def members(self, room: str) -> dict[int, dict[str, Any]]:
        """Every live member of the room across all nodes, id -> info."""


def node_lost_event(member_id: int) -> dict[str, Any]:
    return {"type": "leave", "id": member_id, "reason": "node_lost"}


def safe_call(callback: Callable[..., None], *args: Any) -> None:
    """Run a room callback; a failing room must not stop delivery to the others."""
    try:
        callback(*args)
    except Exception:
        log.exception("bus callback failed")


class _Subscription:
    __slots__ = ("on_poses", "on_event")

    def __init__(self, on_poses: OnPoses, on_event: OnEvent) -> None:
        self.on_poses = on_poses
        self.on_event = on_event


class InProcessHub:
    """Shared state of the nodes of one process: subscriptions and the member registry.

    All mutation happens between awaits, so every operation is atomic without locks.
    """

    def __init__(self) -> None:
        self.subscriptions: dict[str, dict[str, _Subscription]] = {}
        self.owners: dict[str, dict[int, str]] = {}
        self.infos: dict[str, dict[int, dict[str, Any]]] = {}
        self.next_id: dict[str, int] = {}

    def deliver(self, room: str, sender: str, deliver: Callable[[_Subscription], None]) -> None:
        """Schedule `deliver` for every node in the room but the sender, on the event loop."""
        loop = asyncio.get_running_loop()
        for node_id, sub in self.subscriptions.get(room, {}).items():
            if node_id != sender:
                loop.call_soon(self._deliver_if_subscribed, room, node_id, sub, deliver)

    def _deliver_if_subscribed(
        self, room: str, node_id: str, sub: _Subscription, deliver: Callable[[_Subscription], None]
    ) -> None:
        # The node may have left the room (or joined again with new callbacks) since the publish.
        if self.subscriptions.get(room, {}).get(node_id) is sub:
            deliver(sub)


def _send_event(text: str, sub: _Subscription) -> None:
    safe_call(sub.on_event, json.loads(text))


class InProcessBus:
    """One node on an `InProcessHub`. A single server uses one hub with one bus."""

    def __init__(self, hub: InProcessHub, node_id: str) -> None:
        self.hub = hub
        self.node_id = node_id

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        hub = self.hub
        for room, subs in list(hub.subscriptions.items()):
            subs.pop(self.node_id, None)
            if not subs:
                del hub.subscriptions[room]
        for room, owners in hub.owners.items():
            lost = [member_id for member_id, node in owners.items() if node == self.node_id]
            for member_id in lost:
                del owners[member_id]
                hub.infos[room].pop(member_id, None)
                hub.deliver(room, self.node_id, partial(_send_event, json.dumps(node_lost_event(member_id))))

    async def join_room(self, room: str, on_poses: OnPoses, on_event: OnEvent) -> None:
        self.hub.subscriptions.setdefault(room, {})[self.node_id] = _Subscription(on_poses, on_event)

    async def leave_room(self, room: str) -> None:
        subs = self.hub.subscriptions.get(room)
        if subs is not None:
            subs.pop(self.node_id, None)
            if not subs:
                del self.hub.subscriptions[room]

    async def publish_poses(self, room: str, payload: bytes) -> None:
        data, sender = bytes(payload), self.node_id
        self.hub.deliver(room, sender, lambda sub: safe_call(sub.on_poses, sender, data))

    async def publish_event(self, room: str, event: dict[str, Any]) -> None:
        # Encode once, decode per receiver: the event must be JSON-able (as with Redis), and no receiver sees
        # another receiver's mutations.
        self.hub.deliver(room, self.node_id, partial(_send_event, json.dumps(event, separators=(",", ":"))))

    async def claim_member(self, room: str, info: dict[str, Any], capacity: int) -> int | None:
        owners = self.hub.owners.setdefault(room, {})
        if len(owners) >= capacity or len(owners) >= MEMBER_ID_MAX:
            return None
        member_id = self.hub.next_id.get(room, 0)
        while True:  # ends: fewer than MEMBER_ID_MAX ids are taken
            member_id = member_id % MEMBER_ID_MAX + 1
            if member_id not in owners:
                break
        self.hub.next_id[room] = member_id
        owners[member_id] = self.node_id
        self.hub.infos.setdefault(room, {})[member_id] = json.loads(json.dumps(info))
        return member_id

    async def release_member(self, room: str, member_id: int) -> None:
        owners = self.hub.owners.get(room, {})
        if owners.get(member_id) == self.node_id:
            del owners[member_id]
            self.hub.infos[room].pop(member_id, None)

    async def update_member(self, room: str, member_id: int, info: dict[str, Any]) -> None:
        if self.hub.owners.get(room, {}).get(member_id) == self.node_id:
            self.hub.infos[room][member_id] = json.loads(json.dumps(info))

    async def members(self, room: str) -> dict[int, dict[str, Any]]:
        return {member_id: json.loads(json.dumps(info)) for member_id, info in self.hub.infos.get(room, {}).items()}
