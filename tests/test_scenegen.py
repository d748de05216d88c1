"""The bundled scenes: deterministic builds, budgets, materials, walkable levels, and manifests that fit them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from server.manifest import load_manifest
from server.scenegen import public_square, town_hall
from server.scenegen.build import DEFAULT_ASSETS, build_all
from server.scenegen.materials import BY_NAME
from server.walkable import WalkGrid, extract_walkable, load_scene_mesh

ROOT = Path(__file__).resolve().parents[1]
SCENES = ("town-hall", "public-square")
MAX_TRIANGLES = 50_000
MAX_GLB_BYTES = 2_500_000  # the unoptimised source; what is served (gltfpack) is about a quarter


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("scenes")
    return {p.stem: p for p in build_all(out)}


@pytest.fixture(scope="module")
def grids(fresh: dict[str, Path]) -> dict[str, WalkGrid]:
    return {name: extract_walkable(load_scene_mesh(path)) for name, path in fresh.items()}


def walk(grid: WalkGrid, start: tuple[float, float, float], route: list[tuple[float, float]],
         step: float = 0.05) -> tuple[float, float, float, bool]:
    """Follow (x, z) waypoints in small moves with the browser's movement rule; stop at the first blocked move."""
    x, y, z = start
    for tx, tz in route:
        n = int(np.ceil(np.hypot(tx - x, tz - z) / step))
        for nx, nz in zip(np.linspace(x, tx, n + 1)[1:], np.linspace(z, tz, n + 1)[1:], strict=True):
            target = grid.step_target(y, float(nx), float(nz))
            if target is None:
                return x, y, z, True
            x, y, z = float(nx), target, float(nz)
    return x, y, z, False


def test_building_twice_gives_identical_bytes(fresh: dict[str, Path], tmp_path: Path) -> None:
    again = {p.stem: p for p in build_all(tmp_path)}
    for name in SCENES:
        assert again[name].read_bytes() == fresh[name].read_bytes(), name


def test_committed_glbs_equal_a_fresh_build(fresh: dict[str, Path]) -> None:
    for name in SCENES:
        committed = DEFAULT_ASSETS / f"{name}.glb"
        assert committed.is_file(), f"run `python -m server.scenegen.build` to create {committed}"
        assert committed.read_bytes() == fresh[name].read_bytes(), f"{committed} is stale: rebuild it"


def test_scenes_stay_within_triangle_and_size_budgets(fresh: dict[str, Path]) -> None:
    for name in SCENES:
        mesh = load_scene_mesh(fresh[name])
        assert 5_000 <= len(mesh.faces) <= MAX_TRIANGLES, (name, len(mesh.faces))
        assert fresh[name].stat().st_size <= MAX_GLB_BYTES


def test_one_primitive_per_material_with_varied_colours(fresh: dict[str, Path]) -> None:
    for name, minimum in (("town-hall", 15), ("public-square", 12)):
        gltf = _gltf_json(fresh[name])
        materials = gltf["materials"]
        prims = [prim for mesh in gltf["meshes"] for prim in mesh["primitives"]]
        assert len(prims) == len(materials) <= 25
        assert sorted(p["material"] for p in prims) == list(range(len(materials)))
        colours = {tuple(m["pbrMetallicRoughness"]["baseColorFactor"]) for m in materials}
        assert len(colours) == len(materials) >= minimum
        glass = [m for m in materials if m["name"] == "glass"]
        assert glass and glass[0]["alphaMode"] == "BLEND" and glass[0]["pbrMetallicRoughness"]["baseColorFactor"][3] < 1


def test_vertex_normals_agree_with_triangle_winding() -> None:
    for build in (town_hall.build, public_square.build):
        for name, (pos, nrm, tris) in build().merged().items():
            face_n = np.cross(pos[tris[:, 1]] - pos[tris[:, 0]], pos[tris[:, 2]] - pos[tris[:, 0]])
            area2 = np.linalg.norm(face_n, axis=1)
            assert (area2 > 1e-9).all(), f"degenerate triangle in {name}"
            face_n /= area2[:, None]
            agree = np.einsum("ij,ij->i", face_n, nrm[tris].mean(axis=1))
            assert (agree > 0.5).all(), f"{name}: {(agree <= 0.5).sum()} triangles wound against their normals"
            assert np.allclose(np.linalg.norm(nrm, axis=1), 1.0)
            assert name in BY_NAME


def test_town_hall_has_a_walkable_upper_floor_with_head_room(grids: dict[str, WalkGrid]) -> None:
    grid = grids["town-hall"]
    for room in town_hall.ROOMS:
        if room.floor < 3.0:
            continue
        xs = np.linspace(room.x[0] + 0.5, room.x[1] - 0.5, 12)
        zs = np.linspace(room.z[0] + 0.5, room.z[1] - 0.5, 8)
        on_floor = [abs(grid.floors_at(float(x), float(z)) - room.floor).min(initial=9) < 0.01
                    for x in xs for z in zs]
        assert np.mean(on_floor) > 0.7, room.id
        assert room.ceiling - room.floor >= 2.2


def test_staircase_climbs_to_the_gallery_and_back_in_small_steps(grids: dict[str, WalkGrid]) -> None:
    grid = grids["town-hall"]
    route = [(0.0, 7.0), (8.0, 7.0), (6.2, 5.0), (6.2, 3.0), (14.0, 3.0),  # up the flight, along +X
             (13.0, 5.5), (6.0, 8.6), (-4.0, 8.6), (-4.0, 7.0), (-6.0, 7.0),  # across the gallery
             (-6.0, 9.5), (-10.0, 9.5), (-10.0, 10.5)]  # into the committee room, round its table
    x, y, z, blocked = walk(grid, (0.0, 0.0, 10.5), route)
    assert not blocked and y == pytest.approx(town_hall.U), (x, y, z)  # in the committee room upstairs
    x, y, z, blocked = walk(grid, (14.0, town_hall.U, 7.0), [(14.0, 3.0), (6.2, 3.0), (6.2, 6.0)])
    assert not blocked and y == 0.0, (x, y, z)
    assert town_hall.RISE <= 0.18 and town_hall.TREAD >= 0.28
    assert pytest.approx(town_hall.U) == town_hall.RISERS * town_hall.RISE


def test_walls_balustrades_and_furniture_block_walkers(grids: dict[str, WalkGrid]) -> None:
    grid = grids["town-hall"]
    assert walk(grid, (0.0, 0.0, 10.5), [(-8.0, 10.5)])[3]  # hall into the service office through a wall
    assert walk(grid, (9.0, 0.0, 6.0), [(9.0, 3.0)])[3]  # onto the side of the flight
    assert walk(grid, (9.0, town_hall.U, 6.0), [(9.0, 3.0)])[3]  # down the stairwell from the gallery
    assert walk(grid, (-6.0, 0.0, -2.0), [(-10.0, -5.0)])[3]  # through a row of seats


def test_every_room_is_reachable_from_the_spawn_point(grids: dict[str, WalkGrid]) -> None:
    grid = grids["town-hall"]
    routes = {
        "council-chamber": [(0.0, 0.5), (-4.0, 0.5), (-4.0, -2.0), (-6.0, -2.0), (-6.0, -7.9)],
        "meeting-room": [(0.0, 0.5), (9.0, 0.5), (9.0, -4.2), (13.0, -4.2), (13.0, -10.0)],
        "service-office": [(0.0, 7.0), (-7.5, 7.0), (-7.5, 10.5), (-10.0, 10.5)],
        "stair-hall": [(0.0, 7.0), (8.0, 7.0), (8.0, 10.3), (13.0, 10.3)],
        "outside": [(0.0, 16.0), (-20.0, 16.0)],
    }
    for room, route in routes.items():
        x, y, z, blocked = walk(grid, (0.0, 0.0, 10.5), route)
        assert not blocked and y == 0.0, (room, x, z)


@pytest.mark.parametrize("name", SCENES)
def test_manifest_points_stand_on_walkable_floor_inside_the_scene(name: str, fresh: dict[str, Path],
                                                                   grids: dict[str, WalkGrid]) -> None:
    manifest = load_manifest(ROOT / "scenes" / f"{name}.json")
    assert manifest.asset == f"{name}.glb"
    bounds = load_scene_mesh(fresh[name]).bounds
    points = [s.position for s in manifest.spawn] + [s.position for s in manifest.tour]
    assert 5 <= len(manifest.tour) <= 8
    for x, y, z in points:
        assert bounds[0][0] < x < bounds[1][0] and bounds[0][2] < z < bounds[1][2]
        floors = grids[name].floors_at(x, z)
        assert np.isclose(floors, y, atol=0.02).any(), ((x, y, z), floors)
        # Free for a 0.25 m step in every direction: not squeezed against a wall or furniture.
        for dx, dz in ((0.25, 0), (-0.25, 0), (0, 0.25), (0, -0.25)):
            assert grids[name].step_target(y, x + dx, z + dz) is not None, ((x, y, z), dx, dz)


def test_town_hall_zones_match_the_generated_rooms() -> None:
    data = json.loads((ROOT / "scenes" / "town-hall.json").read_text())
    zones = {z["id"]: z["area"] for z in data["zones"]}
    assert set(zones) == {r.id for r in town_hall.ROOMS}
    for room in town_hall.ROOMS:
        assert zones[room.id] == {"min": [room.x[0], room.floor, room.z[0]],
                                  "max": [room.x[1], room.ceiling, room.z[1]]}
    spawn = data["spawn"][0]["position"]
    hall = zones["entrance-hall"]
    assert all(hall["min"][i] <= spawn[i] <= hall["max"][i] for i in range(3))


def test_entrance_faces_positive_z() -> None:
    front = max(r.z[1] for r in town_hall.ROOMS)
    assert (0.0, front) == town_hall.ENTRANCE
    assert any(o.kind == "door" and o.at == 0.0 and o.width >= 1.0 and o.head - o.sill >= 2.25
               for o in town_hall.FRONT)
    for opening in town_hall.Z2 + town_hall.ZM1 + town_hall.XM5 + town_hall.X5:
        assert opening.width - 0.1 >= 1.0 and opening.head - 0.05 - opening.sill >= 2.2


def _gltf_json(path: Path) -> dict:  # type: ignore[type-arg]
    data = path.read_bytes()
    length = int.from_bytes(data[12:16], "little")
    return json.loads(data[20:20 + length])


def test_glb_loads_in_trimesh_as_one_geometry_per_material(fresh: dict[str, Path]) -> None:
    scene = trimesh.load(fresh["town-hall"], force="scene")
    assert len(scene.geometry) == len(_gltf_json(fresh["town-hall"])["materials"])
