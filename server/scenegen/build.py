"""Build the bundled scenes' GLB files: `python -m server.scenegen.build [assets_dir]`.

Writes unoptimised, validator-clean sources (`town-hall.glb`, `public-square.glb`); the server's asset pipeline
quantises and compresses them at start with `server.gltftools.optimize_glb`. Output is byte-identical from run
to run, so the committed files can be checked against a fresh build.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from . import public_square, town_hall
from .geometry import MeshBuilder
from .glb import write_glb

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ASSETS = ROOT / "assets" / "gltf"
SCENES: dict[str, Callable[[], MeshBuilder]] = {
    "town-hall": town_hall.build,
    "public-square": public_square.build,
}


def build_all(assets_dir: Path = DEFAULT_ASSETS) -> list[Path]:
    return [write_glb(Path(assets_dir) / f"{name}.glb", name, make().merged()) for name, make in SCENES.items()]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else DEFAULT_ASSETS
    for path in build_all(out):
        print(f"{path}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
