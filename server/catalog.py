"""The scene catalog the server answers from: manifests joined with their prepared assets.

Every scene with a valid manifest has an entry: `preparing` (with its progress), `ready` (in `scenes`, its
document and assets served) or `failed` (with a message for staff). `build_catalog` prepares every scene before it
returns (commands, tests); `plan_catalog` only reads the manifests, and `Preparation` then prepares the scenes in
background threads while the server already answers (server/app.py), each scene appearing when it is ready.
A scene whose manifest or asset is broken never stops the others. Public JSON documents are rendered here, so
request handlers only pick a ready `Blob`.

Threads: `Preparation`'s workers only prepare files; every change to a `Catalog` is made on the event loop's
thread (`call_soon_threadsafe`), so handlers always see a consistent catalog.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import pipeline
from .blobs import Blob, make_blob
from .manifest import Manifest, load_manifests
from .pipeline import LevelSource, PreparedScene

log = logging.getLogger("civic.catalog")
JSON_TYPE = "application/json; charset=utf-8"
Status = Literal["preparing", "ready", "failed"]


@dataclass(frozen=True)
class Scene:
    manifest: Manifest
    prepared: PreparedScene
    document: Blob  # GET /api/scenes/{id}


@dataclass
class Entry:
    """A scene as listed: its manifest and how far its preparation is."""

    manifest: Manifest
    file: str  # the manifest's file name, for messages
    status: Status = "preparing"
    progress: float = 0.0
    message: str = ""


@dataclass
class Catalog:
    scenes: dict[str, Scene] = field(default_factory=dict)  # ready scenes only
    assets: dict[str, Blob] = field(default_factory=dict)  # "<hash>.glb" -> Blob
    errors: list[str] = field(default_factory=list)
    entries: dict[str, Entry] = field(default_factory=dict)  # every scene with a valid manifest, by id
    index: Blob = field(default_factory=lambda: make_blob(b'{"scenes":[]}', JSON_TYPE))

    def count(self, status: Status) -> int:
        return sum(1 for entry in self.entries.values() if entry.status == status)

    def set_progress(self, scene_id: str, fraction: float) -> None:
        entry = self.entries[scene_id]
        if entry.status == "preparing" and round(fraction, 2) != entry.progress:
            entry.progress = round(min(max(fraction, 0.0), 1.0), 2)
            self._render_index()

    def add_ready(self, scene_id: str, prepared: PreparedScene) -> None:
        entry = self.entries[scene_id]
        self.assets[asset_name(prepared.glb, "glb")] = prepared.glb
        for level in prepared.lods:
            self.assets[asset_name(level.glb, "glb")] = level.glb
        self.assets[asset_name(prepared.walk, "walk")] = prepared.walk
        document = scene_document(entry.manifest, prepared)
        self.scenes[scene_id] = Scene(entry.manifest, prepared, _json_blob(document))
        self.scenes = {sid: self.scenes[sid] for sid in self.entries if sid in self.scenes}  # id order, as listed
        entry.status, entry.progress = "ready", 1.0
        self._render_index()

    def add_failed(self, scene_id: str, exc: BaseException) -> None:
        entry = self.entries[scene_id]
        message = f"{entry.file}: asset: cannot prepare {entry.manifest.asset} ({_without_paths(str(exc))})"
        log.error("scene asset rejected", extra={"detail": message}, exc_info=exc)
        self.errors.append(message)
        entry.status, entry.message = "failed", message
        self._render_index()

    def _render_index(self) -> None:
        self.index = _json_blob({"scenes": [index_entry(e) for e in self.entries.values()]})


def asset_name(blob: Blob, ext: str) -> str:
    return f"{blob.digest[:20]}.{ext}"


def _without_paths(text: str) -> str:
    """Absolute paths in a library's message become their file names (the list is public)."""
    return re.sub(r"/(?:[^\s/:'\"()]+/)+([^\s/:'\"()]+)", r"\1", text)[:300]


def scene_document(manifest: Manifest, prepared: PreparedScene) -> dict[str, Any]:
    doc = manifest.model_dump(exclude={"asset", "lods"})
    doc["asset"] = {
        "url": f"/assets/{asset_name(prepared.glb, 'glb')}",
        "bytes": len(prepared.glb.data),
        "triangles": prepared.triangles,
    }
    if manifest.lods is not None:  # coarsest first; the first is `asset`
        first = manifest.lods[0]
        doc["lods"] = [{**doc["asset"], "error": first.error}] + [
            {"url": f"/assets/{asset_name(level.glb, 'glb')}", "bytes": len(level.glb.data), "error": level.error,
             "triangles": level.triangles} for level in prepared.lods]
    doc["bounds"] = prepared.bounds
    doc["walkable"] = {
        "url": f"/assets/{asset_name(prepared.walk, 'walk')}",
        "bytes": len(prepared.walk.data),
        **prepared.walk_meta,
    }
    return doc


def index_entry(entry: Entry) -> dict[str, Any]:
    manifest = entry.manifest
    out: dict[str, Any] = {
        "id": manifest.id,
        "title": manifest.title,
        "description": manifest.description,
        "url": f"/scenes/{manifest.id}",
        "capacity": manifest.capacity,
        "status": entry.status,
    }
    if entry.status == "preparing":
        out["progress"] = entry.progress
    elif entry.status == "failed":
        out["message"] = entry.message
    return out


def _json_blob(document: dict[str, Any]) -> Blob:
    return make_blob(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode(), JSON_TYPE)


def plan_catalog(scenes_dir: Path) -> Catalog:
    """Every valid manifest as a scene being prepared; broken manifests and repeated ids in `errors`."""
    catalog = Catalog()
    loaded, catalog.errors = load_manifests(scenes_dir)
    for error in catalog.errors:
        log.error("scene manifest rejected", extra={"detail": error})
    for item in loaded:
        manifest = item.manifest
        if manifest.id in catalog.entries:
            catalog.errors.append(f"{item.path.name}: id: '{manifest.id}' is used by another manifest")
            continue
        catalog.entries[manifest.id] = Entry(manifest, item.path.name)
    catalog._render_index()
    return catalog


def prepare_entry(manifest: Manifest, assets_dir: Path, data_dir: Path, cell: float, optimize: bool,
                  progress: Callable[[float], None]) -> PreparedScene:
    """The files of one scene (blocking: call it from a worker thread, or before serving)."""
    finer = tuple(LevelSource(assets_dir / lod.asset, lod.error, lod.triangles) for lod in (manifest.lods or [])[1:])
    first = manifest.lods[0].triangles if manifest.lods else None
    return pipeline.prepare_scene(assets_dir / manifest.asset, data_dir, cell=cell, optimize=optimize, lods=finer,
                                  first_triangles=first, progress=progress)


def build_catalog(
    scenes_dir: Path, assets_dir: Path, data_dir: Path, cell: float = 0.25, optimize: bool = True
) -> Catalog:
    """A catalog with every scene prepared (or failed) before it returns."""
    catalog = plan_catalog(scenes_dir)
    for scene_id, entry in list(catalog.entries.items()):
        try:
            prepared = prepare_entry(entry.manifest, assets_dir, data_dir, cell, optimize, lambda _: None)
        except Exception as exc:  # one broken asset must not take the other scenes down
            catalog.add_failed(scene_id, exc)
            continue
        catalog.add_ready(scene_id, prepared)
    return catalog


class Preparation:
    """Prepares a planned catalog's scenes in daemon threads (a server stopping never waits for a long gltfpack
    run: the cache entry it was building is simply not renamed into place) and applies every result on `loop`."""

    def __init__(self, catalog: Catalog, assets_dir: Path, data_dir: Path, cell: float, optimize: bool,
                 threads: int = 1) -> None:
        self.catalog, self.assets_dir, self.data_dir, self.cell, self.optimize = (
            catalog, assets_dir, data_dir, cell, optimize)
        self.threads = threads
        self.jobs: queue.Queue[str] = queue.Queue()
        self.stopping = threading.Event()
        self.done = asyncio.Event()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        # Smallest first: most scenes become ready soon, whatever a huge one costs.
        pending = sorted((sid for sid, entry in self.catalog.entries.items() if entry.status == "preparing"),
                         key=self._weight)
        self.remaining = len(pending)
        if not pending:
            self.done.set()
            return
        for scene_id in pending:
            self.jobs.put(scene_id)
        for n in range(min(self.threads, len(pending))):
            threading.Thread(target=self._work, args=(loop,), name=f"prepare-{n}", daemon=True).start()

    def _weight(self, scene_id: str) -> int:
        manifest = self.catalog.entries[scene_id].manifest
        names = [lod.asset for lod in manifest.lods] if manifest.lods else [manifest.asset]
        try:
            return sum((self.assets_dir / name).stat().st_size for name in names)
        except OSError:
            return 0  # missing: fails at once, and says so

    def stop(self) -> None:
        self.stopping.set()

    def _work(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self.stopping.is_set():
            try:
                scene_id = self.jobs.get_nowait()
            except queue.Empty:
                return
            manifest = self.catalog.entries[scene_id].manifest  # entries never change once planned

            def progress(fraction: float, scene_id: str = scene_id) -> None:
                self._post(loop, self.catalog.set_progress, scene_id, fraction)

            try:
                prepared = prepare_entry(manifest, self.assets_dir, self.data_dir, self.cell, self.optimize,
                                         progress)
            except Exception as exc:  # one broken asset must not take the other scenes down
                self._post(loop, self._finish, scene_id, None, exc)
            else:
                self._post(loop, self._finish, scene_id, prepared, None)

    def _post(self, loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is closed: the server stopped
            self.stopping.set()

    def _finish(self, scene_id: str, prepared: PreparedScene | None, exc: BaseException | None) -> None:
        if prepared is not None:
            self.catalog.add_ready(scene_id, prepared)
            log.info("scene ready", extra={"scene": scene_id})
        elif exc is not None:
            self.catalog.add_failed(scene_id, exc)
        self.remaining -= 1
        if self.remaining == 0:
            self.done.set()
