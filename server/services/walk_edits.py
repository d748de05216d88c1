"""Staff corrections of a scene's walkable floor and spawn points (issue 12 item 4): checks, the corrected grid,
and the scene document that points at it.

A paint is an axis-aligned box in metres with `walkable` true or false; a scene's paints apply to the grid the
pipeline extracted (server/walkable.py), in the order they were painted, a later one winning where they overlap:
- The cells painted are those whose centre (x, z) lies inside the box (edges included).
- The floors concerned in those cells are those with a height in [min.y - MAX_STEP, max.y]: one storey, so a
  gallery above or a hall below the box keeps its floor. The editor sends min.y = the lower of the two corners'
  feet and max.y = the higher one + 1.5 m (below the 2 m head room that separates two floors of one cell).
- Not walkable: those floors are removed (the cell becomes a hole a walker cannot enter at that storey).
- Walkable: a cell that keeps such a floor is left as it is (the geometry's height is the better one: stairs and
  ramps stay sloped); a cell without one gets a floor at the box's min.y (the staff member's feet when marking
  the corners: painting over a hole means "the floor is here, at my feet"). A full cell gets one more layer (up to
  MAX_LAYERS; beyond, its highest floor gives way).
- Every corrected cell keeps the grid's invariants (real floors first, ascending, NO_FLOOR after them).
The corrected grid is what clients download (a blob named by its content hash, served by
`GET /api/scenes/{id}/walkable/{name}`) and what the server checks spawn points against. It is recomputed only
when the paints change (a small cache keyed by the base grid's hash and the paints' contents, so every process
computes the same grid and the same name from the store alone).

Spawn points (feet position and yaw, ordered), when a scene has any stored, replace the manifest's `spawn`: the
first is where a new visitor arrives. Each must stand on a walkable floor of the corrected grid (a floor within a
step of its feet).
Bounds: at most MAX_PAINTS paints and MAX_SPAWNS spawn points per scene; boxes and points inside the scene.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import brotli
import numpy as np

from ..blobs import Blob, make_blob
from ..catalog import Catalog, Scene
from ..errors import ApiError
from ..pipeline import WALK_TYPE
from ..store import Store
from ..walkable import MAX_DROP, MAX_STEP, NO_FLOOR, WalkGrid

JSON_TYPE = "application/json; charset=utf-8"
MAX_PAINTS = 500
MAX_SPAWNS = 64
MAX_LAYERS = 8
MAX_BOX_HEIGHT = 20.0  # metres between a box's min.y and max.y
_CACHED = 16  # corrected grids kept per process (a few scenes, a few versions each)
_EMPTY = np.int32(2**31 - 1)  # NO_FLOOR while sorting a column: after every real floor


# --- the grid ---------------------------------------------------------------------------------------------------
def painted_range(grid: WalkGrid, area: dict[str, list[float]]) -> tuple[slice, slice] | None:
    """(rows, cols) of the cells whose centres lie inside the box's xz extent, or None when there are none."""
    (x0, z0), cell = grid.origin, grid.cell
    lo, hi = area["min"], area["max"]
    c0 = max(0, math.ceil((lo[0] - x0) / cell - 0.5 - 1e-9))
    c1 = min(grid.cols - 1, math.floor((hi[0] - x0) / cell - 0.5 + 1e-9))
    r0 = max(0, math.ceil((lo[2] - z0) / cell - 0.5 - 1e-9))
    r1 = min(grid.rows - 1, math.floor((hi[2] - z0) / cell - 0.5 + 1e-9))
    if c1 < c0 or r1 < r0:
        return None
    return slice(r0, r1 + 1), slice(c0, c1 + 1)


def apply_paints(grid: WalkGrid, paints: list[dict[str, Any]]) -> WalkGrid:
    """`grid` with `paints` ({area: {min, max}, walkable}) applied in order (see the module's rules)."""
    heights = grid.heights.astype(np.int32)
    for paint in paints:
        cells = painted_range(grid, paint["area"])
        if cells is None:
            continue
        area = paint["area"]
        floor_cm = int(round(area["min"][1] * 100))
        lo_cm, hi_cm = int(round((area["min"][1] - MAX_STEP) * 100)), int(round(area["max"][1] * 100))
        view = heights[:, cells[0], cells[1]]  # a view: writes go into `heights`
        real = view != NO_FLOOR
        concerned = real & (view >= lo_cm) & (view <= hi_cm)
        if not paint["walkable"]:
            view[concerned] = NO_FLOOR
        else:
            need = ~concerned.any(axis=0)
            if need.any():
                if (need & real.all(axis=0)).any():
                    if view.shape[0] < MAX_LAYERS:
                        heights = np.concatenate([heights, np.full((1, *heights.shape[1:]), NO_FLOOR, np.int32)])
                        view = heights[:, cells[0], cells[1]]
                        real = view != NO_FLOOR
                    else:  # no room: the highest floor of a full cell gives way
                        view[-1][need & real.all(axis=0)] = NO_FLOOR
                        real = view != NO_FLOOR
                # Real floors come first, so the first free layer of a cell is its count of real floors.
                slot = real.sum(axis=0)
                rows, cols = np.nonzero(need)
                view[slot[rows, cols], rows, cols] = floor_cm
        heights[:, cells[0], cells[1]] = _sorted_columns(view)
    used = int((heights != NO_FLOOR).any(axis=(1, 2)).sum()) if heights.size else 0
    heights = heights[: max(1, used)]  # a layer emptied everywhere goes (columns are packed, so it is the last)
    return WalkGrid(grid.origin, grid.cell, heights.astype(np.int16))


def _sorted_columns(view: np.ndarray) -> np.ndarray:
    """Each cell's floors ascending with NO_FLOOR after them (the grid's invariant)."""
    keyed = np.where(view == NO_FLOOR, _EMPTY, view)
    keyed.sort(axis=0)
    return np.where(keyed == _EMPTY, NO_FLOOR, keyed)


@dataclass(frozen=True)
class Corrected:
    grid: WalkGrid
    blob: Blob
    name: str  # "<hash>.walk"

    def meta(self, scene_id: str) -> dict[str, Any]:
        """The scene document's `walkable` for this grid."""
        return {"url": f"/api/scenes/{scene_id}/walkable/{self.name}", "bytes": len(self.blob.data),
                **self.grid.meta(), "maxStep": MAX_STEP, "maxDrop": MAX_DROP}


_cache: OrderedDict[str, Corrected] = OrderedDict()


def _key(scene: Scene, paints: list[dict[str, Any]]) -> str:
    content = [(p["area"]["min"], p["area"]["max"], bool(p["walkable"])) for p in paints]
    return hashlib.sha256((scene.prepared.walk.digest + json.dumps(content)).encode()).hexdigest()


def _compress(data: bytes) -> dict[str, bytes]:
    """Quick variants (the grid changes at a staff member's click, not once at preparation)."""
    candidates = {"br": brotli.compress(data, quality=5), "gzip": gzip.compress(data, compresslevel=6, mtime=0)}
    return {enc: body for enc, body in candidates.items() if len(body) < len(data) * 0.95}


def _correct(scene: Scene, paints: list[dict[str, Any]]) -> Corrected:
    base = WalkGrid.from_bytes(scene.prepared.walk.data, scene.prepared.walk_meta)
    grid = apply_paints(base, paints)
    data = grid.to_bytes()
    blob = make_blob(data, WALK_TYPE, _compress(data))
    return Corrected(grid, blob, f"{blob.digest[:20]}.walk")


async def corrected(scene: Scene, paints: list[dict[str, Any]]) -> Corrected | None:
    """The scene's grid with `paints` applied (None without paints: the extracted grid is the one)."""
    if not paints:
        return None
    key = _key(scene, paints)
    found = _cache.get(key)
    if found is None:
        found = await asyncio.to_thread(_correct, scene, paints)  # numpy and compression off the event loop
        _cache[key] = found
        while len(_cache) > _CACHED:
            _cache.popitem(last=False)
    _cache.move_to_end(key)
    return found


def base_grid(scene: Scene) -> WalkGrid:
    return WalkGrid.from_bytes(scene.prepared.walk.data, scene.prepared.walk_meta)


# --- JSON shapes ------------------------------------------------------------------------------------------------
def paint_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "scene": row["scene"], "area": row["area"], "walkable": bool(row["walkable"]),
            "version": row["version"], "updatedBy": row["updated_by"]}


def spawn_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "scene": row["scene"], "position": row["position_xyz"], "yaw": row["yaw"],
            "order": row["position"], "version": row["version"], "updatedBy": row["updated_by"]}


def spawn_points(manifest_spawn: list[dict[str, Any]], stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scene's spawn points as its document gives them: the stored ones when there are any."""
    if not stored:
        return manifest_spawn
    return [{"position": row["position_xyz"], "yaw": row["yaw"]} for row in stored]


# --- the service ------------------------------------------------------------------------------------------------
@dataclass
class WalkEdits:
    store: Store
    catalog: Catalog

    def scene(self, scene_id: str) -> Scene:
        scene = self.catalog.scenes.get(scene_id)
        if scene is None:
            raise ApiError(404, "scene_not_found", "There is no scene with this id.")
        return scene

    async def grid(self, scene_id: str) -> tuple[WalkGrid, dict[str, Any]]:
        """The grid the server checks against and the `walkable` of the scene document."""
        scene = self.scene(scene_id)
        fixed = await corrected(scene, await self.store.walk_paints(scene_id))
        if fixed is not None:
            return fixed.grid, fixed.meta(scene_id)
        document = json.loads(scene.document.data)
        return base_grid(scene), document["walkable"]

    async def listing(self, scene_id: str) -> dict[str, Any]:
        scene = self.scene(scene_id)
        paints, spawns = await self.store.walk_paints(scene_id), await self.store.spawns(scene_id)
        _, walkable = await self.grid(scene_id)
        return {"paints": [paint_json(p) for p in paints], "spawns": [spawn_json(s) for s in spawns],
                "spawn": spawn_points(scene.manifest.model_dump()["spawn"], spawns), "walkable": walkable,
                "limits": {"paints": MAX_PAINTS, "spawns": MAX_SPAWNS}}

    async def event(self, places_event: dict[str, Any], scene_id: str) -> dict[str, Any]:
        """The live event: the `places` content event (whole zone and tour lists, which a client replaces) with the
        scene's `walkable` and `spawn` as its document now gives them, so open pages reload the grid."""
        listing = await self.listing(scene_id)
        return {**places_event, "walkable": listing["walkable"], "spawn": listing["spawn"]}

    async def grid_blob(self, scene_id: str, name: str) -> Blob:
        """The corrected grid named `name` if it is the scene's current one (immutable: a stale name is a 404)."""
        scene = self.scene(scene_id)
        fixed = await corrected(scene, await self.store.walk_paints(scene_id))
        if fixed is None or fixed.name != name:
            raise ApiError(404, "asset_not_found", "There is no such walkable grid for this scene (any more).")
        return fixed.blob

    # --- checks ---------------------------------------------------------------------------------------------------
    def _bounds(self, scene_id: str) -> tuple[list[float], list[float]]:
        bounds = self.scene(scene_id).prepared.bounds
        return list(bounds["min"]), list(bounds["max"])

    def check_area(self, scene_id: str, area: dict[str, list[float]]) -> dict[str, list[float]]:
        low, high = self._bounds(scene_id)
        box_min, box_max = area["min"], area["max"]
        if any(a > b for a, b in zip(box_min, box_max, strict=True)):
            raise ApiError(422, "invalid_field", "area: min must not exceed max on any axis")
        if box_max[1] - box_min[1] > MAX_BOX_HEIGHT:
            raise ApiError(422, "invalid_field", f"area: at most {MAX_BOX_HEIGHT:g} m high")
        for axis in range(3):
            if not (low[axis] <= box_min[axis] and box_max[axis] <= high[axis]):
                raise ApiError(422, "invalid_field", "area: must be inside the scene")
        return {"min": [round(v, 3) for v in box_min], "max": [round(v, 3) for v in box_max]}

    # --- writes ---------------------------------------------------------------------------------------------------
    async def add_paint(self, scene_id: str, area: dict[str, list[float]], walkable: bool,
                        actor: str) -> dict[str, Any]:
        area = self.check_area(scene_id, area)
        if await self.store.count_walk_paints(scene_id) >= MAX_PAINTS:
            raise ApiError(409, "too_many_paints", f"A scene keeps at most {MAX_PAINTS} painted areas; delete some "
                                                   "first.")
        return paint_json(await self.store.create_walk_paint(scene_id, {"area": area, "walkable": walkable}, actor))

    async def delete_paint(self, paint_id: int, version: int, actor: str) -> dict[str, Any]:
        if await self.store.walk_paint(paint_id) is None:
            raise ApiError(404, "walk_paint_not_found", "There is no painted area with this id.")
        return _found(await self.store.delete_walk_paint(paint_id, version, actor), "walk_paint", paint_json)

    async def add_spawn(self, scene_id: str, position: list[float], yaw: float, actor: str) -> dict[str, Any]:
        low, high = self._bounds(scene_id)
        if not all(lo <= p <= hi for lo, p, hi in zip(low, position, high, strict=True)):
            raise ApiError(422, "invalid_field", "position: must be inside the scene")
        if len(await self.store.spawns(scene_id)) >= MAX_SPAWNS:
            raise ApiError(409, "too_many_spawns", f"A scene keeps at most {MAX_SPAWNS} spawn points; delete some "
                                                   "first.")
        grid, _ = await self.grid(scene_id)
        if grid.step_target(position[1], position[0], position[2]) is None:
            raise ApiError(422, "spawn_off_floor", "position: there is no walkable floor here; mark the area "
                                                   "walkable first.")
        fields = {"position_xyz": [round(v, 3) for v in position], "yaw": round(yaw, 3)}
        return spawn_json(await self.store.create_spawn(scene_id, fields, actor))

    async def move_spawn(self, spawn_id: int, version: int, index: int, actor: str) -> dict[str, Any]:
        await self._spawn(spawn_id)
        return _found(await self.store.move_spawn(spawn_id, version, index, actor), "spawn", spawn_json)

    async def delete_spawn(self, spawn_id: int, version: int, actor: str) -> dict[str, Any]:
        await self._spawn(spawn_id)
        return _found(await self.store.delete_spawn(spawn_id, version, actor), "spawn", spawn_json)

    async def _spawn(self, spawn_id: int) -> dict[str, Any]:
        current = await self.store.spawn(spawn_id)
        if current is None:
            raise ApiError(404, "spawn_not_found", "There is no spawn point with this id.")
        return current


def _found(row: dict[str, Any] | None, what: str, to_json: Any) -> dict[str, Any]:
    if row is None:  # deleted between the check and the write
        raise ApiError(404, f"{what}_not_found", f"There is no {what.replace('_', ' ')} with this id.")
    result: dict[str, Any] = to_json(row)
    return result


async def scene_document(store: Store, scene: Scene, document: Blob) -> Blob:
    """The scene document `document` (already holding the merged places) with the corrected grid and the stored
    spawn points: `document` itself while the scene has neither, else a blob made for this answer."""
    scene_id = scene.manifest.id
    paints, spawns = await store.walk_paints(scene_id), await store.spawns(scene_id)
    if not paints and not spawns:
        return document
    out = json.loads(document.data)
    fixed = await corrected(scene, paints)
    if fixed is not None:
        out["walkable"] = fixed.meta(scene_id)
    out["spawn"] = spawn_points(out["spawn"], spawns)
    return make_blob(json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode(), JSON_TYPE, variants={})
