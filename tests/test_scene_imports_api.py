"""Scene imports uploaded by admins, and the live catalog (issue 12 items 1 and 6).

A real app preparing its scenes in the background (as `serve` does) over a temporary world holding the tiny
hand-written scene. A small synthetic reconstruction (server/importer/synthetic.py) is uploaded as multipart; the
import runs in its thread and the scene appears in /api/scenes as preparing, then ready, without a restart. A scene
written by the command line (another process) is picked up by the periodic rescan; a new version keeps the old one
serving until it is ready. Bad uploads get clear 4xx codes and leave no file behind.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server import pipeline
from server.api import scene_imports
from server.app import PREPARATION, create_app
from server.config import ROOT, Config
from server.importer import import_scene, synthetic
from server.importer.jobs import ImportJob, ImportJobs, for_the_form

from .conftest import tiny_manifest, write_world
from .redis_server import RedisServer
from .support import ServerProcess
from .test_hotspots_api import same_origin, staff_session
from .test_workers import owner, workers_of

IMPORTS = "/api/scene-imports"


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("sources")
    return {
        "hall": synthetic.build(root / "v1" / "Market Hall.glb", triangles=6_000, textures=1, texture_size=32),
        "hall2": synthetic.build(root / "v2" / "Market Hall.glb", triangles=7_000, textures=1, texture_size=32,
                                 seed=3),
    }


@pytest.fixture
def config(tmp_path: Path) -> Config:
    scenes, assets = write_world(tmp_path / "world", {"tiny": tiny_manifest()})
    return Config(data_dir=tmp_path / "data", scenes_dir=scenes, assets_dir=assets, web_dir=ROOT / "web",
                  optimize=False)


@pytest.fixture
async def client(aiohttp_client, config):  # type: ignore[no-untyped-def]
    app = create_app(config, prepare_in_background=True)
    app[PREPARATION].rescan_seconds = 0.2  # the periodic rescan, quick for the tests
    client = await aiohttp_client(app)
    await asyncio.wait_for(app[PREPARATION].done.wait(), 60)
    return client


@pytest.fixture
def held_walks(monkeypatch):  # type: ignore[no-untyped-def]
    """Preparing an imported scene's walkable grid waits until the test releases it (so 'preparing' is seen)."""
    release = threading.Event()
    real = pipeline.prepare_walk

    def held(source: Path, data_dir: Path, cell: float = 0.25):  # type: ignore[no-untyped-def]
        if source.name.startswith("market-hall-"):
            assert release.wait(60), "the test never released the preparation"
        return real(source, data_dir, cell)

    monkeypatch.setattr(pipeline, "prepare_walk", held)
    yield release
    release.set()


def form(data: bytes, filename: str = "Market Hall.glb", **fields: str) -> aiohttp.FormData:
    body = aiohttp.FormData()
    for name, value in fields.items():
        body.add_field(name, value)
    body.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return body


async def upload(client, csrf: str, data: bytes, filename: str = "Market Hall.glb", **fields: str):  # type: ignore[no-untyped-def]
    return await client.post(IMPORTS, data=form(data, filename, **fields),
                             headers={"X-CSRF-Token": csrf, **same_origin(client)})


async def eventually(check, seconds: float = 60.0):  # type: ignore[no-untyped-def]
    """Polls `check` (a coroutine function) until it returns something truthy; returns that."""
    deadline = time.monotonic() + seconds
    while not (found := await check()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return found


async def listed(client) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    return {s["id"]: s for s in (await (await client.get("/api/scenes")).json())["scenes"]}


async def finished_job(client, job_id: str, seen: list[float] | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    async def check() -> dict[str, Any] | None:
        job = await (await client.get(f"{IMPORTS}/{job_id}")).json()
        if seen is not None:
            seen.append(job["progress"])
        return job if job["state"] in ("done", "failed") else None

    return await eventually(check)


def leftovers(config: Config) -> list[str]:
    folder = config.data_dir / "import-uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_an_uploaded_model_is_imported_then_prepared_and_served_without_a_restart(client, config, sources,
                                                                                        held_walks):
    client.server.app[PREPARATION].rescan_seconds = 3600  # from its next sleep on: only the import's own rescan
    csrf = await staff_session(client, "ada", role="admin")
    answer = await upload(client, csrf, sources["hall"].read_bytes(), title="Market hall", units="auto", up="auto")
    assert answer.status == 202, await answer.text()
    job = await answer.json()
    assert answer.headers["Location"] == f"{IMPORTS}/{job['id']}" and answer.headers["Cache-Control"] == "no-store"
    assert (job["sceneId"], job["file"], job["staff"]) == ("market-hall", "Market-Hall.glb", "ada")
    assert job["state"] in ("queued", "running") and job["bytes"] == sources["hall"].stat().st_size
    assert job["stage"] != "queued"  # alone: not "waiting for another import"
    scene_imports.Job.model_validate(job)  # as documented
    seen: list[float] = []
    job = await finished_job(client, job["id"], seen)
    assert job["state"] == "done", job["error"]
    scene_imports.Job.model_validate(job)
    assert job["progress"] == 1.0 and seen == sorted(seen)  # never backwards
    report = job["report"]
    assert report["source"] == {"name": "Market-Hall.glb", "bytes": sources["hall"].stat().st_size}
    assert report["triangles"] > 5_000 and report["textures"] == 1 and report["materials"] >= 1
    assert report["validator"]["errors"] == 0 and report["budgetsMet"] is True
    assert any("cm" in change for change in report["changes"])
    # The page's user has a form, not the command line: the report names the form's field.
    assert any("choose the length unit in the form" in change for change in report["changes"])
    assert not any("--" in change for change in report["changes"])
    assert {b["name"] for b in report["budgets"]} >= {"first view, 3D payload", "walkable grid"}
    assert leftovers(config) == []  # the upload is gone once imported

    # Live catalog: the import's own process rescans at once; the scene is preparing (its grid held), then ready.
    async def preparing() -> bool:
        return (await listed(client)).get("market-hall", {}).get("status") == "preparing"

    await eventually(preparing)
    scene = (await (await client.get(f"{IMPORTS}/{job['id']}")).json())["scene"]
    assert scene["status"] == "preparing" and 0 <= scene["progress"] < 1
    assert scene["url"] == "/scenes/market-hall"  # its page says how the preparation goes
    assert (await client.get("/api/scenes/market-hall")).status == 503
    held_walks.set()

    async def ready() -> bool:
        return (await listed(client))["market-hall"]["status"] == "ready"

    await eventually(ready)
    document = await (await client.get("/api/scenes/market-hall")).json()
    assert document["title"]["en"] == "Market hall" and document["asset"]["triangles"] > 5_000
    assert document["description"] == {"en": "A 3D model of Market hall to walk through."}  # not the file's name
    assert (await client.get(document["asset"]["url"])).status == 200
    scene = (await (await client.get(f"{IMPORTS}/{job['id']}")).json())["scene"]
    assert scene == {"status": "ready", "url": "/scenes/market-hall"}
    jobs = (await (await client.get(IMPORTS)).json())["jobs"]
    assert [j["id"] for j in jobs] == [job["id"]] and jobs[0]["scene"]["status"] == "ready"
    scene_imports.JobList.model_validate({"jobs": jobs})
    assert (await (await client.get("/healthz")).json())["scenes"] == 2


async def test_uploading_the_same_file_again_changes_nothing(client, sources):
    csrf = await staff_session(client, "ada", role="admin")
    first = await finished_job(client, (await (await upload(client, csrf, sources["hall"].read_bytes())).json())["id"])
    again = await finished_job(client, (await (await upload(client, csrf, sources["hall"].read_bytes())).json())["id"])
    assert first["state"] == again["state"] == "done"
    assert again["report"] == {"unchanged": True, "sha256": first["report"]["sha256"]}


async def test_a_scene_written_by_the_command_line_is_picked_up_by_the_rescan(client, config, sources):
    """Another process (here the importer called directly, as `scenes import` does) writes the scene."""
    await asyncio.to_thread(import_scene, sources["hall"], config.scenes_dir, config.assets_dir, config.data_dir,
                            scene_id="cli-hall")

    async def ready() -> bool:
        return (await listed(client)).get("cli-hall", {}).get("status") == "ready"

    await eventually(ready)
    assert list(await listed(client)) == ["cli-hall", "tiny"]  # in file order, as after a restart


async def test_a_new_version_keeps_the_old_one_serving_until_it_is_ready(aiohttp_client, config, sources,
                                                                        monkeypatch):
    import_scene(sources["hall"], config.scenes_dir, config.assets_dir, config.data_dir, scene_id="market-hall")
    app = create_app(config, prepare_in_background=True)
    app[PREPARATION].rescan_seconds = 0.2
    client = await aiohttp_client(app)
    await asyncio.wait_for(app[PREPARATION].done.wait(), 60)
    old = await (await client.get("/api/scenes/market-hall")).json()

    release = threading.Event()
    real = pipeline.prepare_walk

    def held(source: Path, data_dir: Path, cell: float = 0.25):  # type: ignore[no-untyped-def]
        assert release.wait(60), "the test never released the preparation"
        return real(source, data_dir, cell)

    monkeypatch.setattr(pipeline, "prepare_walk", held)
    csrf = await staff_session(client, "ada", role="admin")
    answer = await upload(client, csrf, sources["hall2"].read_bytes(), id="market-hall")
    job = await finished_job(client, (await answer.json())["id"])
    assert job["state"] == "done" and job["report"]["sha256"] != old.get("source", {}).get("sha256")

    async def new_version_preparing() -> dict[str, Any] | None:
        scene = (await (await client.get(f"{IMPORTS}/{job['id']}")).json())["scene"]
        return scene if scene["status"] == "preparing" else None

    await eventually(new_version_preparing)
    assert (await listed(client))["market-hall"]["status"] == "ready"  # the old version still serves
    assert await (await client.get("/api/scenes/market-hall")).json() == old
    release.set()

    async def swapped() -> dict[str, Any] | None:
        document = await (await client.get("/api/scenes/market-hall")).json()
        return document if document["asset"]["url"] != old["asset"]["url"] else None

    new = await eventually(swapped)
    assert new["asset"]["triangles"] != old["asset"]["triangles"]
    assert (await client.get(old["asset"]["url"])).status == 200  # pages that loaded the old one still stream it
    app[PREPARATION].catalog.prune_assets(older_than=0)
    assert (await client.get(old["asset"]["url"])).status == 404
    assert (await client.get(new["asset"]["url"])).status == 200


@pytest.mark.parametrize(("data", "fields", "status", "code"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(200), {}, 415, "unsupported_file_type"),
    (b"Hello, this is a letter, not a model.\n" * 20, {}, 415, "unsupported_file_type"),
    (b"", {}, 422, "empty_file"),
    (b"glTF", {"id": "Bad Id!"}, 422, "invalid_field"),
    (b"glTF", {"units": "furlong"}, 422, "invalid_field"),
    (b"glTF", {"up": "x"}, 422, "invalid_field"),
    (b"glTF", {"title": "two\nlines"}, 422, "invalid_field"),
    (b"glTF", {"colour": "red"}, 422, "invalid_field"),
])
async def test_bad_uploads_are_refused_with_clear_codes_and_leave_nothing(client, config, data, fields, status, code):
    csrf = await staff_session(client, "ada", role="admin")
    answer = await upload(client, csrf, data, **fields)
    assert answer.status == status, await answer.text()
    error = (await answer.json())["error"]
    assert error["code"] == code and error["message"]
    assert leftovers(config) == [] and not (config.data_dir / "import-jobs").exists()


async def test_a_form_without_a_file_or_not_multipart_is_refused(client):
    csrf = await staff_session(client, "ada", role="admin")
    headers = {"X-CSRF-Token": csrf, **same_origin(client)}
    no_file = aiohttp.FormData(default_to_multipart=True)
    no_file.add_field("id", "hall")
    answer = await client.post(IMPORTS, data=no_file, headers=headers)
    assert answer.status == 422 and (await answer.json())["error"]["message"] == "file: required"
    answer = await client.post(IMPORTS, json={"file": "hall.glb"}, headers=headers)
    assert answer.status == 415 and (await answer.json())["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(("data", "code", "words"), [
    (b"glTF\x02\x00\x00\x00" + bytes(40), None, None),  # a truncated GLB
    (b'{"asset": {"version": "2.0"}, "buffers": [{"uri": "missing.bin", "byteLength": 12}]}', None, "missing.bin"),
    (b"v 0 0 0\nv nan 1 0\nv 1 0 0\nf 1 2 3\n", None, None),
    # 90 km wide in the unit chosen: the importer's "check --units" is said as the form's field.
    (b"v 0 0 0\nv 90000 0 0\nv 0 10 0\nf 1 2 3\n", "implausible_size", "check the length unit in the form"),
])
async def test_a_model_the_importer_refuses_fails_its_job_with_the_importers_message(client, config, data, code,
                                                                                    words):
    csrf = await staff_session(client, "ada", role="admin")
    answer = await upload(client, csrf, data, filename="broken.model", units="m")
    assert answer.status == 202, await answer.text()
    job = await finished_job(client, (await answer.json())["id"])
    assert job["state"] == "failed" and job["report"] is None
    error = job["error"]
    assert error["code"] not in ("internal_error", "cannot_process") and error["message"]
    assert "Traceback" not in error["message"] and str(config.data_dir) not in error["message"]
    if code:
        assert error["code"] == code
    if words:
        assert words in error["message"] and "--" not in error["message"]
    assert leftovers(config) == []
    assert "broken" not in await listed(client)  # nothing half-written became a scene


async def test_only_admins_may_import_and_writes_need_the_csrf_token(client, sources):
    data = sources["hall"].read_bytes()
    anonymous = await client.post(IMPORTS, data=form(data), headers=same_origin(client))
    assert anonymous.status == 401
    assert (await client.get(IMPORTS)).status == 401
    editor = await staff_session(client, "edith", role="editor")
    refused = await upload(client, editor, data)
    assert refused.status == 403 and (await refused.json())["error"]["code"] == "forbidden"
    assert (await client.get(IMPORTS)).status == 403
    await client.post("/api/auth/logout", json={}, headers={"X-CSRF-Token": editor, **same_origin(client)})
    await staff_session(client, "ada", role="admin")
    no_token = await client.post(IMPORTS, data=form(data), headers=same_origin(client))
    assert no_token.status == 403 and (await no_token.json())["error"]["code"] == "csrf_failed"
    assert (await client.get(f"{IMPORTS}/0123456789abcdef")).status == 404
    assert (await client.get(f"{IMPORTS}/..%2Fsecret")).status == 404


async def test_a_file_over_the_limit_is_413_announced_or_streamed(client, config, sources, monkeypatch):
    monkeypatch.setattr(scene_imports, "MAX_UPLOAD_BYTES", 50_000)
    csrf = await staff_session(client, "ada", role="admin")
    data = sources["hall"].read_bytes()
    assert len(data) > 50_000 + scene_imports.FORM_OVERHEAD
    announced = await upload(client, csrf, data)  # FormData sends a Content-Length
    assert announced.status == 413 and (await announced.json())["error"]["code"] == "payload_too_large"

    async def chunked():  # type: ignore[no-untyped-def]
        yield data

    body = aiohttp.MultipartWriter("form-data")
    part = body.append(chunked(), {"Content-Type": "application/octet-stream"})
    part.set_content_disposition("form-data", name="file", filename="hall.glb")
    streamed = await client.post(IMPORTS, data=body, headers={"X-CSRF-Token": csrf, **same_origin(client)})
    assert streamed.status == 413 and (await streamed.json())["error"]["code"] == "payload_too_large"
    assert leftovers(config) == []


def test_a_job_whose_process_is_gone_reads_as_interrupted(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    jobs = ImportJobs(tmp_path / "scenes", tmp_path / "assets", tmp_path / "data")
    job = ImportJob("0123456789abcdef", "hall", "hall.glb", 10, "auto", "auto", None, "ada", state="running",
                    pid=int(gone.stdout))
    jobs._save(job)
    read = jobs.get(job.id)
    assert read is not None and read["state"] == "failed" and read["error"]["code"] == "interrupted"
    assert "pid" not in read
    assert jobs.get("../../etc/passwd") is None
    assert json.loads((tmp_path / "data" / "import-jobs" / f"{job.id}.json").read_text())["state"] == "running"


async def test_the_staff_scenes_page_is_in_the_visitors_language(client):
    for lang in ("en", "fr", "es", "nl"):
        answer = await client.get(f"/staff/scenes?lang={lang}")
        assert answer.status == 200
        html = await answer.text()
        assert f'<html lang="{lang}"' in html and '<script type="module" src="/static/js/staff-scenes.js">' in html
        assert 'type="file"' in html and "<progress" in html


WEB = ROOT / "web"
# Keys the page builds at run time (staff-scenes.html, staff-scenes.js) from known values.
DYNAMIC = {
    "imports.unit.": scene_imports.UNITS,
    "imports.axis.": scene_imports.UPS,
    "imports.job.": ("queued", "running", "done"),
    "imports.stage.": ("queued", "starting", "reading-the-source", "validating-the-source", "loading-the-model",
                       "normalising", "ambient-occlusion", "writing", "done", "unchanged"),
    "imports.errors.": ("unsupported_file_type", "empty_file", "too_many_imports", "import_in_progress",
                        "payload_too_large", "insufficient_storage"),
}


def _locale(lang: str) -> dict[str, str]:
    return json.loads((WEB / "locales" / f"{lang}.json").read_text(encoding="utf-8"))


def test_every_string_the_page_uses_exists_and_is_translated_with_the_same_placeholders():
    used: set[str] = set()
    for source in (WEB / "staff-scenes.html", WEB / "js" / "staff-scenes.js"):
        used |= set(re.findall(r"['\"`](imports\.[A-Za-z]+(?:\.[A-Za-z_]+)*)['\"`]", source.read_text()))
    used |= {prefix + value for prefix, values in DYNAMIC.items() for value in values}
    english = {k: v for k, v in _locale("en").items() if k.startswith("imports.")}
    assert len(used) > 60 and sorted(used - set(english)) == []
    for lang in ("fr", "es", "nl"):
        other = _locale(lang)
        for key, text in english.items():
            assert other.get(key, "").strip(), (lang, key)
            assert set(re.findall(r"\{(\w+)\}", other[key])) == set(re.findall(r"\{(\w+)\}", text)), (lang, key)


def _scenes_from(port: int, workers: list[int]) -> tuple[int, list[dict[str, Any]]]:
    """GET /api/scenes on a fresh connection: which worker answered, and the list it gave."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /api/scenes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        while len(body) < length:
            body += sock.recv(65536)
        pid = owner(workers, port, sock.getsockname()[1])  # asked while the connection is still open
    return pid, json.loads(body)["scenes"]


def test_every_worker_picks_up_a_scene_the_command_line_imported_while_serving(tmp_path, sources):
    """`serve --workers 2`: the import runs in a third process; each worker finds the scene by its own rescan."""
    data, scenes, assets = tmp_path / "data", tmp_path / "scenes", tmp_path / "assets"
    for folder in (data, scenes, assets):
        folder.mkdir()
    redis = RedisServer()
    redis.start()
    server = None
    try:
        server = ServerProcess(data, "--redis", redis.url, "--workers", "2", "--scenes-dir", str(scenes),
                               "--assets-dir", str(assets), name="workers-import")
        workers = workers_of(server)
        assert len(workers) == 2
        subprocess.run([sys.executable, "-m", "server", "scenes", "--data-dir", str(data), "--scenes-dir",
                        str(scenes), "--assets-dir", str(assets), "import", str(sources["hall"]), "--id", "cli-hall"],
                       cwd=ROOT, check=True, capture_output=True)
        ready_on: set[int] = set()
        deadline = time.monotonic() + 60
        while ready_on != set(workers):  # the kernel spreads connections: a few tries reach both workers
            assert time.monotonic() < deadline, f"ready on {ready_on} of {workers}"
            pid, listed = _scenes_from(server.port, workers)
            if any(scene["id"] == "cli-hall" and scene["status"] == "ready" for scene in listed):
                ready_on.add(pid)
            time.sleep(0.1)
    finally:
        if server is not None:
            assert server.stop() == 0
        redis.stop()


def test_a_job_waits_as_queued_only_behind_another_import(tmp_path):
    jobs = ImportJobs(tmp_path / "scenes", tmp_path / "assets", tmp_path / "data")
    jobs.worker = threading.current_thread()  # a worker that is alive but busy: the queue is not consumed here
    first = ImportJob("0123456789abcdef", "hall", "hall.glb", 10, "auto", "auto", None, "ada")
    second = ImportJob("fedcba9876543210", "park", "park.glb", 10, "auto", "auto", None, "ada")
    jobs.submit(first, tmp_path / "hall.glb")
    jobs.submit(second, tmp_path / "park.glb")
    assert (jobs.get(first.id) or {})["stage"] == "starting"
    assert (jobs.get(second.id) or {})["stage"] == "queued"


def test_the_importers_option_names_become_the_forms_fields():
    assert for_the_form("units: cm (detected: height; give --units if this is wrong)") == \
        "units: cm (detected: height; choose the length unit in the form if this is wrong)"
    assert for_the_form("--units is auto, m, cm, mm, in or ft; --up is auto, y or z") == \
        "the length unit in the form is auto, m, cm, mm, in or ft; the up axis in the form is auto, y or z"
    assert for_the_form("no option here -- at all") == "no option here -- at all"


def test_an_upload_folder_left_by_a_stopped_process_is_removed_by_the_next_upload(tmp_path):
    jobs = ImportJobs(tmp_path / "scenes", tmp_path / "assets", tmp_path / "data")
    _, old = jobs.new_upload()
    (old / "hall.glb").write_bytes(b"glTF")
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    _, recent = jobs.new_upload()  # another upload still arriving: young, kept
    _, new = jobs.new_upload()
    assert not old.exists() and recent.exists() and new.exists()


async def test_a_new_version_that_cannot_be_prepared_leaves_the_old_one_serving(client, config):
    app = client.server.app
    before = await (await client.get("/api/scenes/tiny")).json()
    (config.assets_dir / "broken.glb").write_bytes(b"glTF but not really")
    manifest = json.loads((config.scenes_dir / "tiny.json").read_text())
    (config.scenes_dir / "tiny.json").write_text(json.dumps({**manifest, "asset": "broken.glb"}))
    await app[PREPARATION].rescan()
    await asyncio.wait_for(app[PREPARATION].done.wait(), 60)
    entry = app[PREPARATION].catalog.entries["tiny"]
    assert entry.next is None and entry.next_message.startswith("tiny.json: the new version could not be prepared")
    assert (await listed(client))["tiny"]["status"] == "ready"
    assert await (await client.get("/api/scenes/tiny")).json() == before


async def test_too_little_free_disk_space_is_507_before_the_body_is_read(client, config, sources, monkeypatch):
    csrf = await staff_session(client, "ada", role="admin")
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=300 << 20))
    answer = await upload(client, csrf, sources["hall"].read_bytes())  # 132 kB: would fit
    assert answer.status == 202, await answer.text()
    await finished_job(client, (await answer.json())["id"])
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=200 << 20))
    answer = await upload(client, csrf, sources["hall"].read_bytes())
    assert answer.status == 507 and (await answer.json())["error"]["code"] == "insufficient_storage"
    assert leftovers(config) == []
