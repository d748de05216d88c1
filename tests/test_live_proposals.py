"""Hotspots linked to live proposals: a pasted Decidim address, its state read server-side, changes pushed."""

from __future__ import annotations

import dataclasses

import pytest

from server.app import create_app
from server.keys import PROPOSALS

from .proposal_helpers import decidim_page, serve_decidim
from .test_hotspots_api import place, staff_session
from .test_realtime import hello, next_json


@pytest.fixture
async def platform_client(aiohttp_client, tiny_config):  # type: ignore[no-untyped-def]
    """The tiny app with 127.0.0.1 on its platform allow-list: the documented way to read a local fake platform."""
    config = dataclasses.replace(tiny_config, platform_hosts=frozenset({"127.0.0.1"}))
    return await aiohttp_client(create_app(config))


async def test_hotspot_linked_to_a_decidim_proposal_shows_its_live_state(platform_client, aiohttp_server):
    fake, origin = await serve_decidim(aiohttp_server, "0.28")
    fake.add_proposal(7, 42, title={"en": "<p>Trees on Main Street</p>"}, votes=12, comments=3)
    page = decidim_page(origin, 42)

    resident = await hello(platform_client)
    await next_json(resident, "welcome")
    csrf = await staff_session(platform_client)
    created = await place(platform_client, csrf, proposalRef=page)
    assert created.status == 201, await created.text()
    ref = (await created.json())["proposalRef"]
    assert ref == f"decidim:{page}"

    state = await (await platform_client.get("/api/proposals/resolve", params={"ref": ref})).json()
    assert state["title"]["en"] == "Trees on Main Street" and state["supports"] == 12 and state["comments"] == 3
    assert state["url"] == page and state["status"] == "open"

    # The platform's count changes; the next refresh pushes it to everyone in the scene.
    fake.components["7"]["proposals"]["42"]["votes"] = 13
    cache = platform_client.server.app[PROPOSALS]
    assert ref in cache.watched()
    cache.refresh = 0  # due now
    await cache.refresh_watched()
    pushed = await next_json(resident, "proposal")
    assert pushed["proposal"]["ref"] == ref and pushed["proposal"]["supports"] == 13


async def test_a_link_that_is_not_a_proposal_page_is_refused(tiny_client):
    csrf = await staff_session(tiny_client)
    response = await place(tiny_client, csrf, proposalRef="https://example.org/blog/2025/hello")
    assert response.status == 422
    assert (await response.json())["error"]["message"].startswith("proposalRef")
    missing_local = await place(tiny_client, csrf, proposalRef="local:999")
    assert missing_local.status == 422


async def test_local_proposal_resolves_from_the_store(tiny_client):
    csrf = await staff_session(tiny_client)
    created = await (await tiny_client.post("/api/proposals", json={"title": {"en": "Library bus"}, "status": "open",
                                                                    "deadline": "2027-01-31"},
                                            headers={"X-CSRF-Token": csrf})).json()
    state = await (await tiny_client.get("/api/proposals/resolve", params={"ref": created["ref"]})).json()
    assert state["title"] == {"en": "Library bus"} and state["deadline"] == "2027-01-31" and state["supports"] == 0


async def test_linking_a_missing_decidim_proposal_saves_the_hotspot_with_a_warning(platform_client, aiohttp_server):
    fake, origin = await serve_decidim(aiohttp_server, "0.28")
    fake.add_proposal(7, 42, title={"en": "Trees"}, votes=1, comments=0)
    missing = decidim_page(origin, 999)
    resident = await hello(platform_client)
    await next_json(resident, "welcome")
    csrf = await staff_session(platform_client)
    created = await place(platform_client, csrf, proposalRef=missing)
    assert created.status == 201, await created.text()
    body = await created.json()
    assert "no such proposal" in body["warning"]
    pushed = await next_json(resident, "hotspot")
    assert "warning" not in pushed["hotspot"]  # the warning is for the editor who linked it
    present = await place(platform_client, csrf, proposalRef=decidim_page(origin, 42))
    assert "warning" not in await present.json()


async def test_a_proposal_on_a_loopback_address_is_refused_and_never_fetched(tiny_client, aiohttp_server):
    """Without the allow-list, a link to this machine is refused before anything is sent (issue 9, SSRF)."""
    fake, origin = await serve_decidim(aiohttp_server, "0.28")
    fake.add_proposal(7, 42, title={"en": "Trees"}, votes=1, comments=0)
    page = decidim_page(origin, 42)
    csrf = await staff_session(tiny_client)
    linked = await place(tiny_client, csrf, proposalRef=page)
    assert linked.status == 422 and (await linked.json())["error"]["message"].startswith("proposalRef")
    resolved = await tiny_client.get("/api/proposals/resolve", params={"url": page})
    assert resolved.status == 422 and (await resolved.json())["error"]["code"] == "proposal_refused"
    listed = await (await tiny_client.get("/api/scenes/tiny/hotspots")).json()
    assert listed["hotspots"] == []
    assert fake.requests == 0
