"""The scene catalog the server answers from: manifests joined with their prepared assets.

Every scene with a valid manifest has an entry: `preparing` (with its progress), `ready` (in `scenes`, its
document and assets served) or `failed` (with a message for staff). `build_catalog` prepares every scene before it
returns (commands, tests); `plan_catalog` only reads the manifests, and `Preparation` then prepares the scenes in
background threads while the server already answers (server/app.py), each scene appearing when it is ready.
A scene whose manifest or asset is broken never stops the others. Public JSON documents are rendered here, so
request handlers only pick a ready `Blob`.

Live catalog: while the server runs, `Preparation` rescans the scenes directory every RESCAN_SECONDS (a
directory listing compared with the last one; the manifests are read again only when a file changed) and at once
when an import finished in this process (`Preparation.rescan`). A new manifest is listed as preparing and becomes
ready like the others; a new version of a ready scene (a re-import) is prepared beside it while the old one keeps
serving, and replaces it in one step when it is ready (a failed new version leaves the old one serving). Several
processes of one machine share the scenes directory, so each picks a new scene up by its own rescan within
RESCAN_SECONDS; the pipeline's per-entry lock makes the first one build the files and the others read them. A
manifest removed while serving leaves its scene served until the next start. Assets of a replaced version stay
served for ASSET_GRACE_SECONDS (a page that loaded the old document may still stream its finer levels).

Threads: `Preparation`'s workers only prepare files; every change to a `Catalog` is made on the event loop's
thread (`call_soon_threadsafe`), so handlers always see a consistent catalog.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from . import pipeline
from .blobs import Blob, make_blob
from .manifest import LoadedManifest, Manifest, load_manifests
from .pipeline import LevelSource, PreparedScene

log = logging.getLogger("civic.catalog")
JSON_TYPE = "application/json; charset=utf-8"
Status = Literal["preparing", "ready", "failed"]
RESCAN_SECONDS = 2.0  # how soon every process notices a scene imported by another one
ASSET_GRACE_SECONDS = 600.0  # a replaced version's assets stay served this long
Job = tuple[str, Manifest]  # a scene id and the manifest version to prepare


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
    next: Manifest | None = None  # a new version being prepared while `manifest` (ready) keeps serving
    next_progress: float = 0.0
    next_message: str = ""  # why the last new version could not be prepared (the old one still serves)


@dataclass
class Catalog:
    scenes: dict[str, Scene] = field(default_factory=dict)  # ready scenes only
    assets: dict[str, Blob] = field(default_factory=dict)  # "<hash>.glb" -> Blob
    errors: list[str] = field(default_factory=list)
    entries: dict[str, Entry] = field(default_factory=dict)  # every scene with a valid manifest, by id
    index: Blob = field(default_factory=lambda: make_blob(b'{"scenes":[]}', JSON_TYPE))
    scenes_dir: Path | None = None  # where the manifests are read (and read again while serving)
    retired: dict[str, float] = field(default_factory=dict)  # asset name -> when its version was replaced

    def count(self, status: Status) -> int:
        return sum(1 for entry in self.entries.values() if entry.status == status)

    def set_progress(self, scene_id: str, fraction: float, manifest: Manifest | None = None) -> None:
        """`manifest`: the version the fraction is about (None: the listed one)."""
        entry = self.entries[scene_id]
        fraction = round(min(max(fraction, 0.0), 1.0), 2)
        if manifest is not None and entry.next is manifest:
            entry.next_progress = fraction
        elif (entry.status == "preparing" and fraction != entry.progress
              and (manifest is None or manifest is entry.manifest)):
            entry.progress = fraction
            self._render_index()

    def add_ready(self, scene_id: str, prepared: PreparedScene) -> None:
        entry = self.entries[scene_id]
        old = self.scenes.get(scene_id)
        self.assets[asset_name(prepared.glb, "glb")] = prepared.glb
        for level in prepared.lods:
            self.assets[asset_name(level.glb, "glb")] = level.glb
        self.assets[asset_name(prepared.walk, "walk")] = prepared.walk
        document = scene_document(entry.manifest, prepared)
        self.scenes[scene_id] = Scene(entry.manifest, prepared, _json_blob(document))
        self.scenes = {sid: self.scenes[sid] for sid in self.entries if sid in self.scenes}  # id order, as listed
        entry.status, entry.progress = "ready", 1.0
        if old is not None:  # a new version replaced it: its assets go once pages had time to finish with them
            now = time.monotonic()
            self.retired.update((name, now) for name in _asset_names(old.prepared) - self._assets_in_use())
        self._render_index()

    def merge(self, loaded: list[LoadedManifest], errors: list[str]) -> list[Job]:
        """Manifests read again while serving: new scenes are listed as preparing, new versions of listed ones
        wait in `next` (a ready scene keeps serving). Returns what to prepare. Removed manifests are ignored."""
        jobs: list[Job] = []
        for error in errors:
            if error not in self.errors:
                log.error("scene manifest rejected", extra={"detail": error})
                self.errors.append(error)
        seen: set[str] = set()
        for item in loaded:
            manifest, scene_id = item.manifest, item.manifest.id
            if scene_id in seen:
                continue  # a repeated id: the first file wins, as at start-up
            seen.add(scene_id)
            entry = self.entries.get(scene_id)
            if entry is None:
                self.entries[scene_id] = Entry(manifest, item.path.name)
                self.entries = dict(sorted(self.entries.items(), key=lambda kv: kv[1].file))  # as after a restart
                jobs.append((scene_id, manifest))
            elif entry.status == "ready":
                if manifest == entry.manifest:
                    entry.next = None  # back to the version served: a pending one is forgotten
                elif entry.next is None or manifest != entry.next:
                    entry.next, entry.next_progress, entry.next_message = manifest, 0.0, ""
                    jobs.append((scene_id, manifest))
            elif manifest != entry.manifest:  # preparing or failed: the new version replaces it in the list
                entry.manifest, entry.file, entry.status, entry.progress, entry.message = (
                    manifest, item.path.name, "preparing", 0.0, "")
                jobs.append((scene_id, manifest))
        if jobs:
            self._render_index()
        return jobs

    def finish(self, scene_id: str, manifest: Manifest, prepared: PreparedScene | None,
               exc: BaseException | None) -> None:
        """The result of preparing `manifest`; a result for a version no longer wanted is dropped."""
        entry = self.entries.get(scene_id)
        if entry is None:
            return
        if entry.status == "ready" and entry.next is manifest:
            if prepared is not None:
                entry.manifest, entry.next, entry.next_message = manifest, None, ""
                self.add_ready(scene_id, prepared)
                log.info("scene replaced by its new version", extra={"scene": scene_id})
            elif exc is not None:
                entry.next = None
                entry.next_message = f"{entry.file}: the new version could not be prepared " \
                                     f"({without_paths(str(exc))}); the previous one is still served"
                log.error("new scene version rejected", extra={"detail": entry.next_message}, exc_info=exc)
        elif entry.status != "ready" and entry.manifest is manifest:
            if prepared is not None:
                self.add_ready(scene_id, prepared)
                log.info("scene ready", extra={"scene": scene_id})
            elif exc is not None:
                self.add_failed(scene_id, exc)

    def prune_assets(self, older_than: float = ASSET_GRACE_SECONDS) -> None:
        """Forget the assets of replaced versions retired more than `older_than` seconds ago."""
        now, used = time.monotonic(), self._assets_in_use()
        for name, since in list(self.retired.items()):
            if now - since >= older_than:
                del self.retired[name]
                if name not in used:
                    self.assets.pop(name, None)

    def _assets_in_use(self) -> set[str]:
        return set().union(*(_asset_names(scene.prepared) for scene in self.scenes.values()))

    def add_failed(self, scene_id: str, exc: BaseException) -> None:
        entry = self.entries[scene_id]
        message = f"{entry.file}: asset: cannot prepare {entry.manifest.asset} ({without_paths(str(exc))})"
        log.error("scene asset rejected", extra={"detail": message}, exc_info=exc)
        self.errors.append(message)
        entry.status, entry.message = "failed", message
        self._render_index()

    def _render_index(self) -> None:
        self.index = _json_blob({"scenes": [index_entry(e) for e in self.entries.values()]})


def asset_name(blob: Blob, ext: str) -> str:
    return f"{blob.digest[:20]}.{ext}"


def _asset_names(prepared: PreparedScene) -> set[str]:
    return {asset_name(prepared.glb, "glb"), asset_name(prepared.walk, "walk"),
            *(asset_name(level.glb, "glb") for level in prepared.lods)}


def scenes_fingerprint(scenes_dir: Path) -> tuple[tuple[str, int, int, int], ...]:
    """The manifests' names, sizes, times and inodes: it changes when an import writes (or renames) one."""
    try:
        found = [(e.name, e.stat()) for e in os.scandir(scenes_dir) if e.name.endswith(".json")]
    except OSError:
        return ()
    return tuple(sorted((name, st.st_size, st.st_mtime_ns, st.st_ino) for name, st in found))


def without_paths(text: str) -> str:
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
    catalog = Catalog(scenes_dir=scenes_dir)
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
    run: the cache entry it was building is simply not renamed into place) and applies every result on the loop.
    Once started it also watches the scenes directory (module docstring: live catalog); `done` is set whenever
    nothing is left to prepare."""

    def __init__(self, catalog: Catalog, assets_dir: Path, data_dir: Path, cell: float, optimize: bool,
                 threads: int = 1, rescan_seconds: float = RESCAN_SECONDS) -> None:
        self.catalog, self.assets_dir, self.data_dir, self.cell, self.optimize = (
            catalog, assets_dir, data_dir, cell, optimize)
        self.threads = threads
        self.rescan_seconds = rescan_seconds
        self.jobs: queue.Queue[Job] = queue.Queue()
        self.stopping = threading.Event()
        self.done = asyncio.Event()
        self.remaining = 0  # jobs queued or running (event loop's thread only)
        self.workers = 0  # threads running (under `lock`)
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.watcher: asyncio.Task[None] | None = None
        self.scan_lock = asyncio.Lock()
        self.rescans: set[asyncio.Future[None]] = set()
        # Taken now, after the catalog was planned: a manifest written since then is seen by the first rescan.
        self.fingerprint = scenes_fingerprint(catalog.scenes_dir) if catalog.scenes_dir else ()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._enqueue([(sid, entry.manifest) for sid, entry in self.catalog.entries.items()
                       if entry.status == "preparing"])
        if self.catalog.scenes_dir is not None and self.rescan_seconds > 0:
            self.watcher = loop.create_task(self._watch())

    def stop(self) -> None:
        self.stopping.set()
        if self.watcher is not None:
            self.watcher.cancel()

    def rescan_soon(self) -> None:
        """`rescan` in the background (on the event loop's thread), e.g. once an import here finished."""
        task = asyncio.ensure_future(self.rescan())
        self.rescans.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(self.rescans.discard)

    async def rescan(self) -> None:
        """Read the scenes directory again if anything in it changed, and prepare what is new."""
        scenes_dir = self.catalog.scenes_dir
        if scenes_dir is None or self.loop is None:
            return
        async with self.scan_lock:
            fingerprint = await asyncio.to_thread(scenes_fingerprint, scenes_dir)
            if fingerprint == self.fingerprint:
                return
            loaded, errors = await asyncio.to_thread(load_manifests, scenes_dir)
            self.fingerprint = fingerprint
            self._enqueue(self.catalog.merge(loaded, errors))

    async def _watch(self) -> None:
        while not self.stopping.is_set():
            await asyncio.sleep(self.rescan_seconds)
            try:
                await self.rescan()
                self.catalog.prune_assets()
            except Exception:  # a bad moment on the disk must not end the watching
                log.exception("rescanning the scenes failed")

    def _enqueue(self, jobs: list[Job]) -> None:
        # Smallest first: most scenes become ready soon, whatever a huge one costs.
        jobs = sorted(jobs, key=lambda job: self._weight(job[1]))
        self.remaining += len(jobs)
        if self.remaining == 0:
            self.done.set()
            return
        self.done.clear()
        for job in jobs:
            self.jobs.put(job)
        with self.lock:
            while self.workers < min(self.threads, self.jobs.qsize()):
                self.workers += 1
                threading.Thread(target=self._work, name=f"prepare-{self.workers}", daemon=True).start()

    def _weight(self, manifest: Manifest) -> int:
        names = [lod.asset for lod in manifest.lods] if manifest.lods else [manifest.asset]
        try:
            return sum((self.assets_dir / name).stat().st_size for name in names)
        except OSError:
            return 0  # missing: fails at once, and says so

    def _work(self) -> None:
        while not self.stopping.is_set():
            with self.lock:  # taking a job and leaving are one step: `_enqueue` never misses a leaving worker
                try:
                    scene_id, manifest = self.jobs.get_nowait()
                except queue.Empty:
                    self.workers -= 1
                    return

            def progress(fraction: float, scene_id: str = scene_id, manifest: Manifest = manifest) -> None:
                self._post(self.catalog.set_progress, scene_id, fraction, manifest)

            try:
                prepared = prepare_entry(manifest, self.assets_dir, self.data_dir, self.cell, self.optimize,
                                         progress)
            except Exception as exc:  # one broken asset must not take the other scenes down
                self._post(self._finish, scene_id, manifest, None, exc)
            else:
                self._post(self._finish, scene_id, manifest, prepared, None)

    def _post(self, fn: Callable[..., None], *args: Any) -> None:
        assert self.loop is not None
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is closed: the server stopped
            self.stopping.set()

    def _finish(self, scene_id: str, manifest: Manifest, prepared: PreparedScene | None,
                exc: BaseException | None) -> None:
        self.catalog.finish(scene_id, manifest, prepared, exc)
        self.remaining -= 1
        if self.remaining == 0:
            self.done.set()
