"""Mesh building blocks as numpy arrays, gathered per material.

Every shape is emitted as (positions, normals, indices) with outward counter-clockwise winding and normals
that agree with it. Boxes are flat-shaded (no vertex shared across a hard edge); cylinders have smooth sides
and flat caps. Rectangles (box faces, floors) longer than `QUAD_CELL` are split into a grid of smaller ones, so
that ambient occlusion baked per vertex (`ao.py`) has the resolution to darken a room's corners and the foot of
its walls rather than smear one value across a whole wall. `MeshBuilder` collects shapes by material name so
that the scene ends up with one primitive per material (few draw calls). Degenerate (zero-extent) boxes are
dropped, never emitted.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import trimesh
from numpy.typing import ArrayLike

FACES = ("-x", "+x", "-y", "+y", "-z", "+z")
Part = tuple[np.ndarray, np.ndarray, np.ndarray]  # positions (n,3) f8, normals (n,3) f8, triangles (m,3) i8
QUAD_CELL = 1.5  # metres: the longest side of a rectangle's grid cell
QUAD_MAX_SPLITS = 16  # per side, so the far ground (hundreds of metres) stays a few hundred triangles


def _box_template() -> tuple[np.ndarray, np.ndarray]:
    """Unit-cube corners (6 faces x 4) and their normals."""
    corners, normals = [], []
    quad = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    for axis in range(3):
        b, c = (axis + 1) % 3, (axis + 2) % 3  # cyclic, so e_b x e_c = e_axis
        for sign in (-1, 1):
            face = np.zeros((4, 3))
            face[:, axis] = 0.0 if sign < 0 else 1.0
            face[:, b], face[:, c] = quad[:, 0], quad[:, 1]
            if sign < 0:
                face = face[::-1]
            corners.append(face)
            n = np.zeros((4, 3))
            n[:, axis] = sign
            normals.append(n)
    return np.stack(corners), np.stack(normals)


_BOX_CORNERS, _BOX_NORMALS = _box_template()


def boxes(lo: ArrayLike, hi: ArrayLike, skip: Iterable[str] = ()) -> Part:
    """Axis-aligned boxes from corner arrays lo, hi of shape (n, 3); `skip` names faces left out (e.g. "-y")."""
    a = np.atleast_2d(np.asarray(lo, dtype=float))
    c = np.atleast_2d(np.asarray(hi, dtype=float))
    low, high = np.minimum(a, c), np.maximum(a, c)
    keep_box = np.all(high - low > 1e-6, axis=1)
    low, high = low[keep_box], high[keep_box]
    keep = [i for i, name in enumerate(FACES) if name not in set(skip)]
    corners, normals = _BOX_CORNERS[keep], _BOX_NORMALS[keep]  # (f, 4, 3)
    pos = low[:, None, None, :] + corners[None] * (high - low)[:, None, None, :]  # (n, f, 4, 3)
    nrm = np.broadcast_to(normals[None, :, 0], pos.shape[:2] + (3,))
    return rectangles(pos.reshape(-1, 4, 3), nrm.reshape(-1, 3))


def rectangles(corners: np.ndarray, normals: np.ndarray) -> Part:
    """Rectangles given as (n, 4, 3) corners in counter-clockwise order (triangles 0-1-2, 0-2-3) with one
    normal each, each split into a grid of cells no longer than QUAD_CELL per side (same winding)."""
    n = len(corners)
    eu, ev = corners[:, 1] - corners[:, 0], corners[:, 3] - corners[:, 0]
    nu = np.clip(np.ceil(np.linalg.norm(eu, axis=1) / QUAD_CELL - 1e-9), 1, QUAD_MAX_SPLITS).astype(np.int64)
    nv = np.clip(np.ceil(np.linalg.norm(ev, axis=1) / QUAD_CELL - 1e-9), 1, QUAD_MAX_SPLITS).astype(np.int64)
    pos_out: list[np.ndarray] = []
    nrm_out: list[np.ndarray] = []
    tri_out: list[np.ndarray] = []
    offset = 0
    order = np.lexsort((nv, nu))  # group by grid shape; keep input order within a group (deterministic)
    shapes, starts = np.unique(np.stack([nu[order], nv[order]], 1), axis=0, return_index=True)
    bounds = np.r_[starts, n]
    for (gu, gv), a, b in zip(shapes, bounds[:-1], bounds[1:], strict=True):
        sel = np.sort(order[a:b])
        s, t = np.meshgrid(np.arange(gu + 1) / gu, np.arange(gv + 1) / gv, indexing="ij")
        s, t = s.reshape(-1), t.reshape(-1)  # vertex k = i * (gv + 1) + j
        pos = corners[sel, None, 0] + s[None, :, None] * eu[sel, None] + t[None, :, None] * ev[sel, None]
        i, j = np.meshgrid(np.arange(gu), np.arange(gv), indexing="ij")
        k = (i * (gv + 1) + j).reshape(-1)
        cell = np.stack([k, k + gv + 1, k + gv + 2, k + 1], 1)  # (cells, 4) like the corners 0, 1, 2, 3
        quad = np.concatenate([cell[:, [0, 1, 2]], cell[:, [0, 2, 3]]], 1).reshape(-1, 3)
        per = len(s)
        tri_out.append((offset + np.arange(len(sel))[:, None, None] * per + quad[None]).reshape(-1, 3))
        pos_out.append(pos.reshape(-1, 3))
        nrm_out.append(np.repeat(normals[sel], per, axis=0))
        offset += len(sel) * per
    if not pos_out:
        return np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    return np.concatenate(pos_out), np.concatenate(nrm_out), np.concatenate(tri_out)


def quads_y(lo_xz: ArrayLike, hi_xz: ArrayLike, y: float | np.ndarray, down: bool = False) -> Part:
    """Horizontal rectangles (floors or ceilings) at height y, facing +Y (or -Y when `down`)."""
    lo2 = np.atleast_2d(np.asarray(lo_xz, dtype=float))
    hi2 = np.atleast_2d(np.asarray(hi_xz, dtype=float))
    n = len(lo2)
    y = np.broadcast_to(np.asarray(y, dtype=float), (n,))
    x0, z0, x1, z1 = lo2[:, 0], lo2[:, 1], hi2[:, 0], hi2[:, 1]
    # Counter-clockwise seen from above (+Y): (x0,z1) (x1,z1) (x1,z0) (x0,z0).
    pos = np.stack(
        [np.stack([x0, y, z1], 1), np.stack([x1, y, z1], 1), np.stack([x1, y, z0], 1), np.stack([x0, y, z0], 1)],
        axis=1,
    )
    if down:
        pos = pos[:, ::-1]
    nrm = np.zeros((n, 3))
    nrm[:, 1] = -1.0 if down else 1.0
    return rectangles(pos, nrm)


def cylinder(
    center_xz: tuple[float, float],
    radius: float,
    y0: float,
    y1: float,
    sections: int = 16,
    top: bool = True,
    bottom: bool = False,
    radius_top: float | None = None,
    inward: bool = False,
) -> Part:
    """A vertical (frustum) cylinder with smooth sides; `inward` flips the sides to face the axis (a basin)."""
    r1 = radius if radius_top is None else radius_top
    th = np.linspace(0.0, 2.0 * np.pi, sections, endpoint=False)
    c, s = np.cos(th), np.sin(th)
    cx, cz = center_xz
    ring0 = np.stack([cx + radius * c, np.full(sections, y0), cz + radius * s], 1)
    ring1 = np.stack([cx + r1 * c, np.full(sections, y1), cz + r1 * s], 1)
    slope = (radius - r1) / (y1 - y0)
    side_n = np.stack([c, np.full(sections, slope), s], 1)
    side_n /= np.linalg.norm(side_n, axis=1, keepdims=True)
    i = np.arange(sections)
    j = (i + 1) % sections
    b, t = i, i + sections
    side = np.concatenate([np.stack([b, t, j + sections], 1), np.stack([b, j + sections, j], 1)])
    pos = [np.concatenate([ring0, ring1])]
    nrm = [np.concatenate([side_n, side_n])]
    if inward:
        side = side[:, ::-1]
        nrm = [-nrm[0]]
    tris = [side]
    offset = 2 * sections
    for want, ring, y, up in ((top, ring1, y1, True), (bottom, ring0, y0, False)):
        if not want:
            continue
        centre = np.array([[cx, y, cz]])
        pos.append(np.concatenate([centre, ring]))
        n = np.zeros((sections + 1, 3))
        n[:, 1] = 1.0 if up else -1.0
        nrm.append(n)
        fan = np.stack([np.zeros(sections, int), j + 1, i + 1], 1) if up else np.stack(
            [np.zeros(sections, int), i + 1, j + 1], 1
        )
        tris.append(fan + offset)
        offset += sections + 1
    return np.concatenate(pos), np.concatenate(nrm), np.concatenate(tris)


def annulus_y(center_xz: tuple[float, float], r_in: float, r_out: float, y: float, sections: int = 32) -> Part:
    """A flat up-facing ring (the rim of a basin)."""
    th = np.linspace(0.0, 2.0 * np.pi, sections, endpoint=False)
    c, s = np.cos(th), np.sin(th)
    cx, cz = center_xz
    inner = np.stack([cx + r_in * c, np.full(sections, y), cz + r_in * s], 1)
    outer = np.stack([cx + r_out * c, np.full(sections, y), cz + r_out * s], 1)
    i = np.arange(sections)
    j = (i + 1) % sections
    tris = np.concatenate([np.stack([i, j, j + sections], 1), np.stack([i, j + sections, i + sections], 1)])
    nrm = np.zeros((2 * sections, 3))
    nrm[:, 1] = 1.0
    return np.concatenate([inner, outer]), nrm, tris


def flat(mesh: trimesh.Trimesh) -> Part:
    """Any trimesh as a flat-shaded part (one normal per triangle, vertices unshared)."""
    tri = np.asarray(mesh.vertices, dtype=float)[np.asarray(mesh.faces)]  # (m, 3, 3)
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    pos = tri.reshape(-1, 3)
    nrm = np.repeat(n, 3, axis=0)
    return pos, nrm, np.arange(len(pos)).reshape(-1, 3)


def oriented_box(extents: tuple[float, float, float], transform: np.ndarray) -> Part:
    """A box of the given extents centred at the origin, then moved by a 4x4 transform (flat-shaded)."""
    return flat(trimesh.creation.box(extents=extents, transform=transform))


def sphere(center: tuple[float, float, float], radii: tuple[float, float, float], subdivisions: int = 1,
           jitter: float = 0.0, seed: int = 0, smooth: bool = False) -> Part:
    """An ellipsoid from an icosphere; `jitter` perturbs radii (seeded) for organic low-poly shapes."""
    ico = trimesh.creation.icosphere(subdivisions=subdivisions)
    unit = np.asarray(ico.vertices, dtype=float)
    if jitter:
        rng = np.random.default_rng(abs(seed))
        unit = unit * (1.0 + jitter * rng.uniform(-1.0, 1.0, size=(len(unit), 1)))
    verts = unit * np.asarray(radii) + np.asarray(center)
    mesh = trimesh.Trimesh(verts, np.asarray(ico.faces), process=False)
    if not smooth:
        return flat(mesh)
    nrm = unit / np.square(np.asarray(radii))
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    return verts, nrm, np.asarray(ico.faces, dtype=np.int64)


def translate(part: Part, offset: tuple[float, float, float]) -> Part:
    pos, nrm, tris = part
    return pos + np.asarray(offset, dtype=float), nrm, tris


class MeshBuilder:
    """Collects parts per material; `merged()` gives one (positions, normals, triangles) per material."""

    def __init__(self) -> None:
        self._parts: dict[str, list[Part]] = {}

    def add(self, material: str, part: Part) -> None:
        if len(part[2]):
            self._parts.setdefault(material, []).append(part)

    def box(self, material: str, lo: Iterable[float], hi: Iterable[float], skip: Iterable[str] = ()) -> None:
        self.add(material, boxes(np.asarray([list(lo)]), np.asarray([list(hi)]), skip))

    def boxes(self, material: str, lo: ArrayLike, hi: ArrayLike, skip: Iterable[str] = ()) -> None:
        self.add(material, boxes(lo, hi, skip))

    def merged(self) -> dict[str, Part]:
        out: dict[str, Part] = {}
        for name, parts in self._parts.items():
            offsets = np.cumsum([0] + [len(p[0]) for p in parts[:-1]])
            out[name] = (
                np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] + o for p, o in zip(parts, offsets, strict=True)]),
            )
        return out

    def triangle_count(self) -> int:
        return sum(len(p[2]) for parts in self._parts.values() for p in parts)
