"""The bus contract (server/bus.py), pinned once and run against both implementations: in-process (two nodes on one
hub) and Redis (two or three RedisBus nodes on a real redis-server started for the tests). Then the rooms on top of
it, against both: one publish per scene-wide and site-wide event, rooms that empty are disposed. The Redis-only tests
at the end cover what only a distributed bus has: a node that crashes, and Redis itself going away and coming back
(empty).

Every wait is bounded; a missing redis-server binary fails the Redis tests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import partial
from typing import Any

import pytest

from server.bus import SITE, Bus, InProcessBus, InProcessHub, Subscription
from server.bus_redis import FALLBACK_ID_MIN, RedisBus
from server.metrics import Metrics
from server.rooms import ROOM_GRACE, Member, Room, Rooms, SceneInfo, room_key
from tests.redis_server import RedisServer

Factory = Callable[..., Awaitable[list[Bus]]]


class Recorder:
    """A subscriber's view of the bus: everything delivered to its callbacks."""

    def __init__(self) -> None:
        self.poses: list[tuple[str, bytes]] = []
        self.events: list[dict[str, Any]] = []

    def on_poses(self, node_id: str, payload: bytes) -> None:
        self.poses.append((node_id, payload))

    def on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    async def listen(self, bus: Bus, topic: str) -> Subscription:
        return await bus.pubsub.subscribe(topic, self.on_event, self.on_poses)

    def leaves(self) -> list[int]:
        return [e["id"] for e in self.events if e.get("type") == "leave" and e.get("reason") == "node_lost"]


async def eventually(check: Callable[[], Any], what: str, timeout: float = 5.0) -> float:
    """Wait until `check()` is truthy (it may be async); return the seconds it took."""
    start = time.monotonic()
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(params=["inprocess", "redis"])
async def make_nodes(request: pytest.FixtureRequest) -> AsyncIterator[Factory]:
    """`await make_nodes("a", "b")` -> started buses named node-a and node-b, closed after the test."""
    created: list[Bus] = []
    hub = InProcessHub()
    url = ""
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        assert server.command("FLUSHALL").startswith(b"+OK")
        url = server.url

    async def make(*names: str) -> list[Bus]:
        buses: list[Bus] = []
        for name in names:
            # A short settling window: these tests start from an empty Redis, and the window is not what they pin.
            bus: Bus = InProcessBus(hub, f"node-{name}") if not url else RedisBus(url, f"node-{name}", settle=0.2)
            await bus.start()
            created.append(bus)
            buses.append(bus)
        return buses

    yield make
    for bus in created:
        await bus.close()


@pytest.fixture
async def redis_nodes() -> AsyncIterator[tuple[RedisServer, Callable[..., Awaitable[list[RedisBus]]]]]:
    """A redis-server of the test's own (it may be stopped and restarted) and a factory of nodes on it."""
    server = RedisServer()
    created: list[RedisBus] = []

    async def make(*names: str, start_server: bool = True) -> list[RedisBus]:
        if start_server:
            server.start()
        buses = [RedisBus(server.url, f"node-{name}") for name in names]
        for bus in buses:
            await bus.start()
        created.extend(buses)
        return buses

    try:
        yield server, make
    finally:
        for bus in created:
            await bus.close()
        server.stop()


# --- both implementations: topics ---------------------------------------------------------------------------


async def test_poses_reach_the_other_node_and_never_the_sender(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    seen_a, seen_b = Recorder(), Recorder()
    await seen_a.listen(a, "room:hall/1")
    await seen_b.listen(b, "room:hall/1")

    from_a = bytes(range(256)) * 4  # every byte value, NULs included: passed through untouched
    await a.pubsub.publish_poses("room:hall/1", from_a)
    await eventually(lambda: seen_b.poses, "A's poses at B")
    from_b = b"\x00\x01pose-of-b\xff"
    await b.pubsub.publish_poses("room:hall/1", from_b)
    await eventually(lambda: seen_a.poses, "B's poses at A")

    assert seen_b.poses == [("node-a", from_a)]
    assert seen_a.poses == [("node-b", from_b)]  # A's own message, published earlier, never came back
    assert seen_a.events == seen_b.events == []  # poses are not events


async def test_events_cross_nodes_in_publish_order(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    seen_a, seen_b = Recorder(), Recorder()
    await seen_a.listen(a, "room:hall/1")
    await seen_b.listen(b, "room:hall/1")

    sent = [{"type": "chat", "seq": i, "text": f"ligne {i} — ✓"} for i in range(50)]
    for event in sent:
        await a.pubsub.publish("room:hall/1", event)
    await eventually(lambda: len(seen_b.events) >= 50, "50 events at B")
    await b.pubsub.publish("room:hall/1", {"type": "join", "id": 7, "name": "Bo"})
    await eventually(lambda: seen_a.events, "B's event at A")

    assert seen_b.events == sent
    assert seen_a.events == [{"type": "join", "id": 7, "name": "Bo"}]


async def test_only_subscribers_of_a_topic_receive_it(make_nodes: Factory) -> None:
    a, b, c = await make_nodes("a", "b", "c")
    seen_b, seen_c, seen_left = Recorder(), Recorder(), Recorder()
    await seen_b.listen(b, "room:hall/1")
    await seen_c.listen(c, "room:square/1")
    await a.pubsub.unsubscribe(await seen_left.listen(a, "room:hall/1"))

    await a.pubsub.publish_poses("room:hall/1", b"first")
    await a.pubsub.publish("room:hall/1", {"type": "chat", "text": "first"})
    await c.pubsub.publish_poses("room:hall/1", b"from-c")  # c publishes to a topic it does not listen to: fine
    await eventually(lambda: len(seen_b.poses) == 2 and seen_b.events, "hall traffic at B")

    assert seen_c.poses == [] and seen_c.events == []  # another topic
    assert seen_left.poses == [] and seen_left.events == []  # unsubscribed
    assert sorted(seen_b.poses) == [("node-a", b"first"), ("node-c", b"from-c")]


async def test_a_local_publish_reaches_every_subscriber_on_every_node_exactly_once(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    here, here_too, there, elsewhere = Recorder(), Recorder(), Recorder(), Recorder()
    await here.listen(a, "scene:hall")
    await here_too.listen(a, "scene:hall")  # two subscriptions of one node: each gets it
    await there.listen(b, "scene:hall")
    await elsewhere.listen(b, "scene:square")

    await a.pubsub.publish("scene:hall", {"type": "hotspot", "n": 1}, local=True)
    await a.pubsub.publish("scene:hall", {"type": "hotspot", "n": 2})  # not local: the other nodes only
    await eventually(lambda: len(there.events) == 2, "both events at B")
    await asyncio.sleep(0.2)  # an echo through the engine would have arrived by now

    assert here.events == here_too.events == [{"type": "hotspot", "n": 1}]
    assert there.events == [{"type": "hotspot", "n": 1}, {"type": "hotspot", "n": 2}]
    assert elsewhere.events == []


async def test_unsubscribing_one_subscription_keeps_the_others_of_the_topic(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    stays, goes = Recorder(), Recorder()
    await stays.listen(b, SITE)
    await b.pubsub.unsubscribe(await goes.listen(b, SITE))

    await a.pubsub.publish(SITE, {"type": "proposal", "n": 1})
    await eventually(lambda: stays.events, "the event at the remaining subscriber")
    assert goes.events == []


async def test_a_failing_subscriber_does_not_stop_delivery(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    seen = Recorder()

    def fragile(node_id: str, payload: bytes) -> None:
        if payload == b"boom":
            raise RuntimeError("room bug")
        seen.on_poses(node_id, payload)

    await b.pubsub.subscribe("room:hall/1", seen.on_event, fragile)
    await a.pubsub.publish_poses("room:hall/1", b"boom")
    await a.pubsub.publish_poses("room:hall/1", b"fine")
    await eventually(lambda: seen.poses, "the message after the failing one")
    assert seen.poses == [("node-a", b"fine")]


async def test_in_process_delivery_goes_through_the_event_loop() -> None:
    hub = InProcessHub()
    a, b = InProcessBus(hub, "node-a"), InProcessBus(hub, "node-b")
    seen = Recorder()
    await seen.listen(b, "room:hall/1")

    await a.pubsub.publish_poses("room:hall/1", b"tick")
    await a.pubsub.publish("room:hall/1", {"type": "chat"})
    assert seen.poses == [] and seen.events == []  # not delivered inside publish
    await asyncio.sleep(0)
    assert seen.poses == [("node-a", b"tick")] and seen.events == [{"type": "chat"}]


# --- both implementations: the registry -----------------------------------------------------------------------


async def test_member_ids_stay_unique_across_nodes_under_concurrent_claims(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    claims = [(a if i % 2 else b).registry.claim("hall", {"name": f"r{i}"}, capacity=1000) for i in range(200)]
    ids = await asyncio.wait_for(asyncio.gather(*claims), 10)

    assert None not in ids
    assert len(set(ids)) == 200
    assert all(1 <= member_id <= 65535 for member_id in ids if member_id is not None)
    assert set(await a.registry.members("hall")) == set(await b.registry.members("hall")) == set(ids)


async def test_capacity_holds_exactly_across_nodes(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    claims = [(a if i % 2 else b).registry.claim("hall", {"name": f"r{i}"}, capacity=10) for i in range(20)]
    ids = await asyncio.wait_for(asyncio.gather(*claims), 10)

    admitted = [member_id for member_id in ids if member_id is not None]
    assert len(admitted) == 10 and len(set(admitted)) == 10
    assert len(await a.registry.members("hall")) == len(await b.registry.members("hall")) == 10


async def test_releasing_a_member_frees_its_slot(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    first = await a.registry.claim("hall", {"name": "Ada"}, capacity=2)
    second = await b.registry.claim("hall", {"name": "Bo"}, capacity=2)
    assert first is not None and second is not None
    assert await b.registry.claim("hall", {"name": "Cy"}, capacity=2) is None

    await a.registry.release("hall", first)
    third = await b.registry.claim("hall", {"name": "Cy"}, capacity=2)

    assert third is not None and third != second
    assert await a.registry.members("hall") == {second: {"name": "Bo"}, third: {"name": "Cy"}}


async def test_members_lists_every_nodes_members_with_their_info(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    ada = await a.registry.claim("hall", {"name": "Ada", "node": "node-a"}, capacity=10)
    bo = await b.registry.claim("hall", {"name": "Bo", "node": "node-b"}, capacity=10)
    other = await b.registry.claim("square", {"name": "Cy", "node": "node-b"}, capacity=10)
    assert ada is not None and bo is not None and other is not None

    expected = {ada: {"name": "Ada", "node": "node-a"}, bo: {"name": "Bo", "node": "node-b"}}
    assert await a.registry.members("hall") == expected
    assert await b.registry.members("hall") == expected
    assert await a.registry.members("empty") == {}


async def test_a_member_update_is_visible_on_the_other_node(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    ada = await a.registry.claim("hall", {"name": "Ada"}, capacity=10)
    assert ada is not None

    await a.registry.update("hall", ada, {"name": "Ada L.", "muted": True})

    assert await b.registry.members("hall") == {ada: {"name": "Ada L.", "muted": True}}


async def test_a_closed_nodes_members_leave_once_for_every_other_node(make_nodes: Factory) -> None:
    a, b, c = await make_nodes("a", "b", "c")
    seen_b, seen_c = Recorder(), Recorder()
    await Recorder().listen(a, "hall")
    await seen_b.listen(b, "hall")
    await seen_c.listen(c, "hall")
    gone = {await a.registry.claim("hall", {"name": n}, capacity=10) for n in ("Ada", "Al")}
    stays = await b.registry.claim("hall", {"name": "Bo"}, capacity=10)

    await a.close()
    await eventually(lambda: len(seen_b.leaves()) >= 2 and len(seen_c.leaves()) >= 2, "leave events", timeout=5)
    await asyncio.sleep(1.5)  # more than one heartbeat: a second reaper would have spoken by now

    assert sorted(seen_b.leaves()) == sorted(seen_c.leaves()) == sorted(gone)  # type: ignore[type-var]
    assert await b.registry.members("hall") == {stays: {"name": "Bo"}}


# --- both implementations: rooms on the bus -------------------------------------------------------------------

HALL = SceneInfo(capacity=50, bounds={"min": [-10.0, 0.0, -10.0], "max": [10.0, 5.0, 10.0]}, spawn=[0.0, 0.0, 0.0])


def rooms_on(bus: Bus) -> Rooms:
    return Rooms(bus, Metrics(), 20, lambda scene_id: HALL if scene_id in ("hall", "square") else None)


def count_publishes(bus: Bus, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The topics of every event `bus` publishes from now on (the bus seam)."""
    topics: list[str] = []
    publish = bus.pubsub.publish

    async def counted(topic: str, message: dict[str, Any], *, local: bool = False) -> None:
        topics.append(topic)
        await publish(topic, message, local=local)

    monkeypatch.setattr(bus.pubsub, "publish", counted)
    return topics


def heard(room: Room | None) -> list[dict[str, Any]]:
    """The content events waiting for the room's members (presence left out; no tick runs in these tests)."""
    return [e for e in (room.pending if room else []) if e.get("type") not in ("join", "leave")]


async def join(rooms: Rooms, scene_id: str, instance: int, name: str) -> tuple[Room, Member]:
    """What the realtime endpoint does: get the room, then admit."""
    room = await rooms.get(scene_id, instance)
    assert room is not None
    member = await room.admit(name)
    assert member is not None
    return room, member


async def test_a_scene_wide_event_is_one_publish_that_reaches_every_instance_on_every_node(
    make_nodes: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = await make_nodes("a", "b")
    rooms_a, rooms_b = rooms_on(a), rooms_on(b)
    hall_a1, _ = await join(rooms_a, "hall", 1, "Ann")
    hall_b2, _ = await join(rooms_b, "hall", 2, "Bea")  # open on B only
    square_a, _ = await join(rooms_a, "square", 1, "Cem")
    published = count_publishes(a, monkeypatch)

    rooms_a.broadcast_scene("hall", {"type": "hotspot", "id": 9})
    await eventually(lambda: heard(hall_a1) and heard(hall_b2), "the hotspot in both instances")
    await asyncio.sleep(0.2)

    assert published == ["scene:hall"]  # one publish, whatever the number of instances
    assert heard(hall_a1) == heard(hall_b2) == [{"type": "hotspot", "id": 9}]  # once each
    assert heard(square_a) == []


async def test_a_site_wide_event_is_one_publish_that_reaches_a_room_open_only_on_another_node(
    make_nodes: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = await make_nodes("a", "b")
    rooms_a, rooms_b = rooms_on(a), rooms_on(b)
    hall_a, _ = await join(rooms_a, "hall", 1, "Ann")
    square_b, _ = await join(rooms_b, "square", 3, "Bea")
    published = count_publishes(a, monkeypatch)

    rooms_a.broadcast_all({"type": "proposal_supports", "ref": "local:1", "supports": 3})
    await eventually(lambda: heard(hall_a) and heard(square_b), "the new count in both rooms")
    await asyncio.sleep(0.2)

    assert published == [SITE]
    assert heard(hall_a) == heard(square_b) == [{"type": "proposal_supports", "ref": "local:1", "supports": 3}]


async def test_a_room_forwards_a_content_event_type_it_has_never_heard_of(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    hall_b, _ = await join(rooms_on(b), "hall", 1, "Bea")

    await a.pubsub.publish(room_key("hall", 1), {"type": "caption", "text": "Welcome"})
    await a.pubsub.publish("scene:hall", {"type": "agenda", "item": 2})
    await a.pubsub.publish("scene:hall", {"type": "join", "member": {"id": 99, "name": "stray"}})  # not there
    await eventually(lambda: len(heard(hall_b)) >= 2, "both events")
    await asyncio.sleep(0.2)

    assert heard(hall_b) == [{"type": "caption", "text": "Welcome"}, {"type": "agenda", "item": 2}]


async def test_a_room_that_empties_is_disposed_after_the_grace_and_stops_listening(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    rooms = rooms_on(b)
    room, member = await join(rooms, "hall", 1, "Bea")
    await room.remove(member, "left")
    now = time.monotonic()
    rooms.dispose_idle(now)
    rooms.dispose_idle(now + ROOM_GRACE / 2)
    assert rooms.rooms == {room.key: room}  # within the grace: kept

    rooms.dispose_idle(now + ROOM_GRACE)
    assert rooms.rooms == {}
    await eventually(lambda: not room.subscriptions, "the room's unsubscribes")
    await a.pubsub.publish(room.key, {"type": "chat", "text": "anyone?"})
    await a.pubsub.publish(SITE, {"type": "proposal", "n": 1})
    fresh = await rooms.get("hall", 1)
    await a.pubsub.publish(SITE, {"type": "proposal", "n": 2})
    await eventually(lambda: fresh is not None and heard(fresh), "the event at the reopened room")
    await asyncio.sleep(0.2)

    assert fresh is not room and heard(room) == []  # a disposed room hears nothing more
    assert fresh is not None and heard(fresh) == [{"type": "proposal", "n": 2}]


async def test_a_joiner_is_not_lost_when_the_room_is_disposed_during_the_admission(
    make_nodes: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    (a,) = await make_nodes("a")
    rooms = rooms_on(a)
    room, first = await join(rooms, "hall", 1, "Ann")
    await room.remove(first, "left")
    gate = asyncio.Event()
    claim = a.registry.claim

    async def slow_claim(*args: Any, **kwargs: Any) -> int | None:
        await gate.wait()
        return await claim(*args, **kwargs)

    monkeypatch.setattr(a.registry, "claim", slow_claim)
    joining = asyncio.ensure_future(join(rooms, "hall", 1, "Bea"))
    await asyncio.sleep(0.05)  # Bea got the room and waits for the registry
    now = time.monotonic()
    rooms.dispose_idle(now)
    rooms.dispose_idle(now + 2 * ROOM_GRACE)  # long idle by the clock, but an admission is in progress
    gate.set()
    joined_room, bea = await asyncio.wait_for(joining, 5)
    rooms.dispose_idle(now + 4 * ROOM_GRACE)

    assert joined_room is room and rooms.rooms == {room.key: room}
    assert bea.id in room.local and room.subscriptions  # served by an open room that still listens


# --- Redis only: crashes and outages ---------------------------------------------------------------------------


async def test_a_crashed_nodes_members_vanish_within_seconds_with_one_leave_event(
    redis_nodes: tuple[RedisServer, Callable[..., Awaitable[list[RedisBus]]]],
) -> None:
    _, make = redis_nodes
    a, b, c = await make("a", "b", "c")
    seen_b, seen_c = Recorder(), Recorder()
    await seen_b.listen(b, "hall")
    await seen_c.listen(c, "hall")
    gone = {await a.registry.claim("hall", {"name": n}, capacity=10) for n in ("Ada", "Al")}
    stays = await b.registry.claim("hall", {"name": "Bo"}, capacity=10)
    # In a room no live node listens to, nobody reaps: members() and capacity must still ignore the dead.
    assert await a.registry.claim("lobby", {"name": "Ada"}, capacity=1) is not None
    assert len(await c.registry.members("hall")) == 3

    await a.conn.halt()  # the process dies: no more heartbeats, nothing released, connection gone
    await a.conn.redis.aclose()
    took = await eventually(lambda: len(seen_b.leaves()) >= 2 and len(seen_c.leaves()) >= 2, "leaves", timeout=5)
    await eventually(lambda: _members_equal(b, {}, "lobby"), "dead member gone from the lobby", timeout=5)
    await asyncio.sleep(1.5)

    assert took < 5
    assert sorted(seen_b.leaves()) == sorted(seen_c.leaves()) == sorted(gone)  # type: ignore[type-var]
    assert await b.registry.members("hall") == await c.registry.members("hall") == {stays: {"name": "Bo"}}
    assert await b.registry.claim("lobby", {"name": "Bo"}, capacity=1) is not None  # the dead one held no slot


async def test_redis_outage_keeps_nodes_serving_and_presence_resumes_after_restart(
    redis_nodes: tuple[RedisServer, Callable[..., Awaitable[list[RedisBus]]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="civic.bus")
    server, make = redis_nodes
    a, b = await make("a", "b")
    seen_a, seen_b = Recorder(), Recorder()
    await seen_a.listen(a, "hall")
    await seen_b.listen(b, "hall")
    ada = await a.registry.claim("hall", {"name": "Ada"}, capacity=10)
    bo = await b.registry.claim("hall", {"name": "Bo"}, capacity=10)
    assert ada is not None and bo is not None and ada < FALLBACK_ID_MIN
    for bus in (a, b):  # leave idle pooled connections behind: they must not fail once Redis is back
        await asyncio.gather(*(bus.registry.members("hall") for _ in range(8)))

    server.stop()
    deadline = time.monotonic() + 2.0  # long enough for several reconnection attempts
    while time.monotonic() < deadline:
        await asyncio.wait_for(a.pubsub.publish_poses("hall", b"lost"), 1.5)  # never raises, never hangs
        await asyncio.wait_for(a.pubsub.publish("hall", {"type": "chat", "text": "lost"}), 1.5)
        await asyncio.sleep(0.05)
    al = await asyncio.wait_for(a.registry.claim("hall", {"name": "Al"}, capacity=10), 1.5)
    assert al is not None and al >= FALLBACK_ID_MIN  # admitted locally, from the range kept for outages
    assert await asyncio.wait_for(a.registry.members("hall"), 1.5) == {ada: {"name": "Ada"}, al: {"name": "Al"}}
    lost = [r for r in caplog.records if r.getMessage().startswith("redis unreachable")]
    assert sorted(getattr(r, "node", "") for r in lost) == ["node-a", "node-b"]  # once per node, not per message

    server.start()  # same port, empty: Redis forgot every member
    took = await eventually(lambda: _exchange_poses(a, b, seen_b), "poses from A at B after the restart", 10)
    assert took < 6
    everyone = {ada: {"name": "Ada"}, al: {"name": "Al"}, bo: {"name": "Bo"}}
    await eventually(lambda: _members_equal(b, everyone), "A's members known at B again", 5)
    assert await a.registry.members("hall") == everyone
    await asyncio.gather(*(bus.registry.members("hall") for bus in (a, b) for _ in range(8)))
    recovered = [r for r in caplog.records if r.getMessage() == "redis reachable again"]
    lost = [r for r in caplog.records if r.getMessage().startswith("redis unreachable")]
    assert sorted(getattr(r, "node", "") for r in recovered) == ["node-a", "node-b"]
    assert len(lost) == 2  # recovery was clean: no second outage from stale connections
    assert {"type": "resync"} in seen_a.events  # the room is told to re-read members()
    assert b"lost" not in [payload for _, payload in seen_b.poses]


async def test_a_node_whose_liveness_lapsed_registers_its_members_again(
    redis_nodes: tuple[RedisServer, Callable[..., Awaitable[list[RedisBus]]]],
) -> None:
    server, make = redis_nodes
    a, b = await make("a", "b")
    seen_b = Recorder()
    await seen_b.listen(b, "hall")
    ada = await a.registry.claim("hall", {"name": "Ada"}, capacity=10)
    assert ada is not None

    # As if node A stalled past its TTL: its liveness key is gone, so B may reap Ada before A's next heartbeat.
    assert server.command("DEL", "cs:node:node-a:alive").startswith(b":1")
    await eventually(lambda: {"type": "resync", "node": "node-a"} in seen_b.events, "A's resync at B", 5)

    assert await b.registry.members("hall") == {ada: {"name": "Ada"}}


async def test_a_node_started_while_redis_is_down_joins_in_once_it_is_up(
    redis_nodes: tuple[RedisServer, Callable[..., Awaitable[list[RedisBus]]]],
) -> None:
    server, make = redis_nodes
    (a,) = await asyncio.wait_for(make("a", start_server=False), 3)  # start() does not raise or hang
    seen_a = Recorder()
    await seen_a.listen(a, "hall")
    ada = await a.registry.claim("hall", {"name": "Ada"}, capacity=10)
    assert ada is not None

    (b,) = await make("b")  # starts the server too
    seen_b = Recorder()
    await seen_b.listen(b, "hall")

    await eventually(lambda: _exchange_poses(a, b, seen_b), "poses from A at B", 10)
    await eventually(lambda: _members_equal(b, {ada: {"name": "Ada"}}), "A's member known at B", 5)


async def test_no_member_id_is_handed_out_twice_when_redis_restarts_empty_during_joins(
    redis_nodes: tuple[RedisServer, Callable[..., Awaitable[list[RedisBus]]]],
) -> None:
    """Issue 9 item 5: Redis comes back empty; the nodes register their residents again one after the other, while
    residents keep arriving everywhere (on a node that just started, too). No id may be given to two residents."""
    server, make = redis_nodes
    a, b = await make("a", "b")
    for bus in (a, b):
        await Recorder().listen(bus, "hall")
    claimed: dict[str, list[int]] = {"node-a": [], "node-b": [], "node-c": []}

    async def arrive(bus: RedisBus, count: int) -> None:
        for _ in range(count):
            name = f"{bus.node_id}-{len(claimed[bus.node_id])}"
            member_id = await bus.registry.claim("hall", {"name": name}, capacity=1000)
            assert member_id is not None
            claimed[bus.node_id].append(member_id)
            await asyncio.sleep(0.02)

    await asyncio.gather(arrive(a, 10), arrive(b, 10))  # ids 1..20, registered in Redis
    joining = asyncio.gather(arrive(a, 60), arrive(b, 60))
    await asyncio.sleep(0.3)
    server.stop()
    await asyncio.sleep(2.5)  # the nodes now retry every second or two, admitting residents locally meanwhile
    server.restart()  # the same port, EMPTY: Redis forgot every member and every id it handed out
    (c,) = await make("c", start_server=False)  # a node connecting at once, before the others are back
    await asyncio.wait_for(asyncio.gather(joining, arrive(c, 40)), 30)

    everyone = [member_id for ids in claimed.values() for member_id in ids]
    assert len(everyone) == 180
    assert len(set(everyone)) == 180, "an id was given to two residents"
    expected = {member_id: {"name": f"{node}-{i}"} for node, ids in claimed.items() for i, member_id in enumerate(ids)}
    for node in (a, b, c):  # and every node sees every resident under their own name
        await eventually(partial(_members_equal, node, expected), f"every member at {node.node_id}", 10)


async def test_a_node_holds_one_redis_subscription_per_topic_and_drops_it_with_its_last_room(
    redis_nodes: tuple[RedisServer, Callable[..., Awaitable[list[RedisBus]]]],
) -> None:
    server, make = redis_nodes
    (a,) = await make("a")
    rooms = rooms_on(a)
    first, ann = await join(rooms, "hall", 1, "Ann")
    second, bea = await join(rooms, "hall", 2, "Bea")

    def subscribers(topic: str) -> bytes:
        return server.command("PUBSUB", "NUMSUB", f"cs:topic:{topic}").rsplit(b"\r\n", 2)[-2]

    assert subscribers("scene:hall") == subscribers(SITE) == subscribers("room:hall/1") == b":1"
    await first.remove(ann, "left")
    await second.remove(bea, "left")
    now = time.monotonic()
    rooms.dispose_idle(now)
    rooms.dispose_idle(now + ROOM_GRACE)
    await eventually(lambda: subscribers("scene:hall") == b":0", "the scene's channel released")
    assert subscribers(SITE) == subscribers("room:hall/1") == subscribers("room:hall/2") == b":0"


async def _exchange_poses(sender: Bus, receiver: Bus, seen: Recorder) -> bool:
    await sender.pubsub.publish_poses("hall", b"back")
    return ("node-a", b"back") in seen.poses


async def _members_equal(bus: Bus, expected: dict[int, dict[str, Any]], room: str = "hall") -> bool:
    return await bus.registry.members(room) == expected
