"""Staff corrections of the walkable floor and spawn points (issue 12 item 4): the grid numerics (paints per storey,
in order, invariants kept), the store on SQLite and on a real PostgreSQL (versions, audit, order, copy), and the
HTTP API on the tiny scene (permissions, CSRF, bad input, bounds, conflicts, the corrected grid served by hash,
the live push to residents, spawn points checked against the corrected floor)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from server.keys import CATALOG, STORE
from server.services import walk_edits
from server.services.walk_edits import MAX_LAYERS, apply_paints, painted_range
from server.store import Conflict, SQLiteStore, StoreError, store_from_url
from server.store.copy import copy_store
from server.walkable import NO_FLOOR, WalkGrid
from tests.postgres_server import postgres, postgres_url  # noqa: F401  (fixtures)
from tests.test_store import database_url, store, store_url  # noqa: F401  (fixtures)

from .test_hotspots_api import staff_session
from .test_realtime import hello, next_json

N = NO_FLOOR


def grid_of(*layers: list[list[int]], cell: float = 1.0) -> WalkGrid:
    """A grid with origin (0, 0): cell (row, col) has its centre at (col + 0.5, row + 0.5)."""
    return WalkGrid((0.0, 0.0), cell, np.array(layers, dtype=np.int16))


def paint(x0: float, z0: float, x1: float, z1: float, y0: float, y1: float, walkable: bool) -> dict[str, Any]:
    return {"area": {"min": [x0, y0, z0], "max": [x1, y1, z1]}, "walkable": walkable}


def well_formed(grid: WalkGrid) -> bool:
    """Real floors first in each cell, ascending, NO_FLOOR after them."""
    h = grid.heights.astype(np.int64)
    real = h != N
    packed = bool((real[:-1] | ~real[1:]).all())  # never a floor above an empty layer
    ascending = bool(((h[1:] > h[:-1]) | ~real[1:]).all())
    return packed and ascending


# --- the grid -----------------------------------------------------------------------------------------------------
def test_cells_whose_centres_lie_in_the_box_are_painted_edges_included():
    grid = grid_of([[0] * 6] * 4)
    assert painted_range(grid, paint(0.5, 0.5, 2.5, 1.5, 0, 1, False)["area"]) == (slice(0, 2), slice(0, 3))
    assert painted_range(grid, paint(0.6, 0.6, 1.4, 1.4, 0, 1, False)["area"]) is None  # no centre inside
    assert painted_range(grid, paint(-9, -9, 99, 99, 0, 1, False)["area"]) == (slice(0, 4), slice(0, 6))


def test_not_walkable_removes_the_floors_of_one_storey_and_keeps_the_gallery_above():
    # Every cell: ground at 0 m and a gallery at 3 m.
    grid = grid_of([[0, 0, 0]] * 2, [[300, 300, 300]] * 2)
    out = apply_paints(grid, [paint(0, 0, 2, 2, 0.0, 1.5, False)])
    assert out.heights[:, 0].tolist() == [[300, 300, 0], [N, N, 300]]  # the ground went under the box only
    assert out.heights[:, 1].tolist() == [[300, 300, 0], [N, N, 300]]
    assert well_formed(out) and out.heights.dtype == np.int16
    assert grid.heights[0, 0, 0] == 0  # the extracted grid is left as it was


def test_walkable_fills_a_hole_at_the_boxs_floor_and_keeps_floors_the_geometry_found():
    grid = grid_of([[N, 20, N, 0]])  # a hole, a step at 0.2 m, a hole, a floor
    out = apply_paints(grid, [paint(0, 0, 3, 1, 0.1, 1.6, True)])
    assert out.heights.tolist() == [[[10, 20, 10, 0]]]  # holes at min.y (0.1 m), the step kept
    assert well_formed(out)


def test_later_paints_win_and_the_order_counts():
    grid = grid_of([[0, 0, 0, 0]])
    blocked_then_open = [paint(0, 0, 4, 1, 0, 1.5, False), paint(1, 0, 2, 1, 0, 1.5, True)]
    assert apply_paints(grid, blocked_then_open).heights.tolist() == [[[N, 0, N, N]]]
    open_then_blocked = list(reversed(blocked_then_open))
    assert apply_paints(grid, open_then_blocked).heights.tolist() == [[[N, N, N, N]]]


def test_a_walkable_floor_under_a_full_cell_adds_a_layer_and_the_layers_stay_sorted():
    grid = grid_of([[300, 0]])  # one layer: a gallery cell and a ground cell
    out = apply_paints(grid, [paint(0, 0, 1, 1, 0.0, 1.5, True)])  # a floor under the gallery
    assert out.heights.tolist() == [[[0, 0]], [[300, N]]] and well_formed(out)
    # Emptied layers go: blocking the gallery again leaves one layer.
    back = apply_paints(out, [paint(0, 0, 1, 1, 2.9, 3.5, False)])
    assert back.heights.tolist() == [[[0, 0]]]


def test_a_cell_at_the_most_layers_gives_its_highest_floor_way():
    full = grid_of(*[[[k * 300]] for k in range(1, MAX_LAYERS + 1)])
    out = apply_paints(full, [paint(0, 0, 1, 1, 0.0, 1.0, True)])
    assert out.layers == MAX_LAYERS
    assert out.heights[:, 0, 0].tolist() == [0] + [k * 300 for k in range(1, MAX_LAYERS)]


def test_on_a_large_grid_each_cell_follows_the_last_paint_over_it_and_others_are_untouched():
    rng = np.random.default_rng(7)
    heights = np.stack([rng.choice([0, 40], size=(60, 80)), np.full((60, 80), 300), np.full((60, 80), 650)])
    heights[rng.random(heights.shape) < 0.3] = 99_999
    heights = np.sort(heights, axis=0)
    heights = np.where(heights == 99_999, N, heights).astype(np.int16)  # packed, ascending, some holes
    grid = WalkGrid((-10.0, -5.0), 0.25, heights)
    paints = []
    for k in range(40):
        x, z = rng.uniform(-10, 10), rng.uniform(-5, 10)
        w, d = rng.uniform(0, 6, 2)
        paints.append(paint(x, z, x + w, z + d, 0.0, 1.5, bool(k % 2)))
    out = apply_paints(grid, paints)
    assert well_formed(out)
    last = np.full((60, 80), -1)
    for k, p in enumerate(paints):
        cells = painted_range(grid, p["area"])
        if cells is not None:
            last[cells] = k
    assert (last >= 0).any() and (last == -1).any()
    floors = out.heights.astype(np.int64)
    in_storey = ((floors != N) & (floors >= -35) & (floors <= 150)).any(axis=0)
    walkable = np.array([p["walkable"] for p in paints])
    assert (in_storey[last >= 0] == walkable[last[last >= 0]]).all()
    untouched = last == -1
    assert (floors[: grid.layers][:, untouched] == grid.heights[:, untouched]).all()
    above = (floors > 150) & (floors != N)  # the upper floors (3 m, 6.5 m) survive every paint
    assert above.sum() == ((grid.heights > 150) & (grid.heights != N)).sum()


# --- the store ----------------------------------------------------------------------------------------------------
AREA = {"min": [-1.0, 0.0, -1.0], "max": [1.0, 1.5, 1.0]}


async def test_paints_are_added_in_order_and_deleted_at_their_version_with_audit(store):  # noqa: F811
    first = await store.create_walk_paint("hall", {"area": AREA, "walkable": False}, "edna")
    second = await store.create_walk_paint("hall", {"area": AREA, "walkable": True}, "otto")
    await store.create_walk_paint("square", {"area": AREA, "walkable": True}, "edna")
    assert (first["walkable"], second["walkable"], first["area"], first["version"]) == (False, True, AREA, 1)
    assert [p["id"] for p in await store.walk_paints("hall")] == [first["id"], second["id"]]
    assert await store.count_walk_paints("hall") == 2 and await store.walk_paint(first["id"]) == first
    with pytest.raises(StoreError):
        await store.create_walk_paint("hall", {"area": AREA}, "edna")
    with pytest.raises(Conflict) as stale:
        await store.delete_walk_paint(first["id"], 2, "edna")
    assert stale.value.current == first
    gone = await store.delete_walk_paint(first["id"], 1, "otto")
    assert gone["deleted_at"] is not None and gone["version"] == 2 and gone["updated_by"] == "otto"
    assert [p["id"] for p in await store.walk_paints("hall")] == [second["id"]]
    assert await store.walk_paint(first["id"]) is None
    assert await store.delete_walk_paint(first["id"], 2, "otto") is None
    entries = await store.audit(limit=4)
    assert [e["action"] for e in entries] == ["walk.paint.delete", "walk.paint.create", "walk.paint.create",
                                              "walk.paint.create"]
    assert entries[0]["target"] == f"walk_paint:{first['id']}" and entries[0]["before"]["version"] == 1


async def test_spawn_points_keep_a_dense_order_through_moves_and_deletions(store):  # noqa: F811
    a, b, c = [await store.create_spawn("hall", {"position_xyz": [x, 0.0, 1.0], "yaw": 90.0}, "edna")
               for x in (1.0, 2.0, 3.0)]
    assert [s["position"] for s in (a, b, c)] == [0, 1, 2] and a["position_xyz"] == [1.0, 0.0, 1.0]
    moved = await store.move_spawn(c["id"], 1, 0, "otto")
    assert moved["version"] == 2 and moved["position"] == 0
    assert [s["id"] for s in await store.spawns("hall")] == [c["id"], a["id"], b["id"]]
    with pytest.raises(Conflict):
        await store.move_spawn(c["id"], 1, 2, "otto")
    await store.delete_spawn(a["id"], 1, "otto")
    order = await store.spawns("hall")
    assert [s["id"] for s in order] == [c["id"], b["id"]] and [s["position"] for s in order] == [0, 1]
    assert await store.spawn(a["id"]) is None and await store.move_spawn(a["id"], 2, 0, "otto") is None
    assert [e["action"] for e in await store.audit(limit=3)] == ["spawn.delete", "spawn.move", "spawn.create"]


async def test_store_copy_carries_paints_and_spawn_points_to_postgresql_and_back(tmp_path: Path,
                                                                                 postgres_url):  # noqa: F811
    original, middle = SQLiteStore(tmp_path / "civic.sqlite3"), store_from_url(postgres_url)
    back = SQLiteStore(tmp_path / "back" / "civic.sqlite3")
    for opened in (original, middle, back):
        await opened.open()
    try:
        first = await original.create_walk_paint("hall", {"area": AREA, "walkable": False}, "edna")
        await original.create_walk_paint("hall", {"area": AREA, "walkable": True}, "edna")
        await original.delete_walk_paint(first["id"], 1, "edna")
        await original.create_spawn("hall", {"position_xyz": [1.0, 0.0, 1.0], "yaw": 0.0}, "edna")
        counts = await copy_store(original, middle)
        assert (counts["scene_walk_paints"], counts["scene_spawns"]) == (2, 1)
        assert await middle.walk_paints("hall") == await original.walk_paints("hall")
        assert await middle.spawns("hall") == await original.spawns("hall")
        assert await copy_store(middle, back) == counts
        made = await middle.create_walk_paint("hall", {"area": AREA, "walkable": True}, "edna")
        assert made["id"] == 3  # ids continue past the copied ones on PostgreSQL
    finally:
        for opened in (original, middle, back):
            await opened.close()


# --- the API ------------------------------------------------------------------------------------------------------
# The tiny scene: a 10 m × 10 m floor at y = 0 (x, z in [-5, 5]) with a wall across it at z = -2; bounds ±2 m.
PAINTS, SPAWNS = "/api/scenes/tiny/walk-paints", "/api/scenes/tiny/spawns"


def box(x0: float, z0: float, x1: float, z1: float, walkable: bool = False) -> dict[str, Any]:
    return {"area": {"min": [x0, 0.0, z0], "max": [x1, 1.5, z1]}, "walkable": walkable}


async def post(client, path: str, body: Any, csrf: str):  # type: ignore[no-untyped-def]
    return await client.post(path, json=body, headers={"X-CSRF-Token": csrf})


async def error_code(response) -> str:  # type: ignore[no-untyped-def]
    return str((await response.json())["error"]["code"])


async def test_an_editor_paints_a_box_not_walkable_and_residents_get_the_new_grid_at_once(tiny_client):
    resident = await hello(tiny_client, name="Ann")
    await next_json(resident, "welcome")
    before = await (await tiny_client.get("/api/scenes/tiny/walk-edits")).json()
    assert before["paints"] == [] and before["walkable"]["url"].startswith("/assets/")
    csrf = await staff_session(tiny_client)
    response = await post(tiny_client, PAINTS, box(1, 1, 3, 3), csrf)
    assert response.status == 201, await response.text()
    made = await response.json()
    assert (made["walkable"], made["version"], made["scene"], made["updatedBy"]) == (False, 1, "tiny", "edith")

    pushed = await next_json(resident, "places")
    assert pushed["scene"] == "tiny" and [z["id"] for z in pushed["zones"]] == ["hall"]  # the whole places too
    url = pushed["walkable"]["url"]
    assert url.startswith("/api/scenes/tiny/walkable/") and url.endswith(".walk")
    listed = await (await tiny_client.get("/api/scenes/tiny/walk-edits")).json()
    assert listed["walkable"] == pushed["walkable"] and [p["id"] for p in listed["paints"]] == [made["id"]]

    download = await tiny_client.get(url)
    assert download.status == 200 and "immutable" in download.headers["Cache-Control"]
    grid = WalkGrid.from_bytes(await download.read(), pushed["walkable"])
    base = WalkGrid.from_bytes(await (await tiny_client.get(before["walkable"]["url"])).read(), before["walkable"])
    assert base.step_target(0.0, 2.0, 2.0) == 0.0 and grid.step_target(0.0, 2.0, 2.0) is None
    assert grid.step_target(0.0, 4.0, 4.0) == 0.0  # outside the box: as extracted
    entry = (await tiny_client.server.app[STORE].audit(limit=1))[0]
    assert (entry["action"], entry["actor"]) == ("walk.paint.create", "edith")

    stale_delete = await tiny_client.delete(f"/api/walk-paints/{made['id']}?version=2", headers={"X-CSRF-Token": csrf})
    assert stale_delete.status == 409 and (await stale_delete.json())["current"] == made
    gone = await tiny_client.delete(f"/api/walk-paints/{made['id']}?version=1", headers={"X-CSRF-Token": csrf})
    assert gone.status == 200
    again = await next_json(resident, "places")
    assert again["walkable"] == before["walkable"]  # no paints: the extracted grid again
    stale = await tiny_client.get(url)
    assert stale.status == 404 and await error_code(stale) == "asset_not_found"
    await resident.close()


async def test_the_scene_document_points_at_the_corrected_grid_and_the_stored_spawn_points(tiny_client):
    csrf = await staff_session(tiny_client)
    await post(tiny_client, PAINTS, box(1, 1, 3, 3), csrf)
    spawn = await (await post(tiny_client, SPAWNS, {"position": [3.5, 0.0, 0.5], "yaw": 90}, csrf)).json()
    app = tiny_client.server.app
    scene = app[CATALOG].scenes["tiny"]
    document = await walk_edits.scene_document(app[STORE], scene, scene.document)  # what GET /api/scenes/tiny serves
    doc = json.loads(document.data)
    listed = await (await tiny_client.get("/api/scenes/tiny/walk-edits")).json()
    assert doc["walkable"] == listed["walkable"] and doc["walkable"]["url"].startswith("/api/scenes/tiny/walkable/")
    assert doc["spawn"] == [{"position": spawn["position"], "yaw": 90.0}] == listed["spawn"]
    assert {k: v for k, v in doc.items() if k not in ("walkable", "spawn")} == \
        {k: v for k, v in json.loads(scene.document.data).items() if k not in ("walkable", "spawn")}


async def test_spawn_points_are_added_reordered_and_deleted_and_must_stand_on_the_corrected_floor(tiny_client):
    csrf = await staff_session(tiny_client)
    first = await (await post(tiny_client, SPAWNS, {"position": [1.0, 0.0, 1.0], "yaw": 45}, csrf)).json()
    second = await (await post(tiny_client, SPAWNS, {"position": [-3.0, 0.0, 3.0]}, csrf)).json()
    assert (first["order"], second["order"], second["yaw"]) == (0, 1, 0.0)
    moved = await tiny_client.patch(f"/api/spawns/{second['id']}", json={"version": 1, "order": 0},
                                    headers={"X-CSRF-Token": csrf})
    assert moved.status == 200 and (await moved.json())["order"] == 0
    listed = await (await tiny_client.get("/api/scenes/tiny/walk-edits")).json()
    assert [s["id"] for s in listed["spawns"]] == [second["id"], first["id"]]
    assert listed["spawn"][0] == {"position": [-3.0, 0.0, 3.0], "yaw": 0.0}
    stale = await tiny_client.patch(f"/api/spawns/{second['id']}", json={"version": 1, "order": 1},
                                    headers={"X-CSRF-Token": csrf})
    assert stale.status == 409 and (await stale.json())["current"]["version"] == 2

    # Off the floor: in the wall (z = -2), in the air, and in a box painted not walkable.
    for position in ([0.0, 0.0, -2.0], [0.0, 2.5, 3.0]):
        refused = await post(tiny_client, SPAWNS, {"position": position}, csrf)
        assert refused.status == 422 and await error_code(refused) == "spawn_off_floor", position
    await post(tiny_client, PAINTS, box(2, 2, 4, 4), csrf)
    refused = await post(tiny_client, SPAWNS, {"position": [3.0, 0.0, 3.0]}, csrf)
    assert refused.status == 422 and await error_code(refused) == "spawn_off_floor"

    gone = await tiny_client.delete(f"/api/spawns/{second['id']}?version=2", headers={"X-CSRF-Token": csrf})
    assert gone.status == 200
    listed = await (await tiny_client.get("/api/scenes/tiny/walk-edits")).json()
    assert [(s["id"], s["order"]) for s in listed["spawns"]] == [(first["id"], 0)]
    last = await tiny_client.delete(f"/api/spawns/{first['id']}?version=1", headers={"X-CSRF-Token": csrf})
    assert last.status == 200  # renumbering after a deletion changed its order, not its version
    listed = await (await tiny_client.get("/api/scenes/tiny/walk-edits")).json()
    assert listed["spawn"] == [{"position": [0.0, 0.0, 2.0], "yaw": 0.0}]  # the manifest's again


async def test_writes_need_an_editor_and_the_csrf_token(tiny_client):
    assert (await tiny_client.post(PAINTS, json=box(1, 1, 2, 2))).status == 401
    csrf = await staff_session(tiny_client)
    no_token = await tiny_client.post(PAINTS, json=box(1, 1, 2, 2))
    assert no_token.status == 403 and await error_code(no_token) == "csrf_failed"
    await tiny_client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    moderator = await staff_session(tiny_client, username="mo", role="moderator")
    assert (await post(tiny_client, PAINTS, box(1, 1, 2, 2), moderator)).status == 403
    assert (await post(tiny_client, SPAWNS, {"position": [1, 0, 1]}, moderator)).status == 403


@pytest.mark.parametrize(("body", "code"), [
    ({"area": {"min": [1, 0, 1], "max": [2, 1.5, 2]}}, "invalid_field"),  # walkable missing
    ({**box(1, 1, 2, 2), "extra": 1}, "invalid_field"),
    (box(2, 2, 1, 1), "invalid_field"),  # min above max
    (box(-20, -1, 1, 1), "invalid_field"),  # outside the scene
    ({"area": {"min": [1, 0, 1], "max": [2, 30, 2]}, "walkable": True}, "invalid_field"),  # too high
    ({"area": {"min": [1, 0, 1], "max": [2, "x", 2]}, "walkable": True}, "invalid_field"),
    ({"area": {"min": [1, 0], "max": [2, 1, 2]}, "walkable": True}, "invalid_field"),
    ({"area": {"min": [1, 0, 1], "max": [2, 1e400, 2]}, "walkable": True}, "invalid_field"),
])
async def test_bad_paints_are_refused_with_a_structured_error(tiny_client, body, code):
    csrf = await staff_session(tiny_client)
    response = await post(tiny_client, PAINTS, body, csrf)
    assert response.status == 422 and await error_code(response) == code, await response.text()
    assert await tiny_client.server.app[STORE].walk_paints("tiny") == []


async def test_bad_requests_elsewhere_are_refused(tiny_client):
    csrf = await staff_session(tiny_client)
    assert (await post(tiny_client, "/api/scenes/nowhere/walk-paints", box(1, 1, 2, 2), csrf)).status == 404
    assert (await tiny_client.get("/api/scenes/nowhere/walk-edits")).status == 404
    assert (await tiny_client.delete("/api/walk-paints/99?version=1", headers={"X-CSRF-Token": csrf})).status == 404
    assert (await tiny_client.delete("/api/walk-paints/abc?version=1", headers={"X-CSRF-Token": csrf})).status == 404
    assert (await tiny_client.delete("/api/spawns/1", headers={"X-CSRF-Token": csrf})).status == 422
    assert (await post(tiny_client, SPAWNS, {"position": [99, 0, 0]}, csrf)).status == 422
    assert (await post(tiny_client, SPAWNS, {"position": [1, 0, 1], "yaw": 400}, csrf)).status == 422
    assert (await tiny_client.get("/api/scenes/tiny/walkable/../../etc")).status == 404
    too_big = await tiny_client.post(PAINTS, data=b"{" + b" " * 40_000 + b"}",
                                     headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert too_big.status == 413


async def test_a_scene_keeps_at_most_the_bounded_number_of_paints(tiny_client, monkeypatch):
    monkeypatch.setattr(walk_edits, "MAX_PAINTS", 2)  # 500 in production; the same check
    csrf = await staff_session(tiny_client)
    for _ in range(2):
        assert (await post(tiny_client, PAINTS, box(1, 1, 2, 2), csrf)).status == 201
    refused = await post(tiny_client, PAINTS, box(1, 1, 2, 2), csrf)
    assert refused.status == 409 and await error_code(refused) == "too_many_paints"
