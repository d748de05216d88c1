"""The bus contract (server/bus.py), pinned once and run against both implementations: in-process (two nodes on one
hub) and Redis (two or three RedisBus nodes on a real redis-server started for the tests). The Redis-only tests at
the end cover what only a distributed bus has: a node that crashes, and Redis itself going away and coming back.

Every wait is bounded; a missing redis-server binary fails the Redis tests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from server.bus import Bus, InProcessBus, InProcessHub
from server.bus_redis import FALLBACK_ID_MIN, RedisBus
from tests.redis_server import RedisServer

Factory = Callable[..., Awaitable[list[Bus]]]


class Recorder:
    """A room's view of the bus: everything delivered to its callbacks."""

    def __init__(self) -> None:
        self.poses: list[tuple[str, bytes]] = []
        self.events: list[dict[str, Any]] = []

    def on_poses(self, node_id: str, payload: bytes) -> None:
        self.poses.append((node_id, payload))

    def on_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)

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
            bus: Bus = InProcessBus(hub, f"node-{name}") if not url else RedisBus(url, f"node-{name}")
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


# --- both implementations -------------------------------------------------------------------------------------


async def test_poses_reach_the_other_node_and_never_the_sender(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    seen_a, seen_b = Recorder(), Recorder()
    await a.join_room("hall", seen_a.on_poses, seen_a.on_event)
    await b.join_room("hall", seen_b.on_poses, seen_b.on_event)

    from_a = bytes(range(256)) * 4  # every byte value, NULs included: passed through untouched
    await a.publish_poses("hall", from_a)
    await eventually(lambda: seen_b.poses, "A's poses at B")
    from_b = b"\x00\x01pose-of-b\xff"
    await b.publish_poses("hall", from_b)
    await eventually(lambda: seen_a.poses, "B's poses at A")

    assert seen_b.poses == [("node-a", from_a)]
    assert seen_a.poses == [("node-b", from_b)]  # A's own message, published earlier, never came back


async def test_events_cross_nodes_in_publish_order(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    seen_a, seen_b = Recorder(), Recorder()
    await a.join_room("hall", seen_a.on_poses, seen_a.on_event)
    await b.join_room("hall", seen_b.on_poses, seen_b.on_event)

    sent = [{"type": "chat", "seq": i, "text": f"ligne {i} — ✓"} for i in range(50)]
    for event in sent:
        await a.publish_event("hall", event)
    await eventually(lambda: len(seen_b.events) >= 50, "50 events at B")
    await b.publish_event("hall", {"type": "join", "id": 7, "name": "Bo"})
    await eventually(lambda: seen_a.events, "B's event at A")

    assert seen_b.events == sent
    assert seen_a.events == [{"type": "join", "id": 7, "name": "Bo"}]


async def test_nodes_outside_the_room_receive_nothing(make_nodes: Factory) -> None:
    a, b, c = await make_nodes("a", "b", "c")
    seen_b, seen_c, seen_left = Recorder(), Recorder(), Recorder()
    await b.join_room("hall", seen_b.on_poses, seen_b.on_event)
    await c.join_room("square", seen_c.on_poses, seen_c.on_event)
    await a.join_room("hall", seen_left.on_poses, seen_left.on_event)
    await a.leave_room("hall")

    await a.publish_poses("hall", b"first")
    await a.publish_event("hall", {"type": "chat", "text": "first"})
    await c.publish_poses("hall", b"from-c")  # c publishes to a room it has not joined: fine, b gets it
    await eventually(lambda: len(seen_b.poses) == 2 and seen_b.events, "hall traffic at B")

    assert seen_c.poses == [] and seen_c.events == []  # in another room
    assert seen_left.poses == [] and seen_left.events == []  # left the room
    assert sorted(seen_b.poses) == [("node-a", b"first"), ("node-c", b"from-c")]


async def test_a_failing_room_callback_does_not_stop_delivery(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    seen = Recorder()

    def fragile(node_id: str, payload: bytes) -> None:
        if payload == b"boom":
            raise RuntimeError("room bug")
        seen.on_poses(node_id, payload)

    await b.join_room("hall", fragile, seen.on_event)
    await a.publish_poses("hall", b"boom")
    await a.publish_poses("hall", b"fine")
    await eventually(lambda: seen.poses, "the message after the failing one")
    assert seen.poses == [("node-a", b"fine")]


async def test_member_ids_stay_unique_across_nodes_under_concurrent_claims(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    claims = [(a if i % 2 else b).claim_member("hall", {"name": f"r{i}"}, capacity=1000) for i in range(200)]
    ids = await asyncio.wait_for(asyncio.gather(*claims), 10)

    assert None not in ids
    assert len(set(ids)) == 200
    assert all(1 <= member_id <= 65535 for member_id in ids if member_id is not None)
    assert set(await a.members("hall")) == set(await b.members("hall")) == set(ids)


async def test_capacity_holds_exactly_across_nodes(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    claims = [(a if i % 2 else b).claim_member("hall", {"name": f"r{i}"}, capacity=10) for i in range(20)]
    ids = await asyncio.wait_for(asyncio.gather(*claims), 10)

    admitted = [member_id for member_id in ids if member_id is not None]
    assert len(admitted) == 10 and len(set(admitted)) == 10
    assert len(await a.members("hall")) == len(await b.members("hall")) == 10


async def test_releasing_a_member_frees_its_slot(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    first = await a.claim_member("hall", {"name": "Ada"}, capacity=2)
    second = await b.claim_member("hall", {"name": "Bo"}, capacity=2)
    assert first is not None and second is not None
    assert await b.claim_member("hall", {"name": "Cy"}, capacity=2) is None

    await a.release_member("hall", first)
    third = await b.claim_member("hall", {"name": "Cy"}, capacity=2)

    assert third is not None and third != second
    assert await a.members("hall") == {second: {"name": "Bo"}, third: {"name": "Cy"}}


async def test_members_lists_every_nodes_members_with_their_info(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    ada = await a.claim_member("hall", {"name": "Ada", "node": "node-a"}, capacity=10)
    bo = await b.claim_member("hall", {"name": "Bo", "node": "node-b"}, capacity=10)
    other = await b.claim_member("square", {"name": "Cy", "node": "node-b"}, capacity=10)
    assert ada is not None and bo is not None and other is not None

    expected = {ada: {"name": "Ada", "node": "node-a"}, bo: {"name": "Bo", "node": "node-b"}}
    assert await a.members("hall") == expected
    assert await b.members("hall") == expected
    assert await a.members("empty") == {}


async def test_a_member_update_is_visible_on_the_other_node(make_nodes: Factory) -> None:
    a, b = await make_nodes("a", "b")
    ada = await a.claim_member("hall", {"name": "Ada"}, capacity=10)
    assert ada is not None

    await a.update_member("hall", ada, {"name": "Ada L.", "muted": True})

    assert await b.members("hall") == {ada: {"name": "Ada L.", "muted": True}}


async def test_a_closed_nodes_members_leave_once_for_every_other_node(make_nodes: Factory) -> None:
    a, b, c = await make_nodes("a", "b", "c")
    seen_b, seen_c = Recorder(), Recorder()
    ignored = Recorder()
    await a.join_room("hall", ignored.on_poses, ignored.on_event)
    await b.join_room("hall", seen_b.on_poses, seen_b.on_event)
    await c.join_room("hall", seen_c.on_poses, seen_c.on_event)
    gone = {await a.claim_member("hall", {"name": n}, capacity=10) for n in ("Ada", "Al")}
    stays = await b.claim_member("hall", {"name": "Bo"}, capacity=10)

    await a.close()
    await eventually(lambda: len(seen_b.leaves()) >= 2 and len(seen_c.leaves()) >= 2, "leave events", timeout=5)
    await asyncio.sleep(1.5)  # more than one heartbeat: a second reaper would have spoken by now

    assert sorted(seen_b.leaves()) == sorted(seen_c.leaves()) == sorted(gone)  # type: ignore[type-var]
    assert await b.members("hall") == {stays: {"name": "Bo"}}


async def test_in_process_delivery_goes_through_the_event_loop() -> None:
    hub = InProcessHub()
    a, b = InProcessBus(hub, "node-a"), InProcessBus(hub, "node-b")
    seen = Recorder()
    await b.join_room("hall", seen.on_poses, seen.on_event)

    await a.publish_poses("hall", b"tick")
    await a.publish_event("hall", {"type": "chat"})
    assert seen.poses == [] and seen.events == []  # not delivered inside publish
    await asyncio.sleep(0)
    assert seen.poses == [("node-a", b"tick")] and seen.events == [{"type": "chat"}]


# --- Redis only: crashes and outages ---------------------------------------------------------------------------


async def test_a_crashed_nodes_members_vanish_within_seconds_with_one_leave_event(
    redis_nodes: tuple[RedisServer, Callable[..., Awaitable[list[RedisBus]]]],
) -> None:
    _, make = redis_nodes
    a, b, c = await make("a", "b", "c")
    seen_b, seen_c = Recorder(), Recorder()
    await b.join_room("hall", seen_b.on_poses, seen_b.on_event)
    await c.join_room("hall", seen_c.on_poses, seen_c.on_event)
    gone = {await a.claim_member("hall", {"name": n}, capacity=10) for n in ("Ada", "Al")}
    stays = await b.claim_member("hall", {"name": "Bo"}, capacity=10)
    # In a room no live node has joined, nobody reaps: members() and capacity must still ignore the dead.
    assert await a.claim_member("lobby", {"name": "Ada"}, capacity=1) is not None
    assert len(await c.members("hall")) == 3

    await a._halt()  # the process dies: no more heartbeats, nothing released, connection gone
    await a._redis.aclose()
    took = await eventually(lambda: len(seen_b.leaves()) >= 2 and len(seen_c.leaves()) >= 2, "leaves", timeout=5)
    await eventually(lambda: _members_equal(b, {}, "lobby"), "dead member gone from the lobby", timeout=5)
    await asyncio.sleep(1.5)

    assert took < 5
    assert sorted(seen_b.leaves()) == sorted(seen_c.leaves()) == sorted(gone)  # type: ignore[type-var]
    assert await b.members("hall") == await c.members("hall") == {stays: {"name": "Bo"}}
    assert await b.claim_member("lobby", {"name": "Bo"}, capacity=1) is not None  # the dead one held no slot


async def test_redis_outage_keeps_nodes_serving_and_presence_resumes_after_restart(
    redis_nodes: tuple[RedisServer, Callable[..., Awaitable[list[RedisBus]]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="civic.bus")
    server, make = redis_nodes
    a, b = await make("a", "b")
    seen_a, seen_b = Recorder(), Recorder()
    await a.join_room("hall", seen_a.on_poses, seen_a.on_event)
    await b.join_room("hall", seen_b.on_poses, seen_b.on_event)
    ada = await a.claim_member("hall", {"name": "Ada"}, capacity=10)
    bo = await b.claim_member("hall", {"name": "Bo"}, capacity=10)
    assert ada is not None and bo is not None and ada < FALLBACK_ID_MIN
    for bus in (a, b):  # leave idle pooled connections behind: they must not fail once Redis is back
        await asyncio.gather(*(bus.members("hall") for _ in range(8)))

    server.stop()
    deadline = time.monotonic() + 2.0  # long enough for several reconnection attempts
    while time.monotonic() < deadline:
        await asyncio.wait_for(a.publish_poses("hall", b"lost"), 1.5)  # never raises, never hangs
        await asyncio.wait_for(a.publish_event("hall", {"type": "chat", "text": "lost"}), 1.5)
        await asyncio.sleep(0.05)
    al = await asyncio.wait_for(a.claim_member("hall", {"name": "Al"}, capacity=10), 1.5)
    assert al is not None and al >= FALLBACK_ID_MIN  # admitted locally, from the range kept for outages
    assert await asyncio.wait_for(a.members("hall"), 1.5) == {ada: {"name": "Ada"}, al: {"name": "Al"}}
    lost = [r for r in caplog.records if r.getMessage().startswith("redis unreachable")]
    assert sorted(getattr(r, "node", "") for r in lost) == ["node-a", "node-b"]  # once per node, not per message

    server.start()  # same port, empty: Redis forgot every member
    took = await eventually(lambda: _exchange_poses(a, b, seen_b), "poses from A at B after the restart", 10)
    assert took < 6
    everyone = {ada: {"name": "Ada"}, al: {"name": "Al"}, bo: {"name": "Bo"}}
    await eventually(lambda: _members_equal(b, everyone), "A's members known at B again", 5)
    assert await a.members("hall") == everyone
    await asyncio.gather(*(bus.members("hall") for bus in (a, b) for _ in range(8)))
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
    await b.join_room("hall", seen_b.on_poses, seen_b.on_event)
    ada = await a.claim_member("hall", {"name": "Ada"}, capacity=10)
    assert ada is not None

    # As if node A stalled past its TTL: its liveness key is gone, so B may reap Ada before A's next heartbeat.
    assert server.command("DEL", "cs:node:node-a:alive").startswith(b":1")
    await eventually(lambda: {"type": "resync", "node": "node-a"} in seen_b.events, "A's resync at B", 5)

    assert await b.members("hall") == {ada: {"name": "Ada"}}


async def test_a_node_started_while_redis_is_down_joins_in_once_it_is_up(
    redis_nodes: tuple[RedisServer, Callable[..., Awaitable[list[RedisBus]]]],
) -> None:
    server, make = redis_nodes
    (a,) = await asyncio.wait_for(make("a", start_server=False), 3)  # start() does not raise or hang
    seen_a = Recorder()
    await a.join_room("hall", seen_a.on_poses, seen_a.on_event)
    ada = await a.claim_member("hall", {"name": "Ada"}, capacity=10)
    assert ada is not None

    (b,) = await make("b")  # starts the server too
    seen_b = Recorder()
    await b.join_room("hall", seen_b.on_poses, seen_b.on_event)

    await eventually(lambda: _exchange_poses(a, b, seen_b), "poses from A at B", 10)
    await eventually(lambda: _members_equal(b, {ada: {"name": "Ada"}}), "A's member known at B", 5)


async def _exchange_poses(sender: Bus, receiver: Bus, seen: Recorder) -> bool:
    await sender.publish_poses("hall", b"back")
    return ("node-a", b"back") in seen.poses


async def _members_equal(bus: Bus, expected: dict[int, dict[str, Any]], room: str = "hall") -> bool:
    return await bus.members(room) == expected
