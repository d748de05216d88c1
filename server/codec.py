"""Binary pose encoding of the realtime protocol (docs/protocol.md, version 1; constants in server/protocol.py).

Poses travel quantised end to end: clients send u16 positions over the room's bounds, the server keeps them
as they came and writes frames straight from numpy arrays, so a frame is one `tobytes()` and never a Python
loop over avatars. Invariants: a POSE is exactly 10 bytes; a FRAME is 5 + 11 × n bytes with n ≤ 65535; all
numbers little-endian.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from .protocol import AVATAR_SIZE, FRAME, FRAME_HEADER_SIZE, POSE, POSE_SIZE, PROTOCOL_VERSION, QUANT_MAX

__all__ = ["AVATAR", "FRAME_HEADER", "POSE_FIELDS", "PROTOCOL_VERSION", "CodecError", "Quantizer", "decode_frame",
           "decode_pose", "encode_frame", "encode_pose", "ws_binary_frame", "ws_frame"]

FRAME_HEADER = struct.Struct("<BHH")
POSE_FIELDS = struct.Struct("<HHHHB")  # a POSE after its type byte: x, y, z, yaw, pitch
assert FRAME_HEADER.size == FRAME_HEADER_SIZE

# One avatar in a frame: id, quantised position, yaw, pitch. Packed: 11 bytes, no padding.
AVATAR = np.dtype([("id", "<u2"), ("x", "<u2"), ("y", "<u2"), ("z", "<u2"), ("yaw", "<u2"), ("pitch", "u1")])
assert AVATAR.itemsize == AVATAR_SIZE


class CodecError(ValueError):
    """A binary message that does not follow the protocol."""


def decode_pose(data: bytes) -> tuple[int, int, int, int, int]:
    """(x, y, z, yaw, pitch) quantised, from a client's POSE message."""
    if len(data) != POSE_SIZE or data[0] != POSE:
        raise CodecError(f"a binary message must be a {POSE_SIZE}-byte POSE")
    x, y, z, yaw, pitch = POSE_FIELDS.unpack_from(data, 1)
    return x, y, z, yaw, pitch


def encode_pose(x: int, y: int, z: int, yaw: int, pitch: int) -> bytes:
    return struct.pack("<BHHHHB", POSE, x, y, z, yaw, pitch)


def encode_frame(tick: int, avatars: np.ndarray) -> bytes:
    """A FRAME from a structured array of dtype AVATAR."""
    if avatars.dtype != AVATAR:
        avatars = avatars.astype(AVATAR)
    return FRAME_HEADER.pack(FRAME, tick & 0xFFFF, len(avatars)) + avatars.tobytes()


def decode_frame(data: bytes) -> tuple[int, np.ndarray]:
    if len(data) < FRAME_HEADER.size or data[0] != FRAME:
        raise CodecError("not a FRAME")
    _, tick, count = FRAME_HEADER.unpack_from(data)
    if len(data) != FRAME_HEADER.size + count * AVATAR.itemsize:
        raise CodecError("FRAME length does not match its count")
    return tick, np.frombuffer(data, dtype=AVATAR, count=count, offset=FRAME_HEADER.size)


class Quantizer:
    """Metres/radians <-> protocol integers over a room's bounds (used by tests and bots; the server never
    needs floats on the hot path)."""

    def __init__(self, low: list[float], high: list[float]) -> None:
        self.low = np.asarray(low, dtype=np.float64)
        self.span = np.maximum(np.asarray(high, dtype=np.float64) - self.low, 1e-6)

    def position(self, xyz: list[float] | np.ndarray) -> np.ndarray:
        q = np.rint((np.asarray(xyz, dtype=np.float64) - self.low) / self.span * QUANT_MAX)
        return np.clip(q, 0, QUANT_MAX).astype(np.uint16)

    def metres(self, q: np.ndarray) -> np.ndarray:
        return self.low + np.asarray(q, dtype=np.float64) / QUANT_MAX * self.span

    @property
    def step(self) -> np.ndarray:
        """Metres per quantisation step on each axis."""
        return self.span / QUANT_MAX

    @staticmethod
    def yaw(radians: float) -> int:
        return int(round(radians / (2 * math.pi) * 65536)) % 65536

    @staticmethod
    def pitch(radians: float) -> int:
        return int(min(255, max(0, round((radians + math.pi / 2) / math.pi * 255))))


TEXT, BINARY = 0x1, 0x2  # WebSocket data opcodes


def ws_frame(payload: bytes, opcode: int = BINARY) -> bytes:
    """`payload` as one unmasked, uncompressed, final WebSocket frame (RFC 6455 §5.2): FIN + opcode, then the
    length. A pose frame is built once per group of viewers and written as is to every socket that receives it."""
    size = len(payload)
    if size < 126:
        header = bytes((0x80 | opcode, size))
    elif size < 65536:
        header = bytes((0x80 | opcode, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 127)) + size.to_bytes(8, "big")
    return header + payload


def ws_binary_frame(payload: bytes) -> bytes:
    """`payload` as one binary frame (see `ws_frame`)."""
    return ws_frame(payload)
