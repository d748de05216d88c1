"""Import a city's own reconstruction as a scene: `python -m server scenes import PATH` (server/scenes_cli.py).

source (.glb | .gltf + side files | .obj + .mtl + textures; a folder or a .zip) -> checks -> normalise
(metres, +Y up, origin near zero, georeference kept) -> levels of detail (meshoptimizer) with baked ambient
occlusion (ao.py, within a time budget) and textures fitted to a budget (WebP, EXT_texture_webp) ->
glTF-Validator on every level -> GLBs in the assets directory and a manifest in the scenes directory, where
`serve` reads them.

Invariants:
- The first level (`asset`, also `lods[0]`) weighs at most FIRST_VIEW_BUDGET bytes once optimised as `serve`
  optimises it (gltfpack -cc); finer levels follow, coarsest first, each with its geometric error.
- Re-importing the same source with the same options is a no-op (its content hash is in the manifest).
- A new version is written beside the old one (new file names) and the manifest is swapped in one rename;
  until then the old version is what the scenes directory names. On any failure nothing new remains and
  no other scene is touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from .. import gltftools, walkable
from ..manifest import Manifest, ManifestError, load_manifest
from . import ao, geometry
from .errors import ImportFailure
from .glb import EncodedImage, Part, encode_webp, fit_image, write_glb
from .source import open_source
from .validate import validate_gltf

__all__ = ["ImportFailure", "ImportReport", "import_scene"]

IMPORTER_VERSION = 2  # 2: baked ambient occlusion (ao.py)
FIRST_VIEW_BUDGET = 250_000  # bytes of 3D payload (optimised GLB) before anything else streams in
FIRST_VIEW_TRIANGLES = 50_000
FULL_TEXTURE_SIDE = 2048
FULL_TEXTURE_PIXELS = 4 * 2048 * 2048  # all textures of the finest level together
LEVEL_TEXTURE_SIDE = (128, 512, FULL_TEXTURE_SIDE)  # coarsest .. finest
WALK_BUDGET = 8 << 20  # bytes of walkable grid (int16 per cell and layer; brotli shrinks it a lot on the wire)
WALK_CELL = 0.25  # metres, as `serve` builds it (Config.walk_cell)
SCENE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
Progress = Callable[[float, str], None]


@dataclass
class LevelReport:
    asset: str
    triangles: int
    error: float
    bytes: int  # after gltfpack -cc: what the browser downloads
    source_bytes: int  # the validator-clean GLB kept in the assets directory
    texture_bytes: int
    texture_side: int  # the longest side any of its textures may have
    validator: dict[str, int]


@dataclass
class ImportReport:
    scene_id: str
    unchanged: bool = False
    source_name: str = ""
    source_bytes: int = 0
    sha256: str = ""
    triangles: int = 0
    materials: int = 0
    textures: int = 0
    source_validator: dict[str, Any] | None = None
    changes: list[str] = field(default_factory=list)
    levels: list[LevelReport] = field(default_factory=list)
    walk_bytes: int = 0
    walk_cell: float = 0.0
    budgets: list[tuple[str, str, bool]] = field(default_factory=list)  # (name, "figure / limit", met)
    ao_seconds: float = 0.0  # of `seconds`, baking ambient occlusion
    manifest: Path | None = None
    seconds: float = 0.0

    @property
    def budgets_met(self) -> bool:
        return all(met for _, _, met in self.budgets)

    def lines(self) -> list[str]:
        if self.unchanged:
            return [f"scene {self.scene_id}: unchanged (same source, sha256 {self.sha256[:12]}…); nothing written"]
        out = [f"scene {self.scene_id}: imported from {self.source_name} in {self.seconds:.1f} s",
               f"  source: {self.source_bytes:,} bytes, {self.triangles:,} triangles, {self.materials} materials, "
               f"{self.textures} textures"]
        if self.source_validator is not None:
            v = self.source_validator
            out.append(f"  glTF-Validator on the source: {v['numErrors']} errors, {v['numWarnings']} warnings, "
                       f"{v['numInfos']} infos")
            serious = [m for m in v["messages"] if m.get("severity", 3) <= 1]
            out += [f"    {m['code']}: {m['message']} ({m.get('pointer', '')})" for m in serious[:5]]
        out.append("  changed:")
        out += [f"    - {c}" for c in self.changes]
        out.append("  levels of detail (coarsest first):")
        for lv in self.levels:
            out.append(f"    {lv.asset}: {lv.triangles:,} triangles, error {lv.error:.3f} m, {lv.bytes:,} bytes "
                       f"optimised, validator {lv.validator['numErrors']} errors / "
                       f"{lv.validator['numWarnings']} warnings")
        out.append(f"  walkable grid: {self.walk_cell:g} m cells, {self.walk_bytes:,} bytes")
        out.append("  budgets:")
        out += [f"    [{'met' if met else 'NOT MET'}] {name}: {figure}" for name, figure, met in self.budgets]
        if self.manifest is not None:
            out.append(f"  manifest: {self.manifest}")
        return out


def _quiet(_: float, __: str) -> None:
    return None


@contextlib.contextmanager
def _scene_lock(data_dir: Path, scene_id: str) -> Iterator[None]:
    """One import of a scene at a time (two would race for the manifest)."""
    folder = data_dir / "import"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{scene_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ImportFailure("busy", f"scene {scene_id} is being imported by another process") from None
        yield
    finally:
        os.close(fd)


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
    return slug or "imported-scene"


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _encode_textures(images: list[Any], max_side: int, total_pixels: int | None) -> list[EncodedImage]:
    fitted = [fit_image(img, max_side) for img in images]
    pixels = sum(i.width * i.height for i in fitted)
    if total_pixels and pixels > total_pixels:
        scale = math.sqrt(total_pixels / pixels)
        fitted = [fit_image(img, max_side, scale) for img in images]
    return [encode_webp(img) for img in fitted]


def _validate(path: Path) -> dict[str, Any]:
    try:
        if path.suffix.lower() == ".gltf":
            return validate_gltf(path)
        return gltftools.validate_glb(path)
    except gltftools.GltfToolError as exc:
        raise ImportFailure("validator_failed", str(exc)) from None


def _optimised_bytes(path: Path, scratch: Path) -> int:
    out = scratch / f"{path.stem}.cc.glb"
    try:
        gltftools.optimize_glb(path, out)
    except gltftools.GltfToolError as exc:
        raise ImportFailure("tool_failed", str(exc)) from None
    size = out.stat().st_size
    out.unlink()
    return size


def _spawn(parts: list[Part]) -> tuple[list[float], walkable.WalkGrid]:
    """A floor cell near the middle of the model to arrive on, from the grid `serve` will build."""
    grid = walkable.extract_walkable(geometry.as_trimesh(parts), cell=WALK_CELL)
    ground = grid.heights[0]
    rows, cols = np.nonzero(ground != walkable.NO_FLOOR)
    if rows.size == 0:
        return [0.0, 0.0, 0.0], grid
    x = grid.origin[0] + (cols + 0.5) * grid.cell
    z = grid.origin[1] + (rows + 0.5) * grid.cell
    i = int(np.argmin(x * x + z * z))
    return [round(float(x[i]), 2), round(float(ground[rows[i], cols[i]]) / 100, 2), round(float(z[i]), 2)], grid


def _existing(scenes_dir: Path, scene_id: str) -> Manifest | None:
    path = scenes_dir / f"{scene_id}.json"
    if not path.exists():
        return None
    try:
        return load_manifest(path)
    except ManifestError:
        return None  # a broken manifest of the same id is replaced by a working one


def import_scene(
    path: Path,
    scenes_dir: Path,
    assets_dir: Path,
    data_dir: Path,
    scene_id: str | None = None,
    title: str | None = None,
    units: str = "auto",
    up: str = "auto",
    progress: Progress = _quiet,
) -> ImportReport:
    started = time.monotonic()
    path = Path(path)
    scene_id = scene_id or _slug(path.stem)
    if not SCENE_ID.match(scene_id):
        raise ImportFailure("bad_id", f"scene id {scene_id!r}: use 1-63 lower-case letters, digits and '-'")
    if units not in ("auto", *geometry.UNITS) or up not in ("auto", "y", "z"):
        raise ImportFailure("bad_option", "--units is auto, m, cm, mm, in or ft; --up is auto, y or z")
    for folder in (scenes_dir, assets_dir, data_dir):
        folder.mkdir(parents=True, exist_ok=True)
    with _scene_lock(data_dir, scene_id):
        scratch = Path(tempfile.mkdtemp(prefix=f"{scene_id}-", dir=data_dir / "import"))
        try:
            return _import(path, scenes_dir, assets_dir, scratch, scene_id, title, units, up, progress, started)
        except (ValueError, ArithmeticError, IndexError, TypeError, KeyError, OSError) as exc:
            # Whatever a library raised on a model we did not foresee: still one sentence, never a traceback.
            raise ImportFailure("cannot_process", f"{path.name}: the model could not be processed "
                                                  f"({type(exc).__name__}: {str(exc)[:200]})") from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def _import(path: Path, scenes_dir: Path, assets_dir: Path, scratch: Path, scene_id: str, title: str | None,
            units: str, up: str, progress: Progress, started: float) -> ImportReport:
    report = ImportReport(scene_id)
    progress(0.0, "reading the source")
    unpacked = scratch / "source"
    unpacked.mkdir()
    src = open_source(path, unpacked)
    report.source_name, report.source_bytes, report.sha256 = src.name, src.bytes, src.sha256
    old = _existing(scenes_dir, scene_id)
    if old is not None and old.source is None:
        raise ImportFailure("id_taken", f"scene id {scene_id!r} is a hand-written scene; choose another --id")
    if (old is not None and old.source is not None and old.source.sha256 == src.sha256
            and old.source.importer == IMPORTER_VERSION and units in ("auto", old.source.units)
            and up in ("auto", old.source.up)
            and all((assets_dir / lod.asset).is_file() for lod in old.lods or [])):
        report.unchanged = True
        report.manifest = scenes_dir / f"{scene_id}.json"
        progress(1.0, "unchanged")
        return report

    geometry.precheck(src.model)
    if src.model.suffix.lower() in (".glb", ".gltf"):
        progress(0.05, "validating the source")
        report.source_validator = _validate(src.model)
    progress(0.1, "loading the model")
    loaded = geometry.load(src.model)
    report.triangles, report.materials, report.textures = loaded.triangles, loaded.materials, len(loaded.images)
    progress(0.25, "normalising")
    norm = geometry.normalise(loaded, units, up)
    report.changes += norm.changes

    # Refuse before building it: a grid over budget would take the memory and time of a far bigger one.
    one_layer = math.ceil(norm.size[0] / WALK_CELL + 1) * math.ceil(norm.size[2] / WALK_CELL + 1) * 2
    if one_layer > WALK_BUDGET:
        raise ImportFailure("over_budget", f"the model is {norm.size[0]:.0f} x {norm.size[2]:.0f} m: its walkable "
                                           f"grid at {WALK_CELL} m cells would be over {one_layer:,} bytes (budget "
                                           f"{WALK_BUDGET:,}); check --units, or split the place into scenes")
    key = hashlib.sha256(f"{src.sha256}/{norm.units}/{norm.up}/{IMPORTER_VERSION}".encode()).hexdigest()[:12]
    diagonal = float(np.linalg.norm(norm.size))
    full = loaded.triangles
    first = min(full, FIRST_VIEW_TRIANGLES)
    targets = [first]
    if full > 4 * first:
        targets.append(int(math.sqrt(first * full)))
    if full > first:
        targets.append(full)
    progress(0.28, "ambient occlusion")
    shading = ao.Shading(loaded.parts)
    written: list[Path] = []
    try:
        level = 0
        while level < len(targets):
            target = targets[level]
            if level == 0:  # the first view: small textures unless it is all there is
                side = LEVEL_TEXTURE_SIDE[1 if len(targets) == 1 else 0]
            else:
                side = LEVEL_TEXTURE_SIDE[-1] if level == len(targets) - 1 else LEVEL_TEXTURE_SIDE[1]
            name = f"{scene_id}-{key}-lod{level}.glb"
            for attempt in range(8):
                progress(0.3 + 0.6 * level / len(targets), f"level {level}: {target:,} triangles")
                parts, error = geometry.simplify(loaded.parts, target, max_error=diagonal)
                shading.apply(parts, first=level == 0 and attempt == 0)  # later attempts: from the first bake
                images = _encode_textures(loaded.images, side, FULL_TEXTURE_PIXELS)
                data = write_glb(parts, images, f"Civic Space importer {IMPORTER_VERSION}")
                tmp = scratch / name
                tmp.write_bytes(data)
                optimised = _optimised_bytes(tmp, scratch)
                if level > 0 or optimised <= FIRST_VIEW_BUDGET:
                    break
                # Over the first-view budget: halve the textures while they weigh, else drop triangles.
                texture_bytes = sum(len(i.data) for i in images)
                if texture_bytes > 0.3 * optimised and side > 32:
                    side //= 2
                else:
                    target = max(1000, int(target * 0.85 * FIRST_VIEW_BUDGET / optimised))
            if level == 0 and len(targets) == 1 and sum(len(p.faces) for p in parts) < full:
                targets.append(full)  # the first view had to be simplified: the full detail streams after it
            if level == 0:
                spawn, grid = _spawn(parts)
                report.walk_bytes, report.walk_cell = len(grid.to_bytes()), grid.cell
            progress(0.3 + 0.6 * (level + 0.7) / len(targets), f"level {level}: validating")
            found = _validate(tmp)
            if found["numErrors"]:
                first_issue = found["messages"][0]
                raise ImportFailure("invalid_output", f"level {level} failed the glTF-Validator: "
                                                      f"{first_issue['code']}: {first_issue['message']}")
            report.levels.append(LevelReport(
                name, sum(len(p.faces) for p in parts), round(error, 4), optimised, len(data),
                sum(len(i.data) for i in images), side,
                {k: found[k] for k in ("numErrors", "numWarnings", "numInfos")}))
            level += 1
        if len(loaded.images):
            sides = "/".join(str(lv.texture_side) for lv in report.levels)
            report.changes.append(f"textures fitted to {sides} px per level (coarsest first; ≤ "
                                  f"{FULL_TEXTURE_PIXELS:,} pixels in all) and encoded as WebP (EXT_texture_webp)")
        if len(report.levels) > 1:
            report.changes.append(f"simplified into {len(report.levels)} levels with meshoptimizer")
        report.changes.append(shading.line())
        report.ao_seconds = shading.seconds
        first_level = report.levels[0]
        report.budgets = [
            ("first view, 3D payload", f"{first_level.bytes:,} / {FIRST_VIEW_BUDGET:,} bytes",
             first_level.bytes <= FIRST_VIEW_BUDGET),
            ("first view, triangles", f"{first_level.triangles:,} / {FIRST_VIEW_TRIANGLES:,}",
             first_level.triangles <= FIRST_VIEW_TRIANGLES),
            ("finest textures", f"≤ {FULL_TEXTURE_SIDE} px a side, ≤ {FULL_TEXTURE_PIXELS:,} pixels in all", True),
            ("walkable grid", f"{report.walk_bytes:,} / {WALK_BUDGET:,} bytes", report.walk_bytes <= WALK_BUDGET),
            ("validator errors", f"{sum(lv.validator['numErrors'] for lv in report.levels)} / 0", True),
        ]
        if not report.budgets_met:
            missed = "; ".join(f"{n}: {f}" for n, f, met in report.budgets if not met)
            raise ImportFailure("over_budget", f"cannot bring the model within its budgets ({missed})")

        progress(0.92, "writing")
        manifest = _manifest(scene_id, title, path.stem, src, norm, report, spawn, old)
        for lv in report.levels:
            target_path = assets_dir / lv.asset
            if not target_path.exists():
                written.append(target_path)
                _write_atomic(target_path, (scratch / lv.asset).read_bytes())
        report.manifest = scenes_dir / f"{scene_id}.json"
        _write_atomic(report.manifest, json.dumps(manifest, ensure_ascii=False, indent=2).encode() + b"\n")
    except BaseException:
        for p in written:  # nothing half-written: the manifest still names the old files, which stay
            p.unlink(missing_ok=True)
        raise
    if old is not None and old.lods:  # the swap is done: the old version's files go
        keep = {lv.asset for lv in report.levels}
        for lod in old.lods:
            if lod.asset not in keep:
                (assets_dir / lod.asset).unlink(missing_ok=True)
    report.seconds = time.monotonic() - started
    progress(1.0, "done")
    return report


def _manifest(scene_id: str, title: str | None, stem: str, src: Any, norm: geometry.Normalised, report: ImportReport,
              spawn: list[float], old: Manifest | None) -> dict[str, Any]:
    name = (title or stem.replace("_", " ").replace("-", " ").strip() or scene_id)[:120]
    doc: dict[str, Any] = {
        "id": scene_id,
        "title": {"en": name},
        "description": {"en": f"A 3D model of {name} to walk through."},  # for visitors: not the file's name
        "asset": report.levels[0].asset,
        "capacity": 100,
        "spawn": [{"position": spawn, "yaw": 0}],
        "zones": [],
        "tour": [],
        "lods": [{"asset": lv.asset, "error": lv.error, "triangles": lv.triangles, "bytes": lv.bytes}
                 for lv in report.levels],
        "source": {"name": src.name[:255], "sha256": src.sha256, "bytes": src.bytes, "units": norm.units,
                   "up": norm.up, "importer": IMPORTER_VERSION},
    }
    if old is not None:  # what people wrote about the scene survives a new version of its model
        kept = old.model_dump(include={"title", "description", "capacity", "zones", "tour"})
        doc.update(kept)
        if title:
            doc["title"] = {**kept["title"], "en": title[:120]}
    if norm.origin is not None:
        doc["georeference"] = {"origin": norm.origin, "up": norm.up, "units": "m"}
    try:
        Manifest.model_validate(doc)
    except ValidationError as exc:
        raise ImportFailure("bad_manifest", f"the manifest would be invalid: {exc.errors()[0]['msg']}") from None
    return doc
