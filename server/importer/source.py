"""What a city hands us: one .glb, a .gltf or .obj with its side files (in a folder or a .zip), hashed.

Invariants: a zip is never extracted blindly — every member must stay inside the extraction folder (no
absolute paths, no `..`, no links), the members are bounded in number and in declared and actual size, and
the ratio of uncompressed to compressed size is bounded (a zip bomb is refused before it fills the disk).
The content hash covers every byte the import reads, so the same source always hashes the same.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from .errors import ImportFailure

MODEL_SUFFIXES = (".glb", ".gltf", ".obj")
MTL_MAP = r"^\s*map_\w+\s+(?:-\S+\s+\S+\s+)*(.+?)\s*$"  # a texture line of an .mtl, options skipped
MAX_SOURCE_BYTES = 4 << 30  # what we agree to read (a 4 GiB reconstruction is already extreme)
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_RATIO = 200  # uncompressed / compressed; textures and meshes compress 2-10x, bombs 1000x


@dataclass(frozen=True)
class Source:
    model: Path  # the .glb/.gltf/.obj to load (its side files are resolved next to it)
    name: str  # what the city gave us (file or folder name)
    bytes: int
    sha256: str


def side_file(model: Path, uri: str, what: str) -> Path:
    """The file a model names (a glTF URI or an OBJ/MTL path), refused if it points outside the model's folder."""
    relative = unquote(uri) if model.suffix.lower() == ".gltf" else uri
    path = (model.parent / relative).resolve()
    if not path.is_relative_to(model.parent.resolve()):
        raise ImportFailure("path_escape", f"{model.name}: {what} '{uri}' points outside the model's folder; refused")
    return path


def side_files(model: Path) -> list[Path]:
    """Every existing file a .gltf or .obj names (missing ones are reported by the checks that need them)."""
    names: list[tuple[Path, str]] = []
    if model.suffix.lower() == ".gltf":
        try:
            doc = json.loads(model.read_bytes())
        except (OSError, ValueError):
            return []
        for key in ("buffers", "images"):
            items = doc.get(key) if isinstance(doc, dict) else None
            for item in items if isinstance(items, list) else []:
                uri = item.get("uri") if isinstance(item, dict) else None
                if isinstance(uri, str) and not uri.startswith("data:"):
                    names.append((model, uri))
    elif model.suffix.lower() == ".obj":
        text = model.read_text(errors="replace")
        for lib in re.findall(r"^\s*mtllib\s+(.+?)\s*$", text, re.M):
            names.append((model, lib))
            mtl = side_file(model, lib, "material library")
            if mtl.is_file():
                text = mtl.read_text(errors="replace")
                names += [(model, tex) for tex in re.findall(MTL_MAP, text, re.M)]
    found = [side_file(m, uri, "file") for m, uri in names]
    return sorted({p for p in found if p.is_file()})


def _hash_files(files: list[Path], root: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    total = 0
    root = root.resolve()
    for path in sorted((f.resolve() for f in files), key=lambda p: p.relative_to(root).as_posix()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
                total += len(chunk)
    return digest.hexdigest(), total


def _pick_model(folder: Path, name: str) -> Path:
    models = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in MODEL_SUFFIXES)
    if not models:
        raise ImportFailure("no_model", f"{name}: no .glb, .gltf or .obj file inside")
    if len(models) > 1:
        listed = ", ".join(p.relative_to(folder).as_posix() for p in models[:5])
        raise ImportFailure("several_models", f"{name}: more than one model inside ({listed}); import one at a time")
    return models[0]


def safe_extract(archive: Path, into: Path, max_bytes: int = MAX_SOURCE_BYTES) -> None:
    """Extract `archive` into the empty folder `into`, refusing escapes, links and bombs."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFailure("bad_zip", f"{archive.name}: not a readable zip file ({exc})") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise ImportFailure("zip_too_many", f"{archive.name}: more than {MAX_ZIP_MEMBERS} files")
        declared = sum(m.file_size for m in members)
        packed = sum(m.compress_size for m in members)
        if declared > max_bytes or declared > MAX_ZIP_RATIO * max(packed, 1) + (1 << 20):
            raise ImportFailure("zip_bomb", f"{archive.name}: unpacks to {declared} bytes from {packed}; refused "
                                            f"(limit {max_bytes} bytes, {MAX_ZIP_RATIO}x compression)")
        for m in members:
            path = PurePosixPath(m.filename.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
                raise ImportFailure("zip_escape", f"{archive.name}: member {m.filename!r} points outside the "
                                                  "archive's folder; refused")
            if stat.S_ISLNK(m.external_attr >> 16):
                raise ImportFailure("zip_escape", f"{archive.name}: member {m.filename!r} is a symbolic link; "
                                                  "refused")
        written = 0
        for m in members:
            target = into.joinpath(*PurePosixPath(m.filename.replace("\\", "/")).parts)
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(m) as src, target.open("wb") as dst:
                # Count real bytes, not the declared sizes: a lying header cannot get past the limit.
                while chunk := src.read(1 << 20):
                    written += len(chunk)
                    if written > max_bytes or written > MAX_ZIP_RATIO * max(packed, 1) + (1 << 20):
                        raise ImportFailure("zip_bomb", f"{archive.name}: unpacks to more than it declares; "
                                                        "refused")
                    dst.write(chunk)


def open_source(path: Path, scratch: Path) -> Source:
    """Resolve PATH (file, folder or zip) into the model to load; `scratch` is an empty folder we own."""
    if not path.exists():
        raise ImportFailure("not_found", f"{path}: no such file or folder")
    name = path.name
    if path.is_dir():
        model = _pick_model(path, name)
        files = [p for p in path.rglob("*") if p.is_file()]
        digest, size = _hash_files(files, path)
        return Source(model, name, size, digest)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        safe_extract(path, scratch)
        digest, size = _hash_files([path], path.parent)
        model = _pick_model(scratch, name)
        return Source(model, name, size, digest)
    if suffix not in MODEL_SUFFIXES:
        raise ImportFailure("unsupported", f"{name}: not a .glb, .gltf, .obj or .zip file")
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        raise ImportFailure("too_large", f"{name}: {size} bytes is above the {MAX_SOURCE_BYTES}-byte limit")
    # A .gltf or .obj names side files (buffers, materials, images): they are part of the source.
    files = [path, *side_files(path)]
    digest, size = _hash_files(files, path.parent)
    return Source(path, name, size, digest)
