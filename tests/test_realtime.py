"""The realtime endpoint in one process: joining, poses and frames, presence, chat, and every way to misbehave."""

from __future__ import annotations

import asyncio
import json
import weakref
from collections import deque

import aiohttp
import pytest

from server.app import create_app
from server.codec import decode_frame, encode_pose

from .conftest import tiny_manifest, write_world


def same_origin(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The Origin header a browser on this site sends (the server refuses an upgrade without one)."""
    return {"Origin": str(client.make_url("/")).rstrip("/")}


async def hello(client, name=None, scene="tiny", **extra):  # type: ignore[no-untyped-def]
    ws = await client.ws_connect("/ws", headers=same_origin(client))
    message = {"type": "hello", "protocol": 1, "scene": scene, **extra}
    if name is not None:
        message["name"] = name
    await ws.send_str(json.dumps(message))
    return ws


_unread: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # ws -> events of a batch not yet looked at


async def next_json(ws, kind, timeout=3.0, where=None):  # type: ignore[no-untyped-def]
    """The next control message of the given type, looking inside `batch` messages (frames and other messages
    are skipped)."""
    pending = _unread.setdefault(ws, deque())
    async with asyncio.timeout(timeout):
        while True:
            while pending:
                data = pending.popleft()
                if data["type"] == kind and (where is None or where(data)):
                    return data
            message = await ws.receive()
            if message.type == aiohttp.WSMsgType.TEXT:
                data = json.loads(message.data)
                pending.extend(data["events"] if data["type"] == "batch" else [data])
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                raise AssertionError(f"closed ({ws.close_code}) while waiting for {kind}")


async def next_frame_with(ws, member_id, timeout=3.0):  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                _, avatars = decode_frame(message.data)
                if member_id in avatars["id"]:
                    return avatars[avatars["id"] == member_id][0]


async def closed_with(ws, timeout=3.0):  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive()
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return ws.close_code


async def test_resident_is_welcomed_with_an_id_bounds_and_the_roster(tiny_client):
    ws = await hello(tiny_client, name="Ann")
    welcome = await next_json(ws, "welcome")
    assert welcome["protocol"] == 1 and welcome["name"] == "Ann" and welcome["tickHz"] == 20
    assert {"id": welcome["id"], "name": "Ann"} in welcome["members"]
    assert len(welcome["bounds"]["min"]) == 3


async def test_residents_see_each_others_poses_and_presence(tiny_client):
    ann = await hello(tiny_client, name="Ann")
    ann_id = (await next_json(ann, "welcome"))["id"]
    bea = await hello(tiny_client, name="Bea")
    bea_welcome = await next_json(bea, "welcome")
    assert {"id": ann_id, "name": "Ann"} in bea_welcome["members"]
    joined = await next_json(ann, "join", where=lambda m: m["member"]["id"] != ann_id)
    assert joined["member"] == {"id": bea_welcome["id"], "name": "Bea"}

    await ann.send_bytes(encode_pose(1000, 2000, 3000, 4000, 128))
    seen = await next_frame_with(bea, ann_id)
    assert (int(seen["x"]), int(seen["y"]), int(seen["z"]), int(seen["yaw"]), int(seen["pitch"])) == (
        1000, 2000, 3000, 4000, 128)

    await bea.close()
    left = await next_json(ann, "leave")
    assert left["id"] == bea_welcome["id"]


async def test_a_crowd_arriving_costs_one_batch_per_tick_not_a_message_per_arrival(tiny_client):
    first = await hello(tiny_client, name="First")
    await next_json(first, "welcome")
    crowd = [await hello(tiny_client, name=f"Guest {i}") for i in range(8)]
    for ws in crowd:
        await next_json(ws, "welcome")
    seen, texts = set(), 0
    async with asyncio.timeout(3):
        while len(seen - {"First"}) < 8:
            message = await first.receive()
            if message.type == aiohttp.WSMsgType.TEXT:
                texts += 1
                data = json.loads(message.data)
                assert data["type"] == "batch"
                seen.update(e["member"]["name"] for e in data["events"] if e["type"] == "join")
    assert seen - {"First"} == {f"Guest {i}" for i in range(8)}
    assert texts < 8  # several arrivals shared a batch


async def test_chat_reaches_everyone_as_plain_data(tiny_client):
    ann = await hello(tiny_client, name="Ann")
    await next_json(ann, "welcome")
    bea = await hello(tiny_client, name="Bea")
    await next_json(bea, "welcome")
    await ann.send_str(json.dumps({"type": "chat", "text": "<b>hello</b> & welcome"}))
    line = await next_json(bea, "chat")
    assert line["text"] == "<b>hello</b> & welcome" and line["name"] == "Ann"


async def test_rename_is_announced(tiny_client):
    ann = await hello(tiny_client, name="Ann")
    ann_id = (await next_json(ann, "welcome"))["id"]
    bea = await hello(tiny_client)
    await next_json(bea, "welcome")
    await ann.send_str(json.dumps({"type": "rename", "name": "Ann B."}))
    assert await next_json(bea, "rename") == {"type": "rename", "id": ann_id, "name": "Ann B."}


async def test_other_protocol_version_gets_a_clear_error_and_4000(tiny_client):
    ws = await hello(tiny_client, protocol=2)
    error = await next_json(ws, "error")
    assert error["code"] == "protocol_version"
    assert await closed_with(ws) == 4000


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"type": "dance"}),
        json.dumps({"type": "chat", "text": 5}),
        json.dumps({"type": "chat", "text": "x" * 501}),
        json.dumps({"type": "chat", "text": "two\nlines"}),
        json.dumps({"type": "rename", "name": "<script>alert(1)</script>"}),
        b"\x01\x02",
    ],
)
async def test_malformed_message_closes_only_that_connection_with_4001(tiny_client, bad):
    good = await hello(tiny_client, name="Good")
    good_id = (await next_json(good, "welcome"))["id"]
    bad_ws = await hello(tiny_client, name="Bad")
    await next_json(bad_ws, "welcome")
    if isinstance(bad, bytes):
        await bad_ws.send_bytes(bad)
    else:
        await bad_ws.send_str(bad)
    assert await closed_with(bad_ws) == 4001
    await good.send_bytes(encode_pose(1, 2, 3, 4, 5))
    assert (await next_frame_with(good, good_id))["x"] == 1


async def test_bad_hello_is_refused(tiny_client):
    ws = await hello(tiny_client, name="<img src=x>")
    assert await closed_with(ws) == 4001
    ws = await hello(tiny_client, scene="nowhere")
    assert await closed_with(ws) == 4004
    ws = await tiny_client.ws_connect("/ws", headers=same_origin(tiny_client))
    await ws.send_bytes(encode_pose(1, 2, 3, 4, 5))
    assert await closed_with(ws) == 4001


async def test_oversized_message_is_closed_with_1009(tiny_client):
    ws = await hello(tiny_client)
    await next_json(ws, "welcome")
    await ws.send_str(json.dumps({"type": "chat", "text": "x" * 10_000}))
    assert await closed_with(ws) == 1009


async def test_pose_flood_is_closed_with_4008(tiny_client):
    ws = await hello(tiny_client)
    await next_json(ws, "welcome")
    for _ in range(400):
        await ws.send_bytes(encode_pose(1, 2, 3, 4, 5))
    assert await closed_with(ws) == 4008


async def test_chat_flood_is_answered_with_a_rate_limit_error(tiny_client):
    ws = await hello(tiny_client)
    await next_json(ws, "welcome")
    for i in range(7):
        await ws.send_str(json.dumps({"type": "chat", "text": f"line {i}"}))
    error = await next_json(ws, "error")
    assert error["code"] == "chat_rate_limited"


async def test_full_room_points_to_an_overflow_instance(aiohttp_client, tmp_path):
    from server.config import ROOT, Config

    scenes, assets = write_world(tmp_path, {"tiny": tiny_manifest(capacity=2)})
    config = Config(data_dir=tmp_path / "data", scenes_dir=scenes, assets_dir=assets, web_dir=ROOT / "web",
                    optimize=False)
    client = await aiohttp_client(create_app(config))
    first, second = await hello(client), await hello(client)
    await next_json(first, "welcome")
    await next_json(second, "welcome")
    third = await hello(client)
    error = await next_json(third, "error")
    assert error["code"] == "room_full" and error["overflow"] == {"scene": "tiny", "instance": 2}
    assert await closed_with(third) == 4003
    overflow = await hello(client, instance=2)
    assert (await next_json(overflow, "welcome"))["instance"] == 2


async def test_foreign_origin_cannot_open_a_socket(tiny_client):
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await tiny_client.ws_connect("/ws", headers={"Origin": "https://evil.example"})
    assert caught.value.status == 403


async def test_metrics_count_connections_and_frames(tiny_client):
    ws = await hello(tiny_client)
    my_id = (await next_json(ws, "welcome"))["id"]
    await ws.send_bytes(encode_pose(1, 2, 3, 4, 5))
    await next_frame_with(ws, my_id)
    text = await (await tiny_client.get("/metrics")).text()
    assert "civic_connections 1.0" in text and "civic_members 1.0" in text
    frames = float(next(line.split()[1] for line in text.splitlines() if line.startswith("civic_frames_out_total")))
    assert frames >= 1


async def test_shutdown_tells_residents_and_closes_with_1001(aiohttp_client, tiny_config):
    from server.app import SOCKETS
    from server.realtime import say_goodbye

    app = create_app(tiny_config)
    client = await aiohttp_client(app)
    ws = await hello(client)
    await next_json(ws, "welcome")
    await say_goodbye(app[SOCKETS])
    assert (await next_json(ws, "error"))["code"] == "server_shutdown"
    assert await closed_with(ws) == 1001


async def test_a_client_that_stops_reading_is_closed_and_others_carry_on(tiny_client):
    from server.keys import ROOMS, SOCKETS

    stalled = await hello(tiny_client, name="Stalled")
    await next_json(stalled, "welcome")
    (server_side,) = tiny_client.server.app[SOCKETS]

    async def never_accepted(*args, **kwargs):  # type: ignore[no-untyped-def]
        await asyncio.sleep(3600)  # what a send looks like when the client's socket buffer is full

    server_side.send_bytes = never_accepted
    server_side.send_str = never_accepted
    # ... and what the socket looks like to the tick, which writes frames (and the events due with them) itself
    (outbound,) = [m.outbound for room in tiny_client.server.app[ROOMS].rooms.values() for m in room.local.values()]
    real = outbound._transport

    class Full:
        def is_closing(self) -> bool:
            return real.is_closing()

        def get_write_buffer_size(self) -> int:
            return 1 << 20

        def write(self, data: bytes) -> None:
            pass

        def abort(self) -> None:
            real.abort()

    outbound._transport = Full()
    other = await hello(tiny_client, name="Other")
    other_id = (await next_json(other, "welcome"))["id"]
    await other.send_bytes(encode_pose(1, 2, 3, 4, 5))  # frames now flow to both
    assert await closed_with(stalled, timeout=10) == 4009
    await other.send_bytes(encode_pose(7, 8, 9, 1, 2))
    async with asyncio.timeout(3):
        while (await next_frame_with(other, other_id))["x"] != 7:
            pass


async def test_welcome_is_the_first_message_even_in_a_busy_room(tiny_client):
    movers = []
    for i in range(3):
        ws = await hello(tiny_client, name=f"Mover {i}")
        await next_json(ws, "welcome")
        await ws.send_bytes(encode_pose(100 * i, 0, 0, 0, 0))
        movers.append(ws)
    await asyncio.sleep(0.2)  # frames are flowing
    for _ in range(5):
        newcomer = await hello(tiny_client, name="Late")
        first = await newcomer.receive(timeout=3)
        assert first.type == aiohttp.WSMsgType.TEXT and json.loads(first.data)["type"] == "welcome"
        await newcomer.close()


async def test_poses_take_the_lean_path_and_other_messages_the_reader(tiny_client):
    """Poses are taken as aiohttp parses them (no queue), so they must never sit in the reader's queue; a chat
    line after them still reaches the room through the reader."""
    from server.keys import SOCKETS

    ws = await hello(tiny_client, name="Quick")
    me = (await next_json(ws, "welcome"))["id"]
    (server_side,) = tiny_client.server.app[SOCKETS]
    queue = server_side.pose_queue
    assert queue is not None and queue.on_binary is not None
    for x in range(5):
        await ws.send_bytes(encode_pose(100 + x, 0, 0, 0, 0))
    await ws.send_str(json.dumps({"type": "chat", "text": "after the poses"}))
    assert (await next_json(ws, "chat"))["text"] == "after the poses"
    assert queue._size == 0  # nothing left behind in aiohttp's queue
    async with asyncio.timeout(3):
        while (await next_frame_with(ws, me))["x"] != 104:
            pass
