"""Hotspots: placing, editing, deleting and restoring them, and keeping the proposal cache in step.

Invariants: a hotspot's position is inside its scene's bounds and its normal has unit length; a remote
proposal is watched by the cache while at least one live hotspot shows it, and unwatched when the last one is
deleted or relinked; an edit applies only to the version it was made against (`store.Conflict` otherwise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..catalog import Catalog
from ..errors import ApiError
from ..proposals import AddressRefused, ProposalCache, parse_proposal_url, parse_ref
from ..store import Store

NAMES = {"proposalRef": "proposal_ref"}  # JSON field -> store column, where they differ


def hotspot_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "scene": row["scene"], "position": row["position"], "normal": row["normal"],
        "kind": row["kind"], "title": row["title"], "description": row["description"],
        "proposalRef": row["proposal_ref"], "link": row["link"], "version": row["version"],
        "createdBy": row["created_by"], "createdAt": row["created_at"],
        "updatedBy": row["updated_by"], "updatedAt": row["updated_at"],
    }


def with_warning(hotspot: dict[str, Any], warning: str | None) -> dict[str, Any]:
    """The response to staff who linked a proposal the platform does not show (yet): the hotspot is kept."""
    return {**hotspot, "warning": warning} if warning else hotspot


def hotspot_event(hotspot: dict[str, Any], deleted: bool = False) -> dict[str, Any]:
    shown = {k: v for k, v in hotspot.items() if k != "warning"}  # the warning is for the editor, not residents
    return {"type": "hotspot", "action": "delete" if deleted else "upsert", "hotspot": shown}


def unit_normal(v: list[float]) -> list[float]:
    length = math.sqrt(sum(x * x for x in v))
    if length < 1e-6:
        raise ApiError(422, "invalid_field", "normal: must not be the zero vector")
    return [round(x / length, 6) for x in v]


def is_remote(ref: str | None) -> bool:
    return bool(ref) and not str(ref).startswith("local:")


@dataclass
class Hotspots:
    store: Store
    catalog: Catalog
    proposals: ProposalCache

    def scene(self, scene_id: str) -> str:
        if scene_id not in self.catalog.scenes:
            raise ApiError(404, "scene_not_found", "There is no scene with this id.")
        return scene_id

    def _inside(self, scene_id: str, position: list[float]) -> None:
        bounds = self.catalog.scenes[scene_id].prepared.bounds
        if not all(lo <= p <= hi for lo, p, hi in zip(bounds["min"], position, bounds["max"], strict=True)):
            raise ApiError(422, "invalid_field", "position: must be inside the scene")

    async def canonical_ref(self, given: str | None) -> str | None:
        """A pasted Decidim/CONSUL address or a stored reference -> the canonical reference; 422 if neither."""
        if given is None:
            return None
        try:
            is_url = given.startswith(("http://", "https://"))
            ref = parse_proposal_url(given).ref if is_url else parse_ref(given).ref
        except ValueError as exc:
            raise ApiError(422, "invalid_field", f"proposalRef: {exc}") from None
        if ref.startswith("local:") and await self.store.proposal(int(ref[6:])) is None:
            raise ApiError(422, "invalid_field", "proposalRef: there is no local proposal with this id")
        return ref

    async def link_warning(self, ref: str | None) -> str | None:
        """For staff linking a hotspot to a remote proposal: None when the platform shows it, else a warning they
        can act on (missing, not public, unreachable for now). A host the server may not read is refused (422)."""
        if not is_remote(ref):
            return None
        try:
            return await self.proposals.check_link(str(ref))
        except AddressRefused as exc:
            raise ApiError(422, "invalid_field", f"proposalRef: {exc}") from None

    async def list(self, scene_id: str) -> list[dict[str, Any]]:
        return [hotspot_json(r) for r in await self.store.hotspots(self.scene(scene_id))]

    async def create(self, scene_id: str, given: dict[str, Any], actor: str) -> dict[str, Any]:
        self.scene(scene_id)
        self._inside(scene_id, given["position"])
        fields = {NAMES.get(k, k): v for k, v in given.items()}
        fields["normal"] = unit_normal(fields["normal"])
        fields["proposal_ref"] = await self.canonical_ref(fields.get("proposal_ref"))
        warning = await self.link_warning(fields["proposal_ref"])
        row = await self.store.create_hotspot(scene_id, fields, actor)
        if is_remote(row["proposal_ref"]):
            self.proposals.watch(row["proposal_ref"])
        return with_warning(hotspot_json(row), warning)

    async def update(self, hotspot_id: int, version: int, given: dict[str, Any], actor: str) -> dict[str, Any]:
        """Apply the given fields (JSON names); raises store.Conflict with the current row on a stale version."""
        fields = {NAMES.get(k, k): v for k, v in given.items()}
        if not fields:
            raise ApiError(422, "invalid_field", "body: nothing to change")
        if "normal" in fields:
            fields["normal"] = unit_normal(fields["normal"])
        warning = None
        if "proposal_ref" in fields:
            fields["proposal_ref"] = await self.canonical_ref(fields["proposal_ref"])
            warning = await self.link_warning(fields["proposal_ref"])
        return with_warning(await self._change(hotspot_id, version, fields, actor, "hotspot.update"), warning)

    async def delete(self, hotspot_id: int, version: int, actor: str) -> dict[str, Any]:
        return await self._change(hotspot_id, version, {"deleted": 1}, actor, "hotspot.delete")

    async def restore(self, hotspot_id: int, version: int, actor: str) -> dict[str, Any]:
        return await self._change(hotspot_id, version, {"deleted": 0}, actor, "hotspot.restore")

    async def _change(self, hotspot_id: int, version: int, fields: dict[str, Any], actor: str,
                      action: str) -> dict[str, Any]:
        current = await self.store.hotspot(hotspot_id, include_deleted=True)
        if current is None or (current["deleted"] and action != "hotspot.restore"):
            raise ApiError(404, "hotspot_not_found", "There is no hotspot with this id.")
        if "position" in fields:
            self._inside(current["scene"], fields["position"])
        row = await self.store.update_hotspot(hotspot_id, version, fields, actor, action)
        if row is None:
            raise ApiError(404, "hotspot_not_found", "There is no hotspot with this id.")
        await self._rewatch(current, row)
        return hotspot_json(row)

    async def _rewatch(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Watch what the hotspot shows now; unwatch what it showed, unless another live hotspot still shows it."""
        old = before["proposal_ref"] if not before["deleted"] else None
        new = after["proposal_ref"] if not after["deleted"] else None
        if old == new:
            return
        if new is not None and is_remote(new):
            self.proposals.watch(new)
        if is_remote(old) and old not in await self.store.remote_proposal_refs():
            self.proposals.unwatch(str(old))
