"""Two machines, one city: two server processes with separate data directories, one PostgreSQL and one Redis (all
started by the tests). Whatever a resident or a staff member does through one machine holds on the other: the
session, the hotspots, the pushes, the supports, and under a burst of writes spread over both, every write
either commits or is refused deliberately, and the audit log holds each one. One city serves the whole module
(starting two servers is the slow part), so each test checks what it added, not the totals."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from server.store.postgres import PostgresStore
from tests.postgres_server import PostgresServer, postgres  # noqa: F401  (fixtures)
from tests.redis_server import RedisServer
from tests.support import ServerProcess
from tests.test_realtime import next_json
from tests.test_store import PASSWORD, staff_cli

HOTSPOT = {"position": [0, 1.5, 2.2], "kind": "information", "title": {"en": "Opening hours"}}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory,
         postgres: PostgresServer) -> Iterator[tuple[str, ServerProcess, ServerProcess]]:  # noqa: F811
    tmp_path: Path = tmp_path_factory.mktemp("city")
    postgres_url = postgres.create_database()
    added = staff_cli(tmp_path, "--database", postgres_url, "add", "edith", "--role", "editor", "--password-stdin",
                      password=PASSWORD)
    assert added.returncode == 0, added.stderr
    servers: list[ServerProcess] = []
    with RedisServer() as redis:
        try:
            for name in ("a", "b"):
                (tmp_path / name).mkdir()
                servers.append(ServerProcess(tmp_path / name, "--database", postgres_url, "--redis", redis.url,
                                             "--node-id", name, name=name))
            yield postgres_url, servers[0], servers[1]
        finally:
            for server in servers:
                if server.proc.poll() is None:
                    assert server.stop() == 0
            postgres.drop_database(postgres_url)


async def audit_log(url: str) -> list[dict[str, object]]:
    store = PostgresStore(url)
    await store.open()
    try:
        return await store.audit(limit=100_000)
    finally:
        await store.close()


async def sign_in(session: aiohttp.ClientSession, server: ServerProcess) -> dict[str, str]:
    response = await session.post(f"{server.url}/api/auth/login", json={"username": "edith", "password": PASSWORD})
    assert response.status == 200, await response.text()
    return {"X-CSRF-Token": (await response.json())["csrf"]}


async def test_a_session_opened_on_one_machine_writes_and_signs_out_on_the_other(city):
    _, a, b = city
    # One cookie jar: cookies belong to a host, not a port, as they would behind one load balancer.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        csrf = await sign_in(session, a)
        placed = await session.post(f"{b.url}/api/scenes/town-hall/hotspots", json=HOTSPOT, headers=csrf)
        assert placed.status == 201, await placed.text()
        assert (await session.post(f"{b.url}/api/auth/logout", json={}, headers=csrf)).status in (200, 204)
        refused = await session.post(f"{a.url}/api/scenes/town-hall/hotspots", json=HOTSPOT, headers=csrf)
        assert refused.status == 401


async def test_a_hotspot_placed_through_one_machine_is_listed_and_pushed_by_the_other(city):
    _, a, b = city
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        resident = await session.ws_connect(b.url.replace("http", "ws") + "/ws", origin=b.url)
        await resident.send_str(json.dumps({"type": "hello", "protocol": 1, "scene": "town-hall"}))
        await next_json(resident, "welcome", timeout=10)
        placed = await session.post(f"{a.url}/api/scenes/town-hall/hotspots", json=HOTSPOT,
                                    headers=await sign_in(session, a))
        assert placed.status == 201
        pushed = await next_json(resident, "hotspot", timeout=10)
        assert pushed["hotspot"]["id"] == (await placed.json())["id"]
        listed = await (await session.get(f"{b.url}/api/scenes/town-hall/hotspots")).json()
        assert pushed["hotspot"] in listed["hotspots"]
        await resident.close()


async def test_a_resident_supports_once_whichever_machine_answers(city):
    _, a, b = city
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        created = await session.post(f"{a.url}/api/proposals", json={"title": {"en": "Benches"}, "status": "open"},
                                     headers=await sign_in(session, a))
        url = f"/api/proposals/{(await created.json())['id']}/support"
        first = await (await session.post(a.url + url, json={}, headers={"Origin": a.url})).json()
        again = await (await session.post(b.url + url, json={}, headers={"Origin": b.url})).json()
        assert (first["counted"], first["supports"]) == (True, 1)
        assert (again["counted"], again["supports"]) == (False, 1)  # B knows the identity A gave this browser


async def test_a_hundred_writes_spread_over_two_machines_all_commit_or_conflict_and_are_all_audited(city):
    url, a, b = city
    audited_before = Counter(entry["action"] for entry in await audit_log(url))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        csrf = await sign_in(session, a)
        target = await (await session.post(f"{a.url}/api/scenes/town-hall/hotspots", json=HOTSPOT,
                                           headers=csrf)).json()

        async def create(i: int) -> int:
            server = (a, b)[i % 2]
            response = await session.post(f"{server.url}/api/scenes/town-hall/hotspots",
                                          json={**HOTSPOT, "title": {"en": f"Bench {i}"}}, headers=csrf)
            await response.read()
            return response.status

        async def patch(i: int) -> int:
            server = (a, b)[i % 2]
            response = await session.patch(f"{server.url}/api/hotspots/{target['id']}", headers=csrf,
                                           json={"version": 1, "title": {"en": f"Edit {i}"}})
            await response.read()
            return response.status

        results = await asyncio.gather(*[create(i) for i in range(100)], *[patch(i) for i in range(20)])
        assert Counter(results[:100]) == {201: 100}
        assert Counter(results[100:]) == {200: 1, 409: 19}
        for server in (a, b):
            listed = (await (await session.get(f"{server.url}/api/scenes/town-hall/hotspots")).json())["hotspots"]
            benches = {h["title"]["en"] for h in listed if h["title"]["en"].startswith("Bench ")}
            assert benches == {f"Bench {i}" for i in range(100)}
    entries = await audit_log(url)
    actions = Counter(entry["action"] for entry in entries) - audited_before
    assert actions == {"hotspot.create": 101, "hotspot.update": 1}
    ids = [entry["id"] for entry in entries]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
