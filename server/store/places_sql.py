"""Zones and tour stops staff define for a scene in the page's editor (issue 12 item 5), kept in the store.

A scene's manifest stays the seed (bundled scenes keep their zones and tour in `scenes/*.json`); what is stored
here extends it, and a stored zone whose `key` is a manifest zone's id replaces that zone (server/services/places.py
merges them). Written once for both stores, as `events_sql.EventTables` is: `PlaceTables` is a mixin whose SQL uses
`?` placeholders and portable syntax (`RETURNING`, partial unique indexes), built on the primitives that mixin
declares (`_q`, `_one`/`_all`, `_execute`, `_in_transaction`, `_audit_entry`, `_LOCK`).

Invariants:
- Every write and its audit entry (`zone.*`, `tour.*`, target `zone:<id>` / `tour_stop:<id>`) commit in one
  transaction; a write applies only at the row's current version (`Conflict` with the current row otherwise) and
  bumps it.
- A deleted row (`deleted_at` set) is kept (the audit log refers to it) and gone for every read.
- At most one live zone per (scene, key): the database refuses a second (`AlreadyExists`), deleted ones aside.
- A scene's live tour stops have the positions 0, 1, 2 … in their order: a new stop goes last, a deletion and a
  move renumber the others in the same transaction (a move bumps only the moved stop's version: the others' texts
  and places did not change).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from .base import AlreadyExists, Conflict, StoredRow, StoreError
from .events_sql import EventTables

ZONE_JSON = ("name", "description", "area")
STOP_JSON = ("position_xyz", "title", "narration")
ZONE_FIELDS = frozenset({"key", "name", "description", "area"})
ZONE_EDITABLE = ZONE_FIELDS - {"key"}  # a zone's key names it in links (`?at=`) and meetings: fixed once made
STOP_FIELDS = frozenset({"position_xyz", "yaw", "pitch", "zone", "title", "narration"})


def _decode(row: StoredRow, json_fields: tuple[str, ...]) -> dict[str, Any]:
    out = dict(row)
    for name in json_fields:
        out[name] = json.loads(out[name])
    return out


def _encode(fields: Mapping[str, Any], json_fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: (json.dumps(value) if name in json_fields else value) for name, value in fields.items()}


def _only(fields: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    unexpected = set(fields) - allowed
    if unexpected:
        raise StoreError(f"unexpected fields for {what}: {sorted(unexpected)}")


class PlaceTables(EventTables):
    """The zone and tour-stop methods of the store contract (see the module's invariants)."""

    # --- zones ----------------------------------------------------------------------------------------------------
    async def zones(self, scene: str) -> list[dict[str, Any]]:
        """The scene's live stored zones, oldest first."""
        rows = await self._rows("SELECT * FROM scene_zones WHERE scene = ? AND deleted_at IS NULL ORDER BY id", scene)
        return [_decode(r, ZONE_JSON) for r in rows]

    async def zone(self, zone_id: int) -> dict[str, Any] | None:
        row = await self._row("SELECT * FROM scene_zones WHERE id = ? AND deleted_at IS NULL", zone_id)
        return _decode(row, ZONE_JSON) if row is not None else None

    async def create_zone(self, scene: str, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        """A zone: key, name, description, area. `AlreadyExists` if the scene has a live zone with this key."""
        _only(fields, ZONE_FIELDS, "a zone")
        now = time.time()
        stored = _encode({**fields, "scene": scene, "created_by": actor, "created_at": now, "updated_by": actor,
                          "updated_at": now}, ZONE_JSON)

        async def work() -> dict[str, Any]:
            taken = await self._row("SELECT id FROM scene_zones WHERE scene = ? AND key = ? AND deleted_at IS NULL",
                                    scene, fields["key"])
            if taken is not None:
                raise AlreadyExists(f"the scene has a zone '{fields['key']}' already")
            row = await self._row(f"INSERT INTO scene_zones ({', '.join(stored)}) VALUES "
                                  f"({', '.join('?' * len(stored))}) RETURNING *", *stored.values())
            created = _decode(row, ZONE_JSON)
            await self._audit_entry(actor, "zone.create", f"zone:{created['id']}", None, created)
            return created

        try:
            return await self._in_transaction(work)
        except AlreadyExists:
            raise
        except Exception as exc:  # the partial unique index: another process made the same key meanwhile
            if "unique" in str(exc).lower():
                raise AlreadyExists(f"the scene has a zone '{fields['key']}' already") from exc
            raise

    async def update_zone(self, zone_id: int, version: int, fields: dict[str, Any],
                          actor: str) -> dict[str, Any] | None:
        """Change name, description or area at `version`; None if missing or deleted; `Conflict` if stale."""
        _only(fields, ZONE_EDITABLE, "a zone edit")
        return await self._versioned_place("scene_zones", ZONE_JSON, zone_id, version, fields, actor, "zone.update")

    async def delete_zone(self, zone_id: int, version: int, actor: str) -> dict[str, Any] | None:
        return await self._versioned_place("scene_zones", ZONE_JSON, zone_id, version, {"deleted_at": time.time()},
                                           actor, "zone.delete")

    # --- tour stops -----------------------------------------------------------------------------------------------
    async def tour_stops(self, scene: str) -> list[dict[str, Any]]:
        """The scene's live stored tour stops in tour order."""
        rows = await self._rows("SELECT * FROM scene_tour_stops WHERE scene = ? AND deleted_at IS NULL "
                                "ORDER BY position, id", scene)
        return [_decode(r, STOP_JSON) for r in rows]

    async def tour_stop(self, stop_id: int) -> dict[str, Any] | None:
        row = await self._row("SELECT * FROM scene_tour_stops WHERE id = ? AND deleted_at IS NULL", stop_id)
        return _decode(row, STOP_JSON) if row is not None else None

    async def create_tour_stop(self, scene: str, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        """A stop after the scene's last one: position_xyz, yaw, pitch, zone (key or None), title, narration."""
        _only(fields, STOP_FIELDS, "a tour stop")
        now = time.time()

        async def work() -> dict[str, Any]:
            # Two stops added at once on two processes may share a position: reads order by (position, id), so
            # the tour is still one order, and the next move or deletion renumbers it densely.
            last = await self._row("SELECT max(position) AS highest FROM scene_tour_stops WHERE scene = ? AND "
                                   "deleted_at IS NULL", scene)
            position = (last["highest"] if last is not None and last["highest"] is not None else -1) + 1
            stored = _encode({**fields, "scene": scene, "position": position, "created_by": actor,
                              "created_at": now, "updated_by": actor, "updated_at": now}, STOP_JSON)
            row = await self._row(f"INSERT INTO scene_tour_stops ({', '.join(stored)}) VALUES "
                                  f"({', '.join('?' * len(stored))}) RETURNING *", *stored.values())
            created = _decode(row, STOP_JSON)
            await self._audit_entry(actor, "tour.create", f"tour_stop:{created['id']}", None, created)
            return created

        return await self._in_transaction(work)

    async def update_tour_stop(self, stop_id: int, version: int, fields: dict[str, Any],
                               actor: str) -> dict[str, Any] | None:
        _only(fields, STOP_FIELDS, "a tour stop edit")
        return await self._versioned_place("scene_tour_stops", STOP_JSON, stop_id, version, fields, actor,
                                           "tour.update")

    async def delete_tour_stop(self, stop_id: int, version: int, actor: str) -> dict[str, Any] | None:
        async def work() -> dict[str, Any] | None:
            after = await self._versioned_place("scene_tour_stops", STOP_JSON, stop_id, version,
                                                {"deleted_at": time.time()}, actor, "tour.delete")
            if after is not None:
                await self._renumber(after["scene"], [s["id"] for s in await self.tour_stops(after["scene"])])
            return after

        return await self._in_transaction(work)

    async def move_tour_stop(self, stop_id: int, version: int, index: int, actor: str) -> dict[str, Any] | None:
        """Put the stop at `index` (0-based, clamped) of its scene's stored tour; the others keep their order."""
        async def work() -> dict[str, Any] | None:
            before = await self._locked(stop_id, "scene_tour_stops", STOP_JSON)
            if before is None:
                return None
            if before["version"] != version:
                raise Conflict(before)
            order = [s["id"] for s in await self.tour_stops(before["scene"]) if s["id"] != stop_id]
            order.insert(max(0, min(index, len(order))), stop_id)
            await self._renumber(before["scene"], order)
            row = await self._row("UPDATE scene_tour_stops SET version = version + 1, updated_by = ?, updated_at = ? "
                                  "WHERE id = ? RETURNING *", actor, time.time(), stop_id)
            after = _decode(row, STOP_JSON)
            await self._audit_entry(actor, "tour.move", f"tour_stop:{stop_id}", before, after)
            return after

        return await self._in_transaction(work)

    # --- shared -----------------------------------------------------------------------------------------------------
    async def _renumber(self, scene: str, order: list[int]) -> None:
        for position, stop_id in enumerate(order):
            await self._execute("UPDATE scene_tour_stops SET position = ? WHERE id = ? AND scene = ? AND "
                                "position <> ?", position, stop_id, scene, position)

    async def _locked(self, row_id: int, table: str, json_fields: tuple[str, ...]) -> dict[str, Any] | None:
        row = await self._row(f"SELECT * FROM {table} WHERE id = ? AND deleted_at IS NULL{self._LOCK}", row_id)
        return _decode(row, json_fields) if row is not None else None

    async def _versioned_place(self, table: str, json_fields: tuple[str, ...], row_id: int, version: int,
                               fields: dict[str, Any], actor: str, action: str) -> dict[str, Any] | None:
        """Optimistic concurrency: the live row is locked, its version compared, written with the version bumped and
        audited with its before and after, in one transaction."""
        target = "zone" if table == "scene_zones" else "tour_stop"

        async def work() -> dict[str, Any] | None:
            before = await self._locked(row_id, table, json_fields)
            if before is None:
                return None
            if before["version"] != version:
                raise Conflict(before)
            stored = _encode({**fields, "updated_by": actor, "updated_at": time.time()}, json_fields)
            assignments = "".join(f"{name} = ?, " for name in stored)
            row = await self._row(f"UPDATE {table} SET {assignments}version = version + 1 WHERE id = ? RETURNING *",
                                  *stored.values(), row_id)
            after = _decode(row, json_fields)
            await self._audit_entry(actor, action, f"{target}:{row_id}", before, after)
            return after

        return await self._in_transaction(work)
