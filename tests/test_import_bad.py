"""Bad sources, one test each: a clear message naming the problem (never a traceback), nothing half-written,
the other scenes untouched."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from server.importer import ImportFailure, import_scene
from server.importer.glb import Part, encode_png, write_glb

from .conftest import tiny_manifest, write_world


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    scenes, assets = write_world(tmp_path / "world", {"tiny": tiny_manifest()})
    return {"scenes": scenes, "assets": assets, "data": tmp_path / "data", "src": tmp_path / "src"}


def snapshot(world: dict[str, Path]) -> dict[str, bytes]:
    return {f"{p.parent.name}/{p.name}": p.read_bytes()
            for folder in (world["scenes"], world["assets"]) for p in folder.iterdir()}


def refused(world: dict[str, Path], source: Path, code: str, words: str, units: str = "auto") -> str:
    """Import `source`, expect `code` with `words` in the message, and check nothing was written."""
    before = snapshot(world)
    with pytest.raises(ImportFailure) as caught:
        import_scene(source, world["scenes"], world["assets"], world["data"], scene_id="city-hall", units=units)
    failure = caught.value
    assert failure.code == code, failure.message
    assert words in failure.message
    assert "Traceback" not in failure.message and "numpy" not in failure.message.lower()
    assert snapshot(world) == before  # the other scene untouched, nothing new in either folder
    leftovers = [p for p in (world["data"] / "import").iterdir() if p.suffix != ".lock"]
    assert leftovers == []  # the scratch folder is gone
    return failure.message


def textured_part(n: int = 4) -> tuple[Part, Image.Image]:
    grid = np.stack(np.meshgrid(np.arange(n + 1.0), np.arange(n + 1.0)), -1).reshape(-1, 2)
    positions = np.c_[grid[:, 0], np.zeros(len(grid)), grid[:, 1]] * 2.0
    idx = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    faces = np.stack([np.stack([a, c, b], -1), np.stack([a, d, c], -1)], axis=2).reshape(-1, 3)
    normals = np.tile(np.float32([0, 1, 0]), (len(positions), 1))
    part = Part("floor", positions, normals, faces, (grid / n).astype(np.float32), (1, 1, 1, 1), 0)
    return part, Image.new("RGB", (8, 8), (200, 100, 50))


def small_glb(part: Part | None = None) -> bytes:
    part_, image = textured_part()
    return write_glb([part or part_], [encode_png(image)], "test")


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_truncated_glb_is_refused_as_truncated(world) -> None:
    data = small_glb()
    message = refused(world, write(world["src"] / "hall.glb", data[: len(data) // 2]), "truncated", "truncated")
    assert "hall.glb" in message


def test_a_file_that_is_not_gltf_at_all_is_refused(world) -> None:
    refused(world, write(world["src"] / "hall.glb", b"PK\x03\x04 this is a spreadsheet " * 40), "not_gltf",
            "not a binary glTF")


def test_non_finite_coordinates_are_refused(world) -> None:
    data = bytearray(small_glb())
    json_len = struct.unpack_from("<I", data, 12)[0]
    bin_start = 20 + json_len + 8  # POSITION is the first buffer view, at the start of the BIN chunk
    data[bin_start + 4:bin_start + 8] = struct.pack("<f", float("nan"))
    refused(world, write(world["src"] / "hall.glb", bytes(data)), "non_finite", "non-finite coordinates")


def test_missing_bin_is_refused_naming_the_file(world) -> None:
    scene = trimesh.Scene([trimesh.creation.box(extents=[10, 3, 10])])
    files = scene.export(file_type="gltf")
    folder = world["src"] / "hall"
    for name, data in files.items():
        if not name.endswith(".bin"):
            write(folder / name, data)
    missing = next(name for name in files if name.endswith(".bin"))
    message = refused(world, folder / "model.gltf", "missing_file", missing)
    assert "missing" in message


def test_indices_out_of_range_are_refused(world) -> None:
    part, _ = textured_part()
    part.faces = part.faces.copy()
    part.faces[3, 1] = 999  # 25 vertices
    refused(world, write(world["src"] / "hall.glb", small_glb(part)), "index_out_of_range", "out of range")


def test_a_texture_that_is_not_an_image_is_refused(world) -> None:
    box = trimesh.creation.box(extents=[10, 3, 10])
    box.visual = trimesh.visual.TextureVisuals(uv=np.zeros((len(box.vertices), 2)),
                                               image=Image.new("RGB", (8, 8), (10, 20, 30)))
    files = trimesh.Scene([box]).export(file_type="gltf")
    folder = world["src"] / "hall"
    for name, data in files.items():
        write(folder / name, data)
    # Embedded (in a .bin) and as a side file: both are checked.
    doc = json.loads(files["model.gltf"])
    view = doc["bufferViews"][doc["images"][0]["bufferView"]]
    bin_path = folder / doc["buffers"][view["buffer"]]["uri"]
    embedded = bytearray(bin_path.read_bytes())
    embedded[view.get("byteOffset", 0):view.get("byteOffset", 0) + 8] = b"<html>no"
    bin_path.write_bytes(bytes(embedded))
    refused(world, folder / "model.gltf", "bad_texture", "not an image")
    bin_path.write_bytes(files[bin_path.name])
    doc["images"][0] = {"uri": "facade.png"}
    write(folder / "model.gltf", json.dumps(doc).encode())
    write(folder / "facade.png", b"<html>not a picture</html>")
    message = refused(world, folder / "model.gltf", "bad_texture", "not an image")
    assert "facade.png" in message


def test_a_zip_with_paths_escaping_its_folder_is_refused_and_nothing_lands_outside(world) -> None:
    archive = world["src"] / "hall.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("hall/model.glb", small_glb())
        zf.writestr("../../escaped.txt", b"should never be written")
    refused(world, archive, "zip_escape", "../../escaped.txt")
    assert not list(world["data"].parent.rglob("escaped.txt"))


def test_a_zip_bomb_is_refused_before_it_fills_the_disk(world) -> None:
    archive = world["src"] / "hall.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model.glb", small_glb())
        zf.writestr("padding.bin", bytes(64 << 20))
    refused(world, archive, "zip_bomb", "refused")


def test_a_model_that_cannot_be_made_sense_of_is_named(world) -> None:
    part, _ = textured_part()
    part.positions = part.positions * 1e7  # 8e7 units wide: no unit makes a walkable place of it
    message = refused(world, write(world["src"] / "hall.glb", small_glb(part)), "implausible_size", "--units")
    assert "wide" in message


def test_a_gltf_naming_a_file_outside_its_folder_is_refused(world) -> None:
    files = trimesh.Scene([trimesh.creation.box(extents=[10, 3, 10])]).export(file_type="gltf")
    folder = world["src"] / "hall"
    for name, data in files.items():
        write(folder / name, data)
    doc = json.loads(files["model.gltf"])
    doc["buffers"][0]["uri"] = "../../world/scenes/tiny.json"
    write(folder / "model.gltf", json.dumps(doc).encode())
    refused(world, folder / "model.gltf", "path_escape", "outside the model's folder")


def test_a_place_too_large_for_its_walkable_grid_is_refused_before_building_it(world) -> None:
    part, _ = textured_part()
    part.positions = part.positions * 150  # 1.2 km square in metres: 23 million cells
    message = refused(world, write(world["src"] / "hall.glb", small_glb(part)), "over_budget", "walkable grid",
                      units="m")
    assert "1200 x 1200 m" in message
