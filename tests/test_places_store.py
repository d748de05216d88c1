"""Zones and tour stops staff define for a scene (issue 12 item 5), on SQLite and on a real PostgreSQL (the
parametrised `store` fixture of tests/test_store.py): versions, audit in the same transaction, one live key per
scene, tour order kept dense, the migration from the schema before them, and `store copy` carrying them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.store import AlreadyExists, Conflict, SQLiteStore, StoreError, store_from_url
from server.store import postgres as postgres_module
from server.store import sqlite as sqlite_module
from server.store.copy import copy_store
from tests.postgres_server import postgres, postgres_url  # noqa: F401  (fixtures)
from tests.test_store import database_url, store, store_url  # noqa: F401  (fixtures)

ZONE: dict[str, Any] = {
    "key": "archive", "name": {"en": "Archive", "fr": "Archives"}, "description": {"en": "Old maps."},
    "area": {"min": [-2.0, 0.0, -2.0], "max": [2.0, 3.0, 2.0]},
}


def stop(x: float, text: str) -> dict[str, Any]:
    return {"position_xyz": [x, 0.0, 1.5], "yaw": 90.0, "pitch": -5.0, "zone": None, "title": {"en": text},
            "narration": {"en": f"This is {text}.", "es": f"Esto es {text}."}}


def actions(entries: list[dict[str, Any]]) -> list[str]:
    return [e["action"] for e in entries]


async def test_a_zone_is_made_edited_at_its_version_and_deleted_with_audit(store):  # noqa: F811
    made = await store.create_zone("hall", ZONE, "edna")
    assert {k: made[k] for k in ZONE} == ZONE
    assert (made["scene"], made["version"], made["deleted_at"], made["created_by"]) == ("hall", 1, None, "edna")
    assert await store.zones("hall") == [made] and await store.zones("square") == []
    assert await store.zone(made["id"]) == made

    edited = await store.update_zone(made["id"], 1, {"name": {"en": "Map room"}}, "otto")
    assert edited["version"] == 2 and edited["name"] == {"en": "Map room"} and edited["updated_by"] == "otto"
    assert edited["area"] == ZONE["area"]
    with pytest.raises(Conflict) as stale:
        await store.update_zone(made["id"], 1, {"name": {"en": "Lost"}}, "edna")
    assert stale.value.current["name"] == {"en": "Map room"}
    with pytest.raises(StoreError, match="unexpected"):
        await store.update_zone(made["id"], 2, {"key": "renamed"}, "edna")  # a key is fixed once made
    assert await store.update_zone(999, 1, {"name": {"en": "x"}}, "edna") is None

    with pytest.raises(Conflict):
        await store.delete_zone(made["id"], 1, "edna")
    gone = await store.delete_zone(made["id"], 2, "edna")
    assert gone["deleted_at"] is not None and gone["version"] == 3
    assert await store.zones("hall") == [] and await store.zone(made["id"]) is None
    assert await store.delete_zone(made["id"], 3, "edna") is None

    entries = await store.audit()
    assert actions(entries) == ["zone.delete", "zone.update", "zone.create"]
    assert entries[0]["target"] == f"zone:{made['id']}" and entries[1]["actor"] == "otto"
    assert entries[1]["before"]["version"] == 1 and entries[1]["after"]["version"] == 2


async def test_a_scene_has_one_live_zone_per_key_and_a_deleted_one_frees_it(store):  # noqa: F811
    first = await store.create_zone("hall", ZONE, "edna")
    with pytest.raises(AlreadyExists):
        await store.create_zone("hall", ZONE, "edna")
    other_scene = await store.create_zone("square", ZONE, "edna")
    assert other_scene["key"] == "archive"
    await store.delete_zone(first["id"], 1, "edna")
    again = await store.create_zone("hall", ZONE, "edna")
    assert again["id"] != first["id"] and [z["id"] for z in await store.zones("hall")] == [again["id"]]
    assert actions(await store.audit()) == ["zone.create", "zone.delete", "zone.create", "zone.create"]


async def test_tour_stops_keep_a_dense_order_through_moves_and_deletions(store):  # noqa: F811
    a, b, c = [await store.create_tour_stop("hall", stop(x, name), "edna")
               for x, name in ((1, "A"), (2, "B"), (3, "C"))]
    assert [s["position"] for s in (a, b, c)] == [0, 1, 2]
    assert a["position_xyz"] == [1.0, 0.0, 1.5] and a["narration"]["es"] == "Esto es A." and a["zone"] is None
    other = await store.create_tour_stop("square", stop(9, "Elsewhere"), "edna")
    assert other["position"] == 0

    moved = await store.move_tour_stop(c["id"], 1, 0, "otto")
    assert moved["version"] == 2 and moved["position"] == 0
    order = await store.tour_stops("hall")
    assert [s["id"] for s in order] == [c["id"], a["id"], b["id"]] and [s["position"] for s in order] == [0, 1, 2]
    assert [s["version"] for s in order] == [2, 1, 1]  # only the moved stop changed
    with pytest.raises(Conflict):
        await store.move_tour_stop(c["id"], 1, 2, "otto")
    await store.move_tour_stop(a["id"], 1, 99, "otto")  # past the end: last
    assert [s["id"] for s in await store.tour_stops("hall")] == [c["id"], b["id"], a["id"]]

    edited = await store.update_tour_stop(b["id"], 1, {"narration": {"en": "B again."}, "zone": "archive",
                                                       "yaw": -45.0}, "otto")
    assert (edited["version"], edited["zone"], edited["yaw"]) == (2, "archive", -45.0)
    assert edited["position"] == 1 and edited["title"] == {"en": "B"}

    await store.delete_tour_stop(c["id"], 2, "otto")
    order = await store.tour_stops("hall")
    assert [s["id"] for s in order] == [b["id"], a["id"]] and [s["position"] for s in order] == [0, 1]
    assert await store.tour_stop(c["id"]) is None
    assert await store.move_tour_stop(c["id"], 3, 0, "otto") is None
    with pytest.raises(StoreError, match="unexpected"):
        await store.update_tour_stop(b["id"], 2, {"scene": "square"}, "otto")
    assert actions(await store.audit(limit=5)) == ["tour.delete", "tour.update", "tour.move", "tour.move",
                                                   "tour.create"]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_a_database_from_before_places_gains_their_tables_keeping_its_rows(kind, request, tmp_path,
                                                                                monkeypatch):
    module = sqlite_module if kind == "sqlite" else postgres_module
    url = database_url(request, kind, tmp_path)
    with monkeypatch.context() as old_code:
        old_code.setattr(module, "MIGRATIONS", module.MIGRATIONS[:3])  # the code as it was before issue 12
        old = store_from_url(url)
        await old.open()
        await old.add_staff("edna", "hash", "editor")
        await old.close()
    upgraded = store_from_url(url)
    await upgraded.open()
    try:
        assert await upgraded.get_staff("edna") is not None
        made = await upgraded.create_zone("hall", ZONE, "edna")
        assert (await upgraded.counts())["scene_zones"] == 1 and await upgraded.zone(made["id"]) == made
    finally:
        await upgraded.close()


async def test_store_copy_carries_zones_and_tour_stops_to_postgresql_and_back(tmp_path: Path,
                                                                              postgres_url):  # noqa: F811
    original, middle = SQLiteStore(tmp_path / "civic.sqlite3"), store_from_url(postgres_url)
    back = SQLiteStore(tmp_path / "back" / "civic.sqlite3")
    for opened in (original, middle, back):
        await opened.open()
    try:
        zone = await original.create_zone("hall", ZONE, "edna")
        await original.delete_zone(zone["id"], 1, "edna")  # the deleted row travels too (the audit names it)
        await original.create_zone("hall", ZONE, "edna")
        first = await original.create_tour_stop("hall", stop(1, "A"), "edna")
        await original.create_tour_stop("hall", stop(2, "B"), "edna")
        await original.move_tour_stop(first["id"], 1, 1, "edna")
        counts = await copy_store(original, middle)
        assert (counts["scene_zones"], counts["scene_tour_stops"]) == (2, 2)
        assert await middle.zones("hall") == await original.zones("hall")
        assert await middle.tour_stops("hall") == await original.tour_stops("hall")
        assert await copy_store(middle, back) == counts
        # Ids continue past the copied ones on PostgreSQL.
        assert (await middle.create_zone("hall", {**ZONE, "key": "new"}, "edna"))["id"] == 3
    finally:
        for opened in (original, middle, back):
            await opened.close()
