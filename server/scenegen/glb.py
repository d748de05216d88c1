"""Write merged per-material geometry as a minimal, validator-clean GLB (glTF 2.0 binary).

One mesh with one primitive per material, one node per mesh under a named root node. POSITION and NORMAL
are float32 with POSITION min/max; a textured material adds TEXCOORD_0 (float32: the world position projected
along the vertex normal's main axis, in texture tiles) and a material with baked ambient occlusion adds COLOR_0
(normalised unsigned bytes, RGBA, grey, alpha 1), which glTF viewers multiply into the base colour. Textures
are embedded JPEGs, one per texture used, shared by the materials that use it, sampled with repeat and
mipmaps. Indices are uint16 when they fit, else uint32. Every bufferView starts on a 4-byte boundary and
vertex and index views carry their target. JSON is serialised with sorted keys and no whitespace, so the same
geometry always gives the same bytes.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from .geometry import Part
from .materials import PALETTE, Material
from .textures import jpeg

_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_FLOAT, _UBYTE, _USHORT, _UINT = 5126, 5121, 5123, 5125
_LINEAR, _LINEAR_MIPMAP_LINEAR, _REPEAT = 9729, 9987, 10497
# Ambient light a fully occluded vertex keeps (the rest of the range follows its visibility): corners darken
# without going black, since real rooms bounce light into them.
AO_FLOOR = 0.3
# Visibility is stored in this many steps: invisible once interpolated across faces, and 7% fewer bytes to
# download after compression than 256 (meshopt codes the small deltas between neighbouring vertices).
AO_LEVELS = 16


def texcoords(pos: np.ndarray, nrm: np.ndarray, tile: float) -> np.ndarray:
    """Box projection: each vertex's position on the plane across its normal's main axis, in tiles (v runs
    down the image, so up in the world is up in the texture on walls)."""
    axis = np.argmax(np.abs(nrm), axis=1)
    u = np.select([axis == 0, axis == 1], [pos[:, 2], pos[:, 0]], pos[:, 0])
    v = np.select([axis == 0, axis == 1], [-pos[:, 1], pos[:, 2]], -pos[:, 1])
    return np.stack([u, v], 1) / tile


def ao_colors(visible: np.ndarray) -> np.ndarray:
    """Baked visibility in [0, 1] to RGBA bytes: grey AO_FLOOR..1 in AO_LEVELS steps, alpha 1."""
    steps = np.round(np.clip(visible, 0.0, 1.0) * AO_LEVELS) / AO_LEVELS
    grey = np.round((AO_FLOOR + (1.0 - AO_FLOOR) * steps) * 255).astype(np.uint8)
    return np.stack([grey, grey, grey, np.full_like(grey, 255)], 1)


def _pad(data: bytes, fill: bytes) -> bytes:
    return data + fill * (-len(data) % 4)


def glb_bytes(scene_name: str, parts: dict[str, Part], ao: dict[str, np.ndarray] | None = None) -> bytes:
    """The GLB of `parts` (per material name); `ao` gives baked visibility per vertex for some of them."""
    ao = ao or {}
    blobs: list[bytes] = []
    views: list[dict[str, object]] = []
    accessors: list[dict[str, object]] = []
    meshes: list[dict[str, object]] = []
    materials: list[dict[str, object]] = []
    images: list[dict[str, object]] = []
    textures: dict[str, int] = {}  # texture name -> index, in order of first use
    offset = 0

    def add_view(data: bytes, target: int | None) -> int:
        nonlocal offset
        view: dict[str, object] = {"buffer": 0, "byteOffset": offset, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        views.append(view)
        padded = _pad(data, b"\x00")
        blobs.append(padded)
        offset += len(padded)
        return len(views) - 1

    def texture_of(material: Material) -> int | None:
        if material.texture is None:
            return None
        if material.texture not in textures:
            images.append({"bufferView": add_view(jpeg(material.texture), None), "mimeType": "image/jpeg",
                           "name": material.texture})
            textures[material.texture] = len(images) - 1
        return textures[material.texture]

    for material in PALETTE:  # palette order, not insertion order: deterministic
        if material.name not in parts:
            continue
        pos, nrm, tris = parts[material.name]
        pos32 = pos.astype(np.float32)
        nrm32 = nrm.astype(np.float32)
        nrm32 /= np.linalg.norm(nrm32, axis=1, keepdims=True).astype(np.float32)
        index_type, index_dtype = (_USHORT, np.uint16) if len(pos32) < 65536 else (_UINT, np.uint32)
        idx = tris.astype(index_dtype).reshape(-1)
        a_pos = len(accessors)
        accessors.append({
            "bufferView": add_view(pos32.tobytes(), _ARRAY_BUFFER), "componentType": _FLOAT,
            "count": len(pos32), "type": "VEC3",
            "min": [float(v) for v in pos32.min(axis=0)], "max": [float(v) for v in pos32.max(axis=0)],
        })
        accessors.append({
            "bufferView": add_view(nrm32.tobytes(), _ARRAY_BUFFER), "componentType": _FLOAT,
            "count": len(nrm32), "type": "VEC3",
        })
        accessors.append({
            "bufferView": add_view(idx.tobytes(), _ELEMENT_ARRAY_BUFFER), "componentType": index_type,
            "count": len(idx), "type": "SCALAR",
        })
        attributes = {"POSITION": a_pos, "NORMAL": a_pos + 1}
        texture = texture_of(material)
        if texture is not None:
            uv = texcoords(pos, nrm, material.tile).astype(np.float32)
            attributes["TEXCOORD_0"] = len(accessors)
            accessors.append({"bufferView": add_view(uv.tobytes(), _ARRAY_BUFFER), "componentType": _FLOAT,
                              "count": len(uv), "type": "VEC2"})
        if material.ao and material.name in ao:
            attributes["COLOR_0"] = len(accessors)
            accessors.append({"bufferView": add_view(ao_colors(ao[material.name]).tobytes(), _ARRAY_BUFFER),
                              "componentType": _UBYTE, "normalized": True, "count": len(pos32), "type": "VEC4"})
        materials.append(material.to_gltf(texture))
        meshes.append({
            "name": material.name,
            "primitives": [{
                "attributes": attributes, "indices": a_pos + 2, "material": len(materials) - 1, "mode": 4,
            }],
        })

    nodes: list[dict[str, object]] = [{"name": scene_name, "children": list(range(1, len(meshes) + 1))}]
    nodes += [{"name": m["name"], "mesh": i} for i, m in enumerate(meshes)]
    binary = b"".join(blobs)
    gltf = {
        "asset": {"version": "2.0", "generator": "Civic Space scenegen"},
        "scene": 0,
        "scenes": [{"name": scene_name, "nodes": [0]}],
        "nodes": nodes,
        "meshes": meshes,
        "materials": materials,
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": len(binary)}],
    }
    if images:
        gltf["images"] = images
        gltf["samplers"] = [{"magFilter": _LINEAR, "minFilter": _LINEAR_MIPMAP_LINEAR, "wrapS": _REPEAT,
                             "wrapT": _REPEAT}]
        gltf["textures"] = [{"sampler": 0, "source": i} for i in range(len(images))]
    js = _pad(json.dumps(gltf, sort_keys=True, separators=(",", ":")).encode(), b" ")
    total = 12 + 8 + len(js) + 8 + len(binary)
    return b"".join([
        struct.pack("<4sII", b"glTF", 2, total),
        struct.pack("<I4s", len(js), b"JSON"), js,
        struct.pack("<I4s", len(binary), b"BIN\x00"), binary,
    ])


def write_glb(path: Path, scene_name: str, parts: dict[str, Part], ao: dict[str, np.ndarray] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(glb_bytes(scene_name, parts, ao))
    return path
