"""Slides a host uploads for a meeting: checked by content (never by the claimed type or name), re-encoded with
Pillow to WebP no larger than MAX_SIDE, every metadata chunk (EXIF, XMP, ICC, text) dropped, and kept by content
hash in the data directory (`event-slides/<sha256>.webp`, written once, atomically).

Invariants: only PNG, JPEG or WebP whose decoded type matches the claimed one are accepted; a file over
MAX_BYTES or an image over MAX_INPUT_SIDE pixels a side is refused before it is decoded; what is served is
always bytes this module encoded.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from ..blobs import sha256_hex
from ..errors import ApiError

MAX_BYTES = 8 * 1024 * 1024
MAX_INPUT_SIDE = 8000
MAX_SIDE = 1920
QUALITY = 85
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
MEDIA_TYPE = "image/webp"
_NAME = re.compile(r"^[0-9a-f]{64}\.webp$")


@dataclass(frozen=True)
class Encoded:
    data: bytes
    name: str  # "<sha256>.webp"
    width: int
    height: int


def _refuse(code: str, message: str) -> ApiError:
    return ApiError(422, code, message)


def reencode(data: bytes, claimed_type: str) -> Encoded:
    """The slide as WebP; 413/415/422 ApiError for anything else. CPU-bound: run it in a thread."""
    if len(data) > MAX_BYTES:
        raise ApiError(413, "payload_too_large", "A slide is at most 8 MB.")
    claimed = FORMATS.get(claimed_type.split(";")[0].strip().lower())
    if claimed is None:
        raise ApiError(415, "unsupported_media_type", "A slide is a PNG, JPEG or WebP image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS.values()))
            if image.format != claimed:
                raise _refuse("wrong_image_type", f"The file is not the {claimed} image it claims to be.")
            if max(image.size) > MAX_INPUT_SIDE:
                raise _refuse("image_too_large", f"A slide is at most {MAX_INPUT_SIDE} pixels a side.")
            image.load()
    except ApiError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise _refuse("not_an_image", "The file is not a readable PNG, JPEG or WebP image.") from None
    alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    picture = ImageOps.exif_transpose(image)  # keep how it looked, then drop the EXIF that said so
    picture = picture.convert("RGBA" if alpha else "RGB")
    picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=QUALITY, method=4)  # no exif/icc/xmp given: none written
    encoded = out.getvalue()
    return Encoded(encoded, f"{sha256_hex(encoded)}.webp", picture.width, picture.height)


class SlideFiles:
    """The re-encoded slides under one directory, by content-hash name."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def save(self, data: bytes, claimed_type: str) -> Encoded:
        encoded = await asyncio.to_thread(reencode, data, claimed_type)
        await asyncio.to_thread(self._write, encoded)
        return encoded

    def _write(self, encoded: Encoded) -> None:
        path = self.directory / encoded.name
        if path.exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(encoded.data)
        os.replace(tmp, path)

    async def read(self, name: str) -> bytes | None:
        if not _NAME.match(name):
            return None
        try:
            return await asyncio.to_thread((self.directory / name).read_bytes)
        except FileNotFoundError:
            return None
