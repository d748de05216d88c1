"""Scene imports started from the staff page (server/api/scene_imports.py): a queue, a worker thread, job states.

An uploaded source becomes an `ImportJob` (queued -> running -> done | failed) run by `import_scene` in one
daemon thread per process (an import is CPU-heavy; a server stopping does not wait for it: the importer writes
nothing half-done). Invariants:
- Each job's state is one small JSON file in `<data_dir>/import-jobs/`, replaced atomically on every visible
  change (a stage, or progress moved by a percent). Any process of the machine answers about any job: with
  `--workers`, the page's status requests may reach another process than the upload did.
- A job whose process is gone (a restart mid-import) reads as failed `interrupted`, never as running forever.
- Errors are the importer's stable codes and one-sentence messages (server/importer/errors.py) without paths;
  anything unforeseen is logged here with its traceback and reported as `internal_error`, never shown.
- The uploaded file is removed once its job ended, whatever the outcome; at most KEEP_JOBS job files remain.
- A job waiting behind another says so (stage "queued"); one that runs at once starts as "starting".
- The importer's words name its command line options (`--units`, `--up`); a job came from the page's form, so
  its report and errors name the form's fields instead (`for_the_form`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..catalog import without_paths
from . import ImportReport, import_scene
from .errors import ImportFailure

log = logging.getLogger("civic.import")
MAX_WAITING = 3  # jobs queued behind the running one, per process (429 beyond)
KEEP_JOBS = 30
STALE_UPLOAD_SECONDS = 24 * 3600  # an upload folder this old belongs to a process that died mid-way
JobState = Literal["queued", "running", "done", "failed"]
_OPTION = re.compile(r"(?:\b(give|check) )?--(units|up)\b")
_FIELD = {"units": "the length unit in the form", "up": "the up axis in the form"}


def for_the_form(text: str) -> str:
    """The importer's words with its command line options named as the page's form fields (a browser user has no
    `--units` to give): "give --units" -> "choose the length unit in the form"."""
    def field(match: re.Match[str]) -> str:
        verb = {"give": "choose ", "check": "check "}.get(match.group(1) or "", "")
        return f"{verb}{_FIELD[match.group(2)]}"

    return _OPTION.sub(field, text)


@dataclass
class ImportJob:
    id: str
    sceneId: str
    file: str  # the uploaded file's (cleaned) name
    bytes: int
    units: str
    up: str
    title: str | None
    staff: str
    state: JobState = "queued"
    progress: float = 0.0
    stage: str = "queued"
    created: float = field(default_factory=time.time)
    finished: float | None = None
    report: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    pid: int = field(default_factory=os.getpid)  # which process runs it (not shown)


def report_json(report: ImportReport) -> dict[str, Any]:
    """What the staff page shows at the end of an import (the CLI prints the same as lines)."""
    out: dict[str, Any] = {"unchanged": report.unchanged, "sha256": report.sha256}
    if report.unchanged:
        return out
    validator = None
    if report.source_validator is not None:
        v = report.source_validator
        serious = [m for m in v.get("messages", []) if m.get("severity", 3) <= 1][:5]
        validator = {"errors": v["numErrors"], "warnings": v["numWarnings"], "infos": v["numInfos"],
                     "messages": [{"code": str(m.get("code", "")), "message": str(m.get("message", ""))[:300],
                                   "pointer": str(m.get("pointer", ""))[:200]} for m in serious]}
    out.update({
        "source": {"name": report.source_name, "bytes": report.source_bytes},
        "triangles": report.triangles,
        "materials": report.materials,
        "textures": report.textures,
        "validator": validator,
        "changes": [for_the_form(change) for change in report.changes],
        "levels": [{"asset": lv.asset, "triangles": lv.triangles, "error": lv.error, "bytes": lv.bytes,
                    "validatorErrors": lv.validator["numErrors"], "validatorWarnings": lv.validator["numWarnings"]}
                   for lv in report.levels],
        "walkable": {"bytes": report.walk_bytes, "cell": report.walk_cell},
        "budgets": [{"name": name, "figure": figure, "met": met} for name, figure, met in report.budgets],
        "budgetsMet": report.budgets_met,
        "seconds": round(report.seconds, 1),
    })
    return out


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ImportJobs:
    """This process's import queue and every process's job files. `on_finished(job)` is called from the worker
    thread when a job ended (the server rescans its scenes then)."""

    def __init__(self, scenes_dir: Path, assets_dir: Path, data_dir: Path,
                 on_finished: Callable[[ImportJob], None] = lambda job: None) -> None:
        self.scenes_dir, self.assets_dir, self.data_dir = scenes_dir, assets_dir, data_dir
        self.folder = data_dir / "import-jobs"
        self.uploads = data_dir / "import-uploads"
        self.on_finished = on_finished
        self.queue: queue.Queue[tuple[ImportJob, Path]] = queue.Queue()
        self.lock = threading.Lock()
        self.active: dict[str, ImportJob] = {}  # queued or running here, by job id
        self.worker: threading.Thread | None = None

    # --- uploads ----------------------------------------------------------------------------------------------

    def new_upload(self) -> tuple[str, Path]:
        """A fresh job id and the empty folder its upload is written into (blocking: call it in a thread).
        Folders a stopped process left behind go first."""
        self._sweep_uploads()
        job_id = secrets.token_hex(8)
        folder = self.uploads / job_id
        folder.mkdir(parents=True)
        return job_id, folder

    def discard_upload(self, job_id: str) -> None:
        shutil.rmtree(self.uploads / job_id, ignore_errors=True)

    def _sweep_uploads(self) -> None:
        now = time.time()
        try:
            folders = list(self.uploads.iterdir())
        except OSError:
            return
        for folder in folders:
            with contextlib.suppress(OSError):
                if now - folder.stat().st_mtime > STALE_UPLOAD_SECONDS:
                    shutil.rmtree(folder, ignore_errors=True)

    def busy(self) -> bool:
        """True when no more jobs may wait here."""
        with self.lock:
            return len(self.active) > MAX_WAITING

    def importing(self, scene_id: str) -> bool:
        with self.lock:
            return any(job.sceneId == scene_id for job in self.active.values())

    # --- jobs ---------------------------------------------------------------------------------------------------

    def submit(self, job: ImportJob, source: Path) -> ImportJob:
        with self.lock:
            job.stage = "queued" if self.active else "starting"  # "queued" only when another import is ahead
            self.active[job.id] = job
        self._save(job)
        self._prune()
        self.queue.put((job, source))
        with self.lock:
            if self.worker is None or not self.worker.is_alive():
                self.worker = threading.Thread(target=self._work, name="scene-import", daemon=True)
                self.worker.start()
        return job

    def get(self, job_id: str) -> dict[str, Any] | None:
        """A job's public state, from whichever process runs or ran it (blocking: call it in a thread)."""
        if not job_id.isalnum() or len(job_id) != 16:
            return None
        return self._read(self.folder / f"{job_id}.json")

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest jobs first (blocking: call it in a thread)."""
        jobs = [job for path in self._files() if (job := self._read(path)) is not None]
        jobs.sort(key=lambda job: job["created"], reverse=True)
        return jobs[:limit]

    def _files(self) -> list[Path]:
        try:
            return list(self.folder.glob("*.json"))
        except OSError:
            return []

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if data.get("state") in ("queued", "running") and not _alive(int(data.get("pid", 0))):
            data.update(state="failed", error={"code": "interrupted", "message": "The server stopped during this "
                                                                                 "import; upload the file again."})
        data.pop("pid", None)
        return data if isinstance(data, dict) else None

    def _save(self, job: ImportJob) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{job.id}.json"
        tmp = path.with_name(f".{job.id}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(asdict(job), ensure_ascii=False))
        os.replace(tmp, path)

    def _prune(self) -> None:
        files = sorted(self._files(), key=lambda p: p.stat().st_mtime if p.exists() else 0, reverse=True)
        for old in files[KEEP_JOBS:]:
            if old.stem not in self.active:
                old.unlink(missing_ok=True)

    def _work(self) -> None:
        while True:
            try:
                job, source = self.queue.get(timeout=5)
            except queue.Empty:
                with self.lock:
                    if self.queue.empty():
                        self.worker = None
                        return
                continue
            try:
                self._run(job, source)
            finally:
                with self.lock:
                    self.active.pop(job.id, None)
                self.discard_upload(job.id)
                with contextlib.suppress(Exception):
                    self.on_finished(job)

    def _run(self, job: ImportJob, source: Path) -> None:
        job.state, job.stage = "running", "reading the source"
        self._save(job)
        saved: list[tuple[float, str]] = [(0.0, job.stage)]  # what the job file says

        def progress(fraction: float, stage: str) -> None:
            job.progress, job.stage = round(max(0.0, min(1.0, fraction)), 3), stage
            if stage != saved[0][1] or job.progress - saved[0][0] >= 0.01:
                saved[0] = (job.progress, stage)
                self._save(job)

        try:
            report = import_scene(source, self.scenes_dir, self.assets_dir, self.data_dir, scene_id=job.sceneId,
                                  title=job.title, units=job.units, up=job.up, progress=progress)
        except ImportFailure as exc:
            job.state, job.error = "failed", {"code": exc.code, "message": for_the_form(without_paths(exc.message))}
            log.info("scene import refused", extra={"scene": job.sceneId, "code": exc.code})
        except Exception:
            log.exception("scene import failed", extra={"scene": job.sceneId})
            job.state, job.error = "failed", {"code": "internal_error", "message": "The import stopped on an "
                                              "unexpected error; the server log has the details."}
        else:
            job.state, job.progress, job.stage = "done", 1.0, "done"
            job.report = report_json(report)
            log.info("scene imported", extra={"scene": job.sceneId, "unchanged": report.unchanged})
        job.finished = time.time()
        self.discard_upload(job.id)  # before the job reads as finished: a finished job has left nothing behind
        self._save(job)
