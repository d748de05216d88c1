"""What a city hands us: one .glb, a .gltf or .obj with its side files (in a folder or a .zip), hashed.

Invariants: a zip is never extracted blindly — every member must stay inside the extraction folder (no
absolute paths, no `..`, no links), the members are bounded in number and in declared and actual size, and
the ratio of uncompressed to compressed size is bounded (a zip bomb is refused before it fills the disk).
The content hash covers every byte the import reads, so the same source always hashes the same.
"""

from __future__ import annotations

import hashlib
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import ImportFailure

MODEL_SUFFIXES = (".glb", ".gltf", ".obj")
MAX_SOURCE_BYTES = 4 << 30  # what we agree to read (a 4 GiB reconstruction is already extreme)
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_RATIO = 200  # uncompressed / compressed; textures and meshes compress 2-10x, bombs 1000x


@dataclass(frozen=True)
class Source:
    model: Path  # the .glb/.gltf/.obj to load
    root: Path  # the folder its side files are resolved against
    name: str  # what the city gave us (file or folder name)
    bytes: int
    sha256: str


def _hash_files(files: list[Path], root: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    total = 0
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
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
        return Source(model, model.parent, name, size, digest)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        safe_extract(path, scratch)
        digest, size = _hash_files([path], path.parent)
        model = _pick_model(scratch, name)
        return Source(model, model.parent, name, size, digest)
    if suffix not in MODEL_SUFFIXES:
        raise ImportFailure("unsupported", f"{name}: not a .glb, .gltf, .obj or .zip file")
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        raise ImportFailure("too_large", f"{name}: {size} bytes is above the {MAX_SOURCE_BYTES}-byte limit")
    # A .gltf or .obj names side files next to it: the folder's other files are part of the source.
    files = [path] if suffix == ".glb" else [p for p in path.parent.iterdir() if p.is_file()]
    digest, size = _hash_files(files, path.parent)
    return Source(path, path.parent, name, size, digest)
