"""The shared protocol fixture (tests/fixtures/protocol-vectors.json) is what the server writes today, and the
server reads it back: the browser's side checks itself against the same file (web/test/protocol.test.mjs)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from server import interest, protocol, walkable
from server.codec import AVATAR, CodecError, Quantizer, decode_frame, decode_pose, encode_frame, encode_pose
from tests.fixtures import make_protocol_vectors

VECTORS = json.loads(make_protocol_vectors.PATH.read_text(encoding="utf-8"))


def test_the_fixture_file_is_up_to_date_with_the_server_code():
    on_disk = make_protocol_vectors.PATH.read_text(encoding="utf-8")
    assert on_disk == make_protocol_vectors.render(), (
        "tests/fixtures/protocol-vectors.json is stale: run `.venv/bin/python -m tests.fixtures.make_protocol_vectors`"
        " and make web/js/protocol.js match")


@pytest.mark.parametrize("vector", VECTORS["poses"], ids=lambda v: v["hex"])
def test_fixture_poses_decode_to_their_fields(vector):
    fields = vector["fields"]
    expected = (fields["x"], fields["y"], fields["z"], fields["yaw"], fields["pitch"])
    assert decode_pose(bytes.fromhex(vector["hex"])) == expected
    assert encode_pose(*expected).hex() == vector["hex"]


@pytest.mark.parametrize("vector", VECTORS["frames"], ids=lambda v: f"{len(v['avatars'])} avatars")
def test_fixture_frames_decode_to_their_avatars(vector):
    tick, avatars = decode_frame(bytes.fromhex(vector["hex"]))
    assert tick == vector["tick"]
    assert [{name: int(a[name]) for name in AVATAR.names} for a in avatars] == vector["avatars"]
    rebuilt = np.array([tuple(a.values()) for a in vector["avatars"]], dtype=AVATAR)
    assert encode_frame(tick, rebuilt).hex() == vector["hex"]


@pytest.mark.parametrize("vector", VECTORS["bad_frames"], ids=lambda v: v["why"])
def test_fixture_bad_frames_are_refused_with_the_codec_error(vector):
    with pytest.raises(CodecError):
        decode_frame(bytes.fromhex(vector["hex"]))


def test_fixture_quantiser_samples_match_the_server_quantiser():
    for vector in VECTORS["quantizer"]:
        quant = Quantizer(vector["bounds"]["min"], vector["bounds"]["max"])
        pose, q = vector["pose"], vector["quantised"]
        assert [int(v) for v in quant.position([pose["x"], pose["y"], pose["z"]])] == [q["x"], q["y"], q["z"]]
        assert (Quantizer.yaw(pose["yaw"]), Quantizer.pitch(pose["pitch"])) == (q["yaw"], q["pitch"])


def test_fixture_names_follow_the_server_name_rule():
    for vector in VECTORS["names"]:
        assert protocol.valid_name(vector["raw"]) == vector["valid"]
    assert any(v["valid"] for v in VECTORS["names"]) and any(v["valid"] is None for v in VECTORS["names"])


def test_every_close_code_has_a_named_constant_and_a_reason():
    named = {value for name, value in vars(protocol).items() if name.startswith("CLOSE_") and isinstance(value, int)}
    assert named == set(protocol.CLOSE_CODES)
    assert len({c.reason for c in protocol.CLOSE_CODES.values()}) == len(protocol.CLOSE_CODES)


def test_every_numeric_constant_of_the_protocol_is_a_listed_limit_or_part_of_the_binary_layout():
    layout = {"PROTOCOL_VERSION", "POSE", "FRAME", "POSE_SIZE", "FRAME_HEADER_SIZE", "AVATAR_SIZE", "QUANT_MAX"}
    numeric = {name for name, value in vars(protocol).items()
               if name.isupper() and isinstance(value, int | float) and not name.startswith("CLOSE_")}
    assert numeric == set(protocol.LIMITS) | layout


def test_the_server_modules_enforce_the_protocol_limits():
    assert interest.MAX_PER_FRAME == protocol.MAX_AVATARS_PER_FRAME
    assert AVATAR.itemsize == protocol.AVATAR_SIZE


def test_fixture_walking_samples_follow_the_server_movement_rule():
    walking = VECTORS["walking"]
    assert (walking["MAX_STEP"], walking["MAX_DROP"]) == (walkable.MAX_STEP, walkable.MAX_DROP)
    meta = walking["meta"]
    heights = np.array(walking["heights"], dtype="<i2").tobytes()
    grid = walkable.WalkGrid.from_bytes(heights, meta)
    assert any(step["lands"] is None for step in walking["steps"])
    assert any(step["lands"] is not None for step in walking["steps"])
    for step in walking["steps"]:
        assert grid.step_target(step["y"], step["x"], step["z"]) == step["lands"]
