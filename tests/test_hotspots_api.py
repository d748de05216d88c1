"""Hotspots, local proposals, staff sign-in and the audit log over HTTP, and their live push to residents."""

from __future__ import annotations

import json

import pytest

from server.auth import hash_password
from server.keys import STORE

from .test_realtime import hello, next_json

PASSWORD = "a long enough password"


async def staff_session(client, username="edith", role="editor"):  # type: ignore[no-untyped-def]
    store = client.server.app[STORE]
    if await store.get_staff(username) is None:
        await store.add_staff(username, hash_password(PASSWORD), role)
    response = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status == 200, await response.text()
    return (await response.json())["csrf"]


def hotspot_body(**overrides):  # type: ignore[no-untyped-def]
    body = {"position": [1.0, 1.5, -1.8], "normal": [0, 0, 2], "kind": "proposal",
            "title": {"en": "New bike lanes", "fr": "Nouvelles pistes cyclables"},
            "description": {"en": "Have your say."}, "link": "https://participate.example.org/p/1"}
    body.update(overrides)
    return body


def same_origin(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What a browser sends with a same-origin POST from the site's own page."""
    return {"Origin": str(client.make_url("/")).rstrip("/")}


async def place(client, csrf, **overrides):  # type: ignore[no-untyped-def]
    return await client.post("/api/scenes/tiny/hotspots", json=hotspot_body(**overrides),
                             headers={"X-CSRF-Token": csrf})


async def test_editor_places_a_hotspot_and_every_resident_sees_it_at_once(tiny_client):
    resident = await hello(tiny_client, name="Ann")
    await next_json(resident, "welcome")
    csrf = await staff_session(tiny_client)
    response = await place(tiny_client, csrf)
    assert response.status == 201
    created = await response.json()
    assert created["normal"] == [0, 0, 1] and created["version"] == 1 and created["createdBy"] == "edith"
    pushed = await next_json(resident, "hotspot")
    assert pushed["action"] == "upsert" and pushed["hotspot"]["id"] == created["id"]
    listed = await (await tiny_client.get("/api/scenes/tiny/hotspots")).json()
    assert [h["id"] for h in listed["hotspots"]] == [created["id"]]


async def test_writes_without_a_session_or_the_role_are_refused(tiny_client):
    anonymous = await tiny_client.post("/api/scenes/tiny/hotspots", json=hotspot_body())
    assert anonymous.status == 401 and (await anonymous.json())["error"]["code"] == "not_signed_in"
    csrf = await staff_session(tiny_client, "mo", "moderator")
    moderator = await place(tiny_client, csrf)
    assert moderator.status == 403 and (await moderator.json())["error"]["code"] == "forbidden"


async def test_forged_cookie_missing_csrf_and_foreign_origin_are_refused(tiny_client):
    csrf = await staff_session(tiny_client)
    no_token = await tiny_client.post("/api/scenes/tiny/hotspots", json=hotspot_body())
    assert no_token.status == 403 and (await no_token.json())["error"]["code"] == "csrf_failed"
    foreign = await tiny_client.post("/api/scenes/tiny/hotspots", json=hotspot_body(),
                                     headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"})
    assert foreign.status == 403
    tiny_client.session.cookie_jar.clear()
    tiny_client.session.cookie_jar.update_cookies({"civic_session": "forged-token"})
    forged = await place(tiny_client, csrf)
    assert forged.status == 401


async def test_session_cookie_is_http_only_and_same_site(tiny_client):
    store = tiny_client.server.app[STORE]
    await store.add_staff("edith", hash_password(PASSWORD), "editor")
    response = await tiny_client.post("/api/auth/login", json={"username": "edith", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "civic_session=" in cookie


async def test_wrong_password_and_too_many_attempts(tiny_client):
    store = tiny_client.server.app[STORE]
    await store.add_staff("edith", hash_password(PASSWORD), "editor")
    codes = []
    for _ in range(7):
        response = await tiny_client.post("/api/auth/login", json={"username": "edith", "password": "wrong-password!"})
        codes.append(response.status)
    assert codes[:5] == [401] * 5 and codes[-1] == 429


@pytest.mark.parametrize(("change", "field"), [
    ({"position": [0, 0, 999]}, "position"),
    ({"normal": [0, 0, 0]}, "normal"),
    ({"link": "javascript:alert(1)"}, "link"),
    ({"title": {"en": "x" * 121}}, "title.en"),
    ({"kind": "advert"}, "kind"),
    ({"title": {}}, "title"),
    ({"proposalRef": "ftp://x"}, "proposalRef"),
])
async def test_invalid_hotspots_are_refused_with_the_field_named(tiny_client, change, field):
    csrf = await staff_session(tiny_client)
    response = await place(tiny_client, csrf, **change)
    assert response.status == 422
    assert (await response.json())["error"]["message"].startswith(field)


async def test_non_finite_coordinates_are_refused(tiny_client):
    csrf = await staff_session(tiny_client)
    body = json.dumps(hotspot_body()).replace("[1.0, 1.5, -1.8]", "[Infinity, 0, 0]")
    response = await tiny_client.post("/api/scenes/tiny/hotspots", data=body,
                                      headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert response.status == 422


async def test_concurrent_edits_one_wins_the_other_gets_409_with_the_current_state(tiny_client):
    csrf = await staff_session(tiny_client)
    created = await (await place(tiny_client, csrf)).json()
    url, headers = f"/api/hotspots/{created['id']}", {"X-CSRF-Token": csrf}
    first = await tiny_client.patch(url, json={"version": 1, "title": {"en": "First"}}, headers=headers)
    second = await tiny_client.patch(url, json={"version": 1, "title": {"en": "Second"}}, headers=headers)
    assert first.status == 200 and second.status == 409
    conflict = await second.json()
    assert conflict["error"]["code"] == "version_conflict"
    assert conflict["current"]["title"] == {"en": "First"} and conflict["current"]["version"] == 2


async def test_delete_reaches_residents_and_can_be_undone(tiny_client):
    resident = await hello(tiny_client)
    await next_json(resident, "welcome")
    csrf = await staff_session(tiny_client)
    created = await (await place(tiny_client, csrf)).json()
    await next_json(resident, "hotspot")
    headers = {"X-CSRF-Token": csrf}
    deleted = await tiny_client.delete(f"/api/hotspots/{created['id']}?version=1", headers=headers)
    assert deleted.status == 200
    assert (await next_json(resident, "hotspot"))["action"] == "delete"
    assert (await (await tiny_client.get("/api/scenes/tiny/hotspots")).json())["hotspots"] == []
    restored = await tiny_client.post(f"/api/hotspots/{created['id']}/restore", json={"version": 2}, headers=headers)
    assert restored.status == 200
    assert (await next_json(resident, "hotspot"))["action"] == "upsert"


async def test_every_change_is_in_the_append_only_audit_log_for_admins(tiny_client):
    csrf = await staff_session(tiny_client)
    created = await (await place(tiny_client, csrf)).json()
    await tiny_client.patch(f"/api/hotspots/{created['id']}", json={"version": 1, "title": {"en": "Renamed"}},
                            headers={"X-CSRF-Token": csrf})
    assert (await tiny_client.get("/api/audit")).status == 403  # an editor may not read it
    await staff_session(tiny_client, "ada", "admin")
    entries = (await (await tiny_client.get("/api/audit")).json())["entries"]
    update = next(e for e in entries if e["action"] == "hotspot.update")
    assert update["actor"] == "edith" and update["before"]["title"]["en"] == "New bike lanes"
    assert update["after"]["title"] == {"en": "Renamed"}
    store = tiny_client.server.app[STORE]
    with pytest.raises(Exception, match="append-only"):
        await store.conn.execute("DELETE FROM audit")


async def test_residents_support_a_local_proposal_once_and_everyone_sees_the_count(tiny_client):
    resident = await hello(tiny_client)
    await next_json(resident, "welcome")
    csrf = await staff_session(tiny_client)
    created = await tiny_client.post("/api/proposals", json={"title": {"en": "A library bus"},
                                                              "summary": {"en": "<b>Books</b> on wheels"}},
                                     headers={"X-CSRF-Token": csrf})
    assert created.status == 201
    proposal = await created.json()
    url, origin = f"/api/proposals/{proposal['id']}/support", same_origin(tiny_client)
    first = await (await tiny_client.post(url, json={}, headers=origin)).json()
    again = await (await tiny_client.post(url, json={}, headers=origin)).json()
    assert (first["counted"], first["supports"]) == (True, 1)
    assert (again["counted"], again["supports"]) == (False, 1)
    pushed = await next_json(resident, "proposal_supports")
    assert pushed == {"type": "proposal_supports", "ref": f"local:{proposal['id']}", "supports": 1}
    found = await (await tiny_client.get("/api/proposals?q=library")).json()
    assert [p["id"] for p in found["proposals"]] == [proposal["id"]]


async def test_unknown_and_malformed_ids_are_404(tiny_client):
    csrf = await staff_session(tiny_client)
    for url in ("/api/hotspots/999", "/api/hotspots/abc"):
        response = await tiny_client.patch(url, json={"version": 1, "title": {"en": "x"}},
                                           headers={"X-CSRF-Token": csrf})
        assert response.status == 404, url
    assert (await tiny_client.get("/api/scenes/nope/hotspots")).status == 404
    assert (await tiny_client.get("/api/proposals/77")).status == 404


async def test_a_flood_of_supports_from_one_client_is_refused(tiny_client):
    csrf = await staff_session(tiny_client)
    proposal = await (await tiny_client.post("/api/proposals", json={"title": {"en": "Benches"}},
                                             headers={"X-CSRF-Token": csrf})).json()
    statuses = []
    for _ in range(12):
        tiny_client.session.cookie_jar.clear()  # a fresh identity each time: still one client address
        response = await tiny_client.post(f"/api/proposals/{proposal['id']}/support", json={},
                                          headers=same_origin(tiny_client))
        statuses.append(response.status)
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429
