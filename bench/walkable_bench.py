"""Time walkable-floor extraction on a synthetic ~50k-triangle, 60 m x 80 m town hall, or on given GLB files.

.venv/bin/python bench/walkable_bench.py                 # synthetic scene
.venv/bin/python bench/walkable_bench.py assets/gltf/*.glb  # bundled scenes (also prints an ASCII map)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import trimesh

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server.walkable import NO_FLOOR, WalkGrid, extract_walkable, load_scene_mesh  # noqa: E402


def box(lo: list[float], hi: list[float]) -> trimesh.Trimesh:
    return trimesh.creation.box(bounds=[lo, hi])


def synthetic_hall(seed: int = 0) -> trimesh.Trimesh:
    rng = np.random.default_rng(seed)
    parts = [box([0, -0.3, 0], [60, 0, 80])]  # ground
    for x0, z0, x1, z1 in [(0, 0, 60, 0.3), (0, 79.7, 60, 80), (0, 0, 0.3, 80), (59.7, 0, 60, 80)]:
        parts.append(box([x0, 0, z0], [x1, 7, z1]))  # outer walls
    for x in range(10, 60, 10):  # interior walls with doors
        parts += [box([x, 0, 0], [x + 0.2, 3.3, 38]), box([x, 0, 40], [x + 0.2, 3.3, 80])]
    parts.append(box([0, 3.3, 50], [60, 3.5, 80]))  # upper storey slab over the back third
    parts += [box([2 + i * 0.3, 0, 45], [12, (i + 1) * 0.175, 47]) for i in range(20)]  # stair
    for _ in range(600):  # tables, chairs, benches
        x, z = rng.uniform(1, 58), rng.uniform(1, 78)
        w, d, h = rng.uniform(0.4, 1.8), rng.uniform(0.4, 0.9), rng.uniform(0.45, 0.8)
        parts.append(box([x, h - 0.04, z], [x + w, h, z + d]))
        parts += [
            box([x + dx, 0, z + dz], [x + dx + 0.05, h - 0.04, z + dz + 0.05])
            for dx in (0, w - 0.05)
            for dz in (0, d - 0.05)
        ]
    for _ in range(40):  # trees: trunk + round canopy
        x, z = rng.uniform(2, 58), rng.uniform(2, 48)
        trunk = trimesh.creation.cylinder(radius=0.15, height=2.5, sections=16)
        trunk.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
        trunk.apply_translation([x, 1.25, z])
        crown = trimesh.creation.icosphere(subdivisions=2, radius=1.5)
        crown.apply_translation([x, 4.0, z])
        parts += [trunk, crown]
    return trimesh.util.concatenate(parts)


def ascii_map(grid: WalkGrid, layer: int, width: int = 100) -> str:
    """Top-down map of one layer: ' ' no floor, digits = height in metres (clipped to 0..9)."""
    h = grid.heights[layer]
    step = max(1, int(np.ceil(grid.cols / width)))
    sub = h[::step, ::step]
    chars = np.where(sub == NO_FLOOR, " ", np.clip(sub // 100, 0, 9).astype(str))
    return "\n".join("".join(row) for row in chars[::-1])


def report(name: str, mesh: trimesh.Trimesh, runs: int = 3, show: bool = False) -> None:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        grid = extract_walkable(mesh)
        times.append(time.perf_counter() - t)
    per_layer = [int((grid.heights[k] != NO_FLOOR).sum()) for k in range(grid.layers)]
    print(
        f"{name}: {len(mesh.faces)} triangles, extent {np.ptp(mesh.bounds, axis=0).round(1).tolist()} m, "
        f"grid {grid.cols}x{grid.rows}x{grid.layers}, floor cells per layer {per_layer}, "
        f"extract best {min(times):.2f} s / median {sorted(times)[len(times) // 2]:.2f} s"
    )
    if show:
        for k in range(grid.layers):
            print(f"-- layer {k} (north up, digits = metres) --\n{ascii_map(grid, k)}")


def main(paths: list[str]) -> None:
    if not paths:
        report("synthetic hall", synthetic_hall())
        return
    for p in paths:
        t = time.perf_counter()
        mesh = load_scene_mesh(p)
        print(f"{p}: loaded in {time.perf_counter() - t:.2f} s")
        report(Path(p).name, mesh, show=True)


if __name__ == "__main__":
    main(sys.argv[1:])
