"""Keep trying, the codec: round trips hold for every value in range, and random or mutated bytes never make the
codec raise anything but its own CodecError (Hypothesis; bounded so it runs in seconds)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import protocol
from server.codec import AVATAR, CodecError, Quantizer, decode_frame, decode_pose, encode_frame, encode_pose

BOUNDED = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

u16 = st.integers(0, 0xFFFF)
u8 = st.integers(0, 0xFF)
avatar = st.tuples(u16, u16, u16, u16, u16, u8)


def frame_of(tick: int, rows: list[tuple[int, ...]]) -> bytes:
    return encode_frame(tick, np.array(rows, dtype=AVATAR))


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with a few bytes flipped, cut, inserted or dropped."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "drop"]))
        at = draw(st.integers(0, max(len(out), 1) - 1)) if out else 0
        if action == "flip" and out:
            out[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del out[at:]
        elif action == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=12))
        elif out:
            del out[at]
    return bytes(out)


@BOUNDED
@given(u16, u16, u16, u16, u8)
def test_every_pose_in_range_round_trips_in_exactly_pose_size_bytes(x, y, z, yaw, pitch):
    data = encode_pose(x, y, z, yaw, pitch)
    assert len(data) == protocol.POSE_SIZE and data[0] == protocol.POSE
    assert decode_pose(data) == (x, y, z, yaw, pitch)


@BOUNDED
@given(st.integers(0, 2**40), st.lists(avatar, max_size=protocol.MAX_AVATARS_PER_FRAME * 2))
def test_every_frame_round_trips_with_its_documented_size(tick, rows):
    data = frame_of(tick, rows)
    assert len(data) == protocol.FRAME_HEADER_SIZE + protocol.AVATAR_SIZE * len(rows)
    back_tick, back = decode_frame(data)
    assert back_tick == tick & 0xFFFF
    assert [tuple(int(v) for v in a) for a in back] == rows


def _decode_or_codec_error(data: bytes) -> None:
    """Decodes as a pose and as a frame: each either raises CodecError or gives a message of the right size."""
    try:
        decode_pose(data)
        assert len(data) == protocol.POSE_SIZE and data[0] == protocol.POSE
    except CodecError:
        pass
    try:
        _, avatars = decode_frame(data)
        assert data[0] == protocol.FRAME
        assert len(data) == protocol.FRAME_HEADER_SIZE + protocol.AVATAR_SIZE * len(avatars)
    except CodecError:
        pass


@BOUNDED
@given(st.binary(max_size=600))
def test_random_bytes_raise_nothing_but_the_codec_error(data):
    _decode_or_codec_error(data)


@BOUNDED
@given(st.data())
def test_mutated_poses_and_frames_raise_nothing_but_the_codec_error(data):
    good = data.draw(st.one_of(
        st.builds(lambda f: encode_pose(*f), st.tuples(u16, u16, u16, u16, u8)),
        st.builds(frame_of, st.integers(0, 0xFFFF), st.lists(avatar, max_size=6)),
    ))
    _decode_or_codec_error(data.draw(mutated(good)))


finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)


@BOUNDED
@given(st.lists(finite, min_size=3, max_size=3), st.lists(st.floats(0.01, 500), min_size=3, max_size=3),
       st.lists(st.floats(0, 1), min_size=3, max_size=3), finite, finite)
def test_the_quantiser_stays_in_range_and_within_half_a_step(low, size, where, yaw, pitch):
    high = [lo + s for lo, s in zip(low, size, strict=True)]
    quant = Quantizer(low, high)
    inside = [lo + w * s for lo, w, s in zip(low, where, size, strict=True)]
    q = quant.position(inside)
    assert q.dtype == np.uint16
    assert np.all(np.abs(quant.metres(q) - inside) <= quant.step / 2 + 1e-6 * np.maximum(1, np.abs(inside)))
    outside = quant.position([lo - 1e3 for lo in low])
    assert list(outside) == [0, 0, 0]
    assert 0 <= Quantizer.yaw(yaw) <= 0xFFFF and 0 <= Quantizer.pitch(pitch) <= 0xFF
    assert Quantizer.pitch(math.pi) == 255 and Quantizer.pitch(-math.pi) == 0
