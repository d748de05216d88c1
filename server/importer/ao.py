"""Ambient occlusion baked per vertex for imported scenes (issue 12 item 7), within a time and memory budget.

The same method as the bundled scenes' (server/scenegen/ao.py: surfaces voxelised, cosine-weighted rays marched
from each vertex through the grid, a near and a far reach), sized for a model of any extent and any detail:
- the voxel grows with the model so the grid stays under MAX_CELLS; a model that would need voxels coarser than
  MAX_VOXEL (a room's corner would vanish in them) is not baked, and the report says so;
- the first level (≤ 50k triangles) is baked directly, its rays cut so vertices x rays x steps stays under
  SAMPLE_BUDGET (at least MIN_RAYS, else not baked); finer levels (and the first level when it is cut again to
  fit its byte budget) take each vertex's value from the baked vertices nearest to it and facing the same way
  (a k-d tree over position and normal), so the look does not change as detail streams in, at a cost that does
  not grow with rays.
Deterministic (fixed directions, no random sampling), plain numpy arrays, no Python loop over vertices.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..scenegen.glb import ao_colors
from .glb import Part

MIN_VOXEL = 0.1  # metres, as the bundled scenes
MAX_VOXEL = 0.35  # metres: coarser and a room's corner falls inside one voxel: not baked
MAX_CELLS = 48_000_000  # voxels (one byte each): the grid's memory
REACH = 2.0  # metres: occluders nearer than this block a ray fully
FAR_REACH = 5.0  # metres: between REACH and this, a ray counts FAR_WEIGHT blocked (a room's enclosure)
FAR_WEIGHT = 0.35
RAYS = 16
MIN_RAYS = 8
SAMPLE_BUDGET = 150_000_000  # grid look-ups for one level (vertices x rays x steps): a few seconds
NORMAL_WEIGHT = 1.0  # metres a flipped normal counts as, when finer levels look up the baked vertices
NEIGHBOURS = 4
_CHUNK = 2048  # vertices per batch (rays x steps x _CHUNK points in memory at once)
_MARK_POINTS = 500_000  # surface samples per batch while voxelising (bounds the temporary arrays)


@dataclass
class Baked:
    """A level's baked vertices: where they are, which way they face, how much ambient light reaches them."""

    positions: np.ndarray
    normals: np.ndarray
    visible: np.ndarray
    rays: int
    voxel: float
    seconds: float


def _hemisphere(n: int) -> np.ndarray:
    """n cosine-weighted directions around +Z on a Fibonacci spiral (evenly spread, deterministic)."""
    k = np.arange(n) + 0.5
    r = np.sqrt(k / n)
    phi = k * np.pi * (3.0 - np.sqrt(5.0))
    return np.stack([r * np.cos(phi), r * np.sin(phi), np.sqrt(1.0 - r * r)], 1)


def _frames(normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.where(np.abs(normals[:, 1:2]) < 0.9, [[0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]])
    t = np.cross(helper, normals)
    t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12)
    return t, np.cross(normals, t)


def voxel_size(low: np.ndarray, high: np.ndarray) -> float:
    """The finest voxel (≥ MIN_VOXEL) that keeps a grid over low..high under MAX_CELLS."""
    extent = np.maximum(np.asarray(high, float) - np.asarray(low, float), MIN_VOXEL) + 4 * MIN_VOXEL
    return max(MIN_VOXEL, float(np.cbrt(np.prod(extent) / MAX_CELLS)) * 1.02)


class Occupancy:
    """A boolean voxel grid of the surfaces of some triangles ((t, 3, 3) metres)."""

    def __init__(self, triangles: np.ndarray, voxel: float) -> None:
        self.voxel = voxel
        pts = triangles.reshape(-1, 3)
        self.origin = np.floor((pts.min(axis=0) - 2 * voxel) / voxel) * voxel
        self.shape = tuple(int(v) for v in np.ceil((pts.max(axis=0) + 2 * voxel - self.origin) / voxel) + 1)
        self.grid = np.zeros(self.shape, dtype=bool)
        self._mark(triangles)

    def _mark(self, tris: np.ndarray) -> None:
        """Samples each triangle on a barycentric lattice finer than half a voxel and marks their voxels."""
        edge = np.linalg.norm(tris - tris[:, [1, 2, 0]], axis=2).max(axis=1)
        steps = np.clip(np.ceil(edge / (0.5 * self.voxel)), 1, 400).astype(np.int64)
        for m in np.unique(steps):
            group = tris[steps == m]
            i, j = np.meshgrid(np.arange(m + 1), np.arange(m + 1), indexing="ij")
            ok = (i + j) <= m
            weights = np.stack([1.0 - (i[ok] + j[ok]) / m, i[ok] / m, j[ok] / m], 1)
            per = max(1, _MARK_POINTS // len(weights))
            for start in range(0, len(group), per):
                self._set(np.einsum("kv,tvc->tkc", weights, group[start:start + per]).reshape(-1, 3))

    def _set(self, pts: np.ndarray) -> None:
        idx = np.floor((pts - self.origin) / self.voxel).astype(np.int64)
        idx = idx[np.all((idx >= 0) & (idx < self.shape), axis=1)]
        self.grid[idx[:, 0], idx[:, 1], idx[:, 2]] = True

    def hit(self, pts: np.ndarray) -> np.ndarray:
        idx = np.floor((pts - self.origin) / self.voxel).astype(np.int64)
        ok = np.all((idx >= 0) & (idx < self.shape), axis=-1)
        idx = np.where(ok[..., None], idx, 0)
        return ok & self.grid[idx[..., 0], idx[..., 1], idx[..., 2]]


def _steps(voxel: float) -> tuple[np.ndarray, np.ndarray]:
    skip = 1.5 * voxel  # past the vertex's own surface and any it touches (a floor at the foot of a wall)
    return np.arange(skip, REACH, 0.5 * voxel), np.arange(max(REACH, skip), FAR_REACH, voxel)


def rays_within_budget(vertices: int, voxel: float) -> int:
    """How many rays a level of `vertices` gets under SAMPLE_BUDGET (0: not even MIN_RAYS)."""
    near, far = _steps(voxel)
    rays = SAMPLE_BUDGET // max(1, vertices * (len(near) + len(far)))
    return int(min(RAYS, rays)) if rays >= MIN_RAYS else 0


def bake(parts: list[Part], occupancy: Occupancy, rays: int) -> Baked:
    """Ambient visibility in [0, 1] (1: nothing near) for every vertex of `parts`, `rays` rays each."""
    started = time.monotonic()
    positions = np.concatenate([p.positions for p in parts]) if parts else np.zeros((0, 3))
    normals = np.concatenate([p.normals for p in parts]).astype(np.float64) if parts else np.zeros((0, 3))
    local = _hemisphere(rays)
    near, far = _steps(occupancy.voxel)
    visible = np.empty(len(positions))
    for start in range(0, len(positions), _CHUNK):
        p, n = positions[start:start + _CHUNK], normals[start:start + _CHUNK]
        t, b = _frames(n)
        dirs = local[None, :, 0:1] * t[:, None] + local[None, :, 1:2] * b[:, None] + local[None, :, 2:3] * n[:, None]
        origin = p + 1.5 * occupancy.voxel * n
        blocked = np.zeros(dirs.shape[:2], dtype=bool)
        for d in near:  # all rays of the batch together, one step at a time
            blocked |= occupancy.hit(origin[:, None] + d * dirs)
        enclosed = blocked.copy()
        for d in far:
            enclosed |= occupancy.hit(origin[:, None] + d * dirs)
        visible[start:start + _CHUNK] = 1.0 - blocked.mean(axis=1) - FAR_WEIGHT * (enclosed & ~blocked).mean(axis=1)
    return Baked(positions, normals, np.clip(visible, 0.0, 1.0), rays, occupancy.voxel, time.monotonic() - started)


def transfer(baked: Baked, parts: list[Part]) -> list[np.ndarray]:
    """Each part's per-vertex visibility taken from the baked vertices nearest in place and facing (a vertex on
    the other side of a thin wall faces away, so it is far in this space and does not leak through)."""
    tree = cKDTree(np.hstack([baked.positions, NORMAL_WEIGHT * baked.normals]))
    k = min(NEIGHBOURS, len(baked.positions))
    out = []
    for part in parts:
        query = np.hstack([part.positions, NORMAL_WEIGHT * part.normals.astype(np.float64)])
        distance, index = tree.query(query, k=k)
        distance, index = distance.reshape(len(query), k), index.reshape(len(query), k)
        # Only neighbours facing the same way count (the other face of a thin wall is near in space too);
        # with none, the nearest one.
        facing = np.einsum("vkc,vc->vk", baked.normals[index], part.normals.astype(np.float64)) > 0.5
        weights = facing / np.maximum(distance, 1e-3) ** 2
        alone = weights.sum(axis=1) == 0
        weights[alone, 0] = 1.0
        out.append((baked.visible[index] * weights).sum(axis=1) / weights.sum(axis=1))
    return out


def split(baked: Baked, parts: list[Part]) -> list[np.ndarray]:
    """The baked visibility of `parts` (the very parts `bake` was given), one array per part."""
    bounds = np.cumsum([0] + [len(p.positions) for p in parts])
    return [baked.visible[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def colours(visible: np.ndarray) -> np.ndarray:
    """Visibility to the COLOR_0 bytes the bundled scenes use (grey, a floor of ambient light, 16 steps)."""
    return ao_colors(visible)


class Shading:
    """The ambient occlusion of one import: the grid built once from the full-detail model, the first level
    baked, the finer ones transferred; `line` says what was done (or why not) for the import's report."""

    def __init__(self, parts: list[Part]) -> None:
        started = time.monotonic()
        self.occupancy: Occupancy | None = None
        self.baked: Baked | None = None
        self.skipped: str | None = None
        self.seconds = 0.0
        # float32: centimetres are exact enough for voxels of ten, and the full-detail model's copy is half the size.
        triangles = np.concatenate([p.positions.astype(np.float32)[p.faces] for p in parts if len(p.faces)])
        low, high = triangles.reshape(-1, 3).min(axis=0), triangles.reshape(-1, 3).max(axis=0)
        voxel = voxel_size(low, high)
        if voxel > MAX_VOXEL:
            size = " x ".join(f"{v:.0f}" for v in high - low)
            self.skipped = (f"ambient occlusion not baked: the model ({size} m) would need {voxel * 100:.0f} cm "
                            f"voxels (at most {MAX_VOXEL * 100:.0f} cm) to keep its grid under {MAX_CELLS:,} cells")
        else:
            self.occupancy = Occupancy(triangles, voxel)
        self.seconds += time.monotonic() - started

    def apply(self, parts: list[Part], first: bool) -> None:
        """Sets `ao` on every part of a level: baked for the first level, transferred for the finer ones."""
        if self.occupancy is None:
            return
        started = time.monotonic()
        if first or self.baked is None:
            vertices = sum(len(p.positions) for p in parts)
            rays = rays_within_budget(vertices, self.occupancy.voxel)
            if not rays:
                self.skipped = (f"ambient occlusion not baked: {vertices:,} vertices in the first level would need "
                                f"more than {SAMPLE_BUDGET:,} samples even at {MIN_RAYS} rays")
                self.occupancy = None
                for p in parts:
                    p.ao = None
                return
            self.baked = bake(parts, self.occupancy, rays)
            values = split(self.baked, parts)
        else:
            values = transfer(self.baked, parts)
        for part, visible in zip(parts, values, strict=True):
            part.ao = colours(visible)
        self.seconds += time.monotonic() - started

    def line(self) -> str:
        if self.skipped is not None:
            return self.skipped
        assert self.baked is not None and self.occupancy is not None
        return (f"ambient occlusion baked into vertex colours: {len(self.baked.visible):,} vertices of the first level "
                f"x {self.baked.rays} rays over {self.occupancy.voxel * 100:.0f} cm voxels, the other levels (and a "
                f"first level cut again for its budget) from the nearest baked vertices ({self.seconds:.1f} s)")
