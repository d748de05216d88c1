"""The browser client's files (`web/`), served from memory with compressed variants.

Files are read on first request and re-read when their size or mtime changes, so editing `web/` needs no
restart. Only an allow-list of file types is served, never anything under `node_modules/` or a dot-folder,
and a path can never escape `web/` (resolved and checked; NUL bytes and overlong paths are refused first).
Compressed variants are cached on disk by content hash, so brotli's slow best level runs once per file
version, not per start.
"""

from __future__ import annotations

import os
from pathlib import Path

from .blobs import Blob, compress_variants, make_blob

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}


# Build and package files of the client: they live in web/ but are not part of the page.
NOT_SERVED = {"package.json", "package-lock.json"}


class WebFiles:
    def __init__(self, root: Path, cache_dir: Path) -> None:
        self.root = root.resolve()
        self.cache_dir = cache_dir
        self._files: dict[Path, tuple[int, int, Blob]] = {}

    def resolve(self, relative: str) -> Path | None:
        if "\x00" in relative or len(relative) > 1024:
            return None  # no file has such a name; the OS would refuse it with an exception
        parts = Path(relative).parts
        if not parts or parts[0] in NOT_SERVED or any(p.startswith(".") or p == "node_modules" for p in parts):
            return None
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root) or path.suffix not in CONTENT_TYPES:
            return None
        return path if path.is_file() else None

    def get(self, relative: str) -> Blob | None:
        path = self.resolve(relative)
        if path is None:
            return None
        stat = path.stat()
        cached = self._files.get(path)
        if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
        blob = self._load(path)
        self._files[path] = (stat.st_mtime_ns, stat.st_size, blob)
        return blob

    def _load(self, path: Path) -> Blob:
        data = path.read_bytes()
        content_type = CONTENT_TYPES[path.suffix]
        blob = make_blob(data, content_type, variants={})
        folder = self.cache_dir / blob.digest[:2]
        cached = {enc: folder / f"{blob.digest}.{enc}" for enc in ("br", "gzip")}
        if any(p.exists() for p in cached.values()) or (folder / f"{blob.digest}.none").exists():
            variants = {enc: p.read_bytes() for enc, p in cached.items() if p.exists()}
        else:
            variants = compress_variants(data, content_type)
            folder.mkdir(parents=True, exist_ok=True)
            for enc, body in variants.items():
                tmp = cached[enc].with_suffix(".tmp")
                tmp.write_bytes(body)
                os.replace(tmp, cached[enc])
            if not variants:
                (folder / f"{blob.digest}.none").touch()
        return make_blob(data, content_type, variants)

    def warm(self) -> None:
        """Load (and compress) every servable file now rather than on a visitor's first request."""
        for path in self.root.rglob("*"):
            relative = path.relative_to(self.root).as_posix()
            if path.is_file():
                self.get(relative)
