"""Write normalised scene parts as one binary glTF (GLB), and encode their textures for the web.

The writer is small on purpose: every file the importer produces goes through it, so we know exactly what
the Khronos glTF-Validator will see — float32 positions with min/max, unit normals, UVs, baked ambient
occlusion as normalised uint8 COLOR_0, uint16/uint32 indices, one PBR material per part, textures as WebP
(EXT_texture_webp, required) or PNG. No I/O here apart from returning bytes; nothing from the source file is
copied through unchecked.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image


@dataclass(eq=False)
class Part:
    """One mesh of one material, in scene coordinates (metres, +Y up)."""

    name: str
    positions: np.ndarray  # float64 (n, 3)
    normals: np.ndarray  # float32 (n, 3), unit length
    faces: np.ndarray  # int64 (m, 3)
    uvs: np.ndarray | None = None  # float32 (n, 2), trimesh's convention (v up)
    color: tuple[float, float, float, float] = (0.8, 0.8, 0.8, 1.0)
    texture: int | None = None  # index into the scene's texture list
    ao: np.ndarray | None = None  # uint8 (n, 4): baked ambient occlusion as COLOR_0 (ao.py), or none
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    mime: str  # image/webp or image/png
    width: int
    height: int


def fit_image(image: Image.Image, max_side: int, scale: float = 1.0) -> Image.Image:
    """`image` in RGB(A), no side above `max_side` (and scaled by `scale`), at least 4 pixels a side."""
    image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") and _has_alpha(image) else "RGB")
    w, h = image.size
    factor = min(1.0, max_side / max(w, h)) * scale
    if factor < 1.0:
        image = image.resize((max(4, round(w * factor)), max(4, round(h * factor))), Image.Resampling.LANCZOS)
    return image


def _has_alpha(image: Image.Image) -> bool:
    if image.mode == "P":
        return "transparency" in image.info
    low = image.getchannel("A").getextrema()[0]
    return isinstance(low, int | float) and low < 255


def encode_webp(image: Image.Image, quality: int = 80) -> EncodedImage:
    out = io.BytesIO()
    # method 4: within a few % of method 6's size at a third of its time (1M-triangle bench, 8 x 2048²).
    image.save(out, format="WEBP", quality=quality, method=4)
    return EncodedImage(out.getvalue(), "image/webp", *image.size)


def encode_png(image: Image.Image) -> EncodedImage:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return EncodedImage(out.getvalue(), "image/png", *image.size)


class _Buffer:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.length = 0
        self.views: list[dict[str, Any]] = []

    def add(self, data: bytes, target: int | None = None) -> int:
        pad = -self.length % 4
        if pad:
            self.chunks.append(b"\0" * pad)
            self.length += pad
        view: dict[str, Any] = {"buffer": 0, "byteOffset": self.length, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.chunks.append(data)
        self.length += len(data)
        self.views.append(view)
        return len(self.views) - 1


def write_glb(parts: list[Part], images: list[EncodedImage], generator: str) -> bytes:
    """One GLB holding every part as a primitive of one mesh per part, under a single root node."""
    buf = _Buffer()
    accessors: list[dict[str, Any]] = []
    meshes: list[dict[str, Any]] = []
    materials: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []

    def accessor(array: np.ndarray, component: int, kind: str, target: int, bounds: bool = False) -> int:
        view = buf.add(np.ascontiguousarray(array).tobytes(), target)
        acc: dict[str, Any] = {"bufferView": view, "componentType": component, "count": int(len(array)),
                               "type": kind}
        if bounds:
            acc["min"] = [float(v) for v in array.min(axis=0)]
            acc["max"] = [float(v) for v in array.max(axis=0)]
        accessors.append(acc)
        return len(accessors) - 1

    for part in parts:
        positions = part.positions.astype(np.float32)
        attributes = {
            "POSITION": accessor(positions, 5126, "VEC3", 34962, bounds=True),
            "NORMAL": accessor(part.normals.astype(np.float32), 5126, "VEC3", 34962),
        }
        material: dict[str, Any] = {
            "name": part.name,
            # Reconstructions are single-layer surfaces seen from both sides (a wall plate from inside the room
            # and from the street), with windings that point either way: never culled.
            "doubleSided": True,
            "pbrMetallicRoughness": {"baseColorFactor": [float(c) for c in part.color],
                                     "metallicFactor": 0.0, "roughnessFactor": 0.9},
        }
        if part.uvs is not None and part.texture is not None:
            uv = part.uvs.astype(np.float32).copy()
            uv[:, 1] = 1.0 - uv[:, 1]  # trimesh keeps OpenGL's v-up; glTF's v runs down the image
            attributes["TEXCOORD_0"] = accessor(uv, 5126, "VEC2", 34962)
            material["pbrMetallicRoughness"]["baseColorTexture"] = {"index": part.texture}
        if part.ao is not None:  # multiplied into the base colour by the viewer (GLTFLoader's vertex colours)
            attributes["COLOR_0"] = accessor(part.ao, 5121, "VEC4", 34962)
            accessors[-1]["normalized"] = True
        if part.color[3] < 1.0:
            material["alphaMode"] = "BLEND"
        materials.append(material)
        faces = part.faces.reshape(-1)
        small = len(positions) < 65536
        index = accessor(faces.astype(np.uint16 if small else np.uint32), 5123 if small else 5125, "SCALAR", 34963)
        meshes.append({"name": part.name, "primitives": [
            {"attributes": attributes, "indices": index, "material": len(materials) - 1, "mode": 4}]})
        nodes.append({"name": part.name, "mesh": len(meshes) - 1})

    doc: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": generator},
        "scene": 0,
        "scenes": [{"nodes": [len(nodes)]}],
        "nodes": [*nodes, {"name": "scene", "children": list(range(len(nodes)))}],
        "meshes": meshes,
        "materials": materials,
        "accessors": accessors,
    }
    if images:
        webp = any(img.mime == "image/webp" for img in images)
        doc["images"] = [{"bufferView": buf.add(img.data), "mimeType": img.mime} for img in images]
        doc["samplers"] = [{"magFilter": 9729, "minFilter": 9987, "wrapS": 10497, "wrapT": 10497}]
        doc["textures"] = [
            {"sampler": 0, "extensions": {"EXT_texture_webp": {"source": i}}} if img.mime == "image/webp"
            else {"sampler": 0, "source": i}
            for i, img in enumerate(images)
        ]
        if webp:
            doc["extensionsUsed"] = ["EXT_texture_webp"]
            doc["extensionsRequired"] = ["EXT_texture_webp"]
    binary = b"".join(buf.chunks)
    binary += b"\0" * (-len(binary) % 4)
    doc["buffers"] = [{"byteLength": len(binary)}]
    doc["bufferViews"] = buf.views
    text = json.dumps(doc, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return b"".join([
        struct.pack("<4sII", b"glTF", 2, total),
        struct.pack("<I4s", len(text), b"JSON"), text,
        struct.pack("<I4s", len(binary), b"BIN\0"), binary,
    ])
