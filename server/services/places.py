"""Zones and tour stops of a scene: the manifest's (the seed, read-only) merged with those staff define in the page's
editor (the store, server/store/places_sql.py).

Merge rules (docs/http-api.md "Places"), the same for the scene document, the page (server/pages.py), the live
`places` event and `GET /api/scenes/{id}/places`:
- Zones: the manifest's in their order, a stored zone whose key is a manifest zone's id taking its place (and
  marked `overrides`), then the other stored zones, oldest first. Each zone has the manifest's shape (`id` is the
  key, `name`, `description`, `area`); a stored one adds `scene`, `source: "store"`, `record` (its store id),
  `version` and `updatedBy`.
- Tour: the manifest's stops, then the stored ones in their order. A stored stop's `id` is `stop-<record>`; it
  adds `title` (may be empty), `zone` (a key or null), `source`, `record`, `order`, `version` and `updatedBy`.
- "A zone where I stand": the editor sends `around` (the staff member's feet and a size) and the server makes the
  box: `size` wide in x and deep in z, centred on the feet, from the floor (feet height) to `height` above it,
  kept inside the scene's bounds. Or it sends `area` (a drawn box), which must overlap the scene.
Invariants: every write is checked against the scene (it exists, positions inside its bounds, a stop's zone is a
zone of the merged list); a key not given is made from the English name and never takes an existing key (giving a
manifest zone's key on purpose overrides that zone; a stored key in use is refused); writes go through the store
at a version (`store.Conflict` otherwise).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ..blobs import Blob, make_blob
from ..catalog import Catalog, Scene
from ..errors import ApiError
from ..manifest import Manifest
from ..store import AlreadyExists, Store

JSON_TYPE = "application/json; charset=utf-8"
DEFAULT_HEIGHT = 3.0  # metres: a storey, when "around" gives no height
MIN_SIZE = 0.5


def zone_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["key"], "scene": row["scene"], "name": row["name"], "description": row["description"],
            "area": row["area"], "source": "store", "record": row["id"], "version": row["version"],
            "updatedBy": row["updated_by"]}


def stop_json(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"stop-{row['id']}", "scene": row["scene"], "position": row["position_xyz"], "yaw": row["yaw"],
            "pitch": row["pitch"], "zone": row["zone"], "title": row["title"], "narration": row["narration"],
            "source": "store", "record": row["id"], "order": row["position"], "version": row["version"],
            "updatedBy": row["updated_by"]}


def merge(manifest: Manifest, zones: list[dict[str, Any]],
          stops: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(zones, tour) as residents see them: the manifest's, extended and overridden by the stored rows."""
    stored = {row["key"]: zone_json(row) for row in zones}
    merged = []
    for zone in manifest.model_dump()["zones"]:
        override = stored.pop(zone["id"], None)
        merged.append({**override, "overrides": True} if override else zone)
    merged.extend(stored.values())
    tour: list[dict[str, Any]] = manifest.model_dump()["tour"]
    tour.extend(stop_json(row) for row in stops)
    return merged, tour


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:50] or "zone"


@dataclass
class Places:
    store: Store
    catalog: Catalog

    def scene(self, scene_id: str) -> Scene:
        scene = self.catalog.scenes.get(scene_id)
        if scene is None:
            raise ApiError(404, "scene_not_found", "There is no scene with this id.")
        return scene

    async def merged(self, scene_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        scene = self.scene(scene_id)
        return merge(scene.manifest, await self.store.zones(scene_id), await self.store.tour_stops(scene_id))

    async def listing(self, scene_id: str) -> dict[str, Any]:
        zones, tour = await self.merged(scene_id)
        return {"zones": zones, "tour": tour}

    async def event(self, scene_id: str) -> dict[str, Any]:
        """The live `places` event: the whole merged lists (small; a client replaces what it shows)."""
        return {"type": "places", "scene": scene_id, **await self.listing(scene_id)}

    # --- checks -----------------------------------------------------------------------------------------------------
    def _bounds(self, scene_id: str) -> tuple[list[float], list[float]]:
        bounds = self.scene(scene_id).prepared.bounds
        return list(bounds["min"]), list(bounds["max"])

    def _inside(self, scene_id: str, position: list[float], field: str) -> None:
        low, high = self._bounds(scene_id)
        if not all(lo <= p <= hi for lo, p, hi in zip(low, position, high, strict=True)):
            raise ApiError(422, "invalid_field", f"{field}: must be inside the scene")

    def area(self, scene_id: str, given: dict[str, Any]) -> dict[str, list[float]]:
        """The zone's box from `area` (drawn: must overlap the scene) or `around` (made here, see the module)."""
        low, high = self._bounds(scene_id)
        if given.get("around") is not None:
            around = given["around"]
            feet = around["position"]
            self._inside(scene_id, feet, "around.position")
            width, depth = around["size"]
            height = around.get("height") or DEFAULT_HEIGHT
            box_min = [max(low[0], feet[0] - width / 2), feet[1], max(low[2], feet[2] - depth / 2)]
            box_max = [min(high[0], feet[0] + width / 2), feet[1] + height, min(high[2], feet[2] + depth / 2)]
            return {"min": [round(v, 3) for v in box_min], "max": [round(v, 3) for v in box_max]}
        area = given["area"]
        box_min, box_max = area["min"], area["max"]
        if any(a > b for a, b in zip(box_min, box_max, strict=True)):
            raise ApiError(422, "invalid_field", "area.max: every coordinate must be ≥ the same one of area.min")
        if any(box_max[i] - box_min[i] < MIN_SIZE for i in (0, 2)):
            raise ApiError(422, "invalid_field", f"area: at least {MIN_SIZE} m wide and deep")
        if any(box_max[i] < low[i] or box_min[i] > high[i] for i in range(3)):
            raise ApiError(422, "invalid_field", "area: must overlap the scene")
        return {"min": list(box_min), "max": list(box_max)}

    async def _free_key(self, scene_id: str, name: dict[str, str]) -> str:
        taken = {z["id"] for z in (await self.merged(scene_id))[0]}
        base = slug(name.get("en") or next(iter(name.values())))
        key, n = base, 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
        return key

    async def _check_zone_key(self, scene_id: str, key: str | None) -> None:
        if key is not None and key not in {z["id"] for z in (await self.merged(scene_id))[0]}:
            raise ApiError(422, "invalid_field", "zone: the scene has no zone with this key")

    # --- zones ------------------------------------------------------------------------------------------------------
    async def create_zone(self, scene_id: str, given: dict[str, Any], actor: str) -> dict[str, Any]:
        self.scene(scene_id)
        fields = {"name": given["name"], "description": given.get("description") or {},
                  "area": self.area(scene_id, given)}
        fields["key"] = given.get("key") or await self._free_key(scene_id, given["name"])
        try:
            row = await self.store.create_zone(scene_id, fields, actor)
        except AlreadyExists:
            raise ApiError(409, "zone_exists", "This scene has a zone with this key already.") from None
        return zone_json(row)

    async def update_zone(self, zone_id: int, version: int, given: dict[str, Any], actor: str) -> dict[str, Any]:
        current = await self._zone(zone_id)
        fields: dict[str, Any] = {k: given[k] for k in ("name", "description") if k in given}
        if given.get("area") is not None or given.get("around") is not None:
            fields["area"] = self.area(current["scene"], given)
        if not fields:
            raise ApiError(422, "invalid_field", "body: nothing to change")
        return self._found(await self.store.update_zone(zone_id, version, fields, actor), "zone", zone_json)

    async def delete_zone(self, zone_id: int, version: int, actor: str) -> dict[str, Any]:
        await self._zone(zone_id)
        return self._found(await self.store.delete_zone(zone_id, version, actor), "zone", zone_json)

    async def _zone(self, zone_id: int) -> dict[str, Any]:
        current = await self.store.zone(zone_id)
        if current is None:
            raise ApiError(404, "zone_not_found", "There is no zone with this id.")
        return current

    # --- tour stops -------------------------------------------------------------------------------------------------
    async def create_stop(self, scene_id: str, given: dict[str, Any], actor: str) -> dict[str, Any]:
        self.scene(scene_id)
        self._inside(scene_id, given["position"], "position")
        await self._check_zone_key(scene_id, given.get("zone"))
        fields = {"position_xyz": given["position"], "yaw": given.get("yaw", 0.0), "pitch": given.get("pitch", 0.0),
                  "zone": given.get("zone"), "title": given.get("title") or {}, "narration": given["narration"]}
        return stop_json(await self.store.create_tour_stop(scene_id, fields, actor))

    async def update_stop(self, stop_id: int, version: int, given: dict[str, Any], actor: str) -> dict[str, Any]:
        current = await self._stop(stop_id)
        if "order" in given:
            if len(given) > 1:
                raise ApiError(422, "invalid_field", "order: a move changes nothing else; send the rest apart")
            moved = await self.store.move_tour_stop(stop_id, version, given["order"], actor)
            return self._found(moved, "tour_stop", stop_json)
        fields = {("position_xyz" if k == "position" else k): v for k, v in given.items()}
        if not fields:
            raise ApiError(422, "invalid_field", "body: nothing to change")
        if "position_xyz" in fields:
            self._inside(current["scene"], fields["position_xyz"], "position")
        if "zone" in fields:
            await self._check_zone_key(current["scene"], fields["zone"])
        return self._found(await self.store.update_tour_stop(stop_id, version, fields, actor), "tour_stop",
                           stop_json)

    async def delete_stop(self, stop_id: int, version: int, actor: str) -> dict[str, Any]:
        await self._stop(stop_id)
        return self._found(await self.store.delete_tour_stop(stop_id, version, actor), "tour_stop", stop_json)

    async def _stop(self, stop_id: int) -> dict[str, Any]:
        current = await self.store.tour_stop(stop_id)
        if current is None:
            raise ApiError(404, "tour_stop_not_found", "There is no tour stop with this id.")
        return current

    @staticmethod
    def _found(row: dict[str, Any] | None, what: str, to_json: Any) -> dict[str, Any]:
        if row is None:  # deleted between the check and the write
            raise ApiError(404, f"{what}_not_found", f"There is no {what.replace('_', ' ')} with this id.")
        result: dict[str, Any] = to_json(row)
        return result


async def scene_document(store: Store, scene: Scene) -> Blob:
    """The scene's document (GET /api/scenes/{id}) with its merged zones and tour: the catalog's own blob while the
    store holds none for the scene (nothing to merge), else a blob made for this answer (a few kB)."""
    scene_id = scene.manifest.id
    zones, stops = await store.zones(scene_id), await store.tour_stops(scene_id)
    if not zones and not stops:
        return scene.document
    document = json.loads(scene.document.data)
    document["zones"], document["tour"] = merge(scene.manifest, zones, stops)
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return make_blob(data, JSON_TYPE, variants={})
