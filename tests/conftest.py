"""Shared fixtures: small real worlds (a manifest plus a GLB made with trimesh) and apps built from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trimesh

from server.app import create_app
from server.config import ROOT, Config


def tiny_manifest(scene_id: str = "tiny", **overrides: object) -> dict[str, object]:
    manifest: dict[str, object] = {
        "id": scene_id,
        "title": {"en": "Tiny hall", "fr": "Petite salle"},
        "description": {"en": "A floor and one wall.", "fr": "Un sol et un mur."},
        "asset": f"{scene_id}.glb",
        "capacity": 10,
        "spawn": [{"position": [0, 0, 2], "yaw": 0}],
        "zones": [
            {
                "id": "hall",
                "name": {"en": "Hall", "fr": "Salle"},
                "description": {"en": "The whole place.", "fr": "Tout l'endroit."},
                "area": {"min": [-5, 0, -5], "max": [5, 3, 5]},
            }
        ],
        "tour": [
            {"id": "start", "position": [0, 0, 2], "yaw": 0, "pitch": 0,
             "narration": {"en": "Welcome.", "fr": "Bienvenue."}}
        ],
    }
    manifest.update(overrides)
    return manifest


def tiny_glb() -> bytes:
    """A 10 m × 10 m floor slab with a 0.3 m-thick wall across it."""
    floor = trimesh.creation.box(extents=[10, 0.2, 10])
    floor.apply_translation([0, -0.1, 0])
    wall = trimesh.creation.box(extents=[10, 3, 0.3])
    wall.apply_translation([0, 1.5, -2])
    return trimesh.Scene([floor, wall]).export(file_type="glb")


def write_world(root: Path, manifests: dict[str, dict[str, object] | str]) -> tuple[Path, Path]:
    scenes, assets = root / "scenes", root / "assets"
    scenes.mkdir(parents=True, exist_ok=True)
    assets.mkdir(parents=True, exist_ok=True)
    for name, manifest in manifests.items():
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        (scenes / f"{name}.json").write_text(text)
    (assets / "tiny.glb").write_bytes(tiny_glb())
    return scenes, assets


@pytest.fixture
def tiny_config(tmp_path: Path) -> Config:
    scenes, assets = write_world(tmp_path, {"tiny": tiny_manifest()})
    return Config(data_dir=tmp_path / "data", scenes_dir=scenes, assets_dir=assets, web_dir=ROOT / "web",
                  optimize=False)


@pytest.fixture
async def tiny_client(aiohttp_client, tiny_config):  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(tiny_config))
