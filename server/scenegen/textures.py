"""Small tiling surface textures (stone, wood, plaster, fabric, foliage) generated with numpy, encoded as JPEG.

Every texture is greyscale detail around a bright mean: the glTF material's baseColorFactor keeps the colour, the
texture multiplies it, so one texture serves several materials (all the paints share `plaster`). Tiling comes
for free from the construction: noise is white noise shaped in the frequency domain (periodic by nature), and
patterns (courses, planks, weave) repeat a whole number of times per tile. Seeded generators and a fixed
encoder make the bytes the same on every run with the same library versions.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

JPEG_QUALITY = 82


def _noise(size: int, seed: int, beta: float, stretch: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Periodic noise in [-1, 1]: white noise filtered by 1/f^beta (higher beta: smoother); `stretch` > 1 on an
    axis elongates features along that axis (wood grain)."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal((size, size))
    fy = np.fft.fftfreq(size)[:, None] * stretch[0]
    fx = np.fft.rfftfreq(size)[None, :] * stretch[1]
    f = np.hypot(fy, fx)
    f[0, 0] = 1.0
    spectrum = np.fft.rfft2(white) / f**beta
    spectrum[0, 0] = 0.0
    out = np.fft.irfft2(spectrum, s=(size, size))
    return out / np.abs(out).max()


def _cells(size: int, rows: int, cols: int, seed: int, random_shift: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Brick-like cells: (distance to the nearest joint in pixels, one random value per cell) for every pixel.
    Rows are staggered by half a cell, or by a random offset per row (boards)."""
    y, x = np.mgrid[0:size, 0:size].astype(float) + 0.5  # pixel centres: joints straddle the tile's edges evenly
    ch, cw = size / rows, size / cols
    row = np.floor(y / ch)
    offsets = np.random.default_rng(seed + 1).uniform(0.0, cw, rows) if random_shift else (np.arange(rows) % 2) * cw / 2
    shift = offsets[row.astype(int)]
    xs = (x + shift) % size
    col = np.floor(xs / cw)
    dy = np.minimum(y - row * ch, (row + 1) * ch - y)
    dx = np.minimum(xs - col * cw, (col + 1) * cw - xs)
    tone = np.random.default_rng(seed).uniform(-1.0, 1.0, (rows, cols))
    return np.minimum(dx, dy), tone[row.astype(int), col.astype(int) % cols]


def ashlar(size: int = 256) -> np.ndarray:
    """Dressed stone blocks: courses of staggered blocks, thin recessed joints, a tone per block, fine grain."""
    joint, tone = _cells(size, 4, 2, seed=11)
    grain = _noise(size, 12, 0.9)
    v = 0.86 + 0.05 * tone + 0.05 * grain
    return v * (0.72 + 0.28 * np.clip(joint / 2.5, 0.0, 1.0))


def slab(size: int = 256) -> np.ndarray:
    """Honed limestone: clouded mottling, thin dark veins, a few fossil specks."""
    mottle = _noise(size, 21, 1.6)
    fine = _noise(size, 22, 0.7)
    specks = np.clip(_noise(size, 23, 0.3) - 0.55, 0.0, 1.0)
    veins = np.exp(-np.abs(_noise(size, 24, 1.5)) * 30.0)
    return 0.86 + 0.12 * mottle + 0.05 * fine - 0.3 * specks - 0.12 * veins


def planks(size: int = 256) -> np.ndarray:
    """Floor boards running along the texture's u axis: a tone per board, butt joints, long grain."""
    joint, tone = _cells(size, 8, 2, seed=31, random_shift=True)
    grain = _noise(size, 32, 1.2, stretch=(1.0, 10.0))
    rings = np.sin(np.linspace(0, 2 * np.pi * 6, size, endpoint=False)[:, None] + 5.0 * grain)
    v = 0.78 + 0.12 * tone + 0.1 * grain + 0.04 * rings
    return v * (0.6 + 0.4 * np.clip(joint / 1.5, 0.0, 1.0))


def grain(size: int = 128) -> np.ndarray:
    """Plain wood grain (furniture, doors, bark): long streaks, no joints."""
    streak = _noise(size, 41, 1.1, stretch=(1.0, 12.0))
    return 0.78 + 0.2 * streak + 0.04 * _noise(size, 42, 0.5)


def plaster(size: int = 128) -> np.ndarray:
    """Painted plaster: faint, broad unevenness (light has something to catch) and a little tooth."""
    return 0.9 + 0.06 * _noise(size, 51, 1.8) + 0.025 * _noise(size, 52, 0.4)


def weave(size: int = 128) -> np.ndarray:
    """Woven fabric / carpet: alternating warp and weft bumps, slightly irregular."""
    y, x = np.mgrid[0:size, 0:size].astype(float)
    period = size / 32
    warp = np.cos(2 * np.pi * x / period)
    weft = np.cos(2 * np.pi * y / period)
    over = np.where((np.floor(x / period) + np.floor(y / period)) % 2 == 0, warp, weft)
    return 0.8 + 0.1 * over + 0.07 * _noise(size, 61, 1.2)


def foliage(size: int = 128) -> np.ndarray:
    """Leaves and grass: high-contrast clumps at two scales."""
    return 0.72 + 0.18 * _noise(size, 71, 1.0) + 0.12 * _noise(size, 72, 0.4)


@dataclass(frozen=True)
class Texture:
    name: str
    make: Callable[[], np.ndarray]


TEXTURES: dict[str, Texture] = {t.name: t for t in (
    Texture("ashlar", ashlar), Texture("slab", slab), Texture("planks", planks), Texture("grain", grain),
    Texture("plaster", plaster), Texture("weave", weave), Texture("foliage", foliage),
)}


@cache
def jpeg(name: str) -> bytes:
    """The named texture as a greyscale baseline JPEG (values are sRGB-encoded brightness)."""
    pixels = np.clip(TEXTURES[name].make(), 0.0, 1.0)
    image = Image.fromarray(np.round(pixels * 255).astype(np.uint8), mode="L")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
