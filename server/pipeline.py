"""Asset pipeline: turn a scene's source GLB into what the browser downloads.

For each scene: the source GLB is hashed; under `<data_dir>/pipeline/<source-hash>-v<VERSION>/` we keep
the optimised GLB (gltfpack: quantised + meshopt-compressed), the walkable grid derived from the source
geometry, their compressed variants and a small JSON of facts (triangles, grid meta). A cache hit costs
reading a few files; a miss does the work once. Invariant: the cache key covers every input (the source
bytes, the pipeline version, the grid cell), so a stale cache entry can never be served.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import gltftools, walkable
from .blobs import Blob, compress_variants, make_blob, sha256_hex

log = logging.getLogger("civic.pipeline")

PIPELINE_VERSION = 2
GLB_TYPE = "model/gltf-binary"
WALK_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class PreparedScene:
    glb: Blob
    walk: Blob
    triangles: int
    walk_meta: dict[str, Any]
    bounds: dict[str, list[float]]  # where avatars can be: the geometry's box plus a margin


def _write_variants(folder: Path, stem: str, data: bytes, content_type: str) -> None:
    (folder / stem).write_bytes(data)
    for encoding, body in compress_variants(data, content_type).items():
        (folder / f"{stem}.{encoding}").write_bytes(body)


def _read_blob(folder: Path, stem: str, content_type: str) -> Blob:
    data = (folder / stem).read_bytes()
    variants = {enc: (folder / f"{stem}.{enc}").read_bytes() for enc in ("br", "gzip")
                if (folder / f"{stem}.{enc}").exists()}
    return make_blob(data, content_type, variants)


def _build(source: Path, folder: Path, cell: float, optimize: bool) -> None:
    work = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    mesh = walkable.load_scene_mesh(source)
    grid = walkable.extract_walkable(mesh, cell=cell)
    if optimize:
        gltftools.optimize_glb(source, work / "optimized.glb")
        glb = (work / "optimized.glb").read_bytes()
        (work / "optimized.glb").unlink()
    else:
        glb = source.read_bytes()
    _write_variants(work, "scene.glb", glb, GLB_TYPE)
    _write_variants(work, "walk.bin", grid.to_bytes(), WALK_TYPE)
    low, high = mesh.bounds
    bounds = {"min": [round(float(v) - 2, 2) for v in low], "max": [round(float(v) + 2, 2) for v in high]}
    facts = {"triangles": int(len(mesh.faces)), "walk": grid.meta(), "bounds": bounds, "optimized": optimize}
    (work / "facts.json").write_text(json.dumps(facts))
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)  # atomic: a folder that exists is complete


def prepare_scene(source: Path, data_dir: Path, cell: float = 0.25, optimize: bool = True) -> PreparedScene:
    source_hash = sha256_hex(source.read_bytes())[:24]
    key = f"{source_hash}-v{PIPELINE_VERSION}-c{cell:g}-{'opt' if optimize else 'raw'}"
    folder = data_dir / "pipeline" / key
    if not (folder / "facts.json").exists():
        log.info("preparing scene asset", extra={"asset": source.name, "cache": key})
        _build(source, folder, cell, optimize)
    facts = json.loads((folder / "facts.json").read_text())
    meta = dict(facts["walk"], maxStep=walkable.MAX_STEP, maxDrop=walkable.MAX_DROP)
    return PreparedScene(
        glb=_read_blob(folder, "scene.glb", GLB_TYPE),
        walk=_read_blob(folder, "walk.bin", WALK_TYPE),
        triangles=facts["triangles"],
        walk_meta=meta,
        bounds=facts["bounds"],
    )
