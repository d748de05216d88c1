"""In-memory HTTP representations of small files: identity bytes plus pre-compressed variants.

Everything Civic Space serves (scene assets, walkable grids, the web client) is small enough to keep in
memory, compressed once, and answered without touching the disk. One function, `serve_blob`, implements
the HTTP semantics for all of them:
- strong ETag per representation (content hash, suffixed by encoding), `If-None-Match` → 304;
- `Accept-Encoding` negotiation (br, then gzip) with `Vary: Accept-Encoding`; a variant is kept only when
  it is smaller than the identity bytes;
- single byte ranges (`Range: bytes=a-b`, `a-`, `-n`) → 206 or 416, always on the identity bytes, and
  `If-Range` honoured; multi-range requests get the whole file (allowed by RFC 9110); a range that is not
  plain ASCII digits of sane length is 416.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass, field

import brotli
from aiohttp import web

from .errors import ApiError

# ASCII digits only, at most 18 of them: no file here is an exabyte, and int() of thousands of digits is slow
# (and refused by Python beyond 4,300).
_RANGE = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$")
# Compressing tiny or already-compressed payloads wastes CPU for nothing.
_MIN_COMPRESS = 256
_INCOMPRESSIBLE = ("image/png", "image/jpeg", "image/webp", "font/woff2")


@dataclass(frozen=True)
class Blob:
    data: bytes
    content_type: str
    digest: str  # hex sha256 of `data`
    variants: dict[str, bytes] = field(default_factory=dict)  # encoding -> compressed bytes

    @property
    def etag(self) -> str:
        return self.digest[:32]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compress_variants(data: bytes, content_type: str) -> dict[str, bytes]:
    """Brotli and gzip variants that are actually smaller than `data`."""
    if len(data) < _MIN_COMPRESS or content_type.startswith(_INCOMPRESSIBLE):
        return {}
    candidates = {
        "br": brotli.compress(data, quality=11),
        "gzip": gzip.compress(data, compresslevel=9, mtime=0),
    }
    return {enc: body for enc, body in candidates.items() if len(body) < len(data) * 0.95}


def make_blob(data: bytes, content_type: str, variants: dict[str, bytes] | None = None) -> Blob:
    if variants is None:
        variants = compress_variants(data, content_type)
    return Blob(data=data, content_type=content_type, digest=sha256_hex(data), variants=variants)


def _accepted(header: str) -> set[str]:
    accepted = set()
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        if params.strip().replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            continue
        accepted.add(name.strip())
    return accepted


def choose_encoding(blob: Blob, accept_encoding: str) -> str | None:
    accepted = _accepted(accept_encoding)
    for encoding in ("br", "gzip"):
        if encoding in blob.variants and encoding in accepted:
            return encoding
    return None


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) for a satisfiable single range; None for a multi-range; raises 416."""
    if "," in header:
        return None
    match = _RANGE.match(header.strip()[:64])
    if not match or match.groups() == ("", ""):
        raise ApiError(416, "range_not_satisfiable", "Only single byte ranges are supported.")
    first, last = match.groups()
    if first == "":  # suffix range: the last n bytes
        length = int(last)
        if length == 0 or size == 0:
            raise ApiError(416, "range_not_satisfiable", "Empty range.")
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ApiError(416, "range_not_satisfiable", "The range is outside the file.")
    return start, end


def _etag_listed(header: str, etag: str) -> bool:
    tags = {t.strip().removeprefix("W/").strip('"') for t in header.split(",")}
    return "*" in tags or etag in tags


def serve_blob(request: web.Request, blob: Blob, cache_control: str) -> web.Response:
    encoding = choose_encoding(blob, request.headers.get("Accept-Encoding", ""))
    range_header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if range_header and if_range is not None and if_range.strip('"') != blob.etag:
        range_header = None  # the client's copy is stale: send it all
    byte_range = parse_range(range_header, len(blob.data)) if range_header else None
    if byte_range is not None:
        encoding = None  # ranges always address the identity bytes

    etag = blob.etag if encoding is None else f"{blob.etag}-{encoding}"
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
        "Accept-Ranges": "bytes",
    }
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and _etag_listed(if_none_match, etag):
        return web.Response(status=304, headers=headers)

    status = 200
    if byte_range is not None:
        start, end = byte_range
        headers["Content-Range"] = f"bytes {start}-{end}/{len(blob.data)}"
        status, body = 206, blob.data[start : end + 1]
    elif encoding is not None:
        headers["Content-Encoding"] = encoding
        body = blob.variants[encoding]
    else:
        body = blob.data
    headers["Content-Type"] = blob.content_type
    return web.Response(status=status, body=body, headers=headers)
