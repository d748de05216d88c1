"""A meeting across two server processes on one PostgreSQL and one real redis-server (issue 10.8: overflow shares
the stage): a resident listening on process B sees the captions, agenda item, slide and hand queue changed through
process A, and is the same person (same handle) on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.postgres_server import PostgresServer, postgres  # noqa: F401  (fixtures)
from tests.redis_server import RedisServer
from tests.support import ServerProcess

from .test_events_api import png, slide_form
from .test_events_live import Stream


@pytest.fixture
def meeting_cluster(tmp_path: Path, postgres: PostgresServer) -> Iterator[tuple[ServerProcess, ServerProcess]]:  # noqa: F811
    from tests.test_store import PASSWORD, staff_cli

    url = postgres.create_database()
    assert staff_cli(tmp_path, "--database", url, "add", "ada", "--role", "admin", "--password-stdin",
                     password=PASSWORD).returncode == 0
    redis = RedisServer()
    redis.start()
    servers: list[ServerProcess] = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            servers.append(ServerProcess(tmp_path / name, "--database", url, "--redis", redis.url, "--node-id", name,
                                         name=name))
        yield servers[0], servers[1]
    finally:
        for server in servers:
            if server.proc.poll() is None:
                server.stop()
        redis.stop()
        postgres.drop_database(url)


async def test_a_listener_on_one_process_follows_a_meeting_run_through_the_other(meeting_cluster):
    from tests.test_store import PASSWORD

    a, b = meeting_cluster
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as staff, \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as resident:
        login = await staff.post(f"{a.url}/api/auth/login", json={"username": "ada", "password": PASSWORD})
        headers = {"X-CSRF-Token": (await login.json())["csrf"], "Origin": a.url}
        created = await staff.post(f"{a.url}/api/events", headers=headers, json={
            "scene": "town-hall", "title": {"en": "Council"}, "startsAt": 1_790_000_000, "timezone": "UTC",
            "agenda": [{"title": {"en": "Opening"}}, {"title": {"en": "Budget"}}]})
        assert created.status == 201, await created.text()
        event_id = (await created.json())["id"]
        assert (await staff.post(f"{a.url}/api/events/{event_id}/state", headers=headers,
                                 json={"to": "live"})).status == 200

        me = await (await resident.get(f"{b.url}/api/events/{event_id}/me")).json()
        response = await resident.get(f"{b.url}/api/events/{event_id}/live")
        assert response.status == 200
        stream = Stream(response)
        assert (await stream.next("state"))["state"] == "live"

        caption = await staff.post(f"{a.url}/api/events/{event_id}/captions", headers=headers,
                                   json={"text": "The meeting is open."})
        assert caption.status == 201
        assert (await stream.next("caption", timeout=10))["text"] == "The meeting is open."

        await staff.post(f"{a.url}/api/events/{event_id}/item", headers=headers, json={"index": 1})
        assert (await stream.next("state", timeout=10, where=lambda s: s["currentItem"] == 1))

        upload = await staff.post(f"{a.url}/api/events/{event_id}/slides", headers=headers,
                                  data=slide_form(png()))
        slide = await upload.json()
        await staff.post(f"{a.url}/api/events/{event_id}/slide", headers=headers, json={"slideId": slide["id"]})
        shown = await stream.next("state", timeout=10, where=lambda s: s["slide"] is not None)
        assert shown["slide"]["id"] == slide["id"] and shown["slide"]["alt"] == {"en": "A red square"}

        # The same browser raises its hand through A: one resident key for the city, so one handle.
        raised = await resident.post(f"{a.url}/api/events/{event_id}/hand", headers={"Origin": a.url},
                                     json={"raised": True, "name": "Bea", "topic": "Parking"})
        assert raised.status == 200 and (await raised.json())["position"] == 1
        queued = await stream.next("state", timeout=10, where=lambda s: s["hands"])
        assert queued["hands"] == [{"handle": me["handle"], "name": "Bea", "topic": "Parking"}]

        granted = await staff.post(f"{a.url}/api/events/{event_id}/floor", headers=headers,
                                   json={"handle": me["handle"], "seconds": 60})
        assert granted.status == 200
        floor = await stream.next("state", timeout=10, where=lambda s: s["floor"] is not None)
        assert floor["floor"]["name"] == "Bea" and floor["hands"] == []

        ban = await staff.post(f"{a.url}/api/events/{event_id}/moderation", headers=headers,
                               json={"action": "ban", "handle": me["handle"]})
        assert ban.status == 200
        assert (await stream.next("removed", timeout=10)) == {"handle": me["handle"], "banned": True}
        assert await stream.ended(timeout=10)  # B closed the stream of a handle banned through A
        again = await resident.get(f"{b.url}/api/events/{event_id}/live")
        assert again.status == 403 and (await again.json())["error"]["code"] == "banned"
