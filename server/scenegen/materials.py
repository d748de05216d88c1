"""The palette of glTF PBR materials shared by both scenes: colour factors and, for most, a small tiling texture.

Colours are linear-space baseColorFactor values, as glTF requires. A textured material names one of the
greyscale textures of `textures.py` and the size in metres of one tile of it (texture coordinates are the
world position projected along the face's main axis, divided by that size); its factor is raised by the
texture's mean so the surface keeps the colour picked here on average (as far as a factor of 1 allows).
Order matters: it fixes the order of the materials and primitives in the GLB, so the output is deterministic.
Stay well under Spoke's 25 materials.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from .textures import TEXTURES


@cache
def mean_linear(texture: str) -> float:
    """The mean linear-light value of a (greyscale, sRGB-encoded) texture: what it multiplies a colour by."""
    v = np.clip(TEXTURES[texture].make(), 0.0, 1.0)
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return float(lin.mean())


@dataclass(frozen=True)
class Material:
    name: str
    color: tuple[float, float, float, float]
    metallic: float = 0.0
    roughness: float = 0.8
    emissive: tuple[float, float, float] = (0.0, 0.0, 0.0)
    blend: bool = False  # alphaMode BLEND (glass, water)
    double_sided: bool = False
    texture: str | None = None  # a name in textures.TEXTURES
    tile: float = 1.0  # metres covered by one repeat of the texture
    ao: bool = True  # receives baked ambient occlusion (not glass, water, lamps)

    def to_gltf(self, texture_index: int | None = None) -> dict[str, object]:
        color = list(self.color)
        pbr: dict[str, object] = {"metallicFactor": self.metallic, "roughnessFactor": self.roughness}
        if texture_index is not None and self.texture is not None:
            pbr["baseColorTexture"] = {"index": texture_index}
            # As bright as the texture's mean asks, but no channel above 1: light colours keep their hue.
            gain = min(1.0 / mean_linear(self.texture), 1.0 / max(color[:3]))
            color[:3] = [c * gain for c in color[:3]]
        pbr["baseColorFactor"] = [round(c, 4) for c in color]
        out: dict[str, object] = {"name": self.name, "pbrMetallicRoughness": pbr}
        if any(self.emissive):
            out["emissiveFactor"] = list(self.emissive)
        if self.blend:
            out["alphaMode"] = "BLEND"
        if self.double_sided:
            out["doubleSided"] = True
        return out


def _srgb(r: int, g: int, b: int, a: float = 1.0) -> tuple[float, float, float, float]:
    """sRGB 0-255 (what designers pick) to the linear factors glTF stores."""

    def lin(v: int) -> float:
        c = v / 255.0
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (lin(r), lin(g), lin(b), a)


PALETTE: tuple[Material, ...] = (
    Material("stone-warm", _srgb(214, 196, 166), roughness=0.85, texture="ashlar", tile=2.0),  # façade ashlar
    Material("stone-floor", _srgb(222, 214, 196), roughness=0.55, texture="slab", tile=2.0),  # polished limestone
    Material("stone-dark", _srgb(112, 104, 98), roughness=0.6, texture="slab", tile=1.5),  # kerbs, low walls
    Material("stone-mid", _srgb(168, 156, 140), roughness=0.6, texture="slab", tile=2.0),  # floor inlay, paving
    Material("paving-light", _srgb(196, 184, 160), roughness=0.9, texture="slab", tile=3.0),
    Material("roof", _srgb(82, 88, 98), roughness=0.7, texture="slab", tile=3.0),  # slate
    Material("plaster", _srgb(242, 240, 234), roughness=0.9, texture="plaster", tile=3.0),  # ceilings
    Material("paint-cream", _srgb(238, 226, 196), roughness=0.9, texture="plaster", tile=3.0),  # hall, corridor
    Material("paint-sage", _srgb(178, 198, 166), roughness=0.9, texture="plaster", tile=3.0),  # service office
    Material("paint-blue", _srgb(164, 186, 212), roughness=0.9, texture="plaster", tile=3.0),  # meeting rooms
    Material("paint-terracotta", _srgb(200, 132, 100), roughness=0.9, texture="plaster", tile=3.0),  # chamber
    Material("wood-floor", _srgb(150, 100, 60), roughness=0.55, texture="planks", tile=2.0),  # oak boards
    Material("wood-dark", _srgb(96, 60, 36), roughness=0.5, texture="grain", tile=1.0),  # doors, furniture
    Material("carpet", _srgb(140, 28, 38), roughness=1.0, texture="weave", tile=0.5),  # council chamber
    Material("fabric", _srgb(40, 66, 116), roughness=0.95, texture="weave", tile=0.5),  # seat cushions
    Material("frame-white", _srgb(236, 236, 230), roughness=0.5, texture="plaster", tile=1.0),  # window frames
    Material("brass", _srgb(220, 170, 80), metallic=0.6, roughness=0.35),
    Material("metal-dark", _srgb(44, 48, 52), metallic=0.5, roughness=0.5),  # railings, lamp posts
    Material("greenery", _srgb(72, 128, 56), roughness=0.9, texture="foliage", tile=1.5),  # hedges, plants
    Material("bark", _srgb(92, 68, 50), roughness=0.95, texture="grain", tile=1.0),
    Material("grass", _srgb(104, 146, 72), roughness=1.0, texture="foliage", tile=3.0),
    Material("lamp", _srgb(255, 236, 196), roughness=0.4, emissive=(1.0, 0.86, 0.62), ao=False),
    Material("glass", _srgb(150, 196, 226, 0.35), roughness=0.05, blend=True, ao=False),
    Material("water", _srgb(70, 140, 180, 0.8), roughness=0.1, blend=True, ao=False),
)

BY_NAME = {m.name: m for m in PALETTE}
