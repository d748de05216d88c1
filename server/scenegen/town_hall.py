"""The bundled town hall: two storeys, eight rooms, a real staircase, built from walls, slabs and furniture.

Plan (metres, +Y up, ground floor at y = 0, upper floor at y = 3.6). The main entrance is in the front wall at
z = +12 and faces +Z: visitors walk in toward -Z. Wall centre lines:

    z = -12  +-----------------------------+---------------+
             |  council chamber            | meeting room  |      back rooms: double height (ceiling 6.6)
             |  x -15..3                   | x 3..15       |
    z = -1   +--door-------door------------+-----door------+
             |  corridor  x -15..15, ceiling 3.0           |
    z = 2    +--door--+--------door--------+-------door----+
             | service| entrance hall      | stair hall    |      upper floor over this band:
             | office | x -5..5            | stair rises +X|      committee room (x < -5) and
             | x-15..-5                    | z 2..4        |      upper gallery (x > -5), y = 3.6
    z = 12   +--------+------[entrance]----+---------------+

Invariants: every place a walker can stand has >= 2.2 m of head room (ceilings at 3.0 / 3.3 / 6.6, the stair
flight sits under an opening in the upper slab); risers 0.18 m, treads 0.30 m; door openings >= 1.2 m wide and
>= 2.3 m tall before their 5 cm frames; floors stop at wall faces (no floor inside a wall), so the collision
grid sees walls as gaps in the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import parts as p
from .geometry import MeshBuilder, cylinder, flat, quads_y
from .parts import WALL, Opening

G, SLAB, U, CORRIDOR_CEIL, ROOF, ROOF_TOP, PARAPET = 0.0, 3.3, 3.6, 3.0, 6.6, 6.9, 7.4
RISE, TREAD, RISERS = 0.18, 0.30, 20  # 20 x 0.18 = 3.6
STAIR_X0, STAIR_Z = 7.0, (2.15, 3.7)  # flight x 7..12.7; a solid balustrade on z 3.7..4.0
WELL_Z = 4.0  # the stairwell in the upper slab spans z 2.15..4.0
STAIR_TOP = STAIR_X0 + (RISERS - 1) * TREAD  # 12.7: where the flight meets the upper floor
HW = WALL / 2


@dataclass(frozen=True)
class Room:
    id: str
    x: tuple[float, float]  # wall centre lines
    z: tuple[float, float]
    floor: float
    ceiling: float


ROOMS: tuple[Room, ...] = (
    Room("entrance-hall", (-5, 5), (2, 12), G, SLAB),
    Room("service-office", (-15, -5), (2, 12), G, SLAB),
    Room("stair-hall", (5, 15), (2, 12), G, SLAB),
    Room("corridor", (-15, 15), (-1, 2), G, CORRIDOR_CEIL),
    Room("council-chamber", (-15, 3), (-12, -1), G, ROOF),
    Room("meeting-room", (3, 15), (-12, -1), G, ROOF),
    Room("staircase", (6.7, STAIR_TOP), (2, WELL_Z), G, ROOF),
    Room("upper-gallery", (-5, 15), (2, 12), U, ROOF),
    Room("committee-room", (-15, -5), (2, 12), U, ROOF),
)
ENTRANCE = (0.0, 12.0)  # centre of the main door, in the front wall; the door faces +Z

# Openings, grouped by wall. Doors: sill at their floor; windows: sill/head above it.
GW, UW = (0.9, 2.7), (4.3, 6.0)  # ground and upper window sill/head
FRONT = [Opening(0.0, 2.4, G, 2.9, "door", leaf=1)] + [
    Opening(x, 1.4, *GW) for x in (-12.5, -7.5, -3.2, 3.2, 7.5, 12.5)] + [
    Opening(x, 1.4, *UW) for x in (-12.5, -7.5, -2.5, 2.5, 7.5, 12.5)]
BACK = [Opening(x, 1.6, 1.5, 5.6) for x in (-13.0, -9.5, -2.5, 1.0)] + [
    Opening(x, 1.6, 1.2, 5.0) for x in (6.0, 9.0, 12.0)]
WEST = [Opening(z, 1.6, 1.5, 5.6) for z in (-9.0, -4.5)] + [Opening(0.5, 1.2, *GW)] + [
    Opening(z, 1.4, *GW) for z in (5.0, 9.0)] + [Opening(z, 1.4, *UW) for z in (5.0, 9.0)]
EAST = [Opening(z, 1.6, 1.2, 5.0) for z in (-9.0, -4.5)] + [Opening(0.5, 1.2, *GW)] + [
    Opening(z, 1.4, *GW) for z in (6.5, 10.0)] + [Opening(z, 1.4, *UW) for z in (6.5, 10.0)]
Z2 = [Opening(-10.0, 1.2, G, 2.3, "door", leaf=-1), Opening(0.0, 2.4, G, 2.9, "arch"),
      Opening(13.9, 1.2, G, 2.3, "door", leaf=1)]
ZM1 = [Opening(-12.0, 1.2, G, 2.3, "door", leaf=-1), Opening(-4.0, 1.8, G, 2.5, "door", leaf=-1),
       Opening(9.0, 1.6, G, 2.4, "door", leaf=-1)]
XM5 = [Opening(7.0, 1.4, G, 2.3, "door", leaf=-1), Opening(7.0, 1.2, U, U + 2.3, "door", leaf=-1)]
X5 = [Opening(7.0, 3.0, G, 2.9, "arch")]


def _walls(b: MeshBuilder) -> None:
    stone, cream, sage, blue, terra, plaster = (
        "stone-warm", "paint-cream", "paint-sage", "paint-blue", "paint-terracotta", "plaster")
    full = 15 + HW
    # Exterior: outside face stone; inside face the paint of the room behind it, storey by storey.
    for u0, u1, ground, upper in ((-full, -5, sage, blue), (-5, 5, cream, cream), (5, full, cream, cream)):
        p.wall(b, "x", 12, u0, u1, G, SLAB, ground, stone, FRONT)
        p.wall(b, "x", 12, u0, u1, SLAB, ROOF, upper, stone, FRONT)
    for u0, u1, paint in ((-full, 3, terra), (3, full, blue)):
        p.wall(b, "x", -12, u0, u1, G, ROOF, stone, paint, BACK)
    inner = 12 - HW
    for at, sign, rooms in (
        (-15, 1, ((-inner, -1, terra, terra), (-1, 2, cream, plaster), (2, inner, sage, blue))),
        (15, -1, ((-inner, -1, blue, blue), (-1, 2, cream, plaster), (2, inner, cream, cream))),
    ):
        openings = WEST if at < 0 else EAST
        for u0, u1, ground, upper in rooms:
            for y0, y1, paint in ((G, SLAB, ground), (SLAB, ROOF, upper)):
                neg, pos = (stone, paint) if sign > 0 else (paint, stone)
                p.wall(b, "z", at, u0, u1, y0, y1, neg, pos, openings)
    # Parapet above the roof, all stone.
    p.wall(b, "x", 12, -full, full, ROOF, PARAPET, stone, stone, top=True)
    p.wall(b, "x", -12, -full, full, ROOF, PARAPET, stone, stone, top=True)
    p.wall(b, "z", -15, -inner, inner, ROOF, PARAPET, stone, stone, top=True)
    p.wall(b, "z", 15, -inner, inner, ROOF, PARAPET, stone, stone, top=True)
    # Interior walls.
    for u0, u1, room in ((-15, -5, sage), (-5, 5, cream), (5, 15, cream)):
        p.wall(b, "x", 2, u0, u1, G, SLAB, cream, room, Z2)
    p.wall(b, "x", 2, -15, -5, SLAB, ROOF, plaster, blue)
    p.wall(b, "x", 2, -5, 15, SLAB, ROOF, plaster, cream)
    for u0, u1, room in ((-15, 3, terra), (3, 15, blue)):
        p.wall(b, "x", -1, u0, u1, G, SLAB, room, cream, ZM1)
        p.wall(b, "x", -1, u0, u1, SLAB, ROOF, room, plaster)
    p.wall(b, "z", 3, -12, -1, G, ROOF, terra, blue)
    p.wall(b, "z", -5, 2, 12, G, SLAB, sage, cream, XM5)
    p.wall(b, "z", -5, 2, 12, SLAB, ROOF, blue, cream, XM5)
    p.wall(b, "z", 5, 2, 12, G, SLAB, cream, cream, X5)
    # Frames, leaves, glass.
    for axis, at, openings in (("x", 12, FRONT), ("x", -12, BACK), ("z", -15, WEST), ("z", 15, EAST),
                               ("x", 2, Z2), ("x", -1, ZM1), ("z", -5, XM5), ("z", 5, X5)):
        p.trims(b, axis, at, openings)  # type: ignore[arg-type]


def checker(b: MeshBuilder, mat_a: str, mat_b: str, x: tuple[float, float], z: tuple[float, float], y: float,
            nx: int, nz: int) -> None:
    """A two-tone tiled floor of nx x nz tiles (top faces only)."""
    xs, zs = np.linspace(x[0], x[1], nx + 1), np.linspace(z[0], z[1], nz + 1)
    gi, gj = np.meshgrid(np.arange(nx), np.arange(nz), indexing="ij")
    i, j = gi.reshape(-1), gj.reshape(-1)
    lo, hi = np.stack([xs[i], zs[j]], 1), np.stack([xs[i + 1], zs[j + 1]], 1)
    odd = (i + j) % 2 == 1
    b.add(mat_a, quads_y(lo[~odd], hi[~odd], y))
    b.add(mat_b, quads_y(lo[odd], hi[odd], y))


def _floors_and_ceilings(b: MeshBuilder) -> None:
    i = HW  # floors stop at wall faces
    checker(b, "stone-floor", "stone-mid", (-5 + i, 5 - i), (2 + i, 12 - i), G, 10, 10)
    checker(b, "stone-floor", "stone-mid", (-15 + i, 15 - i), (-1 + i, 2 - i), G, 40, 4)
    checker(b, "stone-floor", "stone-mid", (5 + i, 15 - i), (2 + i, 12 - i), G, 10, 10)
    b.add("wood-floor", quads_y([[-15 + i, 2 + i], [3 + i, -12 + i]], [[-5 - i, 12 - i], [15 - i, -1 - i]], G))
    b.add("carpet", quads_y([[-15 + i, -12 + i]], [[3 - i, -1 - i]], G))
    # Thresholds under every door / arch.
    for axis, at, openings, y in (("x", 12, FRONT, G), ("x", 2, Z2, G), ("x", -1, ZM1, G), ("z", -5, XM5, None),
                                  ("z", 5, X5, G)):
        for o in openings:
            if o.kind == "window" or (y is not None and o.sill != y):
                continue
            u0, u1, v0, v1 = o.at - o.width / 2, o.at + o.width / 2, at - HW, at + HW
            lo, hi = ([u0, v0], [u1, v1]) if axis == "x" else ([v0, u0], [v1, u1])
            b.add("stone-floor", quads_y([lo], [hi], o.sill))
    # Upper slab: plaster underneath, floor finish on top, with the stairwell left open.
    upper = [
        ((-15 + i, 2 + i), (-5 - i, 12 - i), "fabric"),  # committee room, blue carpet
        ((-5 + i, 2 + i), (6.7, 12 - i), "wood-floor"),
        ((6.7, WELL_Z), (STAIR_TOP, 12 - i), "wood-floor"),
        ((STAIR_TOP, 2 + i), (15 - i, 12 - i), "wood-floor"),
    ]
    for (x0, z0), (x1, z1), finish in upper:
        b.box("plaster", (x0, SLAB, z0), (x1, U, z1), ["+y"])
        b.add(finish, quads_y([[x0, z0]], [[x1, z1]], U))
    b.box("plaster", (-15 + i, CORRIDOR_CEIL, -1 + i), (15 - i, SLAB, 2 - i))
    b.box("plaster", (-15 + i, ROOF, -12 + i), (15 - i, ROOF_TOP, 12 - i), ["+y"])
    b.add("roof", quads_y([[-15 + i, -12 + i]], [[15 - i, 12 - i]], ROOF_TOP))
    # Cornice and string course on the outside.
    e = 15 + HW
    for y0, y1, d in ((ROOF - 0.1, ROOF + 0.25, 0.25), (SLAB + 0.05, SLAB + 0.3, 0.08)):
        b.boxes("stone-warm", np.array([[-e - d, y0, 12 + HW], [-e - d, y0, -12 - HW - d], [-e - d, y0, -12 - HW],
                                        [e, y0, -12 - HW]]),
                np.array([[e + d, y1, 12 + HW + d], [e + d, y1, -12 - HW], [-e, y1, 12 + HW], [e + d, y1, 12 + HW]]))


def _stairs(b: MeshBuilder) -> None:
    """The flight, a solid stepped balustrade on its open side, and a parapet around the stairwell upstairs.

    Balustrades are solid and 0.3 m wide (wider than a 0.25 m collision cell) so the walkable grid sees them as
    obstacles: nobody steps off the side of the flight or falls down the stairwell from the gallery."""
    z0, z1 = STAIR_Z
    p.stair(b, STAIR_X0, z0, z1, RISERS, RISE, TREAD, rail_z=(z1 + WELL_Z) / 2)
    k = np.arange(1, RISERS)
    xs = STAIR_X0 + (k - 1) * TREAD
    b.boxes("wood-dark", np.stack([xs, np.zeros(len(k)), np.full(len(k), z1)], 1),
            np.stack([xs + TREAD, k * RISE + 0.9, np.full(len(k), WELL_Z)], 1), ["-y"])
    b.box("wood-dark", (STAIR_X0 - 0.3, 0.0, z1), (STAIR_X0, 0.9, WELL_Z), ["-y"])
    # Upstairs: a wooden parapet topped with glass and a brass rail, along both open edges of the well.
    x0 = 6.4
    lo = np.array([[x0, U, WELL_Z], [x0, U, 2 + HW]])
    hi = np.array([[STAIR_TOP, U + 0.6, WELL_Z + 0.3], [x0 + 0.3, U + 0.6, WELL_Z]])
    b.boxes("wood-dark", lo, hi, ["-y"])
    b.boxes("glass", np.array([[x0, U + 0.6, WELL_Z + 0.12], [x0 + 0.12, U + 0.6, 2 + HW]]),
            np.array([[STAIR_TOP, U + 0.95, WELL_Z + 0.18], [x0 + 0.18, U + 0.95, WELL_Z]]))
    b.boxes("brass", np.array([[x0, U + 0.95, WELL_Z + 0.1], [x0 + 0.1, U + 0.95, 2 + HW]]),
            np.array([[STAIR_TOP, U + 1.0, WELL_Z + 0.2], [x0 + 0.2, U + 1.0, WELL_Z + 0.2]]))


def _entrance_hall(b: MeshBuilder) -> None:
    for x in (-2.7, 2.7):
        for z in (5.0, 9.5):
            p.column(b, x, z, G, SLAB, 0.25, "stone-warm")
    # Reception desk with a brass top edge, and a chair behind it.
    p.desk(b, -4.4, -1.9, 3.0, 3.7, G, 1.05, "wood-dark")
    b.box("brass", (-4.45, 1.05, 3.65), (-1.85, 1.09, 3.75))
    p.chair(b, -3.2, 2.6, 180.0)
    for x, z in ((-4.3, 11.3), (4.3, 11.3), (-4.3, 2.8), (4.3, 2.8)):
        p.planter(b, x, z, 0.6, seed=int(17 + x * 3 + z))
    p.park_bench(b, -4.4, 9.6, -90.0, 1.6)  # against the west wall, facing +X
    p.panel(b, 3.8, 9.6, 90.0, color="paint-terracotta")  # noticeboard facing -X


def _service_office(b: MeshBuilder) -> None:
    z0, z1 = 4.6, 5.3
    p.desk(b, -14.85, -7.0, z0, z1, G, 1.05, "wood-floor")  # the counter, public side toward +Z
    b.box("stone-dark", (-14.85, 1.05, z0 - 0.05), (-7.0, 1.1, z1 + 0.05))
    for x in (-13.0, -10.5, -8.0):
        b.box("glass", (x - 0.9, 1.1, z1 - 0.1), (x + 0.9, 1.75, z1 - 0.08))
        b.box("metal-dark", (x - 0.3, 1.1, z0 + 0.1), (x + 0.3, 1.45, z0 + 0.14))  # a screen
        p.chair(b, x, z0 - 0.6, 180.0)
    for z in (8.3, 9.4):
        for x in np.arange(-13.5, -8.0, 0.7):
            p.chair(b, float(x), z, 0.0)
    b.box("metal-dark", (-6.0, 0.0, 10.9), (-5.45, 1.4, 11.5), ["-y"])  # ticket kiosk
    b.box("lamp", (-5.95, 1.0, 10.88), (-5.5, 1.3, 10.9))
    p.planter(b, -14.3, 11.3, 0.6, seed=3)


def _stair_hall(b: MeshBuilder) -> None:
    # The city model: a table with little buildings on it.
    p.desk(b, 8.5, 12.5, 7.0, 9.5, G, 0.85, "wood-dark", modesty=False)
    rng = np.random.default_rng(7)
    n = 24
    gx, gz = np.meshgrid(np.linspace(8.8, 12.0, 6), np.linspace(7.25, 9.05, 4))
    lo = np.stack([gx.ravel(), np.full(n, 0.85), gz.ravel()], 1)
    hi = lo + np.stack([rng.uniform(0.2, 0.4, n), rng.uniform(0.08, 0.45, n), rng.uniform(0.2, 0.35, n)], 1)
    for k, mat in enumerate(("frame-white", "paint-terracotta", "stone-warm")):
        b.boxes(mat, lo[k::3], hi[k::3], ["-y"])
    b.add("greenery", quads_y([[9.7, 8.0]], [[10.6, 8.5]], 0.86))
    p.park_bench(b, 10.5, 11.3, 180.0, 1.8)
    p.planter(b, 14.3, 11.3, 0.6, seed=5)
    p.planter(b, 5.7, 11.3, 0.6, seed=6)


def _corridor(b: MeshBuilder) -> None:
    for x in (-7.5, 6.0):
        p.park_bench(b, x, 1.55, 180.0, 1.6)
    for x in (-14.3, 14.3):
        p.planter(b, x, 1.4, 0.6, seed=int(abs(x)))
    p.panel(b, 4.0, -0.55, 180.0, color="paint-sage")  # board facing +Z, near the meeting room


def _council_chamber(b: MeshBuilder) -> None:
    # Dais (two 0.18 m steps) with the council desk and chairs, the city emblem on the wall behind.
    b.box("wood-floor", (-10.5, 0.0, -11.85), (-1.5, 0.36, -9.5), ["-y", "+y"])
    b.add("carpet", quads_y([[-10.5, -11.85]], [[-1.5, -9.5]], 0.36))
    b.box("wood-floor", (-9.0, 0.0, -9.5), (-3.0, 0.18, -9.1), ["-y"])
    p.desk(b, -9.2, -2.8, -10.7, -10.1, 0.36, 0.76, "wood-dark")
    b.box("brass", (-9.25, 1.12, -10.15), (-2.75, 1.14, -10.05))
    for x in np.arange(-8.6, -2.9, 0.9):
        p.chair(b, float(x), -11.1, 180.0, y=0.36)
    # The emblem lies flat on the wall (a cylinder's axis is +Z: facing the room as it is), between the desk and the
    # meetings' wall screen, which hangs from 3.5 m (web/js/event-wall-layout.js).
    tf = np.eye(4)
    import trimesh  # local: only needed for the emblem disc

    tf[:3, 3] = [-6.0, 2.55, -11.85 + 0.03]
    b.add("brass", flat(trimesh.creation.cylinder(radius=0.62, height=0.06, sections=24, transform=tf)))
    tf[:3, 3] = [-6.0, 2.55, -11.85 + 0.06]
    b.add("paint-blue", flat(trimesh.creation.cylinder(radius=0.44, height=0.04, sections=24, transform=tf)))
    # Flags on poles either side of the dais.
    for x, colour in ((-11.2, "paint-blue"), (-0.8, "paint-terracotta")):
        b.add("brass", cylinder((x, -11.2), 0.03, 0.0, 3.2, 8))
        b.box(colour, (x + 0.03, 2.0, -11.22), (x + 0.9, 3.1, -11.18))
    # Lectern facing the dais.
    b.box("wood-dark", (-6.35, 0.0, -8.6), (-5.65, 1.1, -8.2), ["-y"])
    # Public seating: five rows in two blocks either side of a central aisle, all facing the dais (-Z).
    for z in (-7.6, -6.5, -5.4, -4.3, -3.2):
        p.council_bench(b, -13.8, -7.0, z)
        p.council_bench(b, -5.0, 1.8, z)
    # Two chandeliers.
    for x in (-10.0, -2.0):
        b.add("brass", cylinder((x, -6.0), 0.02, 4.6, ROOF, 6, top=False))
        b.add("brass", cylinder((x, -6.0), 0.9, 4.5, 4.6, 24, bottom=True))
        th = np.linspace(0, 2 * np.pi, 8, endpoint=False)
        for t in th:
            b.add("lamp", _globe(x + 0.9 * np.cos(t), 4.72, -6.0 + 0.9 * np.sin(t), 0.12))


def _globe(x: float, y: float, z: float, r: float):  # type: ignore[no-untyped-def]
    from .geometry import sphere

    return sphere((x, y, z), (r, r, r), 1, smooth=True)


def _meeting_room(b: MeshBuilder) -> None:
    p.desk(b, 6.5, 11.5, -7.6, -5.4, G, 0.76, "wood-floor", modesty=False)
    for x in np.arange(7.0, 11.3, 0.9):
        p.chair(b, float(x), -8.1, 0.0)
        p.chair(b, float(x), -4.9, 180.0)
    p.chair(b, 6.0, -6.5, -90.0)
    p.chair(b, 12.0, -6.5, 90.0)
    b.box("metal-dark", (7.5, 1.2, -11.85), (10.5, 2.9, -11.8))  # a screen on the back wall... between windows?
    for z in (-10.0, -3.0):
        p.panel(b, 14.2, z, 90.0, color="paint-sage")
        p.panel(b, 3.8, z, -90.0, color="paint-terracotta")
    p.planter(b, 14.3, -1.7, 0.6, seed=8)


def _upper_floor(b: MeshBuilder) -> None:
    # Upper gallery: exhibition panels and benches.
    for x, colour in ((-2.0, "paint-terracotta"), (1.5, "paint-sage"), (5.0, "paint-blue")):
        p.panel(b, x, 7.0, 0.0, U, color=colour)
    p.park_bench(b, 1.5, 9.5, 0.0, 1.8)
    p.park_bench(b, 9.5, 9.5, 0.0, 1.8)
    for x, z in ((-4.3, 11.3), (14.3, 11.3), (14.3, 8.3)):
        b.box("stone-dark", (x - 0.3, U, z - 0.3), (x + 0.3, U + 0.5, z + 0.3), ["-y"])
        b.add("greenery", _globe(x, U + 0.8, z, 0.38))
    # Committee room: a table with chairs around it.
    p.desk(b, -12.5, -7.5, 6.0, 8.0, U, 0.76, "wood-dark", modesty=False)
    for x in np.arange(-12.0, -7.6, 0.9):
        p.chair(b, float(x), 5.5, 0.0, y=U)
        p.chair(b, float(x), 8.5, 180.0, y=U)


def _outside(b: MeshBuilder) -> None:
    o = 15 + HW
    # Paving around the building (none under it), bounded by a low wall with hedges inside it.
    rects = np.array([[-22, 12 + HW, 22, 24], [-22, -18, 22, -12 - HW], [-22, -12 - HW, -o, 12 + HW],
                      [o, -12 - HW, 22, 12 + HW]], dtype=float)
    for x0, z0, x1, z1 in rects:
        nx, nz = max(1, int(round((x1 - x0) / 2.0))), max(1, int(round((z1 - z0) / 2.0)))
        checker(b, "paving-light", "stone-mid", (x0, x1), (z0, z1), G, nx, nz)
    lo = np.array([[-22.4, 0, -18.4], [-22.4, 0, 24], [-22.4, 0, -18], [22, 0, -18]])
    hi = np.array([[22.4, 0.6, -18], [22.4, 0.6, 24.4], [-22, 0.6, 24], [22.4, 0.6, 24]])
    b.boxes("stone-dark", lo, hi, ["-y"])
    b.boxes("greenery", np.array([[-22, 0, 22.8], [-22, 0, -18], [-22, 0, -18], [21.2, 0, -18]]),
            np.array([[-4, 1.1, 24], [22, 1.1, -17.2], [-21.2, 1.1, 24], [22, 1.1, 24]]), ["-y"])
    b.box("greenery", (4, 0, 22.8), (22, 1.1, 24), ["-y"])
    # Portico: four columns carrying a stone entablature over the entrance.
    for x in (-4.2, -1.8, 1.8, 4.2):
        p.column(b, x, 13.6, G, SLAB, 0.28)
    b.box("stone-warm", (-5.0, SLAB, 12 + HW), (5.0, SLAB + 0.5, 14.3))
    b.box("stone-warm", (-5.0, SLAB + 0.5, 14.0), (5.0, SLAB + 0.8, 14.3))
    for x, z, s in ((-12, 18.5, 1), (12, 18.5, 2), (-18.5, 6, 3), (18.5, 6, 4), (-18.5, -8, 5), (18.5, -8, 6)):
        p.tree(b, x, z, seed=s, height=6.5)
    for x in (-7.5, 7.5):
        p.street_lamp(b, x, 17.0)
        p.park_bench(b, x, 20.5, 180.0)
    b.add("brass", cylinder((0.0, 21.0), 0.05, 0.0, 7.0, 8))  # flagpole
    b.box("paint-blue", (0.05, 5.6, 20.98), (1.5, 6.6, 21.02))


def build() -> MeshBuilder:
    b = MeshBuilder()
    _walls(b)
    _floors_and_ceilings(b)
    _stairs(b)
    _entrance_hall(b)
    _service_office(b)
    _stair_hall(b)
    _corridor(b)
    _council_chamber(b)
    _meeting_room(b)
    _upper_floor(b)
    _outside(b)
    return b
