"""The bundled public square: paving, a fountain, trees, benches, lamps and the town hall's façade.

Layout (metres, +Y up, paving at y = 0): the square spans x -30..30, z -22..26. The town hall façade runs along
the north side (its face at z = -22, facing +Z, toward the square) with a stepped, colonnaded entrance at x = 0.
The fountain stands at (0, 4). Low stone walls with hedges close the other sides and the gaps either side of
the façade, so nobody walks off into the void; grass extends beyond the walls to the horizon.

Invariants: every step is <= 0.15 m; obstacles people must not climb (basin rim, walls, benches) rise more than
the 0.35 m a walker may step up; the façade's door is shut (the square is a scene of its own).
"""

from __future__ import annotations

import numpy as np

from . import parts as p
from .geometry import MeshBuilder, annulus_y, cylinder, quads_y, sphere
from .parts import WALL, Opening

X, Z = (-30.0, 30.0), (-22.0, 26.0)
FACADE_Z = -22.0  # the façade's outer face
FOUNTAIN = (0.0, 4.0)
FOUNTAIN_R = 4.0
STEPS = ((0.15, -19.6, -19.2), (0.30, -20.0, -19.6), (0.45, -22.0, -20.0))  # (top y, z0, z1), x -7..7
LANDING = 0.45

_W = FACADE_Z - WALL / 2  # centre line of the façade wall
_FACADE = [Opening(0.0, 2.4, LANDING, 3.3, "door")] + [
    Opening(x, 1.4, 0.9, 2.8) for x in (-13.0, -9.5, -6.0, 6.0, 9.5, 13.0)] + [
    Opening(x, 1.4, 4.4, 6.1) for x in (-13.0, -9.5, -6.0, -2.5, 2.5, 6.0, 9.5, 13.0)]


def _paving(b: MeshBuilder) -> None:
    """2 m slabs, light, with darker bands every fourth row and column: a two-tone grid."""
    nx, nz = int((X[1] - X[0]) / 2), int((Z[1] - Z[0]) / 2)
    xs, zs = np.linspace(*X, nx + 1), np.linspace(*Z, nz + 1)
    gi, gj = np.meshgrid(np.arange(nx), np.arange(nz), indexing="ij")
    i, j = gi.reshape(-1), gj.reshape(-1)
    lo, hi = np.stack([xs[i], zs[j]], 1), np.stack([xs[i + 1], zs[j + 1]], 1)
    centre = (lo + hi) / 2 - np.asarray(FOUNTAIN)
    under_fountain = np.hypot(centre[:, 0], centre[:, 1]) < FOUNTAIN_R - 1.5
    band = ((i % 4 == 2) | (j % 4 == 1)) & ~under_fountain
    b.add("paving-light", quads_y(lo[~band], hi[~band], 0.0))
    b.add("stone-mid", quads_y(lo[band], hi[band], 0.0))
    # A dark ring of setts around the fountain, slightly raised so it never z-fights with the paving.
    b.add("stone-dark", annulus_y(FOUNTAIN, FOUNTAIN_R, FOUNTAIN_R + 1.0, 0.01, 48))
    # Grass beyond the square, to the horizon (a ring of quads, none under the paving).
    far = 120.0
    b.add("grass", quads_y([[-far, -far], [-far, Z[1]], [-far, Z[0]], [X[1], Z[0]]],
                           [[far, Z[0]], [far, far], [X[0], Z[1]], [far, Z[1]]], 0.0))


def _boundary(b: MeshBuilder) -> None:
    t, h = 0.4, 0.6
    lo = np.array([[X[0] - t, 0, Z[1]], [X[0] - t, 0, Z[0]], [X[1], 0, Z[0]], [X[0] - t, 0, Z[0] - t],
                   [16.0, 0, Z[0] - t]])
    hi = np.array([[X[1] + t, h, Z[1] + t], [X[0], h, Z[1]], [X[1] + t, h, Z[1]], [-16.0, h, Z[0]],
                   [X[1] + t, h, Z[0]]])
    b.boxes("stone-dark", lo, hi, ["-y"])
    # Hedges inside the walls, with openings at the middle of each side for the look of streets beyond.
    hedge = np.array([[X[0], Z[1] - 0.8, -4.0, Z[1]], [4.0, Z[1] - 0.8, X[1], Z[1]],
                      [X[0], Z[0], X[0] + 0.8, -2.0], [X[0], 6.0, X[0] + 0.8, Z[1] - 0.8],
                      [X[1] - 0.8, Z[0], X[1], -2.0], [X[1] - 0.8, 6.0, X[1], Z[1] - 0.8]])
    b.boxes("greenery", np.stack([hedge[:, 0], np.zeros(len(hedge)), hedge[:, 1]], 1),
            np.stack([hedge[:, 2], np.full(len(hedge), 1.2), hedge[:, 3]], 1), ["-y"])


def _facade(b: MeshBuilder) -> None:
    """The town hall's front: a real wall with openings and frames, dark rooms behind the glass, a mass."""
    top = 7.4
    p.wall(b, "x", _W, -16.0, 16.0, 0.0, top, "stone-warm", "stone-warm", _FACADE, top=True)
    p.trims(b, "x", _W, [o for o in _FACADE if o.kind == "window"])
    p.door_trim(b, "x", _W, _FACADE[0], closed=True)
    back = FACADE_Z - WALL
    b.box("roof", (-15.9, 0.0, back - 0.3), (15.9, top - 0.4, back - 0.25))  # the unlit rooms behind
    b.box("stone-warm", (-16.0, 0.0, -34.0), (16.0, top, back - 0.3), ["-y"])
    b.boxes("stone-warm", np.array([[-16.0, 0.0, back - 0.3], [15.9, 0.0, back - 0.3], [-16, top - 0.4, back - 0.3],
                                    [-15.9, 0, back - 0.3]]),
            np.array([[-15.9, top, back], [16.0, top, back], [16, top, back], [15.9, 0.9, back]]), ["-y"])
    # Cornice, string course.
    b.box("stone-warm", (-16.25, top - 0.8, FACADE_Z), (16.25, top - 0.45, FACADE_Z + 0.25))
    b.box("stone-warm", (-16.1, 3.45, FACADE_Z), (16.1, 3.7, FACADE_Z + 0.08))
    b.box("roof", (-16.0, top, -34.0), (16.0, top + 0.05, FACADE_Z))
    # Steps and a landing, then a portico of four columns under an entablature with a pediment-like block.
    for y, z0, z1 in STEPS:
        b.box("stone-floor", (-7.0, 0.0, z0), (7.0, y, z1), ["-y"])
    for x in (-4.2, -1.8, 1.8, 4.2):
        p.column(b, x, -20.9, LANDING, 4.2, 0.28)
    b.box("stone-warm", (-5.2, 4.2, FACADE_Z), (5.2, 4.8, -20.3))
    b.box("stone-warm", (-4.0, 4.8, FACADE_Z), (4.0, 5.3, -20.45))
    b.box("brass", (-2.2, 4.35, -20.31), (2.2, 4.65, -20.28))  # the name plate
    for x in (-6.8, 6.8):
        p.planter(b, x, -20.6, 0.7, seed=int(x + 20))
    # A flag over the entrance.
    b.add("brass", cylinder((0.0, -21.2), 0.04, 5.3, 9.0, 8))
    b.box("paint-blue", (0.04, 7.6, -21.22), (1.7, 8.8, -21.18))


def _fountain(b: MeshBuilder) -> None:
    cx, cz = FOUNTAIN
    r, rim = FOUNTAIN_R, 0.3
    b.add("stone-warm", cylinder(FOUNTAIN, r, 0.0, 0.55, 40, top=False))
    b.add("stone-warm", cylinder(FOUNTAIN, r - rim, 0.0, 0.55, 40, top=False, inward=True))
    b.add("stone-warm", annulus_y(FOUNTAIN, r - rim, r, 0.55, 40))
    b.add("water", cylinder(FOUNTAIN, r - rim, 0.35, 0.4, 40, top=True)[0:3])
    b.add("stone-warm", cylinder(FOUNTAIN, 0.6, 0.0, 1.3, 16, top=False, radius_top=0.45))
    b.add("stone-warm", cylinder(FOUNTAIN, 0.35, 1.3, 1.75, 24, top=False, bottom=True, radius_top=1.5))
    b.add("water", cylinder(FOUNTAIN, 1.4, 1.55, 1.7, 24))
    b.add("stone-warm", cylinder(FOUNTAIN, 0.25, 1.7, 2.8, 12, top=False, radius_top=0.18))
    b.add("brass", sphere((cx, 3.05, cz), (0.3, 0.3, 0.3), 2, smooth=True))
    # Jets falling from the upper bowl.
    for t in np.linspace(0, 2 * np.pi, 8, endpoint=False):
        b.add("water", cylinder((cx + 1.45 * np.cos(t), cz + 1.45 * np.sin(t)), 0.04, 0.4, 1.6, 6, top=False))


def _furniture(b: MeshBuilder) -> None:
    cx, cz = FOUNTAIN
    # Benches around the fountain, each facing it.
    for k, t in enumerate(np.linspace(0, 2 * np.pi, 6, endpoint=False) + np.pi / 6):
        x, z = cx + 7.0 * np.cos(t), cz + 7.0 * np.sin(t)
        yaw = float(np.degrees(np.arctan2(x - cx, z - cz)))  # facing (cx, cz): local -Z toward the centre
        p.park_bench(b, float(x), float(z), yaw)
        del k
    # Tree rows east and west in raised grass beds, with benches between trees facing the square.
    for side, sgn in ((-1, 1), (1, -1)):
        x = 24.0 * side
        b.box("stone-dark", (x - 1.6, 0.0, -17.0), (x + 1.6, 0.15, 22.0), ["-y"])
        b.add("grass", quads_y([[x - 1.45, -16.85]], [[x + 1.45, 21.85]], 0.151))
        for n, z in enumerate((-14.0, -6.0, 2.0, 10.0, 18.0)):
            p.tree(b, x, z, seed=100 + n + (10 if side > 0 else 0), height=7.0, y=0.15)
        for z in (-10.0, -2.0, 6.0, 14.0):
            p.park_bench(b, x + sgn * 2.4, z, -90.0 * side)
    # Street lamps.
    for x, z in ((-18.0, -18.0), (18.0, -18.0), (-18.0, 12.0), (18.0, 12.0), (-8.0, 22.0), (8.0, 22.0),
                 (-9.0, -17.0), (9.0, -17.0)):
        p.street_lamp(b, x, z)
    # A notice pillar for consultations and a few planters.
    b.add("paint-terracotta", cylinder((-12.0, 16.0), 0.7, 0.0, 2.6, 20, top=False))
    b.add("stone-dark", cylinder((-12.0, 16.0), 0.8, 2.6, 2.9, 20, radius_top=0.2))
    b.add("stone-dark", cylinder((-12.0, 16.0), 0.78, 0.0, 0.2, 20))
    for x, z, s in ((12.0, 16.0, 1), (-26.0, 24.0, 2), (26.0, 24.0, 3)):
        p.planter(b, x, z, 0.9, seed=s)


def build() -> MeshBuilder:
    b = MeshBuilder()
    _paving(b)
    _boundary(b)
    _facade(b)
    _fountain(b)
    _furniture(b)
    return b
