"""Staff corrections of a scene's walkable floor and its spawn points (issue 12 item 4), kept in the store.

What the geometry gets wrong (a glass wall the extractor cannot see, a floor with a hole in its mesh, a stage a
resident should not climb) staff correct in the page's editor with painted boxes: each box makes the cells under
it walkable or not (server/services/walk_edits.py applies them to the extracted grid, in the order they were
painted, a later one winning). Spawn points, when a scene has any stored, replace its manifest's `spawn`.
Written once for both stores, as `places_sql.PlaceTables` is: a mixin on the primitives `EventTables` declares
(`_row`/`_rows`, `_execute`, `_in_transaction`, `_audit_entry`, `_LOCK`), with `?` placeholders.

Invariants:
- Every write and its audit entry (`walk.paint.*` with target `walk_paint:<id>`, `spawn.*` with `spawn:<id>`)
  commit in one transaction; a deletion or a move applies only at the row's current version (`Conflict` with the
  current row otherwise) and bumps it.
- A paint is never edited, only added or deleted, so "applied in order" is simply id order.
- A deleted row (`deleted_at` set) is kept (the audit log refers to it) and gone for every read.
- A scene's live spawn points have the positions 0, 1, 2 … in their order (the first is where visitors arrive);
  a new one goes last, a deletion and a move renumber the others in the same transaction.
- No personal data: boxes, positions of fixed points, the staff username that wrote them (as every audited row).
"""

from __future__ import annotations

import time
from typing import Any

from .base import Conflict, StoreError, decode_row, encode_fields
from .events_sql import EventTables

PAINT_JSON = ("area",)
SPAWN_JSON = ("position_xyz",)
PAINT_FIELDS = frozenset({"area", "walkable"})
SPAWN_FIELDS = frozenset({"position_xyz", "yaw"})
_TARGETS = {"scene_walk_paints": "walk_paint", "scene_spawns": "spawn"}


def _paint(row: Any) -> dict[str, Any]:
    out = decode_row(row, PAINT_JSON)
    out["walkable"] = bool(out["walkable"])
    return out


def _spawn(row: Any) -> dict[str, Any]:
    return decode_row(row, SPAWN_JSON)


def _only(fields: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    if set(fields) != allowed:
        raise StoreError(f"{what} needs exactly the fields {sorted(allowed)}, got {sorted(fields)}")


class WalkTables(EventTables):
    """The painted boxes and spawn points of the store contract (see the module's invariants)."""

    # --- painted boxes ------------------------------------------------------------------------------------------
    async def walk_paints(self, scene: str) -> list[dict[str, Any]]:
        """The scene's live paints in the order they apply (oldest first)."""
        rows = await self._rows("SELECT * FROM scene_walk_paints WHERE scene = ? AND deleted_at IS NULL ORDER BY id",
                                scene)
        return [_paint(r) for r in rows]

    async def walk_paint(self, paint_id: int) -> dict[str, Any] | None:
        row = await self._row("SELECT * FROM scene_walk_paints WHERE id = ? AND deleted_at IS NULL", paint_id)
        return _paint(row) if row is not None else None

    async def count_walk_paints(self, scene: str) -> int:
        row = await self._row("SELECT count(*) AS n FROM scene_walk_paints WHERE scene = ? AND deleted_at IS NULL",
                              scene)
        return int(row["n"]) if row is not None else 0

    async def create_walk_paint(self, scene: str, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        """A paint after the scene's others: `area` ({min, max} in metres) and `walkable` (bool)."""
        _only(fields, PAINT_FIELDS, "a paint")
        now = time.time()
        stored = encode_fields({"scene": scene, "area": fields["area"], "walkable": 1 if fields["walkable"] else 0,
                                "created_by": actor, "created_at": now, "updated_by": actor, "updated_at": now},
                               PAINT_JSON)

        async def work() -> dict[str, Any]:
            row = await self._row(f"INSERT INTO scene_walk_paints ({', '.join(stored)}) VALUES "
                                  f"({', '.join('?' * len(stored))}) RETURNING *", *stored.values())
            created = _paint(row)
            await self._audit_entry(actor, "walk.paint.create", f"walk_paint:{created['id']}", None, created)
            return created

        return await self._in_transaction(work)

    async def delete_walk_paint(self, paint_id: int, version: int, actor: str) -> dict[str, Any] | None:
        """Gone at `version`; None if missing or deleted already; `Conflict` if stale."""
        return await self._versioned_walk("scene_walk_paints", paint_id, version, actor, "walk.paint.delete")

    # --- spawn points -------------------------------------------------------------------------------------------
    async def spawns(self, scene: str) -> list[dict[str, Any]]:
        """The scene's live stored spawn points in order (the first is where visitors arrive)."""
        rows = await self._rows("SELECT * FROM scene_spawns WHERE scene = ? AND deleted_at IS NULL "
                                "ORDER BY position, id", scene)
        return [_spawn(r) for r in rows]

    async def spawn(self, spawn_id: int) -> dict[str, Any] | None:
        row = await self._row("SELECT * FROM scene_spawns WHERE id = ? AND deleted_at IS NULL", spawn_id)
        return _spawn(row) if row is not None else None

    async def create_spawn(self, scene: str, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        """A spawn point after the scene's last one: `position_xyz` (feet, metres) and `yaw` (degrees)."""
        _only(fields, SPAWN_FIELDS, "a spawn point")
        now = time.time()

        async def work() -> dict[str, Any]:
            last = await self._row("SELECT max(position) AS highest FROM scene_spawns WHERE scene = ? AND "
                                   "deleted_at IS NULL", scene)
            position = (last["highest"] if last is not None and last["highest"] is not None else -1) + 1
            stored = encode_fields({"scene": scene, "position": position, **fields, "created_by": actor,
                                    "created_at": now, "updated_by": actor, "updated_at": now}, SPAWN_JSON)
            row = await self._row(f"INSERT INTO scene_spawns ({', '.join(stored)}) VALUES "
                                  f"({', '.join('?' * len(stored))}) RETURNING *", *stored.values())
            created = _spawn(row)
            await self._audit_entry(actor, "spawn.create", f"spawn:{created['id']}", None, created)
            return created

        return await self._in_transaction(work)

    async def delete_spawn(self, spawn_id: int, version: int, actor: str) -> dict[str, Any] | None:
        async def work() -> dict[str, Any] | None:
            after = await self._versioned_walk("scene_spawns", spawn_id, version, actor, "spawn.delete")
            if after is not None:
                await self._renumber_spawns(after["scene"], [s["id"] for s in await self.spawns(after["scene"])])
            return after

        return await self._in_transaction(work)

    async def move_spawn(self, spawn_id: int, version: int, index: int, actor: str) -> dict[str, Any] | None:
        """Put the spawn point at `index` (0-based, clamped) of its scene's list; the others keep their order."""
        async def work() -> dict[str, Any] | None:
            row = await self._row(f"SELECT * FROM scene_spawns WHERE id = ? AND deleted_at IS NULL{self._LOCK}",
                                  spawn_id)
            if row is None:
                return None
            before = _spawn(row)
            if before["version"] != version:
                raise Conflict(before)
            order = [s["id"] for s in await self.spawns(before["scene"]) if s["id"] != spawn_id]
            order.insert(max(0, min(index, len(order))), spawn_id)
            await self._renumber_spawns(before["scene"], order)
            moved = await self._row("UPDATE scene_spawns SET version = version + 1, updated_by = ?, updated_at = ? "
                                    "WHERE id = ? RETURNING *", actor, time.time(), spawn_id)
            after = _spawn(moved)
            await self._audit_entry(actor, "spawn.move", f"spawn:{spawn_id}", before, after)
            return after

        return await self._in_transaction(work)

    # --- shared ---------------------------------------------------------------------------------------------------
    async def _renumber_spawns(self, scene: str, order: list[int]) -> None:
        for position, spawn_id in enumerate(order):
            await self._execute("UPDATE scene_spawns SET position = ? WHERE id = ? AND scene = ? AND position <> ?",
                                position, spawn_id, scene, position)

    async def _versioned_walk(self, table: str, row_id: int, version: int, actor: str,
                              action: str) -> dict[str, Any] | None:
        """A deletion at `version`: the live row locked, its version compared, marked deleted with the version bumped
        and audited with its before and after, in one transaction."""
        decode = _paint if table == "scene_walk_paints" else _spawn

        async def work() -> dict[str, Any] | None:
            row = await self._row(f"SELECT * FROM {table} WHERE id = ? AND deleted_at IS NULL{self._LOCK}", row_id)
            if row is None:
                return None
            before = decode(row)
            if before["version"] != version:
                raise Conflict(before)
            now = time.time()
            changed = await self._row(f"UPDATE {table} SET deleted_at = ?, updated_by = ?, updated_at = ?, "
                                      "version = version + 1 WHERE id = ? RETURNING *", now, actor, now, row_id)
            after = decode(changed)
            await self._audit_entry(actor, action, f"{_TARGETS[table]}:{row_id}", before, after)
            return after

        return await self._in_transaction(work)
