"""Pose encoding and interest management: exact bytes, bounded frames, nearest first, shared encodes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from server.codec import AVATAR, CodecError, Quantizer, decode_frame, decode_pose, encode_frame, encode_pose
from server.interest import MAX_PER_FRAME, NEAR, plan_frames, select


def avatars(positions_m: np.ndarray, quant: Quantizer, first_id: int = 1) -> np.ndarray:
    out = np.zeros(len(positions_m), dtype=AVATAR)
    q = quant.position(positions_m)
    out["id"] = np.arange(first_id, first_id + len(positions_m))
    out["x"], out["y"], out["z"] = q[:, 0], q[:, 1], q[:, 2]
    return out


def test_pose_is_ten_little_endian_bytes():
    data = encode_pose(0x0102, 3, 4, 0xFFFF, 7)
    assert len(data) == 10 and data[:3] == b"\x01\x02\x01"
    assert decode_pose(data) == (0x0102, 3, 4, 0xFFFF, 7)


@pytest.mark.parametrize("data", [b"", b"\x01" * 9, b"\x02" + b"\x00" * 9, b"\x01" * 11])
def test_anything_but_a_pose_is_rejected(data):
    with pytest.raises(CodecError):
        decode_pose(data)


def test_frame_round_trips_and_has_the_documented_size():
    quant = Quantizer([-10, -1, -10], [10, 9, 10])
    group = avatars(np.array([[0, 0, 0], [1.5, 3.6, -2.25]]), quant)
    frame = encode_frame(70000, group)
    assert len(frame) == 5 + 11 * 2
    tick, back = decode_frame(frame)
    assert tick == 70000 & 0xFFFF and np.array_equal(back, group)
    with pytest.raises(CodecError):
        decode_frame(frame[:-1])


def test_quantisation_keeps_positions_within_a_centimetre():
    quant = Quantizer([-30, -2, -25], [30, 12, 28])
    points = np.random.default_rng(1).uniform([-30, -2, -25], [30, 12, 28], size=(1000, 3))
    back = quant.metres(quant.position(points))
    assert np.abs(back - points).max() < 0.01
    assert Quantizer.yaw(math.pi) == 32768 and Quantizer.yaw(-math.pi / 2) == 49152
    assert Quantizer.pitch(0) in (127, 128) and Quantizer.pitch(10) == 255


def test_nearest_avatars_are_always_sent_and_frames_are_capped():
    distances = np.arange(200, dtype=np.float32)[::-1].copy()  # id 200 is nearest
    ids = np.arange(1, 201, dtype=np.uint16)
    for tick in range(16):
        chosen = select(distances, ids, tick)
        assert len(chosen) <= MAX_PER_FRAME
        assert set(np.argsort(distances)[:NEAR]) <= set(chosen)
        assert list(distances[chosen][:NEAR]) == sorted(distances[chosen][:NEAR])


def test_far_avatars_are_still_sent_now_and_then():
    distances = np.concatenate([np.zeros(NEAR), np.full(30, 100.0)]).astype(np.float32)
    ids = np.arange(1, len(distances) + 1, dtype=np.uint16)
    seen = set()
    for tick in range(8):
        seen.update(int(i) for i in select(distances, ids, tick))
    assert seen == set(range(len(distances)))


def test_viewers_standing_together_share_one_encoded_frame():
    quant = Quantizer([-50, -2, -50], [50, 12, 50])
    crowd = avatars(np.array([[x * 0.1, 0, 0.5] for x in range(6)] + [[40, 0, 40]]), quant)
    plans = plan_frames(crowd, crowd, quant.step, tick=1)
    assert sorted(len(p.viewers) for p in plans) == [1, 6]  # six close together share; the far one alone
    for plan in plans:
        _, seen = decode_frame(plan.frame)
        assert len(seen) == len(crowd)


def test_a_thousand_residents_get_bounded_frames():
    quant = Quantizer([-60, -2, -60], [60, 12, 60])
    rng = np.random.default_rng(7)
    crowd = avatars(rng.uniform([-50, 0, -50], [50, 0, 50], size=(1000, 3)), quant)
    plans = plan_frames(crowd, crowd, quant.step, tick=3)
    assert sum(len(p.viewers) for p in plans) == 1000
    assert max(len(p.frame) for p in plans) <= 5 + 11 * MAX_PER_FRAME
    assert len(plans) < 1000  # encoded once per group, not once per viewer


@pytest.mark.parametrize("size", [0, 125, 126, 533, 65535, 65536])
def test_shared_frames_are_valid_websocket_binary_frames(size):
    from websockets.frames import Frame, Opcode
    from websockets.streams import StreamReader

    from server.codec import ws_binary_frame

    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    reader = StreamReader()
    reader.feed_data(ws_binary_frame(payload))
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    assert frame.opcode == Opcode.BINARY and frame.fin and frame.data == payload
