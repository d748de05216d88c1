"""Walkable floors extracted from known box scenes, and the movement rule the browser mirrors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import trimesh

from server.walkable import NO_FLOOR, WalkGrid, extract_walkable, load_scene_mesh

DOCS = Path(__file__).resolve().parents[1] / "docs" / "http-api.md"


def box(x: tuple[float, float], y: tuple[float, float], z: tuple[float, float]) -> trimesh.Trimesh:
    return trimesh.creation.box(bounds=[[x[0], y[0], z[0]], [x[1], y[1], z[1]]])


def scene(*parts: trimesh.Trimesh) -> trimesh.Trimesh:
    return trimesh.util.concatenate(list(parts))


def ground(x: tuple[float, float] = (0, 10), z: tuple[float, float] = (0, 4)) -> trimesh.Trimesh:
    return box(x, (-0.2, 0.0), z)


def walk(grid: WalkGrid, start: tuple[float, float, float], to: tuple[float, float], step: float = 0.05):
    """Walk a straight line in small moves with the movement rule; stop where a move is blocked.

    Returns (x, y, z, blocked) of the last position reached.
    """
    x, y, z = start
    n = int(np.ceil(np.hypot(to[0] - x, to[1] - z) / step))
    for nx, nz in zip(np.linspace(x, to[0], n + 1)[1:], np.linspace(z, to[1], n + 1)[1:], strict=True):
        target = grid.step_target(y, float(nx), float(nz))
        if target is None:
            return x, y, z, True
        x, y, z = float(nx), target, float(nz)
    return x, y, z, False


def test_flat_floor_is_one_layer_at_zero_where_it_covers_and_nothing_elsewhere() -> None:
    # A 4 m x 4 m floor, and a thin pole far away so the grid extends beyond the floor.
    grid = extract_walkable(scene(ground((0, 4), (0, 4)), box((8.9, 9.0), (0, 3), (8.9, 9.0))))
    assert grid.layers == 1
    cols, rows = np.meshgrid(np.arange(grid.cols), np.arange(grid.rows))
    cx = grid.origin[0] + (cols + 0.5) * grid.cell  # the cell centre formula of docs/http-api.md
    cz = grid.origin[1] + (rows + 0.5) * grid.cell
    on_floor = (cx < 4) & (cz < 4)
    assert on_floor.sum() == 16 * 16
    assert (grid.heights[0][on_floor] == 0).all()
    assert (grid.heights[0][~on_floor] == NO_FLOOR).all()
    assert list(grid.floors_at(2.0, 2.0)) == [0.0]
    assert grid.floors_at(6.0, 6.0).size == 0
    assert grid.floors_at(-50.0, 2.0).size == 0


def test_wall_blocks_a_walker() -> None:
    grid = extract_walkable(scene(ground(), box((4.85, 5.15), (0, 3), (0, 4))))
    assert grid.step_target(0.0, 4.5, 2.0) == 0.0
    assert grid.step_target(0.0, 5.0, 2.0) is None  # into the wall
    x, y, _, blocked = walk(grid, (1.0, 0.0, 2.0), (9.0, 2.0))
    assert blocked and x < 4.85 and y == 0.0
    x, _, _, blocked = walk(grid, (9.0, 0.0, 2.0), (1.0, 2.0))
    assert blocked and x > 5.15


def test_wall_under_a_slab_blocks_on_both_storeys() -> None:
    # The wall's top meets the upper slab, so neither the wall top nor the ground in the wall is a floor.
    grid = extract_walkable(scene(ground(), box((4.85, 5.15), (0, 3.3), (0, 4)), box((0, 10), (3.3, 3.5), (0, 4))))
    assert list(grid.floors_at(5.0, 2.0)) == [3.5]
    # Inside a thick pillar under the slab: the pillar stands on the ground, so the ground there is covered.
    grid = extract_walkable(scene(ground(), box((4, 6), (0, 3.3), (1, 3)), box((0, 10), (3.3, 3.5), (0, 4))))
    assert list(grid.floors_at(5.0, 2.0)) == [3.5]
    assert walk(grid, (1.0, 0.0, 2.0), (9.0, 2.0))[3]
    assert not walk(grid, (1.0, 3.5, 2.0), (9.0, 2.0))[3]  # the slab above the wall is open floor


def staircase(rise: float = 0.17, run: float = 0.3, steps: int = 10, x0: float = 2.0) -> trimesh.Trimesh:
    return scene(*[box((x0 + i * run, 10), (0, (i + 1) * rise), (0, 2)) for i in range(steps)])


def test_staircase_of_low_steps_can_be_climbed_to_the_top() -> None:
    grid = extract_walkable(scene(ground(), staircase()))
    x, y, _, blocked = walk(grid, (0.5, 0.0, 1.0), (9.5, 1.0))
    assert not blocked and x == pytest.approx(9.5)
    assert y == pytest.approx(1.7)


def test_a_one_metre_box_cannot_be_stepped_onto() -> None:
    grid = extract_walkable(scene(ground(), box((4, 6), (0, 1), (0, 4))))
    assert list(grid.floors_at(5.0, 2.0)) == [1.0]
    x, y, _, blocked = walk(grid, (1.0, 0.0, 2.0), (5.0, 2.0))
    assert blocked and x < 4 and y == 0.0


def gallery_hall() -> trimesh.Trimesh:
    """A 20 m hall; a gallery slab (top at 3.5 m) over x 10..20; a stair of 20 x 0.175 m up to it on z 0..2."""
    stair = scene(*[box((4 + i * 0.3, 10), (0, (i + 1) * 0.175), (0, 2)) for i in range(20)])
    return scene(ground((0, 20), (0, 6)), box((10, 20), (3.3, 3.5), (0, 6)), stair)


def test_a_gallery_over_the_hall_is_a_second_layer() -> None:
    grid = extract_walkable(gallery_hall())
    assert grid.layers == 2
    assert list(grid.floors_at(15.0, 4.0)) == [0.0, 3.5]
    assert list(grid.floors_at(2.0, 4.0)) == [0.0]
    row, col = grid.cell_of(15.0, 4.0)  # type: ignore[misc]
    assert list(grid.heights[:, row, col]) == [0, 350]


def test_walker_under_the_gallery_stays_on_the_ground_and_one_on_it_stays_up() -> None:
    grid = extract_walkable(gallery_hall())
    assert walk(grid, (11.0, 0.0, 4.0), (19.0, 4.0)) == (pytest.approx(19.0), 0.0, pytest.approx(4.0), False)
    assert walk(grid, (11.0, 3.5, 4.0), (19.0, 4.0)) == (pytest.approx(19.0), 3.5, pytest.approx(4.0), False)


def test_walker_climbs_the_stair_onto_the_gallery() -> None:
    grid = extract_walkable(gallery_hall())
    x, y, _, blocked = walk(grid, (1.0, 0.0, 1.0), (15.0, 1.0))
    assert not blocked and x == pytest.approx(15.0) and y == 3.5


def test_walker_on_the_gallery_does_not_fall_off_its_edge() -> None:
    grid = extract_walkable(gallery_hall())
    x, y, _, blocked = walk(grid, (12.0, 3.5, 4.0), (8.0, 4.0))
    assert blocked and x >= 10.0 and y == 3.5


def test_wall_on_the_upper_storey_blocks_without_dropping_the_walker_below() -> None:
    grid = extract_walkable(scene(gallery_hall(), box((14.85, 15.15), (3.5, 6.5), (0, 6))))
    x, y, _, blocked = walk(grid, (12.0, 3.5, 4.0), (19.0, 4.0))
    assert blocked and x < 14.85 and y == 3.5
    assert not walk(grid, (12.0, 0.0, 4.0), (19.0, 4.0))[3]  # the hall below is open


def test_walker_steps_down_off_a_stage_but_cannot_climb_it() -> None:
    grid = extract_walkable(scene(ground(), box((4, 6), (0, 0.8), (0, 4))))
    x, y, _, blocked = walk(grid, (5.0, 0.8, 2.0), (9.0, 2.0))
    assert not blocked and y == 0.0
    x, y, _, blocked = walk(grid, (9.0, 0.0, 2.0), (5.0, 2.0))
    assert blocked and x >= 6 and y == 0.0


def test_table_blocks_a_walker_and_its_top_is_not_reachable() -> None:
    legs = [box((x, x + 0.05), (0, 0.72), (z, z + 0.05)) for x in (4.0, 5.55) for z in (1.6, 2.35)]
    grid = extract_walkable(scene(ground(), box((4.0, 5.6), (0.72, 0.75), (1.6, 2.4)), *legs))
    # Under the top there is 0.72 m of head room: the ground there is not a floor; the top is, at 0.75 m.
    assert list(grid.floors_at(4.8, 2.0)) == [0.75]
    assert grid.step_target(0.0, 4.8, 2.0) is None
    x, _, _, blocked = walk(grid, (1.0, 0.0, 2.0), (9.0, 2.0))
    assert blocked and x < 4.0


def test_ground_under_a_high_tree_canopy_is_walkable() -> None:
    tree = scene(box((4.85, 5.15), (0, 2.5), (1.85, 2.15)), box((3.5, 6.5), (2.5, 4.5), (0.5, 3.5)))
    grid = extract_walkable(scene(ground(), tree))
    assert list(grid.floors_at(4.0, 1.0)) == [0.0, 4.5]
    assert grid.step_target(0.0, 5.0, 2.0) is None  # the trunk
    assert walk(grid, (1.0, 0.0, 1.0), (9.0, 1.0)) == (pytest.approx(9.0), 0.0, pytest.approx(1.0), False)


@pytest.mark.parametrize(("ceiling", "walkable"), [(1.5, False), (2.1, True)])
def test_floor_needs_head_room_under_a_ceiling(ceiling: float, walkable: bool) -> None:
    grid = extract_walkable(scene(ground(), box((4, 6), (ceiling, ceiling + 0.1), (0, 4))))
    assert (0.0 in grid.floors_at(5.0, 2.0)) is walkable
    assert walk(grid, (1.0, 0.0, 2.0), (9.0, 2.0))[3] is not walkable


@pytest.mark.parametrize(("angle", "walkable"), [(20, True), (55, False)])
def test_only_gentle_slopes_are_floors(angle: float, walkable: bool) -> None:
    ramp = box((-3, 3), (-0.2, 0), (0, 4))
    ramp.apply_transform(trimesh.transformations.rotation_matrix(np.radians(angle), [0, 0, 1]))
    ramp.apply_translation([5, 0, 0])
    grid = extract_walkable(ramp, max_slope_deg=40)
    assert (grid.floors_at(5.5, 2.0).size == 1) is walkable


def test_coincident_floors_of_a_cell_merge_into_one_layer() -> None:
    grid = extract_walkable(scene(ground(), box((2, 6), (-0.2, 0.008), (0, 4))))
    assert grid.layers == 1
    assert list(grid.floors_at(4.0, 2.0)) == [0.01]
    assert list(grid.floors_at(8.0, 2.0)) == [0.0]


def test_only_the_lowest_floors_are_kept_when_a_cell_has_too_many() -> None:
    storeys = [box((0, 4), (3.0 * k - 0.2, 3.0 * k), (0, 4)) for k in range(6)]
    grid = extract_walkable(scene(*storeys), max_layers=4)
    assert grid.layers == 4
    assert list(grid.floors_at(2.0, 2.0)) == [0.0, 3.0, 6.0, 9.0]


def test_walk_grid_round_trips_through_bytes_little_endian() -> None:
    grid = extract_walkable(gallery_hall())
    data = grid.to_bytes()
    assert len(data) == 2 * grid.layers * grid.rows * grid.cols
    back = WalkGrid.from_bytes(data, json.loads(json.dumps(grid.meta())))
    assert back.origin == grid.origin and back.cell == grid.cell
    assert back.heights.dtype == np.int16 and np.array_equal(back.heights, grid.heights)
    tiny = WalkGrid((0.0, 0.0), 1.0, np.array([[[0x0102, NO_FLOOR]]], dtype=np.int16))
    assert tiny.to_bytes() == b"\x02\x01\x00\x80"
    with pytest.raises(ValueError):
        WalkGrid.from_bytes(data[:-2], grid.meta())


def test_meta_has_exactly_the_walkable_keys_of_the_http_api() -> None:
    manifest = re.search(r'"walkable":\s*\{(.*?)\}', DOCS.read_text(), re.S)
    assert manifest is not None
    # url and bytes come from the asset store, maxStep and maxDrop from the movement rule's constants.
    documented = set(re.findall(r'"(\w+)":', manifest.group(1))) - {"url", "bytes", "maxStep", "maxDrop"}
    meta = extract_walkable(ground()).meta()
    assert set(meta) == documented
    assert meta["encoding"] == "int16-cm"
    assert meta["cols"] == 40 and meta["rows"] == 16 and meta["layers"] == 1 and meta["cell"] == 0.25


def test_scene_graph_is_flattened_into_world_coordinates(tmp_path: Path) -> None:
    graph = trimesh.Scene()
    graph.add_geometry(ground((0, 4), (0, 4)), transform=trimesh.transformations.translation_matrix([10, 1, 0]))
    path = tmp_path / "scene.glb"
    path.write_bytes(graph.export(file_type="glb"))
    mesh = load_scene_mesh(path)
    assert np.allclose(mesh.bounds, [[10, 0.8, 0], [14, 1.0, 4]])
    assert list(extract_walkable(mesh).floors_at(12.0, 2.0)) == [1.0]


def test_thin_partition_between_cell_centres_blocks_a_walker() -> None:
    # 0.1 m thick, between the cell centres at x = 4.875 and 5.125: no vertical line through a centre hits it.
    grid = extract_walkable(scene(ground(), box((4.9, 5.0), (0, 2.5), (0, 4))))
    x, _, _, blocked = walk(grid, (1.0, 0.0, 2.0), (9.0, 2.0))
    assert blocked and x < 4.9
    assert walk(grid, (9.0, 0.0, 2.0), (1.0, 2.0))[3]


def test_thin_railing_blocks_on_its_floor_but_not_under_it() -> None:
    # A 5 cm balustrade between cell centres, on the ground and along the gallery's front.
    railings = [box((4.9, 4.95), (0, 1), (2, 6)), box((10, 10.05), (3.5, 4.5), (2, 6))]
    grid = extract_walkable(scene(gallery_hall(), *railings))
    assert walk(grid, (1.0, 0.0, 4.0), (9.0, 4.0))[3]
    assert list(grid.floors_at(10.02, 4.0)) == [0.0]  # the gallery cell under the railing is no floor
    assert list(grid.floors_at(10.3, 4.0)) == [0.0, 3.5]
    assert not walk(grid, (12.0, 0.0, 4.0), (8.0, 4.0))[3]  # the ground under the railing is open


def test_wall_without_a_bottom_face_still_blocks() -> None:
    wall = box((4.85, 5.15), (0, 3), (0, 4))
    wall.update_faces(wall.face_normals[:, 1] > -0.5)  # culled hidden face, as scene generators do
    grid = extract_walkable(scene(ground(), wall))
    assert walk(grid, (1.0, 0.0, 2.0), (9.0, 2.0))[3]


def test_faces_on_cell_boundaries_do_not_widen_a_box() -> None:
    grid = extract_walkable(scene(ground(), box((4, 6), (0, 1), (0, 4))))
    assert grid.step_target(0.0, 3.9, 2.0) == 0.0 and grid.step_target(0.0, 6.1, 2.0) == 0.0
    assert grid.step_target(0.0, 4.1, 2.0) is None and grid.step_target(0.0, 5.9, 2.0) is None
