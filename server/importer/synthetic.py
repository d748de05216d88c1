"""A synthetic "reconstruction" for the import tests and bench/import_bench.py, made the way cities' are.

A two-storey hall (60 x 40 m, 8 m high, a gallery slab at 4 m over half of it, a door gap) standing on a
ground plate, every surface finely tessellated and slightly noisy like photogrammetry, one textured material
per surface, in centimetres, Z-up, placed at a national-grid offset carried by the root node's transform
(as exporters do: the float32 vertices stay small). Deterministic for given arguments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

GRID_OFFSET_M = (155000.0, 463000.0, 0.0)  # Amersfoort / RD New style easting, northing, height


def _plate(corner: np.ndarray, u: np.ndarray, v: np.ndarray, nu: int, nv: int, noise: float,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A grid of nu x nv quads spanning corner + s*u + t*v (cm, Z-up), jittered along its normal."""
    s, t = np.meshgrid(np.linspace(0, 1, nu + 1), np.linspace(0, 1, nv + 1), indexing="xy")
    pts = corner + s.reshape(-1, 1) * u + t.reshape(-1, 1) * v
    normal = np.cross(u, v)
    normal /= np.linalg.norm(normal)
    pts = pts + rng.normal(0, noise, (len(pts), 1)) * normal
    idx = np.arange((nu + 1) * (nv + 1)).reshape(nv + 1, nu + 1)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    faces = np.stack([np.stack([a, b, c], -1), np.stack([a, c, d], -1)], axis=2).reshape(-1, 3)
    uv = np.stack([s.reshape(-1) * np.linalg.norm(u) / 400, t.reshape(-1) * np.linalg.norm(v) / 400], axis=1)
    return pts, faces, uv


def _texture(size: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 6 + seed, size)
    xx, yy = np.meshgrid(x, x)
    base = np.sin(xx * (1.3 + seed % 3)) * np.cos(yy * 0.7) + rng.normal(0, 0.25, (size, size))
    hue = rng.uniform(60, 200, 3)
    rgb = np.clip(hue + base[..., None] * 35, 0, 255).astype(np.uint8)
    return Image.fromarray(rgb)


def build(path: Path, triangles: int = 300_000, textures: int = 4, texture_size: int = 512, seed: int = 7) -> Path:
    """Write the reconstruction as a GLB at `path` with about `triangles` triangles and `textures` textures."""
    rng = np.random.default_rng(seed)
    cm = 100.0
    w, d, h, gallery = 60 * cm, 40 * cm, 8 * cm, 4 * cm
    x0, y0 = -w / 2, -d / 2
    surfaces = [  # corner, u, v (Z-up, centimetres); normals point out of solids / up for floors
        ("ground", [x0 - 1000, y0 - 1000, 0], [w + 2000, 0, 0], [0, d + 2000, 0]),
        ("gallery", [x0, y0 + d / 2, gallery], [w, 0, 0], [0, d / 2, 0]),
        ("gallery-under", [x0, y0 + d, gallery - 30], [w, 0, 0], [0, -d / 2, 0]),
        ("roof", [x0, y0, h], [w, 0, 0], [0, d, 0]),
        ("wall-south-a", [x0, y0, 0], [w / 2 - 150, 0, 0], [0, 0, h]),
        ("wall-south-b", [x0 + w / 2 + 150, y0, 0], [w / 2 - 150, 0, 0], [0, 0, h]),
        ("wall-north", [x0 + w, y0 + d, 0], [-w, 0, 0], [0, 0, h]),
        ("wall-west", [x0, y0 + d, 0], [0, -d, 0], [0, 0, h]),
        ("wall-east", [x0 + w, y0, 0], [0, d, 0], [0, 0, h]),
    ]
    areas = np.array([np.linalg.norm(np.cross(u, v)) for _, _, u, v in surfaces])
    quads = areas / areas.sum() * triangles / 2
    images = [_texture(texture_size, seed + i) for i in range(textures)]
    scene = trimesh.Scene()
    for i, (name, corner, u, v) in enumerate(surfaces):
        u_, v_ = np.array(u, float), np.array(v, float)
        ratio = np.linalg.norm(u_) / np.linalg.norm(v_)
        nv = max(1, int(round(np.sqrt(quads[i] / ratio))))
        nu = max(1, int(round(quads[i] / nv)))
        pts, faces, uv = _plate(np.array(corner, float), u_, v_, nu, nv, 0.5, rng)
        material = trimesh.visual.material.PBRMaterial(baseColorTexture=images[i % textures],
                                                        metallicFactor=0.0, roughnessFactor=0.9)
        mesh = trimesh.Trimesh(pts.astype(np.float32), faces, process=False,
                               visual=trimesh.visual.TextureVisuals(uv=uv, material=material))
        offset = np.eye(4)
        offset[:3, 3] = np.array(GRID_OFFSET_M) * cm
        scene.add_geometry(mesh, node_name=name, geom_name=name, transform=offset)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(scene.export(file_type="glb"))
    return path
