"""Build the bundled scenes' GLB files: `python -m server.scenegen.build [assets_dir]`.

Writes unoptimised, validator-clean sources (`town-hall.glb`, `public-square.glb`) with textured materials and
ambient occlusion baked into vertex colours (`ao.py`: the slow part, some seconds per scene); the server's asset
pipeline quantises and compresses them at start with `server.gltftools.optimize_glb`. Output is byte-identical from run
to run, so the committed files can be checked against a fresh build.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import ao, public_square, town_hall
from .geometry import MeshBuilder, Part
from .glb import write_glb
from .materials import BY_NAME

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ASSETS = ROOT / "assets" / "gltf"
SCENES: dict[str, Callable[[], MeshBuilder]] = {
    "town-hall": town_hall.build,
    "public-square": public_square.build,
}


def bake_ao(parts: dict[str, Part]) -> dict[str, np.ndarray]:
    """Per-vertex ambient visibility of the materials that take it; see-through materials occlude nothing."""
    occluders = [part for name, part in parts.items() if not BY_NAME[name].blend]
    return ao.bake({name: part for name, part in parts.items() if BY_NAME[name].ao}, occluders)


def build_all(assets_dir: Path = DEFAULT_ASSETS) -> list[Path]:
    out = []
    for name, make in SCENES.items():
        parts = make().merged()
        out.append(write_glb(Path(assets_dir) / f"{name}.glb", name, parts, bake_ao(parts)))
    return out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DEFAULT_ASSETS
    for path in build_all(out):
        print(f"{path}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
