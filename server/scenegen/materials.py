"""The palette of glTF PBR materials (metallic-roughness factors only, no textures) shared by both scenes.

Colours are linear-space baseColorFactor values, as glTF requires. Order matters: it fixes the order of the
materials and primitives in the GLB, so the output is deterministic. Stay well under Spoke's 25 materials.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Material:
    name: str
    color: tuple[float, float, float, float]
    metallic: float = 0.0
    roughness: float = 0.8
    emissive: tuple[float, float, float] = (0.0, 0.0, 0.0)
    blend: bool = False  # alphaMode BLEND (glass, water)
    double_sided: bool = False

    def to_gltf(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.name,
            "pbrMetallicRoughness": {
                "baseColorFactor": [round(c, 4) for c in self.color],
                "metallicFactor": self.metallic,
                "roughnessFactor": self.roughness,
            },
        }
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
    Material("stone-warm", _srgb(214, 196, 166), roughness=0.85),  # façade ashlar
    Material("stone-floor", _srgb(222, 214, 196), roughness=0.55),  # polished limestone
    Material("stone-dark", _srgb(112, 104, 98), roughness=0.6),  # kerbs, low walls, planters
    Material("stone-mid", _srgb(168, 156, 140), roughness=0.6),  # floor inlay, second paving tone
    Material("paving-light", _srgb(196, 184, 160), roughness=0.9),
    Material("roof", _srgb(82, 88, 98), roughness=0.7),  # slate
    Material("plaster", _srgb(242, 240, 234), roughness=0.9),  # ceilings
    Material("paint-cream", _srgb(238, 226, 196), roughness=0.9),  # hall, corridor
    Material("paint-sage", _srgb(178, 198, 166), roughness=0.9),  # service office
    Material("paint-blue", _srgb(164, 186, 212), roughness=0.9),  # meeting room, committee room
    Material("paint-terracotta", _srgb(200, 132, 100), roughness=0.9),  # council chamber
    Material("wood-floor", _srgb(150, 100, 60), roughness=0.55),  # oak boards
    Material("wood-dark", _srgb(96, 60, 36), roughness=0.5),  # doors, frames, furniture
    Material("carpet", _srgb(140, 28, 38), roughness=1.0),  # council chamber
    Material("fabric", _srgb(40, 66, 116), roughness=0.95),  # seat cushions
    Material("frame-white", _srgb(236, 236, 230), roughness=0.5),  # window frames
    Material("brass", _srgb(220, 170, 80), metallic=0.6, roughness=0.35),
    Material("metal-dark", _srgb(44, 48, 52), metallic=0.5, roughness=0.5),  # railings, lamp posts
    Material("greenery", _srgb(72, 128, 56), roughness=0.9),  # hedges, canopies, plants
    Material("bark", _srgb(92, 68, 50), roughness=0.95),
    Material("grass", _srgb(104, 146, 72), roughness=1.0),
    Material("lamp", _srgb(255, 236, 196), roughness=0.4, emissive=(1.0, 0.86, 0.62)),
    Material("glass", _srgb(150, 196, 226, 0.35), roughness=0.05, blend=True),
    Material("water", _srgb(70, 140, 180, 0.8), roughness=0.1, blend=True),
)

BY_NAME = {m.name: m for m in PALETTE}
