"""The bundled scenes look like places: textured materials, baked ambient occlusion that darkens corners and
leaves open floors bright, tiling textures, and all of it within the first-view download budget."""

from __future__ import annotations

import io
import json
from pathlib import Path

import brotli
import numpy as np
import pytest
from PIL import Image

from server.gltftools import optimize_glb
from server.scenegen import ao, town_hall
from server.scenegen.build import DEFAULT_ASSETS, bake_ao
from server.scenegen.materials import BY_NAME, PALETTE, mean_linear
from server.scenegen.textures import TEXTURES, jpeg

SCENES = ("town-hall", "public-square")
FIRST_VIEW_3D_BYTES = 250_000  # brotli-compressed optimised GLB: the first-view budget
TEXTURE_BYTES = 64_000  # all of a scene's embedded images together


def _glb(path: Path) -> tuple[dict, bytes]:  # type: ignore[type-arg]
    data = path.read_bytes()
    length = int.from_bytes(data[12:16], "little")
    return json.loads(data[20:20 + length]), data[28 + length:]


@pytest.fixture(scope="module")
def town_hall_ao() -> tuple[dict, dict]:  # type: ignore[type-arg]
    parts = town_hall.build().merged()
    return parts, bake_ao(parts)


@pytest.mark.parametrize("name", SCENES)
def test_materials_carry_textures_and_baked_occlusion(name: str) -> None:
    gltf, binary = _glb(DEFAULT_ASSETS / f"{name}.glb")
    images = gltf["images"]
    assert len(images) >= 4 and all(i["mimeType"] == "image/jpeg" for i in images)
    sizes = [gltf["bufferViews"][i["bufferView"]]["byteLength"] for i in images]
    assert sum(sizes) <= TEXTURE_BYTES, sizes
    for image in images:
        view = gltf["bufferViews"][image["bufferView"]]
        pixels = Image.open(io.BytesIO(binary[view["byteOffset"]:view["byteOffset"] + view["byteLength"]]))
        assert pixels.size in ((128, 128), (256, 256))  # powers of two: mipmaps and repeat everywhere
    for material, mesh in zip(gltf["materials"], gltf["meshes"], strict=True):
        attributes = mesh["primitives"][0]["attributes"]
        spec = BY_NAME[material["name"]]
        assert ("baseColorTexture" in material["pbrMetallicRoughness"]) == (spec.texture is not None)
        assert ("TEXCOORD_0" in attributes) == (spec.texture is not None)
        assert ("COLOR_0" in attributes) == spec.ao, material["name"]
    textured = {m["name"] for m in gltf["materials"] if "baseColorTexture" in m["pbrMetallicRoughness"]}
    assert {"stone-warm", "paving-light"} <= textured
    if name == "town-hall":
        assert {"wood-floor", "wood-dark", "plaster", "carpet", "fabric"} <= textured


@pytest.mark.parametrize("name", SCENES)
def test_first_view_payload_stays_within_budget(name: str, tmp_path: Path) -> None:
    optimised = tmp_path / f"{name}.glb"
    optimize_glb(DEFAULT_ASSETS / f"{name}.glb", optimised)
    assert len(brotli.compress(optimised.read_bytes(), quality=11)) <= FIRST_VIEW_3D_BYTES


def test_occlusion_darkens_corners_and_contacts_but_not_open_floor(town_hall_ao) -> None:  # type: ignore[no-untyped-def]
    parts, _ = town_hall_ao
    occluders = [part for name, part in parts.items() if not BY_NAME[name].blend]
    up, x = np.array([0.0, 1.0, 0.0]), town_hall.HW
    probes = {
        "hall floor, open": ([0.0, 0.0, 7.0], up),
        "hall floor, in the corner behind a planter": ([-5 + x + 0.02, 0.0, 12 - x - 0.02], up),
        "hall floor, beside a column plinth": ([2.7 + 0.45, 0.0, 5.0], up),
        "hall ceiling, middle": ([0.0, town_hall.SLAB, 7.0], -up),
        "hall ceiling, along a wall": ([0.0, town_hall.SLAB, 12 - x - 0.02], -up),
        "chamber floor, under a bench seat": ([-10.0, 0.0, -3.0], up),
        "paving in front of the town hall": ([0.0, 0.0, 17.5], up),
    }
    pos = np.array([p for p, _ in probes.values()])
    nrm = np.array([n for _, n in probes.values()])
    seen = dict(zip(probes, ao.bake({"probe": (pos, nrm, np.zeros((0, 3), int))}, occluders)["probe"], strict=True))
    assert seen["paving in front of the town hall"] > 0.9, seen  # open air: nothing to darken
    # Inside, the room's enclosure dims everything a little (FAR_WEIGHT), corners and contacts a lot.
    assert seen["hall floor, open"] > 0.65 and seen["hall ceiling, middle"] > 0.65, seen
    assert seen["hall floor, in the corner behind a planter"] < 0.3, seen
    assert seen["hall ceiling, along a wall"] < seen["hall ceiling, middle"] - 0.2, seen
    assert seen["hall floor, beside a column plinth"] < seen["hall floor, open"] - 0.15, seen
    assert seen["chamber floor, under a bench seat"] < 0.3, seen


def test_baked_occlusion_is_in_range_and_varied(town_hall_ao) -> None:  # type: ignore[no-untyped-def]
    parts, baked = town_hall_ao
    assert set(baked) == {m.name for m in PALETTE if m.ao and m.name in parts}
    for name, visible in baked.items():
        assert len(visible) == len(parts[name][0])
        assert ((visible >= 0.0) & (visible <= 1.0)).all(), name
    pos, nrm, _ = parts["stone-floor"]
    floor = baked["stone-floor"][(np.abs(pos[:, 1]) < 1e-6) & (nrm[:, 1] > 0.9)]  # the ground-floor tiles
    assert (floor > 0.55).mean() > 0.2 and (floor < 0.3).mean() > 0.05  # open stretches, corners and contacts


@pytest.mark.parametrize("name", sorted(TEXTURES))
def test_textures_tile_without_seams_and_keep_colours(name: str) -> None:
    pixels = np.asarray(Image.open(io.BytesIO(jpeg(name))), dtype=float)
    assert pixels.ndim == 2 and pixels.shape[0] == pixels.shape[1]
    # The step across the wrap-around line is no bigger than the biggest step across an interior line (which
    # may be a joint between blocks or boards): a seam would stand out above all of them.
    for axis, where in ((1, "left and right"), (0, "top and bottom")):
        steps = np.abs(np.diff(pixels, axis=axis)).mean(axis=1 - axis)
        wrap = np.abs(pixels.take(0, axis=axis) - pixels.take(-1, axis=axis)).mean()
        assert wrap <= 1.1 * steps.max() + 1, f"seam between the {where} edges"
    assert pixels.std() > 2.0, "no detail"  # something for the light to catch
    assert 0.3 < mean_linear(name) <= 1.0


def test_textured_materials_keep_their_designed_colour_on_average() -> None:
    for material in PALETTE:
        if material.texture is None:
            continue
        factor = material.to_gltf(0)["pbrMetallicRoughness"]["baseColorFactor"]  # type: ignore[index]
        shown = np.array(factor[:3]) * mean_linear(material.texture)
        assert np.allclose(shown, material.color[:3], atol=0.16), (material.name, shown, material.color)
