"""The bus: topics between the nodes (server processes) of Civic Space, and the registry of who is in which room.

Two parts, kept apart as Phoenix keeps PubSub apart from its Tracker:
- `PubSub`: messages on plain string topics. `room:<scene>/<instance>` carries one room's poses and events,
  `scene:<scene>` what every instance of a scene must hear, `site` what everyone must hear. Whoever needs a topic
  subscribes to it; a publisher never decides who listens.
- `Registry`: the members of each room across all nodes (keyed by the room's topic): short ids, capacity, and the
  leave events of a node that went away, published on the room's topic.
Two implementations: `InProcessBus` (one server, the default; tests run several nodes on one hub) and
`bus_redis.RedisBus` (scale-out). Nothing above this seam knows which one runs.

Invariants both keep (pinned by tests/test_bus.py, run against both):
- a message published on a topic reaches each subscription of that topic on every OTHER node exactly once; with
  `local=True` it also reaches this node's own subscriptions, directly (never through the shared engine, so that
  works while it is unreachable). Poses never come back to their sender's node;
- a subscription receives only between `subscribe` and `unsubscribe`; callbacks run from the event loop, never
  inside a bus call; a callback that raises is logged and delivery goes on;
- messages from one node on one topic arrive at another node in the order they were published;
- member ids are in 1..65535 and unique in a room across all nodes, including after the shared engine restarted
  empty; a room never holds more than `capacity` members admitted through the registry;
- when a node goes away (close, or a crash with Redis), every other node subscribed to one of its rooms' topics gets
  ONE {"type": "leave", "id": ..., "reason": "node_lost"} per member it held.
Besides the publishers' messages, the bus itself delivers {"type": "resync"} to every subscription after this node
lost contact with the other nodes and regained it: whatever was published meanwhile was dropped, so a room re-reads
`members()`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("civic.bus")

MEMBER_ID_MAX = 65535
SITE = "site"

OnPoses = Callable[[str, bytes], None]
OnEvent = Callable[[dict[str, Any]], None]


def room_topic(scene_id: str, instance: int) -> str:
    return f"room:{scene_id}/{instance}"


def scene_topic(scene_id: str) -> str:
    return f"scene:{scene_id}"


class Subscription:
    """One subscriber of one topic: a handle for `unsubscribe`. `on_poses(sender_node, payload)` is called for
    poses (if given), `on_event(message)` for every message."""

    __slots__ = ("topic", "node_id", "on_event", "on_poses", "active")

    def __init__(self, topic: str, node_id: str, on_event: OnEvent, on_poses: OnPoses | None) -> None:
        self.topic, self.node_id = topic, node_id
        self.on_event, self.on_poses = on_event, on_poses
        self.active = True

    def deliver_event(self, text: str | bytes) -> None:
        """Decode per receiver: no receiver sees another receiver's mutations."""
        if not self.active:
            return
        try:
            message = json.loads(text)
        except ValueError:
            log.warning("bus message is not JSON; dropped", extra={"topic": self.topic})
            return
        safe_call(self.on_event, message)

    def deliver_poses(self, sender: str, payload: bytes) -> None:
        if self.active and self.on_poses is not None:
            safe_call(self.on_poses, sender, payload)


class PubSub(Protocol):
    """Messages on topics, between this node and the others."""

    async def subscribe(self, topic: str, on_event: OnEvent, on_poses: OnPoses | None = None) -> Subscription:
        """Receive the topic's messages (and poses, with `on_poses`) from now on. Several subscriptions of one node
        to one topic each receive every message."""

    async def unsubscribe(self, subscription: Subscription) -> None:
        """Receive nothing more through this subscription (not even what is already scheduled)."""

    async def publish(self, topic: str, message: dict[str, Any], *, local: bool = False) -> None:
        """Send a JSON-able message to the topic's subscribers on the other nodes (and on this one, `local=True`).
        Never raises for an outage: the other nodes miss it."""

    async def publish_poses(self, topic: str, payload: bytes) -> None:
        """Send this node's combined poses for one tick (opaque bytes) to the topic's subscribers on the other
        nodes. Never raises; dropped when they cannot be reached."""


class Registry(Protocol):
    """Who is in which room, on every node. Rooms are named by their topic."""

    async def claim(self, room: str, info: dict[str, Any], capacity: int) -> int | None:
        """Allocate a member id unique in the room across all nodes and register `info` (JSON-able) for it.
        None when the room already holds `capacity` members."""

    async def release(self, room: str, member_id: int) -> None:
        """Unregister a member claimed by this node."""

    async def update(self, room: str, member_id: int, info: dict[str, Any]) -> None:
        """Replace the info of a member claimed by this node."""

    async def members(self, room: str) -> dict[int, dict[str, Any]]:
        """Every live member of the room across all nodes, id -> info."""


class Bus(Protocol):
    """One node's bus: its pub/sub and its registry, started and stopped together."""

    node_id: str

    @property
    def pubsub(self) -> PubSub: ...

    @property
    def registry(self) -> Registry: ...

    async def start(self) -> None:
        """Connect and begin heartbeating. Never raises because the shared engine is unreachable."""

    async def close(self) -> None:
        """Stop; the other nodes see this node's members leave (reason "node_lost")."""


def node_lost_event(member_id: int) -> dict[str, Any]:
    return {"type": "leave", "id": member_id, "reason": "node_lost"}


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def safe_call(callback: Callable[..., None], *args: Any) -> None:
    """Run a subscriber's callback; a failing subscriber must not stop delivery to the others."""
    try:
        callback(*args)
    except Exception:
        log.exception("bus callback failed")


class InProcessHub:
    """Shared state of the nodes of one process: subscriptions and the member registry.

    All mutation happens between awaits, so every operation is atomic without locks.
    """

    def __init__(self) -> None:
        self.subscriptions: dict[str, list[Subscription]] = {}
        self.owners: dict[str, dict[int, str]] = {}
        self.infos: dict[str, dict[int, dict[str, Any]]] = {}
        self.next_id: dict[str, int] = {}

    def deliver(self, topic: str, sender: str, local: bool, deliver: Callable[[Subscription], None]) -> None:
        """Schedule `deliver` for every subscription of the topic (but the sender node's, unless `local`), on the
        event loop: in publish order, and never inside the publish call."""
        loop = asyncio.get_running_loop()
        for sub in self.subscriptions.get(topic, ()):
            if local or sub.node_id != sender:
                loop.call_soon(deliver, sub)


class InProcessPubSub:
    def __init__(self, hub: InProcessHub, node_id: str) -> None:
        self.hub, self.node_id = hub, node_id

    async def subscribe(self, topic: str, on_event: OnEvent, on_poses: OnPoses | None = None) -> Subscription:
        sub = Subscription(topic, self.node_id, on_event, on_poses)
        self.hub.subscriptions.setdefault(topic, []).append(sub)
        return sub

    async def unsubscribe(self, subscription: Subscription) -> None:
        subscription.active = False
        subs = self.hub.subscriptions.get(subscription.topic, [])
        if subscription in subs:
            subs.remove(subscription)
        if not subs:
            self.hub.subscriptions.pop(subscription.topic, None)

    async def publish(self, topic: str, message: dict[str, Any], *, local: bool = False) -> None:
        # Encoded once, decoded per receiver: the message must be JSON-able (as with Redis).
        text = encode(message)
        self.hub.deliver(topic, self.node_id, local, lambda sub: sub.deliver_event(text))

    async def publish_poses(self, topic: str, payload: bytes) -> None:
        data, sender = bytes(payload), self.node_id
        self.hub.deliver(topic, sender, False, lambda sub: sub.deliver_poses(sender, data))

    def drop_node(self) -> None:
        for topic, subs in list(self.hub.subscriptions.items()):
            for sub in [s for s in subs if s.node_id == self.node_id]:
                sub.active = False
                subs.remove(sub)
            if not subs:
                del self.hub.subscriptions[topic]


class InProcessRegistry:
    def __init__(self, hub: InProcessHub, node_id: str, pubsub: InProcessPubSub) -> None:
        self.hub, self.node_id, self.pubsub = hub, node_id, pubsub

    async def claim(self, room: str, info: dict[str, Any], capacity: int) -> int | None:
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
        self.hub.infos.setdefault(room, {})[member_id] = json.loads(encode(info))
        return member_id

    async def release(self, room: str, member_id: int) -> None:
        owners = self.hub.owners.get(room, {})
        if owners.get(member_id) == self.node_id:
            del owners[member_id]
            self.hub.infos[room].pop(member_id, None)
            if not owners:  # bounded by rooms in use, not by rooms ever used
                del self.hub.owners[room], self.hub.infos[room]

    async def update(self, room: str, member_id: int, info: dict[str, Any]) -> None:
        if self.hub.owners.get(room, {}).get(member_id) == self.node_id:
            self.hub.infos[room][member_id] = json.loads(encode(info))

    async def members(self, room: str) -> dict[int, dict[str, Any]]:
        return {member_id: json.loads(encode(info)) for member_id, info in self.hub.infos.get(room, {}).items()}

    async def drop_node(self) -> None:
        """This node is going away: forget its members and tell the other nodes, one leave per member."""
        for room, owners in list(self.hub.owners.items()):
            for member_id in [i for i, node in owners.items() if node == self.node_id]:
                await self.release(room, member_id)
                await self.pubsub.publish(room, node_lost_event(member_id))


class InProcessBus:
    """One node on an `InProcessHub`. A single server uses one hub with one bus."""

    def __init__(self, hub: InProcessHub, node_id: str) -> None:
        self.node_id = node_id
        self.pubsub = InProcessPubSub(hub, node_id)
        self.registry = InProcessRegistry(hub, node_id, self.pubsub)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self.pubsub.drop_node()
        await self.registry.drop_node()
