"""Many writes at the same moment: every one commits or gets a deliberate 409/429, none a 500, nothing lost.

Before the store serialised its transactions, two requests writing at once shared one connection and the
second `BEGIN IMMEDIATE` failed ("cannot start a transaction within a transaction"): 29 of 30 simultaneous
supports and 9 of 10 simultaneous PATCHes answered 500 (issue 9 item 2).

Every test runs against both stores (SQLite, and PostgreSQL on the tests' own server: issue 13), through the app
as `--database` builds it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import pytest

from server.app import create_app
from server.auth import hash_password
from server.keys import STORE

from .postgres_server import postgres, postgres_url  # noqa: F401  (fixtures)
from .test_hotspots_api import PASSWORD, place, staff_session
from .test_store import IMPLEMENTATIONS, database_url


@pytest.fixture(params=IMPLEMENTATIONS)
async def tiny_client(request, aiohttp_client, tiny_config, tmp_path):  # type: ignore[no-untyped-def]
    """The app on SQLite or on PostgreSQL (overrides conftest's tiny_client for this module)."""
    config = dataclasses.replace(tiny_config, database_url=database_url(request, request.param, tmp_path))
    return await aiohttp_client(create_app(config))


async def _audit_actions(store) -> Counter[str]:  # type: ignore[no-untyped-def]
    entries = await store.audit(limit=10_000)
    return Counter(entry["action"] for entry in entries)


async def test_a_hundred_simultaneous_hotspot_writes_all_commit_and_none_fails(tiny_client):
    csrf = await staff_session(tiny_client)
    store = tiny_client.server.app[STORE]
    target = await (await place(tiny_client, csrf)).json()
    headers = {"X-CSRF-Token": csrf}

    async def create(i: int) -> int:
        response = await place(tiny_client, csrf, title={"en": f"Bench {i}"})
        return response.status

    async def patch(i: int) -> int:
        response = await tiny_client.patch(f"/api/hotspots/{target['id']}",
                                           json={"version": 1, "title": {"en": f"Edit {i}"}}, headers=headers)
        return response.status

    results = await asyncio.gather(*[create(i) for i in range(100)], *[patch(i) for i in range(30)])
    creates, patches = Counter(results[:100]), Counter(results[100:])
    assert creates == {201: 100}
    assert patches == {200: 1, 409: 29}
    listed = await store.hotspots("tiny")
    assert len(listed) == 101 and len({h["title"]["en"] for h in listed}) == 101
    assert next(h for h in listed if h["id"] == target["id"])["version"] == 2
    actions = await _audit_actions(store)
    assert actions["hotspot.create"] == 101 and actions["hotspot.update"] == 1


async def test_simultaneous_sign_ins_succeed_or_are_refused_deliberately(tiny_client):
    store = tiny_client.server.app[STORE]
    password_hash = hash_password(PASSWORD)  # one hash for all: account creation is not what is measured
    for n in range(6):
        await store.add_staff(f"clerk{n}", password_hash, "editor")

    async def sign_in(i: int) -> int:
        response = await tiny_client.post("/api/auth/login", json={"username": f"clerk{i % 6}", "password": PASSWORD})
        await response.read()
        return int(response.status)

    statuses = Counter(await asyncio.gather(*[sign_in(i) for i in range(30)]))
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[200] >= 6  # at least one per account got through
    # every acknowledged sign-in has its session, and no other
    assert (await store.counts())["sessions"] == statuses[200]


async def test_simultaneous_supports_are_each_counted_once(tiny_client):
    store = tiny_client.server.app[STORE]
    proposal = await store.create_proposal({"title": {"en": "Benches"}, "summary": {"en": ""}, "body": {"en": ""},
                                            "status": "open"}, "edith")
    tokens = [f"token-{i % 150:04d}" for i in range(200)]  # 150 residents, 50 of them press twice
    results = await asyncio.gather(*[store.support(proposal["id"], token) for token in tokens])
    assert sum(1 for r in results if r and r[0]) == 150
    assert max(r[1] for r in results if r) == 150
    assert (await store.proposal(proposal["id"]))["supports"] == 150


async def test_a_failed_transaction_leaves_the_store_usable_for_the_next(tiny_client):
    csrf = await staff_session(tiny_client)
    store = tiny_client.server.app[STORE]

    async def broken() -> None:
        async with store.transaction() as conn:
            await conn.execute("INSERT INTO staff (username, password_hash, role, created_at) "
                               "VALUES ('ghost', 'x', 'editor', 0)")
            raise RuntimeError("boom")

    outcomes = await asyncio.gather(broken(), place(tiny_client, csrf), broken(), place(tiny_client, csrf),
                                    return_exceptions=True)
    assert [type(o).__name__ for o in outcomes[::2]] == ["RuntimeError", "RuntimeError"]
    assert [o.status for o in outcomes[1::2]] == [201, 201]  # type: ignore[union-attr]
    assert await store.get_staff("ghost") is None  # rolled back, not half-written
    assert len(await store.hotspots("tiny")) == 2


async def test_reads_never_see_another_requests_uncommitted_write(tiny_client):
    store = tiny_client.server.app[STORE]
    inside, release = asyncio.Event(), asyncio.Event()

    async def slow_write() -> None:
        async with store.transaction() as conn:
            await conn.execute("INSERT INTO staff (username, password_hash, role, created_at) "
                               "VALUES ('pending', 'x', 'editor', 0)")
            inside.set()
            await release.wait()

    writer = asyncio.ensure_future(slow_write())
    await inside.wait()
    assert await store.get_staff("pending") is None  # not committed yet
    assert (await tiny_client.get("/api/scenes/tiny/hotspots")).status == 200  # readers are not blocked
    release.set()
    await writer
    assert await store.get_staff("pending") is not None

