"""Ambient occlusion baked per vertex, so rooms read as rooms on a phone without real-time shadows.

Method: the opaque geometry is voxelised (surface samples marked in a boolean grid of VOXEL metres); from every
vertex, lifted a little off its surface, RAYS cosine-weighted directions over its normal's hemisphere are
marched through the grid; a ray that meets something within REACH metres is blocked, one that meets something
only further, up to FAR_REACH, counts as FAR_WEIGHT blocked (the room around the vertex: ceilings and far walls
dim an interior a little, so rooms read as enclosed). The vertex's ambient light is what escapes. A corner sees
half its hemisphere blocked, the foot of a wall a quarter, the middle of a square nothing: dark corners, soft
contact shadows under furniture, open squares left bright.

Everything is plain numpy arithmetic on fixed inputs (fixed directions, no random sampling, no threads), so the
result is the same bytes on every run and every machine with the same numpy. The grid is marched in half-voxel
steps, the start skips the vertex's own surface and any surface it touches (a floor vertex at the foot of a
wall starts on the wall's plane).
"""

from __future__ import annotations

import numpy as np

from .geometry import Part

VOXEL = 0.1  # metres
REACH = 2.0  # metres: occluders nearer than this block a ray fully
FAR_REACH = 5.0  # metres: occluders between REACH and this block a ray by FAR_WEIGHT (a room's enclosure)
FAR_WEIGHT = 0.35
RAYS = 32
LIFT = 1.5 * VOXEL  # start this far along the normal, off the vertex's own surface
SKIP = 1.5 * VOXEL  # and ignore what the ray meets in its first stretch (a surface the vertex touches)
EXTENT = 60.0  # metres from the origin: the grid's reach (the far ground beyond is never an occluder)
_CHUNK = 4096  # vertices per batch: RAYS x steps x _CHUNK samples in memory at once


def _hemisphere(n: int) -> np.ndarray:
    """n cosine-weighted directions around +Z on a Fibonacci spiral (evenly spread, deterministic)."""
    k = np.arange(n) + 0.5
    r = np.sqrt(k / n)  # cosine weighting: uniform on the disc, projected up
    phi = k * np.pi * (3.0 - np.sqrt(5.0))
    return np.stack([r * np.cos(phi), r * np.sin(phi), np.sqrt(1.0 - r * r)], 1)


def _frames(normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit tangents per normal, orthogonal to it and to each other."""
    helper = np.where(np.abs(normals[:, 1:2]) < 0.9, [[0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]])
    t = np.cross(helper, normals)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    return t, np.cross(normals, t)


class Occupancy:
    """A boolean voxel grid of the surfaces of some triangles, clipped to [-EXTENT, EXTENT] horizontally."""

    def __init__(self, triangles: np.ndarray) -> None:
        pts = triangles.reshape(-1, 3)
        lo = np.maximum(pts.min(axis=0), [-EXTENT, -EXTENT, -EXTENT]) - 2 * VOXEL
        hi = np.minimum(pts.max(axis=0), [EXTENT, EXTENT, EXTENT]) + 2 * VOXEL
        self.origin = np.floor(lo / VOXEL) * VOXEL
        self.shape = tuple(int(v) for v in np.ceil((hi - self.origin) / VOXEL).astype(int) + 1)
        self.grid = np.zeros(self.shape, dtype=bool)
        self._mark(triangles)

    def _mark(self, tris: np.ndarray) -> None:
        """Samples each triangle on a barycentric lattice finer than half a voxel and marks their voxels."""
        inside = np.all((tris.max(axis=1) >= self.origin) & (tris.min(axis=1) <= self.origin + np.asarray(
            self.shape) * VOXEL), axis=1)
        tris = tris[inside]
        edge = np.linalg.norm(tris - tris[:, [1, 2, 0]], axis=2).max(axis=1)
        steps = np.clip(np.ceil(edge / (0.5 * VOXEL)), 1, 400).astype(np.int64)
        for m in np.unique(steps):
            group = tris[steps == m]
            i, j = np.meshgrid(np.arange(m + 1), np.arange(m + 1), indexing="ij")
            ok = (i + j) <= m
            a, b = i[ok] / m, j[ok] / m
            weights = np.stack([1.0 - a - b, a, b], 1)  # (k, 3) barycentric
            for start in range(0, len(group), max(1, 2_000_000 // len(weights))):
                chunk = group[start:start + max(1, 2_000_000 // len(weights))]
                pts = np.einsum("kv,tvc->tkc", weights, chunk).reshape(-1, 3)
                self._set(pts)

    def _set(self, pts: np.ndarray) -> None:
        idx = np.floor((pts - self.origin) / VOXEL).astype(np.int64)
        ok = np.all((idx >= 0) & (idx < self.shape), axis=1)
        idx = idx[ok]
        self.grid[idx[:, 0], idx[:, 1], idx[:, 2]] = True

    def hit(self, pts: np.ndarray) -> np.ndarray:
        """Whether each point (..., 3) lies in a marked voxel (outside the grid: no)."""
        idx = np.floor((pts - self.origin) / VOXEL).astype(np.int64)
        ok = np.all((idx >= 0) & (idx < self.shape), axis=-1)
        idx = np.where(ok[..., None], idx, 0)
        return ok & self.grid[idx[..., 0], idx[..., 1], idx[..., 2]]


def bake(receivers: dict[str, Part], occluders: list[Part]) -> dict[str, np.ndarray]:
    """Ambient visibility in [0, 1] for every vertex of every receiving part (1: nothing nearby)."""
    tris = np.concatenate([pos[t] for pos, _, t in occluders])
    occupancy = Occupancy(tris)
    local = _hemisphere(RAYS)
    near = np.arange(SKIP, REACH, 0.5 * VOXEL)
    far = np.arange(REACH, FAR_REACH, VOXEL)  # coarser: a thin miss far away matters little
    out: dict[str, np.ndarray] = {}
    for name, (pos, nrm, _) in receivers.items():
        visible = np.empty(len(pos))
        for start in range(0, len(pos), _CHUNK):
            p, n = pos[start:start + _CHUNK], nrm[start:start + _CHUNK]
            t, b = _frames(n)
            dirs = (local[None, :, 0:1] * t[:, None] + local[None, :, 1:2] * b[:, None]
                    + local[None, :, 2:3] * n[:, None])  # (v, rays, 3)
            origin = p + LIFT * n
            blocked = np.zeros(dirs.shape[:2], dtype=bool)
            for d in near:  # march all rays of the batch together, one step at a time
                blocked |= occupancy.hit(origin[:, None] + d * dirs)
            enclosed = blocked.copy()
            for d in far:
                enclosed |= occupancy.hit(origin[:, None] + d * dirs)
            visible[start:start + _CHUNK] = 1.0 - blocked.mean(axis=1) - FAR_WEIGHT * (enclosed & ~blocked).mean(axis=1)
        out[name] = visible
    return out
