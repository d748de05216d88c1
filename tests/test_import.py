"""Importing a city's reconstruction: a synthetic one (300k triangles, several textures, centimetres, Z-up, a
national-grid offset) ends normalised, within budgets, validator-clean, walkable and served by a real app;
re-importing it is a no-op; a new version replaces the old one whole; the command line writes where serve reads.
"""

from __future__ import annotations

import argparse
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from server import walkable
from server.app import create_app
from server.config import ROOT, Config
from server.gltftools import validate_glb
from server.importer import FIRST_VIEW_BUDGET, WALK_BUDGET, import_scene, synthetic
from server.manifest import load_manifest
from server.scenes_cli import add_parser, run

from .conftest import tiny_manifest, write_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("import")
    scenes, assets = write_world(root, {"tiny": tiny_manifest()})
    source = synthetic.build(root / "src" / "stadhuis.glb", triangles=300_000, textures=4, texture_size=512)
    return {"root": root, "scenes": scenes, "assets": assets, "data": root / "data", "source": source}


@pytest.fixture(scope="module")
def imported(world):  # type: ignore[no-untyped-def]
    report = import_scene(world["source"], world["scenes"], world["assets"], world["data"], scene_id="stadhuis",
                          title="Stadhuis")
    return report, load_manifest(world["scenes"] / "stadhuis.json")


def test_synthetic_reconstruction_is_large_textured_centimetres_z_up_and_far_away(world, imported) -> None:
    report, _ = imported
    assert report.triangles >= 300_000 and report.textures >= 4 and report.materials >= 4
    assert any("z (detected" in c for c in report.changes) and any("cm (detected" in c for c in report.changes)
    assert report.source_validator is not None and report.source_validator["numErrors"] == 0


def test_import_ends_in_metres_y_up_near_the_origin_with_the_georeference_kept(world, imported) -> None:
    _, manifest = imported
    assert manifest.source is not None and (manifest.source.units, manifest.source.up) == ("cm", "z")
    assert manifest.georeference is not None
    assert np.allclose(manifest.georeference.origin, synthetic.GRID_OFFSET_M, atol=0.05)
    mesh = walkable.load_scene_mesh(world["assets"] / manifest.lods[-1].asset)  # type: ignore[index]
    low, high = mesh.bounds
    size = high - low
    # 80 x 60 m ground plate, 8 m high hall: metres, and +Y up (the height is the short side).
    assert size[0] == pytest.approx(80, abs=0.5) and size[2] == pytest.approx(60, abs=0.5)
    assert size[1] == pytest.approx(8, abs=0.2)
    assert abs(low[1]) < 0.05 and np.abs((low + high)[[0, 2]] / 2).max() < 1.0


def test_levels_are_coarsest_first_and_the_first_view_fits_its_budget(world, imported) -> None:
    report, manifest = imported
    assert report.budgets_met
    lods = manifest.lods
    assert lods is not None and len(lods) >= 2 and lods[0].asset == manifest.asset
    assert lods[0].bytes <= FIRST_VIEW_BUDGET and lods[0].triangles <= 50_000
    assert [lod.error for lod in lods] == sorted((lod.error for lod in lods), reverse=True)
    assert lods[-1].triangles == report.triangles and lods[-1].error == 0
    assert [lod.triangles for lod in lods] == sorted(lod.triangles for lod in lods)


def test_every_level_is_clean_under_the_khronos_validator(world, imported) -> None:
    _, manifest = imported
    for lod in manifest.lods:
        found = validate_glb(world["assets"] / lod.asset)
        assert found["numErrors"] == 0 and found["numWarnings"] == 0, found["messages"][:3]


def test_first_level_is_walkable_with_a_sane_grid_within_budget(world, imported) -> None:
    _, manifest = imported
    grid = walkable.extract_walkable(walkable.load_scene_mesh(world["assets"] / manifest.asset), cell=0.25)
    assert grid.cell == 0.25 and len(grid.to_bytes()) <= WALK_BUDGET
    assert grid.cols * grid.cell == pytest.approx(80, abs=1) and grid.rows * grid.cell == pytest.approx(60, abs=1)
    spawn = manifest.spawn[0].position
    floors = grid.floors_at(spawn[0], spawn[2])
    assert floors.size and abs(floors[0] - spawn[1]) < 0.05
    # The ground and the gallery at 4 m are both floors somewhere under the roof.
    heights = grid.heights[grid.heights != walkable.NO_FLOOR] / 100
    assert (np.abs(heights) < 0.1).any() and (np.abs(heights - 4) < 0.1).any()


def test_reimporting_the_same_source_is_a_no_op(world, imported) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in [*world["scenes"].iterdir(), *world["assets"].iterdir()]}
    again = import_scene(world["source"], world["scenes"], world["assets"], world["data"], scene_id="stadhuis")
    assert again.unchanged
    assert {p.name: p.stat().st_mtime_ns for p in [*world["scenes"].iterdir(), *world["assets"].iterdir()]} == before


async def test_imported_scene_is_listed_and_served_by_a_real_app(world, imported, aiohttp_client) -> None:
    _, manifest = imported
    config = Config(data_dir=world["data"], scenes_dir=world["scenes"], assets_dir=world["assets"],
                    web_dir=ROOT / "web", optimize=True)
    client = await aiohttp_client(create_app(config))
    listed = await (await client.get("/api/scenes")).json()
    assert {s["id"] for s in listed["scenes"]} == {"tiny", "stadhuis"}
    doc = await (await client.get("/api/scenes/stadhuis")).json()
    assert doc["lods"][0]["url"] == doc["asset"]["url"] and doc["georeference"]["up"] == "z"
    asset = await client.get(doc["asset"]["url"])
    assert asset.status == 200 and len(await asset.read()) <= FIRST_VIEW_BUDGET
    tiny = await (await client.get("/api/scenes/tiny")).json()
    assert "lods" not in tiny and "georeference" not in tiny and "source" not in tiny


def test_a_new_version_replaces_the_old_one_whole(tmp_path, world, imported) -> None:
    scenes, assets = tmp_path / "scenes", tmp_path / "assets"
    shutil.copytree(world["scenes"], scenes)
    shutil.copytree(world["assets"], assets)
    old = load_manifest(scenes / "stadhuis.json")
    newer = synthetic.build(tmp_path / "v2" / "stadhuis.glb", triangles=60_000, textures=2, texture_size=64, seed=9)
    report = import_scene(newer, scenes, assets, tmp_path / "data", scene_id="stadhuis")
    new = load_manifest(scenes / "stadhuis.json")
    assert not report.unchanged and new.source.sha256 != old.source.sha256  # type: ignore[union-attr]
    assert new.title == {"en": "Stadhuis"}  # what people wrote survives a new model
    assert all((assets / lod.asset).is_file() for lod in new.lods)  # type: ignore[union-attr]
    assert not any((assets / lod.asset).exists() for lod in old.lods)  # type: ignore[union-attr]
    assert (assets / "tiny.glb").is_file() and json.loads((scenes / "tiny.json").read_text())["id"] == "tiny"


def test_command_line_writes_where_serve_reads_and_prints_progress_and_report(tmp_path, monkeypatch, capsys) -> None:
    source = synthetic.build(tmp_path / "src" / "Small Hall.glb", triangles=20_000, textures=1, texture_size=64)
    monkeypatch.setenv("CIVIC_SCENES_DIR", str(tmp_path / "scenes"))
    monkeypatch.setenv("CIVIC_ASSETS_DIR", str(tmp_path / "assets"))
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["scenes", "--data-dir", str(tmp_path / "data"), "import", str(source), "--units", "cm"])
    assert run(args) == 0
    out, err = capsys.readouterr()
    assert "import: 100% done" in err and "[met] first view, 3D payload" in out
    manifest = load_manifest(tmp_path / "scenes" / "small-hall.json")
    assert (tmp_path / "assets" / manifest.asset).is_file() and manifest.title == {"en": "Small Hall"}
    bad = parser.parse_args(["scenes", "--data-dir", str(tmp_path / "data"), "import", str(tmp_path / "nothing.glb")])
    assert run(bad) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("error: ") and "no such file" in err and "Traceback" not in err


def test_obj_with_mtl_and_texture_in_a_folder_imports_normalised(tmp_path) -> None:
    from trimesh.exchange.obj import export_obj

    hall = trimesh.creation.box(extents=[3000, 2000, 600])  # centimetres, Z-up: 30 x 20 m, 6 m high
    hall.visual = trimesh.visual.TextureVisuals(uv=np.random.default_rng(1).random((len(hall.vertices), 2)),
                                                image=Image.new("RGB", (32, 32), (180, 160, 140)))
    text, side_files = export_obj(hall, include_texture=True, return_texture=True, mtl_name="hall.mtl")
    folder = tmp_path / "hall"
    folder.mkdir()
    (folder / "hall.obj").write_text(text)
    for name, data in side_files.items():
        (folder / name).write_bytes(data)
    report = import_scene(folder, tmp_path / "scenes", tmp_path / "assets", tmp_path / "data", scene_id="obj-hall")
    assert report.textures == 1 and report.budgets_met
    manifest = load_manifest(tmp_path / "scenes" / "obj-hall.json")
    assert manifest.source is not None and (manifest.source.units, manifest.source.up) == ("cm", "z")
    low, high = walkable.load_scene_mesh(tmp_path / "assets" / manifest.asset).bounds
    assert np.allclose(high - low, [30, 6, 20], atol=0.01)
    assert manifest.georeference is None  # it was near the origin already: nothing moved


def test_gltf_with_side_files_in_a_zip_imports(tmp_path) -> None:
    source = synthetic.build(tmp_path / "glb" / "square.glb", triangles=10_000, textures=2, texture_size=64)
    files = trimesh.load(source, force="scene").export(file_type="gltf")
    archive = tmp_path / "square.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"square/{name}", data)
    report = import_scene(archive, tmp_path / "scenes", tmp_path / "assets", tmp_path / "data")
    assert report.scene_id == "square" and report.textures == 2 and report.budgets_met
    assert report.source_validator is not None and report.source_validator["numErrors"] == 0
    assert all(lv.validator["numErrors"] == 0 for lv in report.levels)


def test_a_failure_while_writing_leaves_the_old_version_serving_and_nothing_new(tmp_path, monkeypatch) -> None:
    import server.importer as importer

    first = synthetic.build(tmp_path / "v1" / "hall.glb", triangles=8_000, textures=1, texture_size=32)
    import_scene(first, tmp_path / "scenes", tmp_path / "assets", tmp_path / "data")
    before = {p.name: p.read_bytes() for p in [*(tmp_path / "scenes").iterdir(), *(tmp_path / "assets").iterdir()]}
    real = importer._write_atomic

    def disk_full_at_the_manifest(path: Path, data: bytes) -> None:
        if path.suffix == ".json":
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(importer, "_write_atomic", disk_full_at_the_manifest)
    second = synthetic.build(tmp_path / "v2" / "hall.glb", triangles=9_000, textures=1, texture_size=32, seed=3)
    with pytest.raises(importer.ImportFailure) as caught:
        import_scene(second, tmp_path / "scenes", tmp_path / "assets", tmp_path / "data")
    assert "No space left" in caught.value.message
    after = {p.name: p.read_bytes() for p in [*(tmp_path / "scenes").iterdir(), *(tmp_path / "assets").iterdir()]}
    assert after == before


def test_progress_is_a_bar_on_a_terminal_and_percentages_elsewhere() -> None:
    import io

    from server.scenes_cli import ProgressPrinter

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, plain = Terminal(), io.StringIO()
    for stream in (tty, plain):
        printer = ProgressPrinter(stream)
        printer(0.0, "reading the source")
        printer(0.5, "level 1")
        printer(1.0, "done")
    assert "\r[###############...............]  50% level 1" in tty.getvalue() and tty.getvalue().endswith("\n")
    lines = ["import: 0% reading the source", "import: 50% level 1", "import: 100% done"]
    assert plain.getvalue().splitlines() == lines
