"""Scene imports from the staff pages (issue 12 item 1): admins upload a city's model, follow its import and then
its preparation, and read the report. The page `/staff/scenes` (web/staff-scenes.html, web/js/staff-scenes.js).

`POST /api/scene-imports` takes multipart/form-data: `file` (the model) and the optional text fields `id`, `title`,
`units`, `up` (as `python -m server scenes import`). Invariants:
- Checked before the body is read: the admin role and CSRF (the route), an announced length within
  MAX_UPLOAD_BYTES (413), free space in the data directory for it (507), a place in this process's import queue
  (429). While reading: the file is streamed to a folder in
  the data directory, never held in memory; more than MAX_UPLOAD_BYTES is 413; its type is decided by its first
  bytes (GLB magic, zip, glTF JSON or OBJ text), never by its name or claimed type (415 otherwise); text fields
  are bounded and validated (422 names the field). Whatever is refused leaves no file behind.
- The import runs in a thread (server/importer/jobs.py): the answer is 202 with the job; `GET
  /api/scene-imports/{job_id}` tells its progress, stage, then the report or the importer's error (code and
  message, never a traceback), and how the scene's preparation goes in this process's catalog (`scene`, with the
  scene's address once it can be opened: ready, or being prepared, which its page shows).
- When an import ends, this process rescans the scenes directory at once (server/catalog.py, live catalog);
  other processes notice by their periodic rescan.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import weakref
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import Field

from ..catalog import Catalog
from ..errors import ApiError
from ..importer import SCENE_ID, _slug
from ..importer.jobs import ImportJob, ImportJobs
from ..keys import CATALOG, CONFIG
from ..pages import PAGES, html_response, language_of
from .models import ErrorDetail, Out
from .route import Call, Route

MAX_UPLOAD_BYTES = 1 << 30  # one model (or a zip of one with its textures)
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the text fields
MAX_FIELD_BYTES = 1024
SNIFF_BYTES = 64 * 1024  # what the type is decided on
CHUNK = 256 * 1024
# Free space asked for in the data directory before an upload: the file, what it unpacks to and the levels made from
# it (about 3x), plus a reserve so that the store beside it never runs out.
SPACE_FACTOR, SPACE_RESERVE = 3, 256 << 20
UNITS = ("auto", "m", "cm", "mm", "in", "ft")
UPS = ("auto", "y", "z")
_OBJ_LINE = re.compile(rb"^[ \t]*(?:v|vt|vn|f|o|g|mtllib|usemtl)[ \t]", re.M)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The OpenAPI request body of the upload (server/openapi.py describes upload routes from it).
IMPORT_FORM: dict[str, Any] = {"content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "a .glb, a .gltf (with embedded data), an .obj, or a .zip holding a model with its "
                                "side files; at most 1 GiB"},
        "id": {"type": "string", "pattern": SCENE_ID.pattern, "description": "scene id (default: from the file "
                                                                              "name)"},
        "title": {"type": "string", "maxLength": 120, "description": "English title"},
        "units": {"type": "string", "enum": list(UNITS)},
        "up": {"type": "string", "enum": list(UPS)}}}}}}

# One job registry per application, made on first use (the application is frozen by then: no key can be added).
_REGISTRIES: weakref.WeakKeyDictionary[web.Application, ImportJobs] = weakref.WeakKeyDictionary()


class SceneState(Out):
    status: Literal["waiting", "preparing", "ready", "failed"]
    progress: float | None = None
    message: str | None = None
    url: str | None = None


class Job(Out):
    id: str
    sceneId: str
    file: str
    bytes: int
    units: str
    up: str
    title: str | None
    staff: str
    state: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1)
    stage: str
    created: float
    finished: float | None
    report: dict[str, Any] | None
    error: ErrorDetail | None
    scene: SceneState | None = None


class JobList(Out):
    jobs: list[Job]


def registry(app: web.Application) -> ImportJobs:
    jobs = _REGISTRIES.get(app)
    if jobs is None:
        config = app[CONFIG]
        loop = asyncio.get_running_loop()

        def finished(_: ImportJob) -> None:  # from the import thread
            loop.call_soon_threadsafe(_rescan, app)

        jobs = _REGISTRIES[app] = ImportJobs(config.scenes_dir, config.assets_dir, config.data_dir, finished)
    return jobs


def _rescan(app: web.Application) -> None:
    from ..app import PREPARATION  # the app module imports the routes: imported here, not at the top

    preparation = app.get(PREPARATION)
    if preparation is not None:  # serve: scenes are prepared in the background, and new ones picked up
        preparation.rescan_soon()


def scene_state(catalog: Catalog, job: dict[str, Any]) -> dict[str, Any] | None:
    """How the imported version of the job's scene goes in this process's catalog (None before the import ended)."""
    if job["state"] != "done":
        return None
    entry = catalog.entries.get(job["sceneId"])
    sha = (job.get("report") or {}).get("sha256")
    url = f"/scenes/{job['sceneId']}"

    def version(manifest: Any) -> str | None:
        return manifest.source.sha256 if manifest is not None and manifest.source is not None else None

    if entry is None:
        return {"status": "waiting"}
    if entry.next is not None and version(entry.next) == sha:  # the old version serves meanwhile: open it
        return {"status": "preparing", "progress": entry.next_progress, "url": url}
    if version(entry.manifest) == sha:
        if entry.status == "preparing":  # the scene's page says how its preparation goes
            return {"status": "preparing", "progress": entry.progress, "url": url}
        if entry.status == "failed":
            return {"status": "failed", "message": entry.message}
        return {"status": "ready", "url": url}
    if entry.next_message:
        return {"status": "failed", "message": entry.next_message}
    return {"status": "waiting"}


def _sniff(head: bytes) -> str | None:
    """The source's kind from its first bytes: the suffix the importer reads it by, or None."""
    if head[:4] == b"glTF":
        return ".glb"
    if head[:4] == b"PK\x03\x04":
        return ".zip"
    if b"\0" in head:
        return None
    if head.lstrip()[:1] == b"{":
        return ".gltf"
    if _OBJ_LINE.search(head):
        return ".obj"
    return None


def _clean_name(filename: str | None) -> str:
    # Some clients percent-encode the name in Content-Disposition (aiohttp does); browsers send it as it is.
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(unquote(filename or "")).stem).strip("-.")[:80]
    return stem or "model"


def _field(name: str, raw: bytes) -> str:
    try:
        value = raw.decode()
    except UnicodeDecodeError:
        raise ApiError(422, "invalid_field", f"{name}: not UTF-8 text") from None
    value = value.strip()
    if name == "id" and value and not SCENE_ID.match(value):
        raise ApiError(422, "invalid_field", "id: 1-63 lower-case letters, digits and '-', starting with a letter "
                                             "or digit")
    if name == "title" and (len(value) > 120 or _CONTROL.search(value)):
        raise ApiError(422, "invalid_field", "title: at most 120 characters, on one line")
    if name == "units" and value not in UNITS:
        raise ApiError(422, "invalid_field", f"units: one of {', '.join(UNITS)}")
    if name == "up" and value not in UPS:
        raise ApiError(422, "invalid_field", f"up: one of {', '.join(UPS)}")
    return value


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", f"A model is at most {MAX_UPLOAD_BYTES >> 20} MiB.")


async def _receive(part: BodyPartReader, folder: Path) -> tuple[Path, int]:
    """Stream the file part into `folder`; its name is the uploaded one cleaned, its suffix the sniffed kind."""
    head, size = b"", 0
    path: Path | None = None
    handle = None
    try:
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise _too_large()
            if path is None:
                head += chunk
                if len(head) < SNIFF_BYTES:
                    continue
                path, handle = await _open_for(folder, part.filename, head)
                chunk = head
            assert handle is not None
            await asyncio.to_thread(handle.write, chunk)
        if path is None:  # all of it fitted in the first bytes
            if not head:
                raise ApiError(422, "empty_file", "file: the file is empty")
            path, handle = await _open_for(folder, part.filename, head)
            await asyncio.to_thread(handle.write, head)
    finally:
        if handle is not None:
            await asyncio.to_thread(handle.close)
    return path, size


async def _open_for(folder: Path, filename: str | None, head: bytes) -> tuple[Path, Any]:
    suffix = _sniff(head[:SNIFF_BYTES])
    if suffix is None:
        raise ApiError(415, "unsupported_file_type", "The file is not a glTF model (.glb or .gltf), an .obj, or a "
                                                     ".zip holding one.")
    path = folder / f"{_clean_name(filename)}{suffix}"
    return path, await asyncio.to_thread(path.open, "wb")


async def _read_form(call: Call, folder: Path) -> tuple[Path, int, dict[str, str]]:
    fields: dict[str, str] = {}
    source: tuple[Path, int] | None = None
    try:
        reader = await call.request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise ApiError(400, "invalid_form", "Nested multipart is not accepted.")
            name = part.name or ""
            if name == "file":
                if source is not None:
                    raise ApiError(422, "invalid_field", "file: one file per import")
                source = await _receive(part, folder)
            elif name in ("id", "title", "units", "up"):
                raw = await part.read_chunk(MAX_FIELD_BYTES + 1)
                if len(raw) > MAX_FIELD_BYTES or await part.read_chunk(1):
                    raise ApiError(422, "invalid_field", f"{name}: too long")
                fields[name] = _field(name, raw)
            else:
                raise ApiError(422, "invalid_field", f"{name[:40]}: unknown field")
    except (ValueError, AssertionError, HttpProcessingError):
        raise ApiError(400, "invalid_form", "The form is not valid multipart/form-data.") from None
    if source is None:
        raise ApiError(422, "invalid_field", "file: required")
    return source[0], source[1], fields


async def start_import(call: Call) -> web.Response:
    request = call.request
    if not request.content_type.startswith("multipart/form-data"):
        raise ApiError(415, "unsupported_media_type", "Send the model as multipart/form-data (file, id, title, "
                                                      "units, up).")
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES + FORM_OVERHEAD:
        raise _too_large()
    free = (await asyncio.to_thread(shutil.disk_usage, call.app[CONFIG].data_dir)).free
    if free < SPACE_FACTOR * (request.content_length or 0) + SPACE_RESERVE:
        raise ApiError(507, "insufficient_storage", "The server's disk has too little free space for this model; "
                                                    "ask the people who run it.")
    jobs = registry(call.app)
    if jobs.busy():
        response = web.json_response({"error": {"code": "too_many_imports", "message": "Several imports are "
                                                "waiting already; try again when one has finished."}}, status=429)
        response.headers["Retry-After"] = "60"
        return response
    job_id, folder = await asyncio.to_thread(jobs.new_upload)
    submitted = False
    try:
        source, size, fields = await _read_form(call, folder)
        scene_id = fields.get("id") or _slug(source.stem)
        if jobs.importing(scene_id):
            raise ApiError(409, "import_in_progress", f"Scene {scene_id} is being imported already; wait for that "
                                                      "import to end.")
        job = ImportJob(job_id, scene_id, source.name, size, fields.get("units") or "auto",
                        fields.get("up") or "auto", fields.get("title") or None, call.actor().username)
        await asyncio.to_thread(jobs.submit, job, source)
        submitted = True
    finally:
        if not submitted:
            await asyncio.to_thread(jobs.discard_upload, job_id)
    answer = await asyncio.to_thread(jobs.get, job_id)
    return web.json_response(answer, status=202, headers={"Location": f"/api/scene-imports/{job_id}"})


async def get_import(call: Call) -> web.Response:
    jobs = registry(call.app)
    job = await asyncio.to_thread(jobs.get, call.request.match_info["job_id"])
    if job is None:
        raise ApiError(404, "import_not_found", "There is no import with this id.")
    job["scene"] = scene_state(call.app[CATALOG], job)
    return web.json_response(job)


async def list_imports(call: Call) -> web.Response:
    jobs = await asyncio.to_thread(registry(call.app).recent)
    catalog = call.app[CATALOG]
    for job in jobs:
        job["scene"] = scene_state(catalog, job)
    return web.json_response({"jobs": jobs})


async def staff_scenes_page(call: Call) -> web.Response:
    """The admins' scene list and upload form (filled by staff-scenes.js; the API checks the role)."""
    lang, chosen = language_of(call.request)
    body = call.app[PAGES].render("staff-scenes.html", lang, call.request,
                                  max_upload_mib=MAX_UPLOAD_BYTES >> 20, units=UNITS, ups=UPS)
    return html_response(call.request, body, lang, chosen)


ADMIN_READ = (401, 403)
UPLOAD_SECONDS = 3600.0  # 1 GiB at 2.4 Mbit/s; slow senders of small bodies still meet the server's body deadline
ROUTES: tuple[Route, ...] = (
    Route("GET", "/staff/scenes", staff_scenes_page, "Staff: the scenes with their state, and the import form",
          "pages", content_type="text/html"),
    Route("POST", "/api/scene-imports", start_import,
          "Import a model as a scene (multipart/form-data: file, id, title, units, up); 202 with the job", "scenes",
          response=Job, status=202, role="admin", upload=True, form=IMPORT_FORM, body_timeout=UPLOAD_SECONDS,
          no_store=True,
          errors=(400, 401, 403, 409, 413, 415, 422, 429, 507)),
    Route("GET", "/api/scene-imports", list_imports, "Recent scene imports, newest first", "scenes",
          response=JobList, role="admin", errors=ADMIN_READ, no_store=True),
    Route("GET", "/api/scene-imports/{job_id}", get_import,
          "One scene import: progress and stage, then its report or error, and the scene's preparation", "scenes",
          response=Job, role="admin", errors=(*ADMIN_READ, 404), no_store=True),
)
