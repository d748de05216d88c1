"""Zones and tour stops over HTTP (issue 12 item 5): permissions, CSRF, validation, version conflicts, the merge with
the manifest in every place residents read it (the list, the scene document, the page in both modes) and the live
push to residents."""

from __future__ import annotations

from typing import Any

from server.keys import STORE

from .test_hotspots_api import staff_session
from .test_realtime import hello, next_json

ZONES, TOUR = "/api/scenes/tiny/zones", "/api/scenes/tiny/tour"


def zone_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": {"en": "Reading corner", "fr": "Coin lecture"},
                            "description": {"en": "Two armchairs by the window."},
                            "around": {"position": [3.0, 0.0, 3.0], "size": [4, 4]}}
    body.update(overrides)
    return body


def stop_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"position": [1.0, 0.0, 1.0], "yaw": 45, "pitch": -10, "title": {"en": "Window"},
                            "narration": {"en": "Look outside.", "nl": "Kijk naar buiten."}}
    body.update(overrides)
    return body


async def post(client, path: str, body: dict[str, Any], csrf: str):  # type: ignore[no-untyped-def]
    return await client.post(path, json=body, headers={"X-CSRF-Token": csrf})


async def test_an_editor_adds_a_zone_where_she_stands_and_residents_see_it_at_once(tiny_client):
    resident = await hello(tiny_client, name="Ann")
    await next_json(resident, "welcome")
    csrf = await staff_session(tiny_client)
    response = await post(tiny_client, ZONES, zone_body(), csrf)
    assert response.status == 201, await response.text()
    zone = await response.json()
    # 4 m × 4 m around the feet, kept inside the 10 m × 10 m scene; from the floor to 3 m above it.
    assert zone["id"] == "reading-corner" and zone["source"] == "store" and zone["version"] == 1
    assert zone["area"] == {"min": [1.0, 0.0, 1.0], "max": [5.0, 3.0, 5.0]}
    pushed = await next_json(resident, "places")
    assert [z["id"] for z in pushed["zones"]] == ["hall", "reading-corner"]
    listed = await (await tiny_client.get("/api/scenes/tiny/places")).json()
    assert listed["zones"] == pushed["zones"] and [s["id"] for s in listed["tour"]] == ["start"]
    entry = (await tiny_client.server.app[STORE].audit(limit=1))[0]
    assert (entry["action"], entry["actor"]) == ("zone.create", "edith")


async def test_the_scene_document_and_both_page_modes_show_stored_zones_and_stops(tiny_client):
    plain = await (await tiny_client.get("/api/scenes/tiny")).json()
    csrf = await staff_session(tiny_client)
    await post(tiny_client, ZONES, zone_body(), csrf)
    stop = await (await post(tiny_client, TOUR, stop_body(zone="reading-corner"), csrf)).json()
    assert stop["id"] == f"stop-{stop['record']}" and stop["order"] == 0 and stop["zone"] == "reading-corner"
    document = await (await tiny_client.get("/api/scenes/tiny")).json()
    assert [z["id"] for z in document["zones"]] == ["hall", "reading-corner"]
    assert [s["id"] for s in document["tour"]] == ["start", stop["id"]]
    assert {k: v for k, v in document.items() if k not in ("zones", "tour")} == \
        {k: v for k, v in plain.items() if k not in ("zones", "tour")}
    for mode in ("", "?mode=text"):
        page = await (await tiny_client.get(f"/scenes/tiny{mode}")).text()
        assert 'data-id="reading-corner"' in page and "Two armchairs by the window." in page
        assert f'data-id="{stop["id"]}"' in page and "Reading corner.</strong> <span>Look outside." in page
    french = await (await tiny_client.get("/scenes/tiny?mode=text&lang=fr")).text()
    assert "Coin lecture" in french and '<span lang="en">Look outside.</span>' in french


async def test_a_stored_zone_with_a_manifest_key_replaces_it_until_deleted(tiny_client):
    csrf = await staff_session(tiny_client)
    body = zone_body(key="hall", name={"en": "Great hall"}, around=None,
                     area={"min": [-5, 0, -5], "max": [0, 4, 0]})
    made = await (await post(tiny_client, ZONES, body, csrf)).json()
    zones = (await (await tiny_client.get("/api/scenes/tiny/places")).json())["zones"]
    assert [(z["id"], z["name"]["en"], z.get("overrides")) for z in zones] == [("hall", "Great hall", True)]
    again = await post(tiny_client, ZONES, body, csrf)
    assert again.status == 409 and (await again.json())["error"]["code"] == "zone_exists"
    # A key left out never takes one in use: "Hall" from the English name becomes hall-2.
    auto = await (await post(tiny_client, ZONES, zone_body(name={"en": "Hall"}), csrf)).json()
    assert auto["id"] == "hall-2"
    gone = await tiny_client.delete(f"/api/zones/{made['record']}?version=1", headers={"X-CSRF-Token": csrf})
    assert gone.status == 200
    zones = (await (await tiny_client.get("/api/scenes/tiny/places")).json())["zones"]
    assert [(z["id"], z["name"]["en"]) for z in zones] == [("hall", "Hall"), ("hall-2", "Hall")]


async def test_writes_need_an_editor_session_and_the_csrf_token(tiny_client):
    anonymous = await tiny_client.post(ZONES, json=zone_body())
    assert anonymous.status == 401
    moderator = await staff_session(tiny_client, "mo", "moderator")
    assert (await post(tiny_client, TOUR, stop_body(), moderator)).status == 403
    csrf = await staff_session(tiny_client)
    no_token = await tiny_client.post(ZONES, json=zone_body())
    assert no_token.status == 403 and (await no_token.json())["error"]["code"] == "csrf_failed"
    foreign = await tiny_client.post(TOUR, json=stop_body(), headers={"X-CSRF-Token": csrf,
                                                                       "Origin": "https://evil.example"})
    assert foreign.status == 403
    assert (await tiny_client.get("/api/scenes/tiny/places")).status == 200  # reading is public
    assert (await tiny_client.get("/api/scenes/nowhere/places")).status == 404


async def test_invalid_places_are_refused_naming_the_field(tiny_client):
    csrf = await staff_session(tiny_client)
    cases = [
        (ZONES, zone_body(name={"fr": "Sans anglais"}), "name"),
        (ZONES, zone_body(around=None), "body"),
        (ZONES, zone_body(area={"min": [0, 0, 0], "max": [1, 1, 1]}), "body"),  # both shapes
        (ZONES, zone_body(around={"position": [50, 0, 0], "size": [4, 4]}), "around.position"),
        (ZONES, zone_body(around=None, area={"min": [20, 0, 20], "max": [30, 3, 30]}), "area"),
        (ZONES, zone_body(around={"position": [0, 0, 0], "size": [0.1, 4]}), "around.size"),
        (ZONES, zone_body(key="Bad Key!"), "key"),
        (TOUR, stop_body(narration={"fr": "Seulement"}), "narration"),
        (TOUR, stop_body(position=[0, 0, 99]), "position"),
        (TOUR, stop_body(zone="nowhere"), "zone"),
        (TOUR, stop_body(pitch=120), "pitch"),
        (TOUR, stop_body(extra=1), "extra"),
    ]
    for path, body, field in cases:
        response = await post(tiny_client, path, body, csrf)
        error = (await response.json())["error"]
        assert response.status == 422 and error["code"] == "invalid_field", (body, error)
        assert error["message"].startswith(field), (field, error["message"])
    unknown = await tiny_client.patch("/api/zones/999", json={"version": 1, "name": {"en": "X"}},
                                      headers={"X-CSRF-Token": csrf})
    assert unknown.status == 404 and (await unknown.json())["error"]["code"] == "zone_not_found"


async def test_a_stale_edit_gets_409_with_the_current_state_and_changes_nothing(tiny_client):
    csrf = await staff_session(tiny_client)
    zone = await (await post(tiny_client, ZONES, zone_body(), csrf)).json()
    path, headers = f"/api/zones/{zone['record']}", {"X-CSRF-Token": csrf}
    first = await tiny_client.patch(path, json={"version": 1, "name": {"en": "Quiet corner"}}, headers=headers)
    assert first.status == 200 and (await first.json())["version"] == 2
    stale = await tiny_client.patch(path, json={"version": 1, "name": {"en": "Lost"}}, headers=headers)
    body = await stale.json()
    assert stale.status == 409 and body["error"]["code"] == "version_conflict"
    assert body["current"]["name"] == {"en": "Quiet corner"} and body["current"]["version"] == 2
    stale_delete = await tiny_client.delete(f"{path}?version=1", headers=headers)
    assert stale_delete.status == 409
    moved = await tiny_client.patch(path, json={"version": 2, "around": {"position": [-3, 0, -3], "size": [2, 2]}},
                                    headers=headers)
    assert (await moved.json())["area"] == {"min": [-4.0, 0.0, -4.0], "max": [-2.0, 3.0, -2.0]}


async def test_tour_stops_are_edited_reordered_and_deleted(tiny_client):
    csrf = await staff_session(tiny_client)
    headers = {"X-CSRF-Token": csrf}
    a, b = [await (await post(tiny_client, TOUR, stop_body(title={"en": t}), csrf)).json() for t in ("A", "B")]
    moved = await tiny_client.patch(f"/api/tour-stops/{b['record']}", json={"version": 1, "order": 0},
                                    headers=headers)
    assert moved.status == 200 and (await moved.json())["order"] == 0
    tour = (await (await tiny_client.get("/api/scenes/tiny/places")).json())["tour"]
    assert [s["id"] for s in tour] == ["start", b["id"], a["id"]]  # the manifest's first, then the stored ones
    mixed = await tiny_client.patch(f"/api/tour-stops/{a['record']}", json={"version": 1, "order": 0,
                                                                             "yaw": 10}, headers=headers)
    assert mixed.status == 422
    edited = await tiny_client.patch(f"/api/tour-stops/{a['record']}",
                                     json={"version": 1, "narration": {"en": "Changed.", "es": "Cambiado."}},
                                     headers=headers)
    assert (await edited.json())["narration"]["es"] == "Cambiado."
    deleted = await tiny_client.delete(f"/api/tour-stops/{b['record']}?version=2", headers=headers)
    assert deleted.status == 200
    tour = (await (await tiny_client.get("/api/scenes/tiny/places")).json())["tour"]
    assert [(s["id"], s.get("order")) for s in tour] == [("start", None), (a["id"], 0)]
    actions = [e["action"] for e in await tiny_client.server.app[STORE].audit(limit=5)]
    assert actions == ["tour.delete", "tour.update", "tour.move", "tour.create", "tour.create"]
