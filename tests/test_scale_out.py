"""One room across two server processes through a real redis-server: presence, poses and chat cross processes;
Redis going away and coming back; a process dying; scene-wide and site-wide changes made through one process reach
rooms that only the other serves; a change made while Redis was away reaches residents once it is back (resync),
with both processes on one PostgreSQL as two machines would be."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import aiohttp
import pytest

from server.codec import decode_frame, encode_pose
from tests.postgres_server import PostgresServer, postgres  # noqa: F401  (fixtures)
from tests.redis_server import RedisServer
from tests.support import ServerProcess
from tests.test_realtime import next_json


@pytest.fixture
def cluster(tmp_path: Path):  # type: ignore[no-untyped-def]
    redis = RedisServer()
    redis.start()
    servers = []
    try:
        for name in ("a", "b"):
            data = tmp_path / name
            data.mkdir()
            servers.append(ServerProcess(data, "--redis", redis.url, "--node-id", name, name=name))
        yield redis, servers
    finally:
        for server in servers:
            if server.proc.poll() is None:
                server.stop()
        redis.stop()


async def join(session: aiohttp.ClientSession, server: ServerProcess, name: str):  # type: ignore[no-untyped-def]
    ws = await session.ws_connect(server.url.replace("http", "ws") + "/ws", origin=server.url)
    await ws.send_str(json.dumps({"type": "hello", "protocol": 1, "scene": "town-hall", "name": name}))
    welcome = await expect(ws, "welcome")
    return ws, welcome


async def expect(ws, kind, timeout=10.0, where=None):  # type: ignore[no-untyped-def]
    return await next_json(ws, kind, timeout=timeout, where=where)


async def sees(ws, member_id, x, timeout=10.0):  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                _, avatars = decode_frame(message.data)
                mine = avatars[avatars["id"] == member_id]
                if len(mine) and int(mine[0]["x"]) == x:
                    return


async def test_residents_on_two_processes_see_and_chat_with_each_other(cluster):
    _, (a, b) = cluster
    async with aiohttp.ClientSession() as session:
        ann, ann_welcome = await join(session, a, "Ann")
        bea, bea_welcome = await join(session, b, "Bea")
        assert {"id": ann_welcome["id"], "name": "Ann"} in bea_welcome["members"]
        joined = await expect(ann, "join", where=lambda m: m["member"]["name"] == "Bea")
        assert joined["member"] == {"id": bea_welcome["id"], "name": "Bea"}
        assert ann_welcome["id"] != bea_welcome["id"]

        await ann.send_bytes(encode_pose(30000, 1000, 30000, 0, 128))
        await sees(bea, ann_welcome["id"], 30000)
        await bea.send_str(json.dumps({"type": "chat", "text": "hello from B"}))
        line = await expect(ann, "chat")
        assert line["text"] == "hello from B" and line["name"] == "Bea"


async def test_redis_outage_keeps_each_process_serving_and_presence_resumes(cluster):
    redis, (a, b) = cluster
    async with aiohttp.ClientSession() as session:
        ann, ann_welcome = await join(session, a, "Ann")
        bea, bea_welcome = await join(session, b, "Bea")
        redis.stop()
        # Process A keeps serving its own residents: a newcomer joins and chats with Ann.
        cem, _ = await join(session, a, "Cem")
        await cem.send_str(json.dumps({"type": "chat", "text": "still here"}))
        assert (await expect(ann, "chat"))["text"] == "still here"
        await ann.send_bytes(encode_pose(20000, 1000, 20000, 0, 128))
        redis.start()
        # Within seconds of Redis returning, B sees A's residents move again.
        await ann.send_bytes(encode_pose(21000, 1000, 21000, 0, 128))
        for _ in range(20):
            await ann.send_bytes(encode_pose(21000 + _, 1000, 21000, 0, 128))
            try:
                await sees(bea, ann_welcome["id"], 21000 + _, timeout=1.0)
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError("poses did not cross processes again after Redis came back")
        await bea.send_str(json.dumps({"type": "chat", "text": "back"}))
        assert (await expect(ann, "chat", where=lambda m: m["text"] == "back"))["name"] == "Bea"


async def test_a_dead_process_residents_disappear_for_everyone(cluster):
    _, (a, b) = cluster
    async with aiohttp.ClientSession() as session:
        ann, _ = await join(session, a, "Ann")
        bea, bea_welcome = await join(session, b, "Bea")
        b.proc.send_signal(signal.SIGKILL)
        b.proc.wait(timeout=10)
        b.log.close()
        left = await expect(ann, "leave", timeout=10.0, where=lambda m: m["id"] == bea_welcome["id"])
        assert left["reason"] == "node_lost"


async def test_a_hotspot_placed_through_one_process_reaches_an_instance_served_only_by_another(cluster, tmp_path):
    from tests.test_store import PASSWORD, staff_cli

    _, (a, b) = cluster
    assert staff_cli(tmp_path / "a", "add", "edith", "--role", "editor", "--password-stdin",
                     password=PASSWORD).returncode == 0
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        resident = await session.ws_connect(b.url.replace("http", "ws") + "/ws", origin=b.url)
        await resident.send_str(json.dumps({"type": "hello", "protocol": 1, "scene": "town-hall", "instance": 2}))
        await expect(resident, "welcome")  # instance 2 is open on B only
        login = await session.post(f"{a.url}/api/auth/login", json={"username": "edith", "password": PASSWORD})
        csrf = (await login.json())["csrf"]
        placed = await session.post(f"{a.url}/api/scenes/town-hall/hotspots", headers={"X-CSRF-Token": csrf},
                                    json={"position": [0, 1.5, 2.2], "kind": "information",
                                          "title": {"en": "Opening hours"}})
        assert placed.status == 201
        pushed = await expect(resident, "hotspot")
        assert pushed["hotspot"]["title"] == {"en": "Opening hours"}


async def test_a_proposal_edit_through_one_process_reaches_a_room_open_only_on_another(cluster, tmp_path):
    """Site-wide events (`Rooms.broadcast_all`) cross processes: a resident in a room that only process B serves
    hears of a local proposal edited through process A's HTTP API."""
    from tests.test_store import PASSWORD, staff_cli

    _, (a, b) = cluster
    assert staff_cli(tmp_path / "a", "add", "edith", "--role", "editor", "--password-stdin",
                     password=PASSWORD).returncode == 0
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        resident = await session.ws_connect(b.url.replace("http", "ws") + "/ws", origin=b.url)
        await resident.send_str(json.dumps({"type": "hello", "protocol": 1, "scene": "town-hall", "instance": 3}))
        await expect(resident, "welcome")  # instance 3 of the town hall is open on B only
        login = await session.post(f"{a.url}/api/auth/login", json={"username": "edith", "password": PASSWORD})
        headers = {"X-CSRF-Token": (await login.json())["csrf"]}
        created = await session.post(f"{a.url}/api/proposals", headers=headers,
                                     json={"title": {"en": "Library bus"}, "status": "open"})
        assert created.status == 201
        proposal = await created.json()
        edited = await session.patch(f"{a.url}/api/proposals/{proposal['id']}", headers=headers,
                                     json={"version": proposal["version"], "title": {"en": "Library bus, daily"}})
        assert edited.status == 200
        pushed = await expect(resident, "proposal", timeout=5.0)
        assert pushed["proposal"]["title"] == {"en": "Library bus, daily"}


async def test_a_hotspot_placed_while_redis_was_away_reaches_residents_of_the_other_process_when_it_returns(
        tmp_path, postgres):  # noqa: F811
    """Item 13.4: the push of a hotspot placed through A while Redis is down is lost; when Redis returns, B's room
    tells its resident to re-read (`resync`), and a fresh list from B holds the hotspot."""
    from tests.test_store import PASSWORD, staff_cli

    url = postgres.create_database()
    assert staff_cli(tmp_path, "--database", url, "add", "edith", "--role", "editor", "--password-stdin",
                     password=PASSWORD).returncode == 0
    servers: list[ServerProcess] = []
    redis = RedisServer()
    redis.start()
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            servers.append(ServerProcess(tmp_path / name, "--database", url, "--redis", redis.url, "--node-id", name,
                                         name=name))
        a, b = servers
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            resident, _ = await join(session, b, "Bea")
            login = await session.post(f"{a.url}/api/auth/login", json={"username": "edith", "password": PASSWORD})
            csrf = (await login.json())["csrf"]
            redis.stop()
            placed = await session.post(f"{a.url}/api/scenes/town-hall/hotspots", headers={"X-CSRF-Token": csrf},
                                        json={"position": [0, 1.5, 2.2], "kind": "information",
                                              "title": {"en": "Opening hours"}})
            assert placed.status == 201, await placed.text()
            hotspot = await placed.json()
            redis.start()
            resync = await expect(resident, "resync", timeout=30.0)
            assert resync == {"type": "resync"}
            listed = await (await session.get(f"{b.url}/api/scenes/town-hall/hotspots")).json()
            assert hotspot["id"] in [h["id"] for h in listed["hotspots"]]
    finally:
        for server in servers:
            if server.proc.poll() is None:
                server.stop()
        redis.stop()
        postgres.drop_database(url)
