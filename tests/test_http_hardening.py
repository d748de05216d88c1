"""What a hostile or unlucky client does to the HTTP API (issue 9): explicit nulls, cross-site and stuffed
supports, reverse proxies, the proposal resolver, odd paths, headers and bodies. Each answers 4xx, never 500."""

from __future__ import annotations

import pytest

from server.app import create_app
from server.keys import ROOMS, STORE

from .test_hotspots_api import place, same_origin, staff_session

# --- explicit null (item 9) ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["title", "position", "normal", "kind", "description"])
async def test_explicit_null_for_a_required_hotspot_field_is_422_and_nothing_changes(tiny_client, field):
    csrf = await staff_session(tiny_client)
    created = await (await place(tiny_client, csrf)).json()
    response = await tiny_client.patch(f"/api/hotspots/{created['id']}", json={"version": 1, field: None},
                                       headers={"X-CSRF-Token": csrf})
    assert response.status == 422
    assert (await response.json())["error"]["message"].startswith(field)
    listed = (await (await tiny_client.get("/api/scenes/tiny/hotspots")).json())["hotspots"]
    assert listed[0]["version"] == 1 and listed[0]["title"]["en"] == "New bike lanes"


async def test_null_unlinks_a_hotspot_where_null_means_none(tiny_client):
    csrf = await staff_session(tiny_client)
    created = await (await place(tiny_client, csrf)).json()
    response = await tiny_client.patch(f"/api/hotspots/{created['id']}", json={"version": 1, "link": None},
                                       headers={"X-CSRF-Token": csrf})
    assert response.status == 200 and (await response.json())["link"] is None


async def test_explicit_null_in_a_proposal_patch_is_422_and_the_proposal_stays_readable(tiny_client):
    csrf = await staff_session(tiny_client)
    headers = {"X-CSRF-Token": csrf}
    proposal = await (await tiny_client.post("/api/proposals", json={"title": {"en": "Benches"}},
                                             headers=headers)).json()
    for field in ("title", "summary", "body", "status"):
        response = await tiny_client.patch(f"/api/proposals/{proposal['id']}", json={"version": 1, field: None},
                                           headers=headers)
        assert response.status == 422, field
    assert (await tiny_client.get(f"/api/proposals/{proposal['id']}")).status == 200
    live = await tiny_client.get("/api/proposals/live", params={"ref": proposal["ref"]})
    assert live.status == 200


async def test_a_failing_push_never_turns_a_committed_edit_into_a_500(tiny_client, monkeypatch):
    csrf = await staff_session(tiny_client)
    created = await (await place(tiny_client, csrf)).json()

    def broken(*args: object) -> None:
        raise RuntimeError("bus down")

    monkeypatch.setattr(tiny_client.server.app[ROOMS], "broadcast_scene", broken)
    response = await tiny_client.patch(f"/api/hotspots/{created['id']}", json={"version": 1, "title": {"en": "B"}},
                                       headers={"X-CSRF-Token": csrf})
    assert response.status == 200 and (await response.json())["version"] == 2


# --- anonymous supports (item 10) ---------------------------------------------------------------------------------


async def local_proposal(client) -> str:  # type: ignore[no-untyped-def]
    csrf = await staff_session(client)
    created = await client.post("/api/proposals", json={"title": {"en": "Library bus"}}, headers={"X-CSRF-Token": csrf})
    client.session.cookie_jar.clear()  # from here on, an anonymous resident
    return f"/api/proposals/{(await created.json())['id']}/support"


async def test_a_cross_site_form_cannot_support(tiny_client):
    url = await local_proposal(tiny_client)
    plain = await tiny_client.post(url, data=b'{"token": "x"}', headers={"Content-Type": "text/plain",
                                                                         **same_origin(tiny_client)})
    assert plain.status == 415
    foreign = await tiny_client.post(url, json={}, headers={"Origin": "https://evil.example"})
    assert foreign.status == 403 and (await foreign.json())["error"]["code"] == "cross_origin"
    no_origin = await tiny_client.post(url, json={})
    assert no_origin.status == 403
    assert (await tiny_client.get(url.removesuffix("/support"))).status == 200
    assert (await (await tiny_client.get(url.removesuffix("/support"))).json())["supports"] == 0


async def test_a_browser_counts_once_whatever_tokens_it_makes_up(tiny_client):
    url = await local_proposal(tiny_client)
    counted = []
    for i in range(3):
        body = await (await tiny_client.post(url, json={"token": f"made-up-token-{i:08d}"},
                                             headers=same_origin(tiny_client))).json()
        counted.append((body["counted"], body["supports"]))
    assert counted == [(True, 1), (False, 1), (False, 1)]


async def test_the_resident_identity_is_a_signed_http_only_cookie_and_forgeries_do_not_count_twice(tiny_client):
    url = await local_proposal(tiny_client)
    first = await tiny_client.post(url, json={}, headers=same_origin(tiny_client))
    cookie = first.headers["Set-Cookie"]
    assert "civic_resident=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    value = first.cookies["civic_resident"].value
    resident, _, signature = value.partition(".")
    tiny_client.session.cookie_jar.clear()
    tiny_client.session.cookie_jar.update_cookies({"civic_resident": f"{resident}.{'0' * len(signature)}"})
    forged = await tiny_client.post(url, json={}, headers=same_origin(tiny_client))
    assert (await forged.json())["counted"] is True  # a forged identity is a new, fresh one: not the victim's
    assert "civic_resident=" in forged.headers["Set-Cookie"]
    tiny_client.session.cookie_jar.clear()
    tiny_client.session.cookie_jar.update_cookies({"civic_resident": value})
    again = await tiny_client.post(url, json={}, headers=same_origin(tiny_client))
    assert (await again.json())["counted"] is False and "Set-Cookie" not in again.headers


# --- behind a reverse proxy (item 11) -----------------------------------------------------------------------------


@pytest.fixture
async def proxied_client(aiohttp_client, tiny_config):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return await aiohttp_client(create_app(replace(tiny_config, trusted_proxies=frozenset({"127.0.0.0/8"}))))


async def supports_from(client, url: str, addresses: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    statuses = []
    for address in addresses:
        client.session.cookie_jar.clear()
        response = await client.post(url, json={}, headers={"X-Forwarded-For": address, **same_origin(client)})
        statuses.append(response.status)
    return statuses


async def test_a_trusted_proxy_gives_each_client_its_own_rate_limit(proxied_client):
    url = await local_proposal(proxied_client)
    statuses = await supports_from(proxied_client, url, [f"203.0.113.{i}" for i in range(12)])
    assert statuses == [200] * 12
    # The client cannot choose its address by prepending: the proxy appends the real one.
    spoofed = await supports_from(proxied_client, url, [f"198.51.100.{i}, 192.0.2.7" for i in range(11)])
    assert spoofed[-1] == 429


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(tiny_client):
    url = await local_proposal(tiny_client)
    statuses = await supports_from(tiny_client, url, [f"203.0.113.{i}" for i in range(11)])
    assert statuses[-1] == 429
    response = await tiny_client.get("/api/scenes", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


async def test_https_through_a_trusted_proxy_gets_a_secure_cookie_and_hsts(proxied_client):
    from server.auth import hash_password

    from .test_hotspots_api import PASSWORD

    await proxied_client.server.app[STORE].add_staff("edith", hash_password(PASSWORD), "editor")
    response = await proxied_client.post("/api/auth/login", json={"username": "edith", "password": PASSWORD},
                                         headers={"X-Forwarded-Proto": "https"})
    assert response.status == 200
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = await proxied_client.get("/api/scenes")
    assert "Strict-Transport-Security" not in plain.headers


async def test_sign_in_and_audit_answers_are_never_cached(tiny_client):
    for method, url in (("POST", "/api/auth/login"), ("GET", "/api/auth/me"), ("POST", "/api/auth/logout"),
                        ("GET", "/api/audit")):
        response = await tiny_client.request(method, url, json={} if method == "POST" else None)
        assert response.headers["Cache-Control"] == "no-store", url
    await staff_session(tiny_client)
    assert (await tiny_client.get("/api/auth/me")).headers["Cache-Control"] == "no-store"


# --- the proposal resolver is for staff (item 1, the route part) --------------------------------------------------


async def test_residents_cannot_make_the_server_fetch_an_address(tiny_client):
    for params in ({"url": "http://169.254.169.254/processes/a/f/1/proposals/1"},
                   {"ref": "decidim:http://127.0.0.1:9/processes/a/f/1/proposals/1"}):
        response = await tiny_client.get("/api/proposals/resolve", params=params)
        assert response.status == 401
    live = await tiny_client.get("/api/proposals/live",
                                 params={"ref": "decidim:http://127.0.0.1:9/processes/a/f/1/proposals/1"})
    assert live.status == 404 and (await live.json())["error"]["code"] == "proposal_not_found"


# --- odd paths, headers and bodies (Low) --------------------------------------------------------------------------


async def test_unicode_digits_and_nul_in_paths_are_404_not_500(tiny_client):
    csrf = await staff_session(tiny_client)
    for url in ("/api/hotspots/%C2%B2", "/api/hotspots/%D9%A3", "/api/proposals/%EF%BC%91"):
        response = await tiny_client.patch(url, json={"version": 1, "title": {"en": "x"}},
                                           headers={"X-CSRF-Token": csrf})
        assert response.status == 404, url
        assert (await tiny_client.get(url)).status in (404, 405), url
    for url in ("/static/a%00b.js", "/static/%00", "/scenes/a%00b", "/api/scenes/%00", "/assets/%00.glb"):
        assert (await tiny_client.get(url)).status == 404, url


async def test_a_range_header_with_thousands_of_digits_is_416(tiny_client):
    for header in (f"bytes=0-{'9' * 5000}", f"bytes={'1' * 5000}-", f"bytes=-{'7' * 5000}"):
        response = await tiny_client.get("/static/js/api.js", headers={"Range": header})
        assert response.status in (206, 416), header
        assert response.status != 500


async def test_routes_that_take_no_body_refuse_one_unread(tiny_client):
    for method, url in (("GET", "/api/scenes/tiny/hotspots"), ("GET", "/api/proposals"), ("GET", "/healthz")):
        response = await tiny_client.request(method, url, data=b"x" * 1000)
        assert response.status == 413, url

    async def endless():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b"x" * 4096

    chunked = await tiny_client.get("/api/proposals", data=endless())
    assert chunked.status == 413


async def test_a_body_beyond_the_limit_is_413_even_when_sent_in_chunks(tiny_client):
    csrf = await staff_session(tiny_client)

    async def endless():  # type: ignore[no-untyped-def]
        yield b'{"title": {"en": "'
        for _ in range(100):
            yield b"x" * 4096

    response = await tiny_client.post("/api/proposals", data=endless(),
                                      headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert response.status == 413


# --- the proposal cache stops polling what no hotspot shows (item 7, the hotspot part) -----------------------------


async def test_deleting_or_relinking_a_hotspot_stops_watching_its_proposal(tiny_client):
    from server.keys import PROPOSALS

    csrf = await staff_session(tiny_client)
    headers = {"X-CSRF-Token": csrf}
    first = "https://decidim.example.org/processes/budgets/f/7/proposals/42"
    second = "https://decidim.example.org/processes/budgets/f/7/proposals/43"
    cache = tiny_client.server.app[PROPOSALS]
    one = await (await place(tiny_client, csrf, proposalRef=first)).json()
    two = await (await place(tiny_client, csrf, proposalRef=first)).json()
    ref = one["proposalRef"]
    assert ref in cache.watched()
    await tiny_client.delete(f"/api/hotspots/{one['id']}?version=1", headers=headers)
    assert ref in cache.watched()  # the other hotspot still shows it
    relinked = await tiny_client.patch(f"/api/hotspots/{two['id']}", json={"version": 1, "proposalRef": second},
                                       headers=headers)
    assert relinked.status == 200
    assert ref not in cache.watched() and (await relinked.json())["proposalRef"] in cache.watched()
    await tiny_client.post(f"/api/hotspots/{one['id']}/restore", json={"version": 2}, headers=headers)
    assert ref in cache.watched()  # shown again


async def test_a_failure_while_making_the_pushed_event_never_fails_the_committed_edit(tiny_client, monkeypatch):
    from server.services.proposals import Proposals

    csrf = await staff_session(tiny_client)
    headers = {"X-CSRF-Token": csrf}
    proposal = await (await tiny_client.post("/api/proposals", json={"title": {"en": "Benches"}},
                                             headers=headers)).json()

    async def broken(self, ref):  # type: ignore[no-untyped-def]
        raise RuntimeError("cannot read it back")

    monkeypatch.setattr(Proposals, "resolve", broken)
    response = await tiny_client.patch(f"/api/proposals/{proposal['id']}", json={"version": 1, "status": "closed"},
                                       headers=headers)
    assert response.status == 200 and (await response.json())["status"] == "closed"


async def test_json_nested_thousands_deep_is_a_400(tiny_client):
    csrf = await staff_session(tiny_client)
    response = await tiny_client.post("/api/proposals", data=b"[" * 15_000 + b"]" * 15_000,
                                      headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert response.status == 400


async def test_the_server_wide_request_size_caps_every_body(aiohttp_client, tiny_config):
    from dataclasses import replace

    client = await aiohttp_client(create_app(replace(tiny_config, max_request_bytes=1024)))
    csrf = await staff_session(client)
    body = {"title": {"en": "Benches"}, "summary": {"en": "x" * 2000}}
    response = await client.post("/api/proposals", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status == 413
