"""Asset pipeline: turn a scene's source GLBs into what the browser downloads.

Two kinds of cache entries under `<data_dir>/pipeline/`, each keyed by the content hash of its input:
- `glb-<source-hash>-v<VERSION>-<opt|raw>/`: one GLB as served (gltfpack: quantised + meshopt-compressed) with
  its compressed variants. Every level of detail of a scene (its `asset`, then the manifest's `lods[1:]`) is one.
- `walk-<source-hash>-v<VERSION>-c<cell>/`: the walkable grid and the facts (triangles, bounds) of the scene's
  FINEST level, so the floor a resident walks on is the exact one, whatever level the browser shows.

A cache hit costs reading a few files; a miss does the work once. Invariants: the key covers every input (the
source bytes, the pipeline version, the grid cell, optimised or not), so a stale entry is never served; an entry
folder that exists is complete (built aside, then renamed); one process or thread builds an entry at a time (a
lock file per key), so the workers of `--workers` and two scenes sharing an asset never race.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import gltftools, walkable
from .blobs import Blob, compress_variants, make_blob, sha256_hex

log = logging.getLogger("civic.pipeline")

PIPELINE_VERSION = 3
GLB_TYPE = "model/gltf-binary"
WALK_TYPE = "application/octet-stream"
Progress = Callable[[float], None]


@dataclass(frozen=True)
class PreparedLevel:
    """A finer level of detail as served, with the manifest's facts about it."""

    glb: Blob
    error: float
    triangles: int


@dataclass(frozen=True)
class PreparedScene:
    glb: Blob  # the first view (the manifest's `asset`)
    walk: Blob
    triangles: int
    walk_meta: dict[str, Any]
    bounds: dict[str, list[float]]  # where avatars can be: the finest geometry's box plus a margin
    lods: tuple[PreparedLevel, ...] = ()  # the finer levels, coarsest first (imported scenes only)


@dataclass(frozen=True)
class LevelSource:
    """A finer level to prepare: its source GLB and the manifest's error (m) and triangle count."""

    path: Path
    error: float
    triangles: int


def _ignore(_: float) -> None:
    return None


def _write_variants(folder: Path, stem: str, data: bytes, content_type: str) -> None:
    (folder / stem).write_bytes(data)
    for encoding, body in compress_variants(data, content_type).items():
        (folder / f"{stem}.{encoding}").write_bytes(body)


def _read_blob(folder: Path, stem: str, content_type: str) -> Blob:
    data = (folder / stem).read_bytes()
    variants = {enc: (folder / f"{stem}.{enc}").read_bytes() for enc in ("br", "gzip")
                if (folder / f"{stem}.{enc}").exists()}
    return make_blob(data, content_type, variants)


@contextlib.contextmanager
def _building(folder: Path) -> Iterator[Path | None]:
    """Yields a fresh work folder to fill when `folder` must be built, None when it exists (perhaps built by
    another process while we waited for the lock). The work folder becomes `folder` in one rename."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder.with_name(folder.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocking: we run in a worker thread, never on the event loop
        if (folder / "facts.json").exists():
            yield None
            return
        for stale in folder.parent.glob(f"{folder.name}.tmp-*"):  # left by a server stopped mid-way
            shutil.rmtree(stale, ignore_errors=True)
        work = folder.with_name(f"{folder.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        work.mkdir()
        try:
            yield work
            shutil.rmtree(folder, ignore_errors=True)
            work.rename(folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        os.close(fd)


def _hash(source: Path) -> str:
    return sha256_hex(source.read_bytes())[:24]


def prepare_glb(source: Path, data_dir: Path, optimize: bool = True) -> Blob:
    """One GLB as the browser downloads it (cached by the source's content hash)."""
    folder = data_dir / "pipeline" / f"glb-{_hash(source)}-v{PIPELINE_VERSION}-{'opt' if optimize else 'raw'}"
    with _building(folder) as work:
        if work is not None:
            log.info("preparing scene asset", extra={"asset": source.name, "cache": folder.name})
            if optimize:
                gltftools.optimize_glb(source, work / "optimized.glb")
                glb = (work / "optimized.glb").read_bytes()
                (work / "optimized.glb").unlink()
            else:
                glb = source.read_bytes()
            _write_variants(work, "scene.glb", glb, GLB_TYPE)
            (work / "facts.json").write_text(json.dumps({"bytes": len(glb), "optimized": optimize}))
    return _read_blob(folder, "scene.glb", GLB_TYPE)


def prepare_walk(source: Path, data_dir: Path, cell: float = 0.25) -> tuple[Blob, dict[str, Any]]:
    """The walkable grid of `source` and its facts (triangles, grid meta, bounds), cached by content hash."""
    folder = data_dir / "pipeline" / f"walk-{_hash(source)}-v{PIPELINE_VERSION}-c{cell:g}"
    with _building(folder) as work:
        if work is not None:
            log.info("preparing walkable grid", extra={"asset": source.name, "cache": folder.name})
            mesh = walkable.load_scene_mesh(source)
            grid = walkable.extract_walkable(mesh, cell=cell)
            _write_variants(work, "walk.bin", grid.to_bytes(), WALK_TYPE)
            low, high = mesh.bounds
            bounds = {"min": [round(float(v) - 2, 2) for v in low], "max": [round(float(v) + 2, 2) for v in high]}
            facts = {"triangles": int(len(mesh.faces)), "walk": grid.meta(), "bounds": bounds}
            (work / "facts.json").write_text(json.dumps(facts))
    return _read_blob(folder, "walk.bin", WALK_TYPE), json.loads((folder / "facts.json").read_text())


def prepare_scene(source: Path, data_dir: Path, cell: float = 0.25, optimize: bool = True,
                  lods: tuple[LevelSource, ...] = (), first_triangles: int | None = None,
                  progress: Progress = _ignore) -> PreparedScene:
    """Prepare a scene's first view `source`, its finer levels `lods` (coarsest first) and the walkable grid of
    the finest of them. `first_triangles` (the manifest's count for `source`) avoids loading a level's mesh only
    to count it; without it the count comes from the geometry. `progress` is told the fraction done."""
    steps = 2 + len(lods)
    progress(0.0)
    glb = prepare_glb(source, data_dir, optimize)
    progress(1 / steps)
    finer = []
    for i, level in enumerate(lods):
        finer.append(PreparedLevel(prepare_glb(level.path, data_dir, optimize), level.error, level.triangles))
        progress((2 + i) / steps)
    walk, facts = prepare_walk(lods[-1].path if lods else source, data_dir, cell)
    progress(1.0)
    meta = dict(facts["walk"], maxStep=walkable.MAX_STEP, maxDrop=walkable.MAX_DROP)
    triangles = facts["triangles"] if not lods or first_triangles is None else first_triangles
    return PreparedScene(glb=glb, walk=walk, triangles=triangles, walk_meta=meta, bounds=facts["bounds"],
                         lods=tuple(finer))
