"""Read a source model into parts, make sense of it (units, up axis, origin) and simplify it into levels.

Everything here is array code over whole parts (numpy; meshoptimizer for simplification), with no Python
loop over vertices or faces. Invariants: after `normalise`, positions are metres, +Y up, the model's
footprint centred near (0, 0) with its lowest point at y = 0 when it came from far away, and every
coordinate finite; a model that cannot be made sense of raises `ImportFailure` naming the problem.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import meshoptimizer
import numpy as np
import trimesh
from PIL import Image, UnidentifiedImageError

from .errors import ImportFailure
from .glb import Part
from .source import side_file

UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254, "ft": 0.3048}
# Plausible size of a civic place in metres: footprint (widest side) and height. Auto-detected units are the
# ones that bring the model closest to these ranges; in and ft are only taken when given.
PLAUSIBLE_WIDTH = (3.0, 400.0)
PLAUSIBLE_HEIGHT = (2.0, 150.0)
MAX_WIDTH = 3000.0  # metres: beyond this the walkable grid and the streaming make no sense
FAR = 1000.0  # metres: a model further than this from the origin is moved (float32 loses centimetres there)
MAX_IMAGE_PIXELS = 8192 * 8192


@dataclass
class Loaded:
    parts: list[Part]
    images: list[Image.Image]
    kind: str  # glb, gltf, obj
    triangles: int
    materials: int


@dataclass
class Normalised:
    units: str
    units_detected: bool
    up: str
    up_detected: bool
    origin: list[float] | None  # source point (metres, source axes) moved to (0, 0, 0), None when not moved
    size: tuple[float, float, float]  # x, y, z extent in metres after normalisation
    changes: list[str] = field(default_factory=list)


# ---- reading ---------------------------------------------------------------------------------------------

def _gltf_json(model: Path) -> tuple[dict[str, Any], bytes | None]:
    data = model.read_bytes()
    if model.suffix.lower() == ".glb":
        if len(data) < 20 or data[:4] != b"glTF":
            raise ImportFailure("not_gltf", f"{model.name}: not a binary glTF file (no 'glTF' header)")
        _, declared = struct.unpack_from("<II", data, 4)
        if declared > len(data):
            raise ImportFailure("truncated", f"{model.name}: truncated: the header declares {declared} bytes, the "
                                             f"file has {len(data)}")
        json_len, kind = struct.unpack_from("<I4s", data, 12)
        if kind != b"JSON" or 20 + json_len > len(data):
            raise ImportFailure("truncated", f"{model.name}: the JSON chunk is damaged or cut short")
        text = data[20:20 + json_len]
        rest = data[20 + json_len:]
        binary = rest[8:8 + struct.unpack_from("<I", rest, 0)[0]] if len(rest) >= 8 else None
    else:
        text, binary = data, None
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ImportFailure("not_gltf", f"{model.name}: not a glTF file (its JSON cannot be read)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("asset"), dict):
        raise ImportFailure("not_gltf", f"{model.name}: not a glTF file (no 'asset' object)")
    return doc, binary


def _check_image(data: bytes, what: str) -> None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise ImportFailure("texture_too_large", f"{what}: {img.width}x{img.height} pixels is above the "
                                                         f"{MAX_IMAGE_PIXELS}-pixel limit")
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImportFailure("bad_texture", f"{what}: not an image ({type(exc).__name__})") from None


def _precheck_gltf(model: Path) -> None:
    """Side files present, textures real images: named here, before trimesh gives a vaguer message."""
    doc, binary = _gltf_json(model)
    buffers: list[bytes | None] = []
    for i, buffer in enumerate(doc.get("buffers") or []):
        uri = buffer.get("uri") if isinstance(buffer, dict) else None
        if uri is None:
            if binary is None or len(binary) < int(buffer.get("byteLength", 0)):
                raise ImportFailure("truncated", f"{model.name}: buffer {i} needs {buffer.get('byteLength')} bytes "
                                                 "the file does not have (truncated?)")
            buffers.append(binary)
        elif not uri.startswith("data:"):
            side = side_file(model, uri, f"buffer {i}")
            if not side.is_file():
                raise ImportFailure("missing_file", f"{model.name}: buffer {i} is in '{uri}', which is missing; "
                                                    "import the folder or a zip with every file")
            buffers.append(side.read_bytes())
        else:
            buffers.append(None)  # a data: URI; trimesh decodes it
    views = doc.get("bufferViews") or []
    for i, image in enumerate(doc.get("images") or []):
        uri = image.get("uri")
        what = f"{model.name}: image {i} ({image.get('name') or uri or 'embedded'})"
        if uri is not None and not uri.startswith("data:"):
            side = side_file(model, uri, f"image {i}")
            if not side.is_file():
                raise ImportFailure("missing_file", f"{what}: '{uri}' is missing")
            _check_image(side.read_bytes(), what)
        elif isinstance(image.get("bufferView"), int) and image["bufferView"] < len(views):
            view = views[image["bufferView"]]
            data = buffers[view["buffer"]] if view.get("buffer", -1) < len(buffers) else None
            if data is not None:
                start = int(view.get("byteOffset", 0))
                _check_image(data[start:start + int(view["byteLength"])], what)


def precheck(model: Path) -> None:
    """Checks that name a broken source's problem precisely (run before the validator and the loader)."""
    if model.suffix.lower() in (".glb", ".gltf"):
        _precheck_gltf(model)
    else:
        _precheck_obj(model)


def _precheck_obj(model: Path) -> None:
    text = model.read_text(errors="replace")
    for lib in re.findall(r"^\s*mtllib\s+(.+?)\s*$", text, re.M):
        mtl = side_file(model, lib, "material library")
        if not mtl.is_file():
            raise ImportFailure("missing_file", f"{model.name}: material library '{lib}' is missing")
        for tex in re.findall(r"^\s*map_Kd\s+(?:-\S+\s+\S+\s+)*(.+?)\s*$", mtl.read_text(errors="replace"), re.M):
            path = side_file(model, tex, "texture")
            if not path.is_file():
                raise ImportFailure("missing_file", f"{mtl.name}: texture '{tex}' is missing")
            _check_image(path.read_bytes(), f"{mtl.name}: texture '{tex}'")


def _rgba(value: Any, default: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    if value is None:
        return default
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size < 3 or not np.isfinite(arr).all():
        return default
    if arr.max() > 1.0:  # trimesh keeps colours as 0-255
        arr = arr / 255.0
    arr = np.clip(np.r_[arr[:4], [1.0] * (4 - min(arr.size, 4))], 0.0, 1.0)
    return (float(arr[0]), float(arr[1]), float(arr[2]), float(arr[3]))


def load(model: Path) -> Loaded:
    kind = model.suffix.lower().lstrip(".")
    try:
        scene = trimesh.load(str(model), force="scene", process=False)
        if not isinstance(scene, trimesh.Scene):
            raise ImportFailure("no_geometry", f"{model.name}: no scene in it")
        meshes = [g for g in scene.dump(concatenate=False) if isinstance(g, trimesh.Trimesh)]
    except ImportFailure:
        raise
    except Exception as exc:  # trimesh's readers raise anything from KeyError to IndexError on bad files
        raise ImportFailure("unreadable", f"{model.name}: cannot be read as {kind.upper()}: "
                                          f"{type(exc).__name__}: {str(exc)[:200]}") from None
    meshes = [m for m in meshes if len(m.faces)]
    if not meshes:
        raise ImportFailure("no_geometry", f"{model.name}: no triangles in it")
    parts: list[Part] = []
    images: list[Image.Image] = []
    seen: dict[int, int] = {}
    materials: set[int] = set()
    for n, mesh in enumerate(meshes):
        vertices = np.asarray(mesh.vertices, dtype=np.float64)
        faces = np.asarray(mesh.faces, dtype=np.int64)
        bad = ~np.isfinite(vertices).all(axis=1)
        if bad.any():
            raise ImportFailure("non_finite", f"{model.name}: mesh {n} has {int(bad.sum())} vertices with "
                                              "non-finite coordinates (NaN or infinity)")
        if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
            raise ImportFailure("index_out_of_range", f"{model.name}: mesh {n} has triangle indices out of range "
                                                      f"(up to {int(faces.max())} for {len(vertices)} vertices)")
        visual = mesh.visual
        material = getattr(visual, "material", None)
        image = None
        color = (0.8, 0.8, 0.8, 1.0)
        if material is not None:
            materials.add(id(material))
            image = getattr(material, "baseColorTexture", None) or getattr(material, "image", None)
            color = _rgba(getattr(material, "baseColorFactor", None), (1.0, 1.0, 1.0, 1.0) if image else color)
            if getattr(material, "baseColorFactor", None) is None and hasattr(material, "diffuse"):
                color = _rgba(material.diffuse, color)
        elif isinstance(visual, trimesh.visual.ColorVisuals) and visual.kind in ("vertex", "face"):
            color = _rgba(visual.main_color, color)
        uv = getattr(visual, "uv", None)
        texture = None
        if image is not None and uv is not None and len(uv) == len(vertices):
            # Exporters often give each material its own copy of a shared image: one texture per content.
            digest = hash((image.size, image.mode, hashlib.blake2b(image.tobytes(), digest_size=16).digest()))
            texture = seen.setdefault(digest, len(images))
            if texture == len(images):
                images.append(image)
            uv = np.asarray(uv, dtype=np.float32)
            if not np.isfinite(uv).all():
                raise ImportFailure("non_finite", f"{model.name}: mesh {n} has non-finite texture coordinates")
        else:
            uv = None
        normals = _vertex_normals(vertices, faces)
        parts.append(Part(f"part-{n}", vertices, normals, faces, uv, color, texture))
    return Loaded(parts, images, kind, sum(len(p.faces) for p in parts), max(len(materials), 1))


def _vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals (the source's own are often missing or inconsistent in reconstructions)."""
    tri = vertices[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    out = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(out, faces[:, k], fn)
    length = np.linalg.norm(out, axis=1, keepdims=True)
    out = np.where(length > 0, out / np.where(length > 0, length, 1.0), [0.0, 1.0, 0.0])
    return out.astype(np.float32)


# ---- normalising ---------------------------------------------------------------------------------------

_Z_TO_Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # (x, y, z) -> (x, z, -y)


def _bounds(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    lows = np.array([p.positions.min(axis=0) for p in parts])
    highs = np.array([p.positions.max(axis=0) for p in parts])
    return lows.min(axis=0), highs.max(axis=0)


def _detect_up(parts: list[Part], kind: str) -> tuple[str, str]:
    low, high = _bounds(parts)
    centre, extent = (low + high) / 2, np.maximum(high - low, 1e-9)
    far = np.abs(centre) > np.maximum(10 * extent.max(), 1000.0)
    if far[0] and far[1] and not far[2]:
        return "z", "two horizontal axes far from zero (a map grid) and z near it"
    if far[0] and far[2] and not far[1]:
        return "y", "x and z far from zero (a map grid) and y near it"
    # Floors, roofs and ground are the large horizontal surfaces of a place: the up axis is the one most
    # face area points along.
    area = {"y": 0.0, "z": 0.0}
    for p in parts:
        tri = p.positions[p.faces]
        fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        a = np.linalg.norm(fn, axis=1)
        cos = np.abs(fn) / np.where(a > 0, a, 1.0)[:, None]
        area["y"] += float(a[cos[:, 1] > 0.9].sum())
        area["z"] += float(a[cos[:, 2] > 0.9].sum())
    bias = 1.5 if kind in ("glb", "gltf") else 1.0  # glTF says +Y up: only overrule it on clear evidence
    if area["z"] > bias * area["y"]:
        return "z", f"most horizontal-looking area faces z ({area['z']:.3g} vs {area['y']:.3g} along y)"
    return "y", "+Y up (glTF's convention)" if kind != "obj" else "most horizontal-looking area faces y"


def _penalty(value: float, low: float, high: float) -> float:
    v = math.log10(max(value, 1e-12))
    return max(0.0, math.log10(low) - v, v - math.log10(high))


def _detect_units(width: float, height: float) -> tuple[str, str]:
    scores = {u: _penalty(width * UNITS[u], *PLAUSIBLE_WIDTH) + _penalty(height * UNITS[u], *PLAUSIBLE_HEIGHT)
              for u in ("m", "cm", "mm")}
    best = min(scores, key=lambda u: (round(scores[u], 6), -UNITS[u]))
    return best, (f"{width:.4g} x {height:.4g} units (wide x high) is {width * UNITS[best]:.3g} x "
                  f"{height * UNITS[best]:.3g} m in {best}")


def normalise(loaded: Loaded, units: str = "auto", up: str = "auto") -> Normalised:
    parts = loaded.parts
    changes: list[str] = []
    up_detected = up == "auto"
    if up_detected:
        up, why = _detect_up(parts, loaded.kind)
        changes.append(f"up axis: {up} (detected: {why})")
    if up == "z":
        for p in parts:
            p.positions = p.positions @ _Z_TO_Y.T
            p.normals = (p.normals @ _Z_TO_Y.T.astype(np.float32)).astype(np.float32)
        changes.append("rotated Z-up to Y-up")
    low, high = _bounds(parts)
    extent = high - low
    width, height = float(max(extent[0], extent[2])), float(extent[1])
    if not math.isfinite(width + height) or max(width, height) <= 0:
        raise ImportFailure("degenerate", "the model has no size (every vertex at one point)")
    units_detected = units == "auto"
    if units_detected:
        units, why = _detect_units(width, height)
        changes.append(f"units: {units} (detected: {why}; give --units if this is wrong)")
    scale = UNITS[units]
    size = (float(extent[0] * scale), float(extent[1] * scale), float(extent[2] * scale))
    if max(size[0], size[2]) > MAX_WIDTH:
        raise ImportFailure("implausible_size", f"the model is {max(size[0], size[2]):.0f} m wide in {units}: too "
                                                f"large for a walkable place (limit {MAX_WIDTH:.0f} m); check --units")
    if max(size) < 0.5:
        raise ImportFailure("implausible_size", f"the model is {max(size) * 100:.1f} cm across in {units}: too small "
                                                "to walk in; check --units")
    centre = (low + high) / 2 * scale
    origin = None
    shift = np.zeros(3)
    if np.hypot(centre[0], centre[2]) > FAR or abs(low[1] * scale) > FAR:
        shift = np.array([centre[0], low[1] * scale, centre[2]])
        back = _Z_TO_Y.T @ shift if up == "z" else shift  # the same point in the source's axes
        origin = [round(float(v), 4) for v in back]
        changes.append(f"moved the origin by {np.linalg.norm(shift):.0f} m to the model's footprint centre "
                       f"(kept as georeference {origin})")
    if scale != 1.0:
        changes.append(f"scaled by {scale:g} ({units} to metres)")
    for p in parts:
        # float64 until here: subtracting a national-grid offset in float32 would lose centimetres.
        p.positions = p.positions * scale - shift
    return Normalised(units, units_detected, up, up_detected, origin, size, changes)


# ---- levels of detail ------------------------------------------------------------------------------------

def simplify(parts: list[Part], target: int, max_error: float) -> tuple[list[Part], float]:
    """Parts with about `target` triangles in all (meshoptimizer), and the geometric error reached (metres)."""
    total = sum(len(p.faces) for p in parts)
    if target >= total:
        return parts, 0.0
    ratio = target / total
    out: list[Part] = []
    error = 0.0
    for p in parts:
        want = max(3 * int(len(p.faces) * ratio), 3)
        indices = np.ascontiguousarray(p.faces.reshape(-1), dtype=np.uint32)
        verts = np.ascontiguousarray(p.positions, dtype=np.float32)
        dst = np.zeros_like(indices)
        err = np.zeros(1, dtype=np.float32)
        n = meshoptimizer.simplify(dst, indices, verts, target_index_count=want, target_error=max_error,
                                   options=meshoptimizer.SIMPLIFY_ERROR_ABSOLUTE, result_error=err)
        if n > 1.5 * want:  # seams or borders held it back: the sloppy mode reaches any count
            n = meshoptimizer.simplify_sloppy(dst, indices, verts, target_index_count=want,
                                              target_error=max_error, result_error=err)
            err *= float(np.linalg.norm(np.ptp(verts, axis=0)))  # the sloppy mode reports relative error
        if n == 0:
            continue
        error = max(error, float(err[0]))
        kept = dst[:n].astype(np.int64)
        used, faces = np.unique(kept, return_inverse=True)
        out.append(Part(p.name, p.positions[used], p.normals[used], faces.reshape(-1, 3),
                        None if p.uvs is None else p.uvs[used], p.color, p.texture))
    return out, error


def as_trimesh(parts: list[Part]) -> trimesh.Trimesh:
    offsets = np.cumsum([0] + [len(p.positions) for p in parts])[:-1]
    vertices = np.concatenate([p.positions for p in parts])
    faces = np.concatenate([p.faces + o for p, o in zip(parts, offsets, strict=True)])
    return trimesh.Trimesh(vertices, faces, process=False)
