"""Imported scenes' levels of detail are served, and preparation stays off the serving path (issue 12 items 3, 6).

A small synthetic reconstruction (server/importer/synthetic.py) is imported into a temporary world beside the tiny
hand-written scene; the server then serves every level under a content-hashed URL, builds the walkable grid from the
finest level, and — preparing in the background — answers /healthz and ready scenes while a slow scene is still
being prepared and a broken one has failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import threading
import time
from pathlib import Path
from unittest.mock import ANY

import pytest

from server import pipeline, walkable
from server.app import PREPARATION, create_app
from server.config import ROOT, Config
from server.importer import import_scene, synthetic
from server.protocol import CLOSE_SCENE_NOT_FOUND, CLOSE_SCENE_PREPARING, PREPARING_RETRY_SECONDS, PROTOCOL_VERSION

from .conftest import tiny_manifest, write_world

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A world with the tiny scene and an imported hall of two levels (import once, copy per test)."""
    root = tmp_path_factory.mktemp("lod-world")
    write_world(root, {"tiny": tiny_manifest()})
    source = synthetic.build(root / "src" / "hall.glb", triangles=120_000, textures=2, texture_size=256)
    import_scene(source, root / "scenes", root / "assets", root / "import-data", scene_id="hall")
    return root


def config_for(root: Path, data: Path) -> Config:
    return Config(data_dir=data, scenes_dir=root / "scenes", assets_dir=root / "assets", web_dir=ROOT / "web",
                  optimize=True)


def manifest_of(root: Path, scene_id: str = "hall") -> dict:
    return json.loads((root / "scenes" / f"{scene_id}.json").read_text())


async def test_an_imported_scene_lists_its_levels_with_hashed_urls_that_serve(aiohttp_client, imported, tmp_path):
    client = await aiohttp_client(create_app(config_for(imported, tmp_path / "data")))
    doc = await (await client.get("/api/scenes/hall")).json()
    manifest = manifest_of(imported)
    assert len(manifest["lods"]) >= 2
    lods = doc["lods"]
    assert [lod["triangles"] for lod in lods] == [lod["triangles"] for lod in manifest["lods"]]
    assert [lod["error"] for lod in lods] == [lod["error"] for lod in manifest["lods"]]
    assert lods[0]["url"] == doc["asset"]["url"] and lods[0]["bytes"] == doc["asset"]["bytes"]
    assert len({lod["url"] for lod in lods}) == len(lods)
    assert lods[0]["bytes"] <= 250_000  # the first view stays within its budget once served
    for lod in lods:
        response = await client.get(lod["url"], headers={"Accept-Encoding": "identity"})
        assert response.status == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.headers["Content-Type"] == "model/gltf-binary"
        body = await response.read()
        assert body[:4] == b"glTF" and len(body) == lod["bytes"]
        assert lod["url"] == f"/assets/{hashlib.sha256(body).hexdigest()[:20]}.glb"
        assert b"EXT_meshopt_compression" in body[:4096]  # prepared like the first asset (gltfpack -cc)
        packed = await client.get(lod["url"], headers={"Accept-Encoding": "br"}, auto_decompress=False)
        assert packed.headers.get("Content-Encoding") in ("br", None)  # served compressed when it is smaller
    # The manifest's own fields survive; a hand-written scene has no levels.
    assert doc["georeference"]["origin"] == manifest["georeference"]["origin"]
    assert "lods" not in await (await client.get("/api/scenes/tiny")).json()


async def test_the_walkable_grid_comes_from_the_finest_level(aiohttp_client, imported, tmp_path):
    client = await aiohttp_client(create_app(config_for(imported, tmp_path / "data")))
    doc = await (await client.get("/api/scenes/hall")).json()
    served = await (await client.get(doc["walkable"]["url"], headers={"Accept-Encoding": "identity"})).read()
    levels = manifest_of(imported)["lods"]
    finest = walkable.extract_walkable(walkable.load_scene_mesh(imported / "assets" / levels[-1]["asset"]))
    first = walkable.extract_walkable(walkable.load_scene_mesh(imported / "assets" / levels[0]["asset"]))
    assert served == finest.to_bytes()
    assert served != first.to_bytes()  # the simplified first view's floor is not the exact one
    assert doc["walkable"]["origin"] == finest.meta()["origin"]
    assert doc["asset"]["triangles"] == levels[0]["triangles"]


def test_a_second_preparation_reads_every_level_from_the_cache(imported, tmp_path, monkeypatch):
    from server.catalog import build_catalog

    data = tmp_path / "data"
    first = build_catalog(imported / "scenes", imported / "assets", data)
    calls: list[Path] = []
    monkeypatch.setattr(pipeline.gltftools, "optimize_glb", lambda src, dst: calls.append(src))
    again = build_catalog(imported / "scenes", imported / "assets", data)
    assert calls == [] and again.errors == []
    assert again.scenes["hall"].document.data == first.scenes["hall"].document.data


async def wait_for(condition, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def hello_answer(client, scene: str) -> tuple[dict, int | None]:  # type: ignore[no-untyped-def]
    """The first message the realtime socket answers a hello with, and its close code if it then closes."""
    async with client.ws_connect("/ws", headers={"Origin": str(client.make_url("")).rstrip("/")}) as ws:
        await ws.send_json({"type": "hello", "protocol": PROTOCOL_VERSION, "scene": scene})
        first = await ws.receive_json(timeout=10)
        if first["type"] == "welcome":
            return first, None
        await ws.receive(timeout=10)
        return first, ws.close_code


async def test_a_slow_or_failed_preparation_blocks_neither_healthz_nor_the_other_scenes(
        aiohttp_client, imported, tmp_path, monkeypatch):
    root = tmp_path / "world"
    shutil.copytree(imported, root)
    (root / "assets" / "broken.glb").write_bytes(b"glTF but not really")
    (root / "scenes" / "broken.json").write_text(json.dumps(tiny_manifest("broken")))
    release = threading.Event()
    real_walk = pipeline.prepare_walk

    def slow_walk(source: Path, data_dir: Path, cell: float = 0.25):  # type: ignore[no-untyped-def]
        if source.name.startswith("hall-"):
            assert release.wait(60), "the test never released the slow scene"
        return real_walk(source, data_dir, cell)

    monkeypatch.setattr(pipeline, "prepare_walk", slow_walk)
    started = time.monotonic()
    app = create_app(config_for(root, tmp_path / "data"), prepare_in_background=True)
    client = await aiohttp_client(app)
    health = await client.get("/healthz")
    assert health.status == 200 and time.monotonic() - started < 5
    assert (await health.json())["preparing"] >= 1

    async def settled() -> bool:
        listed = {s["id"]: s for s in (await (await client.get("/api/scenes")).json())["scenes"]}
        return (listed["tiny"]["status"] == "ready" and listed["broken"]["status"] == "failed"
                and listed["hall"].get("progress", 0) > 0.5)  # its levels are done; its grid waits

    await wait_for(settled)
    listed = {s["id"]: s for s in (await (await client.get("/api/scenes")).json())["scenes"]}
    assert listed["hall"]["status"] == "preparing" and listed["hall"]["progress"] < 1
    assert listed["broken"]["message"].startswith("broken.json: asset: cannot prepare broken.glb")
    assert "/" not in listed["broken"]["message"].split("(", 1)[1]  # no server paths in a public list
    assert (await client.get("/api/scenes/tiny")).status == 200
    waiting = await client.get("/api/scenes/hall")
    assert waiting.status == 503 and waiting.headers["Retry-After"]
    assert (await waiting.json())["error"]["code"] == "scene_preparing"
    failed = await client.get("/api/scenes/broken")
    assert failed.status == 503 and (await failed.json())["error"]["code"] == "scene_unavailable"
    assert await (await client.get("/healthz")).json() == {"status": "ok", "scenes": 1, "preparing": 1, "failed": 1}
    # Its page says it is being prepared and to come back (not "no such place"); the realtime hello is told when.
    page = await client.get("/scenes/hall?lang=en")
    assert page.status == 503 and page.headers["Retry-After"] == str(PREPARING_RETRY_SECONDS)
    assert "This place is being prepared" in await page.text()
    assert (await client.get("/scenes/nowhere")).status == 404
    home = await (await client.get("/?lang=en")).text()  # listed as coming, with progress; the failed one not
    assert 'data-scene-id="hall"' in home and "Being prepared (" in home and 'data-scene-id="broken"' not in home
    assert await hello_answer(client, "hall") == (
        {"type": "error", "code": "scene_preparing", "message": ANY, "retryAfter": PREPARING_RETRY_SECONDS},
        CLOSE_SCENE_PREPARING)
    assert (await hello_answer(client, "nowhere"))[1] == CLOSE_SCENE_NOT_FOUND

    release.set()
    await asyncio.wait_for(app[PREPARATION].done.wait(), 60)
    assert (await client.get("/scenes/hall")).status == 200
    assert (await hello_answer(client, "hall"))[0]["type"] == "welcome"
    listed = {s["id"]: s for s in (await (await client.get("/api/scenes")).json())["scenes"]}
    assert listed["hall"]["status"] == "ready" and "progress" not in listed["hall"]
    doc = await (await client.get("/api/scenes/hall")).json()
    assert (await client.get(doc["lods"][-1]["url"])).status == 200


def test_two_preparations_of_one_data_directory_at_once_build_each_entry_once(imported, tmp_path, monkeypatch):
    """Two scenes sharing an asset, or the workers of --workers: one builds, the other reads what it built."""
    from concurrent.futures import ThreadPoolExecutor

    from server.catalog import build_catalog

    calls: list[str] = []
    real = pipeline.gltftools.optimize_glb

    def counted(src: Path, dst: Path) -> None:
        calls.append(Path(src).name)
        time.sleep(0.2)  # long enough for the other preparation to arrive while this one builds
        real(src, dst)

    monkeypatch.setattr(pipeline.gltftools, "optimize_glb", counted)
    with ThreadPoolExecutor(2) as pool:
        catalogs = list(pool.map(lambda _: build_catalog(imported / "scenes", imported / "assets", tmp_path / "d"),
                                 range(2)))
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 1 + len(manifest_of(imported)["lods"])
    assert all(c.errors == [] for c in catalogs)
    assert catalogs[0].scenes["hall"].document.data == catalogs[1].scenes["hall"].document.data
    assert not list((tmp_path / "d" / "pipeline").glob("*.tmp-*"))
