"""The bundled scenes pass the Khronos glTF-Validator with zero errors, before and after gltfpack."""

from __future__ import annotations

import brotli
import pytest

from server.gltftools import optimize_glb, validate_glb
from server.scenegen.build import build_all

SCENES = ("town-hall", "public-square")
# Infos the validator emits on meshopt-compressed files, which it cannot decode.
COMPRESSED_INFOS = {"UNSUPPORTED_EXTENSION", "UNUSED_OBJECT"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("glb")
    sources = {p.stem: p for p in build_all(out)}
    optimized = {}
    for name, src in sources.items():
        optimized[name] = out / f"{name}.opt.glb"
        optimize_glb(src, optimized[name])
    return sources, optimized


@pytest.mark.parametrize("name", SCENES)
def test_source_glb_has_no_validator_issues_at_all(name: str, built) -> None:  # type: ignore[no-untyped-def]
    report = validate_glb(built[0][name])
    assert report["numErrors"] == 0 and report["numWarnings"] == 0, report["messages"][:5]
    assert report["numInfos"] == 0 and report["numHints"] == 0, report["messages"][:5]


@pytest.mark.parametrize("name", SCENES)
def test_optimized_glb_has_no_validator_errors_or_warnings(name: str, built) -> None:  # type: ignore[no-untyped-def]
    report = validate_glb(built[1][name])
    assert report["numErrors"] == 0 and report["numWarnings"] == 0, report["messages"][:5]
    assert {m["code"] for m in report["messages"]} <= COMPRESSED_INFOS


def test_town_hall_3d_payload_fits_the_transfer_budget(built) -> None:  # type: ignore[no-untyped-def]
    data = built[1]["town-hall"].read_bytes()
    assert len(data) < built[0]["town-hall"].stat().st_size / 3
    assert len(brotli.compress(data, quality=11)) <= 250_000


def test_validator_reports_errors_in_a_corrupted_glb(built, tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = bytearray(built[0]["public-square"].read_bytes())
    json_len = int.from_bytes(data[12:16], "little")
    # Declare a buffer longer than the BIN chunk: a structural error the validator must catch.
    text = data[20:20 + json_len].decode()
    text = text.replace('"buffers":[{"byteLength":', '"buffers":[{"byteLength":9', 1)
    patched = text.encode()
    padded = patched + b" " * (-len(patched) % 4)
    out = bytes(data[:12]) + len(padded).to_bytes(4, "little") + b"JSON" + padded + bytes(data[20 + json_len:])
    out = out[:8] + len(out).to_bytes(4, "little") + out[12:]
    bad = tmp_path / "bad.glb"
    bad.write_bytes(out)
    assert validate_glb(bad)["numErrors"] > 0
    truncated = tmp_path / "truncated.glb"
    truncated.write_bytes(bytes(data[: len(data) // 2]))
    assert validate_glb(truncated)["numErrors"] > 0
