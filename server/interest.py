"""Interest management: which avatars each resident receives this tick, as few encoded frames as possible.

Viewers are grouped by where they stand (a 4 m × 4 m cell and a storey); everyone in a group receives the same
frame, so a frame is encoded once per group, not once per viewer. Within a group, avatars are ranked by
distance from the group's centre: the nearest `NEAR` every tick, the others on a schedule that thins out with
distance (every 2nd, 4th or 8th tick, phase-shifted by id so the load is even), and never more than
`MAX_PER_FRAME` in one frame. Invariant: a frame never exceeds 5 + 11 × MAX_PER_FRAME bytes (533 bytes;
10.7 KB/s at 20 Hz). Pure numpy, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .codec import AVATAR, FRAME_HEADER
from .protocol import FRAME

NEAR = 24
MAX_PER_FRAME = 48
GROUP_CELL = 4.0  # metres
STOREY = 3.0  # metres
# (distance limit in metres, send every n-th tick) for avatars beyond the nearest NEAR.
SCHEDULE = ((15.0, 2), (40.0, 4), (np.inf, 8))


@dataclass(frozen=True)
class PlannedFrame:
    frame: bytes
    viewers: np.ndarray  # indices into the viewers array


def _metres(avatars: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y, z in metres (float32), one array per axis: the per-axis arithmetic below stays contiguous."""
    step32 = step.astype(np.float32)
    return (avatars["x"] * step32[0], avatars["y"] * step32[1], avatars["z"] * step32[2])


def select_many(distances: np.ndarray, ids: np.ndarray, tick: int) -> list[np.ndarray]:
    """For each row of `distances` (groups × avatars; any monotonic measure of distance, e.g. its square, with
    `limits` to match): indices of the avatars to send this tick, nearest first."""
    return _select(distances, ids, tick, [limit for limit, _ in SCHEDULE[:-1]])


def _select(distances: np.ndarray, ids: np.ndarray, tick: int, limits: list[float]) -> list[np.ndarray]:
    """The nearest NEAR of each row every tick, then the due ones of the rest (nearest first, up to
    MAX_PER_FRAME in all). Whole-matrix operations: one argpartition for the near ones, one for the rest."""
    groups, count = distances.shape
    if count == 0:
        return [np.empty(0, dtype=np.int64) for _ in range(groups)]
    rows = np.arange(groups)[:, None]
    k = min(NEAR, count)
    near = np.argpartition(distances, k - 1, axis=1)[:, :k] if count > k else np.tile(np.arange(count), (groups, 1))
    near = np.take_along_axis(near, np.argsort(np.take_along_axis(distances, near, 1), axis=1), 1)
    room_left = min(MAX_PER_FRAME - k, count - k)
    if room_left <= 0:
        return list(near)
    # Every 8th tick, every 4th within the 2nd limit, every 2nd within the 1st, phase-shifted by id so the load
    # is even: due when (tick + id) is a multiple of the period. The multiples of 8 are multiples of 4 and of 2,
    # so only the avatars due every 2nd tick (half of them) are candidates at all.
    phase = tick + ids.astype(np.int64)
    candidates = np.flatnonzero(phase % SCHEDULE[0][1] == 0)
    if len(candidates) == 0:
        return list(near)
    rest_distance = distances.copy()
    rest_distance[rows, near] = np.inf
    rest_distance = rest_distance[:, candidates]
    every_4th = phase[candidates] % SCHEDULE[1][1] == 0
    every_8th = phase[candidates] % SCHEDULE[2][1] == 0
    due = every_8th[None, :] | (every_4th[None, :] & (rest_distance < limits[1])) | (rest_distance < limits[0])
    rest_distance[~due] = np.inf
    room_left = min(room_left, len(candidates))
    rest = np.argpartition(rest_distance, room_left - 1, axis=1)[:, :room_left] if len(candidates) > room_left \
        else np.tile(np.arange(len(candidates)), (groups, 1))
    rest_d = np.take_along_axis(rest_distance, rest, 1)
    order = np.argsort(rest_d, axis=1, kind="stable")
    rest, rest_d = candidates[np.take_along_axis(rest, order, 1)], np.take_along_axis(rest_d, order, 1)
    kept = np.isfinite(rest_d).sum(axis=1).tolist()
    both = np.concatenate([near, rest], axis=1)
    return [both[g, :k + n] for g, n in enumerate(kept)]


def select(distances: np.ndarray, ids: np.ndarray, tick: int) -> np.ndarray:
    """`select_many` for one group."""
    return select_many(distances[None, :], ids, tick)[0]


def plan_frames(avatars: np.ndarray, viewers: np.ndarray, step: np.ndarray, tick: int) -> list[PlannedFrame]:
    """One frame per group of viewers. `avatars` has dtype AVATAR (everyone visible in the room, local and
    remote); `viewers` has dtype AVATAR too (the local residents to send to); `step` is metres per
    quantisation step per axis."""
    if len(viewers) == 0 or len(avatars) == 0:
        return []
    if avatars.dtype != AVATAR or viewers.dtype != AVATAR:
        raise TypeError("avatars and viewers must have dtype AVATAR")
    ax, ay, az = _metres(avatars, step)
    vx, vy, vz = _metres(viewers, step)
    # One integer key per (cell, storey): positions are bounded (u16 steps), so each cell index fits 21 bits.
    cx = np.floor(vx / GROUP_CELL).astype(np.int64)
    cy = np.floor(vy / STOREY).astype(np.int64)
    cz = np.floor(vz / GROUP_CELL).astype(np.int64)
    keys = (cx << 42) | (cy << 21) | cz
    _, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.reshape(-1)
    sizes = np.bincount(inverse)
    gx = (np.bincount(inverse, vx) / sizes).astype(np.float32)
    gy = (np.bincount(inverse, vy) / sizes).astype(np.float32)
    gz = (np.bincount(inverse, vz) / sizes).astype(np.float32)
    # Squared distances (no square root), compared with squared limits.
    dx = ax[None, :] - gx[:, None]
    squared = dx * dx
    dy = ay[None, :] - gy[:, None]
    squared += dy * dy
    dz = az[None, :] - gz[:, None]
    squared += dz * dz
    limits = [limit * limit for limit, _ in SCHEDULE[:-1]]
    members_of = np.split(np.argsort(inverse, kind="stable"), np.cumsum(sizes)[:-1])
    header = FRAME_HEADER.pack
    plans = []
    for chosen, members in zip(_select(squared, avatars["id"], tick, limits), members_of, strict=True):
        plans.append(PlannedFrame(header(FRAME, tick & 0xFFFF, len(chosen)) + avatars[chosen].tobytes(), members))
    return plans
