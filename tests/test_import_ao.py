"""Baked ambient occlusion of imported scenes (server/importer/ao.py): darker at the foot of a wall than in the open,
the same on every run, no light leaking through a thin wall between levels, the budgets (grid size, samples) that
cut rays or skip the bake with a report line; and an imported synthetic hall carries it on every level as COLOR_0.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from server.gltftools import validate_glb
from server.importer import ao, import_scene, synthetic
from server.importer.glb import Part


def plate(name: str, corner: list[float], u: list[float], v: list[float], n: int) -> Part:
    """A plate of n x n quads over corner + s*u + t*v, its normal u x v."""
    s, t = np.meshgrid(np.linspace(0, 1, n + 1), np.linspace(0, 1, n + 1), indexing="xy")
    pts = np.asarray(corner, float) + s.reshape(-1, 1) * np.asarray(u, float) + t.reshape(-1, 1) * np.asarray(v, float)
    idx = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    faces = np.stack([np.stack([a, b, c], -1), np.stack([a, c, d], -1)], axis=2).reshape(-1, 3)
    normal = np.cross(u, v) / np.linalg.norm(np.cross(u, v))
    return Part(name, pts, np.tile(normal, (len(pts), 1)).astype(np.float32), faces)


def floor_and_wall() -> list[Part]:
    """A 12 x 12 m floor at y = 0 with a 3 m wall standing across it at x = 0 (facing +x)."""
    floor = plate("floor", [-6, 0, 6], [12, 0, 0], [0, 0, -12], 48)
    wall = plate("wall", [0, 0, -6], [0, 0, 12], [0, 3, 0], 24)
    return [floor, wall]


def visibility_at(parts: list[Part], values: list[np.ndarray], x: float, z: float) -> float:
    floor, floor_values = parts[0], values[0]
    i = int(np.argmin(np.linalg.norm(floor.positions[:, [0, 2]] - [x, z], axis=1)))
    return float(floor_values[i])


def test_the_foot_of_a_wall_is_darker_than_the_open_floor_and_the_bake_is_deterministic() -> None:
    parts = floor_and_wall()
    triangles = np.concatenate([p.positions[p.faces] for p in parts])
    occupancy = ao.Occupancy(triangles, ao.MIN_VOXEL)
    baked = ao.bake(parts, occupancy, ao.RAYS)
    values = ao.split(baked, parts)
    foot, open_floor = visibility_at(parts, values, 0.25, 0), visibility_at(parts, values, 5.75, 0)
    assert foot < 0.75 < 0.95 < open_floor  # a quarter of the hemisphere and more is wall at its foot
    assert visibility_at(parts, values, 2.0, 0) > foot  # lighter away from the wall
    again = ao.bake(parts, ao.Occupancy(triangles, ao.MIN_VOXEL), ao.RAYS)
    assert np.array_equal(again.visible, baked.visible)
    assert np.all((baked.visible >= 0) & (baked.visible <= 1))
    colours = ao.colours(baked.visible)
    assert colours.dtype == np.uint8 and colours.shape == (len(baked.visible), 4) and (colours[:, 3] == 255).all()


def test_finer_levels_take_their_values_from_the_same_side_of_a_thin_wall() -> None:
    # Two baked faces of one thin wall at x = 0: the +x side dark (a corner there), the -x side light.
    positions = np.array([[0.0, 1, 0], [0.0, 1, 0], [0.0, 1, 2], [0.0, 1, 2]])
    normals = np.array([[1.0, 0, 0], [-1.0, 0, 0], [1.0, 0, 0], [-1.0, 0, 0]])
    baked = ao.Baked(positions, normals, np.array([0.2, 0.9, 0.2, 0.9]), rays=16, voxel=0.1, seconds=0.0)
    finer = Part("finer", np.array([[0.01, 1, 1], [-0.01, 1, 1]]), np.array([[1, 0, 0], [-1, 0, 0]], np.float32),
                 np.zeros((0, 3), np.int64))
    (values,) = ao.transfer(baked, [finer])
    assert values[0] == pytest.approx(0.2, abs=0.01) and values[1] == pytest.approx(0.9, abs=0.01)


def test_budgets_cut_the_rays_then_skip_with_a_line_naming_why() -> None:
    assert ao.voxel_size(np.zeros(3), np.array([60.0, 10, 40])) == ao.MIN_VOXEL
    assert ao.voxel_size(np.zeros(3), np.array([400.0, 40, 400])) > ao.MIN_VOXEL
    assert ao.rays_within_budget(20_000, ao.MIN_VOXEL) == ao.RAYS
    assert ao.MIN_RAYS <= ao.rays_within_budget(200_000, ao.MIN_VOXEL) < ao.RAYS
    assert ao.rays_within_budget(5_000_000, ao.MIN_VOXEL) == 0

    # A 3 km plate would need voxels far coarser than a room: not baked, and said so.
    huge = plate("ground", [-1500, 0, 1500], [3000, 0, 0], [0, 0, -3000], 4)
    shading = ao.Shading([huge])
    shading.apply([huge], first=True)
    assert huge.ao is None
    assert shading.line().startswith("ambient occlusion not baked: the model (3000 x 0 x 3000 m)")

    # Too many vertices in the first level for the sample budget even at the fewest rays.
    parts = floor_and_wall()
    shading = ao.Shading(parts)
    budget = ao.SAMPLE_BUDGET
    try:
        ao.SAMPLE_BUDGET = 1000
        shading.apply(parts, first=True)
    finally:
        ao.SAMPLE_BUDGET = budget
    assert all(p.ao is None for p in parts)
    assert "ambient occlusion not baked" in shading.line() and "vertices in the first level" in shading.line()


def glb_vertices(path: Path) -> list[dict[str, np.ndarray]]:
    """POSITION, NORMAL and COLOR_0 of every primitive of a GLB the importer wrote (plain, uncompressed)."""
    data = path.read_bytes()
    length = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + length])
    binary = data[20 + length + 8:]
    kinds = {5126: np.float32, 5121: np.uint8}
    sizes = {"VEC3": 3, "VEC4": 4}

    def read(index: int) -> np.ndarray:
        acc = doc["accessors"][index]
        view = doc["bufferViews"][acc["bufferView"]]
        count = acc["count"] * sizes[acc["type"]]
        return np.frombuffer(binary, kinds[acc["componentType"]], count, view["byteOffset"]).reshape(acc["count"], -1)

    out = []
    for mesh in doc["meshes"]:
        for primitive in mesh["primitives"]:
            attributes = primitive["attributes"]
            assert doc["accessors"][attributes["COLOR_0"]]["normalized"] is True
            out.append({name: read(attributes[key]) for name, key in
                        (("position", "POSITION"), ("normal", "NORMAL"), ("colour", "COLOR_0"))})
    return out


def test_an_imported_hall_carries_its_occlusion_on_every_level(tmp_path: Path) -> None:
    source = synthetic.build(tmp_path / "src" / "hall.glb", triangles=30_000, textures=1, texture_size=64)
    report = import_scene(source, tmp_path / "scenes", tmp_path / "assets", tmp_path / "data", scene_id="hall")
    assert any(line.startswith("ambient occlusion baked into vertex colours") for line in report.changes)
    assert 0 < report.ao_seconds < report.seconds
    for level in report.levels:
        path = tmp_path / "assets" / level.asset
        assert validate_glb(path)["numErrors"] == 0
        vertices = glb_vertices(path)
        position = np.concatenate([v["position"] for v in vertices])
        normal = np.concatenate([v["normal"] for v in vertices])
        grey = np.concatenate([v["colour"] for v in vertices])[:, 0] / 255
        # The hall is 60 x 40 m on an 80 x 60 m ground plate (centred): its floor along the long walls, inside,
        # is darker than the middle of the hall.
        floor = (np.abs(position[:, 1]) < 0.1) & (normal[:, 1] > 0.9)
        x, z = np.abs(position[:, 0]), np.abs(position[:, 2])
        by_wall = floor & (x > 29.0) & (x < 29.8) & (z < 15)
        middle = floor & (x < 15) & (z < 8)
        assert by_wall.sum() > 3 and middle.sum() > 3, level.asset
        assert grey[by_wall].mean() < grey[middle].mean() - 0.1, level.asset
