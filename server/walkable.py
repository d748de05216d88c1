"""Walkable floor of a scene, derived from its geometry (the `.walk` file of docs/http-api.md).

A scene is sampled on a regular grid in the horizontal (x, z) plane. Each cell keeps up to `layers` floor
heights, so a gallery above a hall is two layers of one cell. A floor is an up-facing surface (normal within
`max_slope_deg` of +Y) hit by a vertical line through the cell centre, with at least `min_headroom` metres of
free space above it before the next surface of any kind, and no near-vertical face (a wall, a railing, a
table leg) crossing the cell between step height and head height. A wall's cells thus have no floor a walker
can reach: its top is covered by the slab it carries or far above any walker.

Invariants kept here and relied on by the browser:
- `heights` is int16 centimetres, shape (layers, rows, cols), C order; `NO_FLOOR` (-32768) marks an empty
  layer. Within a cell, real floors come first, ascending, and the unused layers after them are `NO_FLOOR`.
- Cell (row, col) has its centre at (origin[0] + (col + 0.5) * cell, origin[1] + (row + 0.5) * cell).
- The movement rule (`WalkGrid.step_target`) is the only rule; web/ implements the same few lines in JS.

Extraction rasterises triangles onto the grid with numpy (barycentric test of the cell centres inside each
triangle's xz projection), which is exact for vertical rays and much faster than a general ray caster.
No I/O happens here except in `load_scene_mesh`, which reads the file it is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

NO_FLOOR = -32768
ENCODING = "int16-cm"

# Movement rule constants, mirrored by the browser (see docs/http-api.md, "Walkable data").
MAX_STEP = 0.35  # metres a walker may step up into a cell
# Metres a walker may step down (off a stage, a kerb) into a cell. It must stay below the head room used at
# extraction (2 m): two floors of one cell are always at least that far apart, so a cell whose upper floor is
# missing (a wall on the gallery, a railing, the gallery's edge) blocks instead of dropping the walker onto
# the storey below.
MAX_DROP = 1.0

# Surfaces closer than this are "the same height" when deciding whether something sits on a floor.
_COINCIDENT = 0.01
# Floors of one cell closer than this vertically are one floor (the higher one).
_MERGE = 0.30
# Faces with |normal y| below this (within ~14 degrees of vertical) are walls: they block the cells they cross.
_STEEP_NY = 0.25
# Rasterisation works on batches of about this many (triangle, cell centre) candidates to bound memory.
_CHUNK = 1 << 21


@dataclass(frozen=True, eq=False)  # eq=False: comparing ndarrays with == has no single truth value
class WalkGrid:
    origin: tuple[float, float]
    cell: float
    heights: np.ndarray  # int16, (layers, rows, cols), centimetres, NO_FLOOR where empty

    NO_FLOOR = NO_FLOOR

    @property
    def layers(self) -> int:
        return int(self.heights.shape[0])

    @property
    def rows(self) -> int:
        return int(self.heights.shape[1])

    @property
    def cols(self) -> int:
        return int(self.heights.shape[2])

    def meta(self) -> dict[str, Any]:
        """The `walkable` object of the scene manifest, apart from `url` and `bytes`."""
        return {
            "origin": [float(self.origin[0]), float(self.origin[1])],
            "cell": float(self.cell),
            "cols": self.cols,
            "rows": self.rows,
            "layers": self.layers,
            "encoding": ENCODING,
        }

    def to_bytes(self) -> bytes:
        return np.ascontiguousarray(self.heights, dtype="<i2").tobytes(order="C")

    @classmethod
    def from_bytes(cls, data: bytes, meta: dict[str, Any]) -> WalkGrid:
        if meta.get("encoding") != ENCODING:
            raise ValueError(f"unsupported walkable encoding {meta.get('encoding')!r}")
        shape = (int(meta["layers"]), int(meta["rows"]), int(meta["cols"]))
        if len(data) != 2 * math.prod(shape):
            raise ValueError(f"walkable data has {len(data)} bytes, expected {2 * math.prod(shape)}")
        heights = np.frombuffer(data, dtype="<i2").reshape(shape).astype(np.int16)
        x0, z0 = meta["origin"]
        return cls(origin=(float(x0), float(z0)), cell=float(meta["cell"]), heights=heights)

    def cell_of(self, x: float, z: float) -> tuple[int, int] | None:
        """(row, col) of the cell containing (x, z), or None outside the grid."""
        col = math.floor((x - self.origin[0]) / self.cell)
        row = math.floor((z - self.origin[1]) / self.cell)
        if 0 <= row < self.rows and 0 <= col < self.cols:
            return row, col
        return None

    def floors_at(self, x: float, z: float) -> np.ndarray:
        """Floor heights in metres of the cell containing (x, z), ascending; empty outside the grid."""
        rc = self.cell_of(x, z)
        if rc is None:
            return np.empty(0, dtype=np.float64)
        column = self.heights[:, rc[0], rc[1]]
        return column[column != NO_FLOOR].astype(np.float64) / 100.0

    def step_target(
        self, current_y: float, x: float, z: float, max_step: float = MAX_STEP, max_drop: float = MAX_DROP
    ) -> float | None:
        """Height a walker with feet at `current_y` lands on when entering the cell of (x, z), or None.

        The rule, exactly as the browser implements it: among the floors of the cell, keep those in
        [current_y - max_drop, current_y + max_step]; land on the highest of them; if there is none the move
        is blocked. "Highest floor not above current_y + max_step" means a walker under a gallery stays on the
        ground (the gallery is far above its step) while a walker on the gallery stays on it (the ground is
        below it), and stairs are climbed one step at a time. With max_drop (1 m) below the head room (2 m), a
        walker never falls through a wall, railing or edge of an upper storey to the floor under it.
        """
        floors = self.floors_at(x, z)
        ok = floors[(floors >= current_y - max_drop) & (floors <= current_y + max_step)]
        return float(ok.max()) if ok.size else None


def load_scene_mesh(path: str | Path) -> trimesh.Trimesh:
    """Read a GLB/glTF file into one triangle mesh in world coordinates (glTF: metres, +Y up)."""
    loaded = trimesh.load(str(path), force="scene")
    mesh = loaded.to_mesh() if isinstance(loaded, trimesh.Scene) else loaded
    if not isinstance(mesh, trimesh.Trimesh):
        raise ValueError(f"{path}: no triangle geometry")
    return mesh


def extract_walkable(
    mesh: trimesh.Trimesh,
    cell: float = 0.25,
    min_headroom: float = 2.0,
    max_slope_deg: float = 40,
    max_layers: int = 4,
    max_step: float = MAX_STEP,
) -> WalkGrid:
    """Sample the walkable floors of `mesh` on a grid of `cell` metres covering its xz bounds.

    At most `max_layers` floors are kept per cell: the lowest ones, so the ground floor, where residents spawn
    and most rooms are, is never lost to a tall building; an overflowing upper storey becomes a hole a walker
    cannot enter.

    Near-vertical faces (walls, railings, legs) can be thinner than a cell and slip between cell centres, or
    belong to boxes whose hidden bottom face was culled; so they also block directly: a floor is dropped when
    a near-vertical face crosses its cell anywhere between `max_step` and `min_headroom` above it (a stair
    riser, lower than a step, does not block). This widens obstacles by up to one cell, a rough body radius.

    Triangles must be wound so that their normals point out of solids, as glTF requires; a floor with a
    coincident downward face on it (a box standing on it) is covered, not walkable.
    """
    if cell <= 0 or max_layers < 1:
        raise ValueError("cell must be > 0 and max_layers >= 1")
    tris = np.asarray(mesh.triangles, dtype=np.float64)  # (n, 3 vertices, xyz)
    if len(tris) == 0:
        return WalkGrid((0.0, 0.0), float(cell), np.full((1, 1, 1), NO_FLOOR, np.int16))
    lo = tris.reshape(-1, 3).min(axis=0)
    hi = tris.reshape(-1, 3).max(axis=0)
    # Snap the origin to a multiple of the cell so grids of nearby scenes line up with round coordinates.
    x0 = math.floor(lo[0] / cell) * cell
    z0 = math.floor(lo[2] / cell) * cell
    cols = max(1, math.ceil((hi[0] - x0) / cell))
    rows = max(1, math.ceil((hi[2] - z0) / cell))

    cell_id, y, ny = _rasterise(tris, x0, z0, cell, rows, cols)
    blockers = _blockers(tris, x0, z0, cell, rows, cols)
    floor_cells, floor_y = _floors(
        cell_id, y, ny, blockers, min_headroom, math.cos(math.radians(max_slope_deg)), max_step
    )
    heights = _layer(floor_cells, floor_y, rows, cols, max_layers)
    return WalkGrid((float(x0), float(z0)), float(cell), heights)


def _rasterise(
    tris: np.ndarray, x0: float, z0: float, cell: float, rows: int, cols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All hits of vertical lines through cell centres: (flat cell index, height, normal y) per hit."""
    normal = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    length = np.linalg.norm(normal, axis=1)
    ny_all = normal[:, 1] / np.where(length > 0, length, 1.0)
    # Vertical and degenerate triangles have no xz area: no vertical line hits them.
    keep = (length > 0) & (np.abs(ny_all) > 1e-9)
    tris, ny_all = tris[keep], ny_all[keep]
    v0, v1, v2 = tris[:, 0], tris[:, 1], tris[:, 2]
    e1x, e1y, e1z = (v1 - v0).T
    e2x, e2y, e2z = (v2 - v0).T
    det = e1x * e2z - e2x * e1z  # twice the signed area of the xz projection, non-zero after `keep`

    # Range of cell indices whose centres may fall inside each triangle's xz bounding box.
    xs, zs = tris[:, :, 0], tris[:, :, 2]
    c0 = np.clip(np.ceil((xs.min(axis=1) - x0) / cell - 0.5 - 1e-9), 0, cols).astype(np.int64)
    c1 = np.clip(np.floor((xs.max(axis=1) - x0) / cell - 0.5 + 1e-9), -1, cols - 1).astype(np.int64)
    r0 = np.clip(np.ceil((zs.min(axis=1) - z0) / cell - 0.5 - 1e-9), 0, rows).astype(np.int64)
    r1 = np.clip(np.floor((zs.max(axis=1) - z0) / cell - 0.5 + 1e-9), -1, rows - 1).astype(np.int64)
    width = np.maximum(c1 - c0 + 1, 0)
    count = width * np.maximum(r1 - r0 + 1, 0)

    if not count.any():
        return np.empty(0, np.int64), np.empty(0), np.empty(0)
    out_cell: list[np.ndarray] = []
    out_y: list[np.ndarray] = []
    out_ny: list[np.ndarray] = []
    # Batches of whole triangles holding about _CHUNK candidates each; a Python loop over batches, not cells.
    cum = np.cumsum(count)
    bounds = np.unique(np.r_[0, np.searchsorted(cum, np.arange(_CHUNK, cum[-1], _CHUNK)), len(tris)])
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        sel = np.arange(start, end)
        sel = sel[count[sel] > 0]
        if sel.size == 0:
            continue
        n = count[sel]
        tri = np.repeat(sel, n)
        local = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        col = c0[tri] + local % width[tri]
        row = r0[tri] + local // width[tri]
        dx = x0 + (col + 0.5) * cell - v0[tri, 0]
        dz = z0 + (row + 0.5) * cell - v0[tri, 2]
        inv = 1.0 / det[tri]
        s = (dx * e2z[tri] - e2x[tri] * dz) * inv
        t = (e1x[tri] * dz - dx * e1z[tri]) * inv
        # A small tolerance so centres on a shared edge hit at least one triangle (duplicates merge later).
        eps = 1e-7
        inside = (s >= -eps) & (t >= -eps) & (s + t <= 1 + eps)
        tri, s, t = tri[inside], s[inside], t[inside]
        out_cell.append(row[inside] * cols + col[inside])
        out_y.append(v0[tri, 1] + s * e1y[tri] + t * e2y[tri])
        out_ny.append(ny_all[tri])
    return np.concatenate(out_cell), np.concatenate(out_y), np.concatenate(out_ny)


def _blockers(
    tris: np.ndarray, x0: float, z0: float, cell: float, rows: int, cols: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertical extent of near-vertical faces per cell: (flat cell index, lowest y, highest y) per sample.

    Each such triangle is reduced to its footprint segment in xz and sampled every half cell along it; at each
    sample the vertical cross-section of the triangle [ylo, yhi] is recorded for the cell it falls in.
    """
    normal = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    length = np.linalg.norm(normal, axis=1)
    steep = (length > 0) & (np.abs(normal[:, 1]) < _STEEP_NY * np.where(length > 0, length, 1.0))
    t = tris[steep]
    if len(t) == 0:
        return np.empty(0, np.int64), np.empty(0), np.empty(0)
    xz, ys = t[:, :, [0, 2]], t[:, :, 1]
    # Footprint direction: the longest horizontal edge (any one when the triangle is a vertical sliver).
    edges = xz[:, [1, 2, 0]] - xz
    elen = np.linalg.norm(edges, axis=2)
    best = np.argmax(elen, axis=1)
    d = edges[np.arange(len(t)), best]
    dlen = elen[np.arange(len(t)), best]
    d = np.where(dlen[:, None] > 1e-12, d / np.maximum(dlen, 1e-12)[:, None], [1.0, 0.0])
    perp = np.stack([-d[:, 1], d[:, 0]], axis=1)
    u = np.einsum("tkc,tc->tk", xz, d)  # vertex positions along the footprint
    w = np.einsum("tkc,tc->tk", xz, perp).mean(axis=1)  # footprint offset (constant for a vertical face)
    u_lo, u_hi = u.min(axis=1), u.max(axis=1)
    n = np.ceil((u_hi - u_lo) / (0.5 * cell)).astype(np.int64) + 1
    tri = np.repeat(np.arange(len(t)), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    us = u_lo[tri] + (u_hi - u_lo)[tri] * k / np.maximum(n[tri] - 1, 1)
    # Cross-section at us: the heights where the vertical line at us meets the triangle's three edges.
    ylo = np.full(us.shape, np.inf)
    yhi = np.full(us.shape, -np.inf)
    for a, b in ((0, 1), (1, 2), (2, 0)):  # three edges, each vectorised over all samples
        ua, ub, ya, yb = u[tri, a], u[tri, b], ys[tri, a], ys[tri, b]
        du = ub - ua
        on = (us >= np.minimum(ua, ub) - 1e-9) & (us <= np.maximum(ua, ub) + 1e-9)
        flat = np.abs(du) < 1e-9  # a vertical edge: its whole height
        f = np.clip((us - ua) / np.where(flat, 1.0, du), 0.0, 1.0)
        y_at = ya + f * (yb - ya)
        ylo = np.where(on, np.minimum(ylo, np.where(flat, np.minimum(ya, yb), y_at)), ylo)
        yhi = np.where(on, np.maximum(yhi, np.where(flat, np.maximum(ya, yb), y_at)), yhi)
    # Nudge samples a micrometre behind the face (normals point out of solids), so that a face lying on a
    # cell boundary blocks the cell on its solid side, not the open cell in front of it.
    n_xz = normal[steep][:, [0, 2]]
    n_xz = n_xz / np.maximum(np.linalg.norm(n_xz, axis=1, keepdims=True), 1e-300)
    px = us * d[tri, 0] + w[tri] * perp[tri, 0] - 1e-6 * n_xz[tri, 0]
    pz = us * d[tri, 1] + w[tri] * perp[tri, 1] - 1e-6 * n_xz[tri, 1]
    col = np.floor((px - x0) / cell).astype(np.int64)
    row = np.floor((pz - z0) / cell).astype(np.int64)
    ok = (col >= 0) & (col < cols) & (row >= 0) & (row < rows) & (ylo <= yhi)
    return (row * cols + col)[ok], ylo[ok], yhi[ok]


def _floors(
    cell_id: np.ndarray,
    y: np.ndarray,
    ny: np.ndarray,
    blockers: tuple[np.ndarray, np.ndarray, np.ndarray],
    min_headroom: float,
    min_ny: float,
    max_step: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The hits that are floors: up-facing, not too steep, with `min_headroom` free above them."""
    if cell_id.size == 0:
        return cell_id, y
    b_cell, b_lo, b_hi = blockers
    # One sortable key per (cell, height): cells far apart, heights ordered within a cell.
    y_min = float(min(y.min(), b_lo.min(initial=np.inf)))
    y_max = float(max(y.max(), b_hi.max(initial=-np.inf)))
    span = (y_max - y_min) + 2 * (min_headroom + max_step + 1.0)
    key = cell_id * span + (y - y_min)
    order = np.argsort(key, kind="stable")
    key, cell_id, y, ny = key[order], cell_id[order], y[order], ny[order]

    cand = np.flatnonzero(ny >= min_ny)
    c_key, c_cell, c_y = key[cand], cell_id[cand], y[cand]
    inf = np.inf
    # Lowest surface of any kind clearly above the floor (coplanar up-facing duplicates are skipped).
    j = np.searchsorted(key, c_key + _COINCIDENT, side="right")
    jj = np.minimum(j, len(key) - 1)
    above = np.where((j < len(key)) & (cell_id[jj] == c_cell), y[jj], inf)
    # Lowest downward face at or above the floor, including one lying on it (a box standing on the floor).
    down = np.flatnonzero(ny < 0)
    if down.size:
        dkey = key[down]
        k = np.searchsorted(dkey, c_key - _COINCIDENT, side="left")
        kk = np.minimum(k, len(dkey) - 1)
        hit = (k < len(dkey)) & (cell_id[down[kk]] == c_cell)
        above = np.minimum(above, np.where(hit, y[down[kk]], inf))
    ok = above - c_y >= min_headroom
    if b_cell.size:
        # Blocked when some face of the cell starts below the head (ylo < y + min_headroom) and reaches above
        # a step (yhi > y + max_step). Sorted by (cell, ylo), the faces starting below the head are a prefix
        # of the cell's run; a running maximum of (cell, yhi) keys gives the highest top in that prefix.
        b_order = np.argsort(b_cell * span + (b_lo - y_min), kind="stable")
        b_cell, b_lo, b_hi = b_cell[b_order], b_lo[b_order], b_hi[b_order]
        lo_key = b_cell * span + (b_lo - y_min)
        top_key = np.maximum.accumulate(b_cell * span + (b_hi - y_min))
        i = np.searchsorted(lo_key, c_key + min_headroom, side="left") - 1
        ii = np.maximum(i, 0)
        same = (i >= 0) & (b_cell[ii] == c_cell)
        ok &= ~(same & (top_key[ii] - c_cell * span + y_min > c_y + max_step))
    return c_cell[ok], c_y[ok]


def _layer(cell_id: np.ndarray, y: np.ndarray, rows: int, cols: int, max_layers: int) -> np.ndarray:
    """Merge close floors of a cell, sort them ascending and pack the lowest `max_layers` into the grid."""
    if cell_id.size == 0:
        return np.full((1, rows, cols), NO_FLOOR, np.int16)
    # Inputs arrive sorted by (cell, height). A new floor starts at a new cell or after a gap > _MERGE;
    # chained close hits are one floor, represented by its highest hit (where the feet rest).
    new_cell = np.r_[True, cell_id[1:] != cell_id[:-1]]
    starts = new_cell | np.r_[True, np.diff(y) > _MERGE]
    last = np.r_[starts[1:], True]  # the highest hit of each merged floor
    f_cell, f_y = cell_id[last], y[last]
    f_new = np.r_[True, f_cell[1:] != f_cell[:-1]]
    first = np.flatnonzero(f_new)
    rank = np.arange(f_cell.size) - np.repeat(first, np.diff(np.r_[first, f_cell.size]))
    layers = int(min(max_layers, rank.max() + 1))
    keep = rank < layers
    heights = np.full((layers, rows * cols), NO_FLOOR, np.int16)
    cm = np.clip(np.rint(f_y[keep] * 100.0), NO_FLOOR + 1, 32767).astype(np.int16)
    heights[rank[keep], f_cell[keep]] = cm
    return heights.reshape(layers, rows, cols)
