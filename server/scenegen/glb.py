"""Write merged per-material geometry as a minimal, validator-clean GLB (glTF 2.0 binary).

One mesh with one primitive per material, one node per mesh under a named root node. POSITION and NORMAL
are float32 with POSITION min/max; indices are uint16 when they fit, else uint32. Every bufferView starts on
a 4-byte boundary and carries its target. JSON is serialised with sorted keys and no whitespace, so the same
geometry always gives the same bytes.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from .geometry import Part
from .materials import PALETTE

_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_FLOAT, _USHORT, _UINT = 5126, 5123, 5125


def _pad(data: bytes, fill: bytes) -> bytes:
    return data + fill * (-len(data) % 4)


def glb_bytes(scene_name: str, parts: dict[str, Part]) -> bytes:
    blobs: list[bytes] = []
    views: list[dict[str, object]] = []
    accessors: list[dict[str, object]] = []
    meshes: list[dict[str, object]] = []
    materials: list[dict[str, object]] = []
    offset = 0

    def add_view(data: bytes, target: int) -> int:
        nonlocal offset
        views.append({"buffer": 0, "byteOffset": offset, "byteLength": len(data), "target": target})
        padded = _pad(data, b"\x00")
        blobs.append(padded)
        offset += len(padded)
        return len(views) - 1

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
        materials.append(material.to_gltf())
        meshes.append({
            "name": material.name,
            "primitives": [{
                "attributes": {"POSITION": a_pos, "NORMAL": a_pos + 1},
                "indices": a_pos + 2, "material": len(materials) - 1, "mode": 4,
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
    js = _pad(json.dumps(gltf, sort_keys=True, separators=(",", ":")).encode(), b" ")
    total = 12 + 8 + len(js) + 8 + len(binary)
    return b"".join([
        struct.pack("<4sII", b"glTF", 2, total),
        struct.pack("<I4s", len(js), b"JSON"), js,
        struct.pack("<I4s", len(binary), b"BIN\x00"), binary,
    ])


def write_glb(path: Path, scene_name: str, parts: dict[str, Part]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(glb_bytes(scene_name, parts))
    return path
