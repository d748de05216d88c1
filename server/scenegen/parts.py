"""Architectural parts and furniture, built into a `MeshBuilder` as axis-aligned boxes and cylinders.

Conventions: walls are 0.3 m thick and centred on their line; each wall is two half-thickness slabs so each
face can carry the paint of the room it faces. Openings are given in world coordinates (centre along the
wall, width, sill and head heights); doors keep a clear opening of at least `width - 0.1` by `head - 0.05`
(frames line the reveal). Furniture is built in a local frame facing -Z and turned by multiples of 90°.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .geometry import MeshBuilder, Part, boxes, cylinder, oriented_box, sphere

WALL = 0.3
Axis = Literal["x", "z"]


@dataclass(frozen=True)
class Opening:
    at: float  # centre along the wall (world coordinate on the wall's axis)
    width: float
    sill: float  # absolute y of the bottom of the opening (a door's floor)
    head: float  # absolute y of the top of the opening
    kind: Literal["door", "window", "arch"] = "window"
    leaf: int = 0  # doors: side (+1 / -1 along the wall normal) where the open leaf rests; 0 for none


def _to_world(axis: Axis, u: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.stack([u, y, v], -1) if axis == "x" else np.stack([v, y, u], -1)


def _local_boxes(b: MeshBuilder, material: str, axis: Axis, lo: np.ndarray, hi: np.ndarray,
                 skip: Sequence[str] = ()) -> None:
    """Boxes given as (u, y, v) corners in the wall's frame; `skip` uses local names -u,+u,-y,+y,-v,+v."""
    lo, hi = np.atleast_2d(lo), np.atleast_2d(hi)
    names = {"-u": "-x", "+u": "+x", "-v": "-z", "+v": "+z"} if axis == "x" else {
        "-u": "-z", "+u": "+z", "-v": "-x", "+v": "+x"}
    world_skip = [names.get(s, s) for s in skip]
    b.boxes(material, _to_world(axis, lo[:, 0], lo[:, 1], lo[:, 2]),
            _to_world(axis, hi[:, 0], hi[:, 1], hi[:, 2]), world_skip)


def wall(b: MeshBuilder, axis: Axis, at: float, u0: float, u1: float, y0: float, y1: float,
         neg: str, pos: str, openings: Sequence[Opening] = (), top: bool = False) -> None:
    """A wall band along `axis` at `at`, spanning [u0, u1] x [y0, y1], painted `neg` on its -normal face and
    `pos` on its +normal face, with the openings that cross the band cut out. Trims are added separately."""
    cuts = sorted(
        (o for o in openings if o.at + o.width / 2 > u0 and o.at - o.width / 2 < u1 and o.head > y0 and o.sill < y1),
        key=lambda o: o.at,
    )
    rects: list[tuple[float, float, float, float]] = []
    cursor = u0
    for o in cuts:
        a, c = max(o.at - o.width / 2, u0), min(o.at + o.width / 2, u1)
        rects.append((cursor, a, y0, y1))
        rects.append((a, c, y0, max(o.sill, y0)))
        rects.append((a, c, min(o.head, y1), y1))
        cursor = c
    rects.append((cursor, u1, y0, y1))
    r = np.asarray(rects, dtype=float)
    r = r[(r[:, 1] - r[:, 0] > 1e-6) & (r[:, 3] - r[:, 2] > 1e-6)]
    for material, v_lo, v_hi, inner in ((neg, at - WALL / 2, at, "+v"), (pos, at, at + WALL / 2, "-v")):
        lo = np.stack([r[:, 0], r[:, 2], np.full(len(r), v_lo)], 1)
        hi = np.stack([r[:, 1], r[:, 3], np.full(len(r), v_hi)], 1)
        at_bottom = r[:, 2] <= y0 + 1e-6
        at_top = r[:, 3] >= y1 - 1e-6
        for sel, skip in (
            (at_bottom & at_top, [inner, "-y"] + ([] if top else ["+y"])),
            (at_bottom & ~at_top, [inner, "-y"]),
            (~at_bottom & at_top, [inner] + ([] if top else ["+y"])),
            (~at_bottom & ~at_top, [inner]),
        ):
            if sel.any():
                _local_boxes(b, material, axis, lo[sel], hi[sel], skip)


def door_trim(b: MeshBuilder, axis: Axis, at: float, o: Opening, frame: str = "wood-dark",
              leaf_material: str = "wood-dark", closed: bool = False) -> None:
    """Frame lining the reveal (architraves proud of both faces), a head, and the leaf or leaves."""
    a, c = o.at - o.width / 2, o.at + o.width / 2
    v0, v1 = at - WALL / 2 - 0.03, at + WALL / 2 + 0.03
    lo = np.array([[a - 0.1, o.sill, v0], [c - 0.05, o.sill, v0], [a - 0.1, o.head - 0.05, v0]])
    hi = np.array([[a + 0.05, o.head, v1], [c + 0.1, o.head, v1], [c + 0.1, o.head + 0.12, v1]])
    _local_boxes(b, frame, axis, lo, hi, ["-y"])
    if o.kind != "door":
        return
    clear = o.width - 0.1
    leaves = 2 if o.width >= 1.8 else 1
    lw = clear / leaves
    if closed:  # leaves shut in the middle of the wall (a façade door that leads nowhere)
        _local_boxes(b, leaf_material, axis, np.array([[a + 0.05, o.sill, at - 0.04]]),
                     np.array([[c - 0.05, o.head - 0.05, at + 0.04]]), ["-y"])
        handles = [o.at - 0.12, o.at + 0.08] if leaves == 2 else [c - 0.2]
        hy = o.sill + 1.05
        lo = np.array([[h, hy, at - 0.09] for h in handles])
        hi = np.array([[h + 0.04, hy + 0.3, at + 0.09] for h in handles])
        _local_boxes(b, "brass", axis, lo, hi)
        return
    if o.leaf == 0:
        return
    s = 1.0 if o.leaf > 0 else -1.0
    face = at + s * (WALL / 2 + 0.03)
    va, vb = sorted((face, face + s * 0.05))
    spans = [(c + 0.1, c + 0.1 + lw)] + ([(a - 0.1 - lw, a - 0.1)] if leaves == 2 else [])
    lo = np.array([[u0, o.sill, va] for u0, _ in spans])
    hi = np.array([[u1, o.head - 0.05, vb] for _, u1 in spans])
    _local_boxes(b, leaf_material, axis, lo, hi, ["-y"])
    # Panels: a slightly proud brass kick plate and handle on each leaf's visible face.
    pv = (vb, vb + 0.01) if s > 0 else (va - 0.01, va)
    lo = np.array([[u0 + 0.05, o.sill + 0.05, pv[0]] for u0, _ in spans])
    hi = np.array([[u1 - 0.05, o.sill + 0.3, pv[1]] for _, u1 in spans])
    _local_boxes(b, "brass", axis, lo, hi)


def window_trim(b: MeshBuilder, axis: Axis, at: float, o: Opening, frame: str = "frame-white",
                sill_material: str = "stone-warm") -> None:
    """A frame with a mullion (and a transom when tall), a glass pane, and a stone sill proud of both faces."""
    a, c = o.at - o.width / 2, o.at + o.width / 2
    s0, h = o.sill, o.head
    f, d = 0.07, 0.06
    rects = [(a, a + f, s0, h), (c - f, c, s0, h), (a, c, h - f, h), (a, c, s0 + 0.02, s0 + 0.02 + f),
             (o.at - f / 2, o.at + f / 2, s0, h)]
    if h - s0 > 1.8:
        t = s0 + 0.72 * (h - s0)
        rects.append((a, c, t - f / 2, t + f / 2))
    r = np.asarray(rects)
    n = len(r)
    _local_boxes(b, frame, axis, np.stack([r[:, 0], r[:, 2], np.full(n, at - d)], 1),
                 np.stack([r[:, 1], r[:, 3], np.full(n, at + d)], 1))
    _local_boxes(b, "glass", axis, np.array([[a + f, s0 + 0.02 + f, at - 0.01]]),
                 np.array([[c - f, h - f, at + 0.01]]))
    _local_boxes(b, sill_material, axis, np.array([[a - 0.08, s0 - 0.05, at - WALL / 2 - 0.06]]),
                 np.array([[c + 0.08, s0 + 0.02, at + WALL / 2 + 0.06]]))


def trims(b: MeshBuilder, axis: Axis, at: float, openings: Sequence[Opening]) -> None:
    for o in openings:
        if o.kind == "window":
            window_trim(b, axis, at, o)
        else:
            door_trim(b, axis, at, o)


def rotate_y(part: Part, yaw_deg: float, offset: Sequence[float]) -> Part:
    """Turn a part about +Y by yaw (counter-clockwise seen from above, as three.js rotation.y) and move it."""
    t = np.radians(yaw_deg)
    c, s = np.cos(t), np.sin(t)
    rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    pos, nrm, tris = part
    return pos @ rot.T + np.asarray(offset, dtype=float), nrm @ rot.T, tris


def place_boxes(b: MeshBuilder, material: str, lo: Sequence[Sequence[float]], hi: Sequence[Sequence[float]],
                yaw: float, offset: Sequence[float], skip: Sequence[str] = ()) -> None:
    b.add(material, rotate_y(boxes(np.asarray(lo, float), np.asarray(hi, float), skip), yaw, offset))


def stair(b: MeshBuilder, x0: float, z0: float, z1: float, risers: int, rise: float, tread: float,
          material: str = "stone-floor", rail_z: float | None = None) -> float:
    """A straight solid flight rising toward +X from x0 (first riser) between z0 and z1; the last riser
    meets the landing at x0 + (risers - 1) * tread. Optional handrail along z = rail_z. Returns landing x."""
    k = np.arange(1, risers)
    lo = np.stack([x0 + (k - 1) * tread, np.zeros_like(k, dtype=float), np.full(len(k), z0)], 1)
    hi = np.stack([x0 + k * tread, k * rise, np.full(len(k), z1)], 1)
    b.boxes(material, lo, hi, ["-y"])
    # A brass strip on each riser just under the edge makes the steps visible (kept below the tread so it
    # never counts as a floor of its own).
    nose_lo = np.stack([lo[:, 0] - 0.01, hi[:, 1] - 0.045, np.full(len(k), z0)], 1)
    nose_hi = np.stack([lo[:, 0], hi[:, 1] - 0.012, np.full(len(k), z1)], 1)
    b.boxes("brass", nose_lo, nose_hi)
    landing = x0 + (risers - 1) * tread
    if rail_z is not None:
        h = 0.95
        xa, ya = x0, rise + h
        xb, yb = landing, risers * rise + h
        length = float(np.hypot(xb - xa, yb - ya))
        angle = float(np.arctan2(yb - ya, xb - xa))
        tf = np.eye(4)
        c, s = np.cos(angle), np.sin(angle)
        tf[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
        tf[:3, 3] = [(xa + xb) / 2, (ya + yb) / 2, rail_z]
        b.add("wood-dark", oriented_box((length, 0.06, 0.07), tf))
        for step in range(1, risers, 3):
            x = x0 + (step - 0.5) * tread
            y = step * rise
            b.add("metal-dark", cylinder((x, rail_z), 0.022, y, y + h + (0.5 * tread) * (rise / tread), 8))
    return landing


def column(b: MeshBuilder, x: float, z: float, y0: float, y1: float, radius: float = 0.28,
           material: str = "stone-warm") -> None:
    """A round column on a square plinth with a square capital."""
    b.box(material, (x - radius - 0.08, y0, z - radius - 0.08), (x + radius + 0.08, y0 + 0.25, z + radius + 0.08),
          ["-y"])
    b.add(material, cylinder((x, z), radius, y0 + 0.25, y1 - 0.22, 20, top=False, radius_top=radius * 0.88))
    b.box(material, (x - radius - 0.1, y1 - 0.22, z - radius - 0.1), (x + radius + 0.1, y1, z + radius + 0.1))


def council_bench(b: MeshBuilder, x0: float, x1: float, z: float) -> None:
    """A row of upholstered seating facing -Z, its front edge at z (seat 0.46 m, back 0.95 m)."""
    w = x1 - x0
    lo = [[0, 0.0, 0.0], [0, 0.0, 0.42], [0, 0.46, 0.42], [0.0, 0.0, 0.0], [w - 0.06, 0.0, 0.0]]
    hi = [[w, 0.4, 0.48], [w, 0.95, 0.5], [w, 0.9, 0.46], [0.06, 0.62, 0.48], [w, 0.62, 0.48]]
    place_boxes(b, "wood-dark", lo, hi, 0.0, (x0, 0.0, z), ["-y"])
    place_boxes(b, "fabric", [[0.06, 0.4, 0.02], [0.06, 0.5, 0.39]], [[w - 0.06, 0.46, 0.42], [w - 0.06, 0.88, 0.42]],
                0.0, (x0, 0.0, z))


def desk(b: MeshBuilder, x0: float, x1: float, z0: float, z1: float, y: float, height: float = 0.76,
         material: str = "wood-dark", modesty: bool = True) -> None:
    """A table top on a solid front panel (modesty board at z1 side) and two end panels."""
    b.box(material, (x0, y + height - 0.05, z0), (x1, y + height, z1))
    b.boxes(material, np.array([[x0, y, z0], [x1 - 0.05, y, z0]]),
            np.array([[x0 + 0.05, y + height - 0.05, z1], [x1, y + height - 0.05, z1]]), ["-y"])
    if modesty:
        b.box(material, (x0 + 0.05, y + 0.15, z1 - 0.05), (x1 - 0.05, y + height - 0.05, z1))


def chair(b: MeshBuilder, x: float, z: float, yaw: float, y: float = 0.0, seat: str = "fabric") -> None:
    """A chair facing -Z (before yaw), centred on (x, z)."""
    legs_lo = [[-0.22, 0, -0.22], [0.18, 0, -0.22], [-0.22, 0, 0.18], [0.18, 0, 0.18], [-0.22, 0.45, 0.18]]
    legs_hi = [[-0.18, 0.42, -0.18], [0.22, 0.42, -0.18], [-0.18, 0.42, 0.22], [0.22, 0.42, 0.22],
               [0.22, 0.92, 0.22]]
    place_boxes(b, "metal-dark" if seat == "fabric" else "wood-dark", legs_lo, legs_hi, yaw, (x, y, z), ["-y"])
    place_boxes(b, seat, [[-0.23, 0.42, -0.23]], [[0.23, 0.48, 0.23]], yaw, (x, y, z))


def park_bench(b: MeshBuilder, x: float, z: float, yaw: float, length: float = 1.8) -> None:
    """A slatted wooden bench on dark metal legs, facing -Z before yaw, centred on (x, z)."""
    h = length / 2
    slats_lo = [[-h, 0.43, -0.25 + 0.11 * i] for i in range(4)] + [[-h, 0.55 + 0.13 * i, 0.24] for i in range(3)]
    slats_hi = [[h, 0.46, -0.16 + 0.11 * i] for i in range(4)] + [[h, 0.64 + 0.13 * i, 0.28] for i in range(3)]
    place_boxes(b, "wood-floor", slats_lo, slats_hi, yaw, (x, 0.0, z))
    legs_lo = [[-h + 0.1, 0.0, -0.22], [h - 0.16, 0.0, -0.22], [-h + 0.1, 0.0, 0.2], [h - 0.16, 0.0, 0.2]]
    legs_hi = [[-h + 0.16, 0.43, -0.16], [h - 0.1, 0.43, -0.16], [-h + 0.16, 0.92, 0.3], [h - 0.1, 0.92, 0.3]]
    place_boxes(b, "metal-dark", legs_lo, legs_hi, yaw, (x, 0.0, z), ["-y"])


def tree(b: MeshBuilder, x: float, z: float, seed: int, height: float = 6.0, y: float = 0.0) -> None:
    """A trunk with a few overlapping low-poly canopy lobes (seeded, so deterministic)."""
    rng = np.random.default_rng(seed)
    trunk_top = height * 0.55
    b.add("bark", cylinder((x, z), 0.18, y, y + trunk_top + 0.6, 8, radius_top=0.11))
    lobes = 3
    for i in range(lobes):
        ang = 2 * np.pi * (i / lobes) + rng.uniform(0, 1)
        off = rng.uniform(0.3, 0.8)
        r = rng.uniform(1.3, 1.8)
        cy = y + trunk_top + r * 0.7 + rng.uniform(0.0, 0.8)
        b.add("greenery", sphere((x + off * np.cos(ang), cy, z + off * np.sin(ang)), (r, r * 0.85, r),
                                 1, jitter=0.12, seed=seed * 10 + i))


def street_lamp(b: MeshBuilder, x: float, z: float, height: float = 4.2) -> None:
    b.add("metal-dark", cylinder((x, z), 0.16, 0.0, 0.5, 10, radius_top=0.09))
    b.add("metal-dark", cylinder((x, z), 0.06, 0.5, height, 8, radius_top=0.045))
    b.add("metal-dark", cylinder((x, z), 0.1, height + 0.45, height + 0.6, 10, radius_top=0.02))
    b.add("lamp", sphere((x, height + 0.25, z), (0.22, 0.28, 0.22), 1, smooth=True))


def planter(b: MeshBuilder, x: float, z: float, size: float = 0.6, seed: int = 0) -> None:
    """A square stone planter with a rounded shrub."""
    h = size / 2
    b.box("stone-dark", (x - h, 0.0, z - h), (x + h, 0.5, z + h), ["-y"])
    b.add("greenery", sphere((x, 0.5 + size * 0.45, z), (size * 0.6, size * 0.7, size * 0.6), 1, jitter=0.1,
                             seed=seed))


def panel(b: MeshBuilder, x: float, z: float, yaw: float, y: float = 0.0, width: float = 1.6,
          color: str = "paint-blue") -> None:
    """A free-standing exhibition/notice panel (board on two feet), board facing -Z before yaw."""
    h = width / 2
    place_boxes(b, "metal-dark", [[-h, y, -0.25], [h - 0.05, y, -0.25]], [[-h + 0.05, y + 1.9, 0.25],
                [h, y + 1.9, 0.25]], yaw, (x, 0.0, z), ["-y"])
    place_boxes(b, "frame-white", [[-h + 0.05, y + 0.7, -0.03]], [[h - 0.05, y + 1.9, 0.03]], yaw, (x, 0.0, z))
    place_boxes(b, color, [[-h + 0.12, y + 0.8, -0.04], [-h + 0.12, y + 1.35, -0.04]],
                [[-0.05, y + 1.25, 0.04], [h - 0.12, y + 1.8, 0.04]], yaw, (x, 0.0, z))
