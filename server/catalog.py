"""The scene catalog the server answers from: manifests joined with their prepared assets.

Built once at start-up (`build_catalog`), then read-only. A scene whose manifest or asset is broken is
left out with a logged error; the others load. Public JSON documents are rendered once here, so request
handlers only pick a ready `Blob`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .blobs import Blob, make_blob
from .manifest import Manifest, load_manifests
from .pipeline import PreparedScene, prepare_scene

log = logging.getLogger("civic.catalog")
JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Scene:
    manifest: Manifest
    prepared: PreparedScene
    document: Blob  # GET /api/scenes/{id}


@dataclass
class Catalog:
    scenes: dict[str, Scene] = field(default_factory=dict)
    assets: dict[str, Blob] = field(default_factory=dict)  # "<hash>.glb" -> Blob
    errors: list[str] = field(default_factory=list)
    index: Blob = field(default_factory=lambda: make_blob(b'{"scenes":[]}', JSON_TYPE))


def asset_name(blob: Blob, ext: str) -> str:
    return f"{blob.digest[:20]}.{ext}"


def scene_document(manifest: Manifest, prepared: PreparedScene) -> dict[str, Any]:
    doc = manifest.model_dump(exclude={"asset"})
    doc["asset"] = {
        "url": f"/assets/{asset_name(prepared.glb, 'glb')}",
        "bytes": len(prepared.glb.data),
        "triangles": prepared.triangles,
    }
    doc["bounds"] = prepared.bounds
    doc["walkable"] = {
        "url": f"/assets/{asset_name(prepared.walk, 'walk')}",
        "bytes": len(prepared.walk.data),
        **prepared.walk_meta,
    }
    return doc


def index_entry(manifest: Manifest) -> dict[str, Any]:
    return {
        "id": manifest.id,
        "title": manifest.title,
        "description": manifest.description,
        "url": f"/scenes/{manifest.id}",
        "capacity": manifest.capacity,
    }


def _json_blob(document: dict[str, Any]) -> Blob:
    return make_blob(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(), JSON_TYPE)


def build_catalog(
    scenes_dir: Path, assets_dir: Path, data_dir: Path, cell: float = 0.25, optimize: bool = True
) -> Catalog:
    catalog = Catalog()
    loaded, catalog.errors = load_manifests(scenes_dir)
    for error in catalog.errors:
        log.error("scene manifest rejected", extra={"detail": error})
    for item in loaded:
        manifest = item.manifest
        source = assets_dir / manifest.asset
        if manifest.id in catalog.scenes:
            catalog.errors.append(f"{item.path.name}: id: '{manifest.id}' is used by another manifest")
            continue
        try:
            prepared = prepare_scene(source, data_dir, cell=cell, optimize=optimize)
        except Exception as exc:  # one broken asset must not take the other scenes down
            message = f"{item.path.name}: asset: cannot prepare {manifest.asset} ({exc})"
            log.error("scene asset rejected", extra={"detail": message}, exc_info=True)
            catalog.errors.append(message)
            continue
        catalog.assets[asset_name(prepared.glb, "glb")] = prepared.glb
        catalog.assets[asset_name(prepared.walk, "walk")] = prepared.walk
        document = scene_document(manifest, prepared)
        catalog.scenes[manifest.id] = Scene(manifest, prepared, _json_blob(document))
    catalog.index = _json_blob({"scenes": [index_entry(s.manifest) for s in catalog.scenes.values()]})
    return catalog
