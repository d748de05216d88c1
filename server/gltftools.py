"""Thin wrappers around the two Node glTF tools the project ships in web/node_modules.

- `validate_glb` runs the Khronos glTF-Validator (npm `gltf-validator`) on a file and returns its issue summary.
- `optimize_glb` runs gltfpack (npm `gltfpack`, WebAssembly) to quantise and meshopt-compress a GLB for the web.

The validator cannot decode EXT_meshopt_compression (it reports the extension as unsupported and cannot check
the compressed buffers), so validate sources before compressing them; the optimized output is still checked
for errors by the tests (unsupported-extension notices are not errors). Paths to the tools are resolved from
this file's location, never from the working directory. Both functions raise `GltfToolError` with an
actionable message when node or the npm packages are missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "web" / "node_modules"
VALIDATOR = NODE_MODULES / "gltf-validator"
GLTFPACK = NODE_MODULES / "gltfpack" / "cli.js"

# -cc: quantise (KHR_mesh_quantization) and meshopt-compress with the higher-ratio mode
# (EXT_meshopt_compression); three.js r187 decodes it with MeshoptDecoder. Measured on the bundled town hall
# (19k triangles, 1.04 MB source): plain quantisation 550 KB (82 KB brotli), -c 182 KB (64 KB), -cc 172 KB
# (60 KB). glTF-Validator 2.0.0-dev.3.10 reports zero errors and zero warnings on -cc output (only the
# infos UNSUPPORTED_EXTENSION and UNUSED_OBJECT: it cannot decode the compressed fallback buffer).
GLTFPACK_FLAGS = ("-cc",)

_VALIDATE_JS = r"""
const fs = require('fs');
const validator = require(process.argv[1]);
const data = new Uint8Array(fs.readFileSync(process.argv[2]));
validator.validateBytes(data, {maxIssues: 100, uri: process.argv[2]}).then(
  (report) => { process.stdout.write(JSON.stringify(report)); },
  (err) => { process.stderr.write(String(err)); process.exit(2); });
"""


class GltfToolError(RuntimeError):
    """A Node glTF tool is missing or failed to run."""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise GltfToolError("`node` was not found on PATH; install Node.js 20+ to validate or optimise glTF")
    return node


def validate_glb(path: str | Path) -> dict[str, Any]:
    """Validate a GLB/glTF file; returns {"numErrors", "numWarnings", "numInfos", "numHints", "messages"}.

    `messages` is the validator's list of issues (code, message, severity 0=error..3=hint, pointer).
    """
    if not (VALIDATOR / "package.json").is_file():
        raise GltfToolError(f"glTF-Validator not found at {VALIDATOR}; run `npm install` in web/")
    proc = subprocess.run(
        [_node(), "-e", _VALIDATE_JS, str(VALIDATOR), str(Path(path).resolve())],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if proc.returncode != 0:
        raise GltfToolError(f"glTF-Validator could not read {path}: {proc.stderr.strip()[:500]}")
    issues = json.loads(proc.stdout)["issues"]
    return {
        "numErrors": issues["numErrors"],
        "numWarnings": issues["numWarnings"],
        "numInfos": issues["numInfos"],
        "numHints": issues["numHints"],
        "messages": issues["messages"],
    }


def optimize_glb(src: Path, dst: Path, flags: tuple[str, ...] = GLTFPACK_FLAGS) -> None:
    """Quantise and compress `src` into `dst` with gltfpack (deterministic for the same input and flags)."""
    if not GLTFPACK.is_file():
        raise GltfToolError(f"gltfpack not found at {GLTFPACK}; run `npm install` in web/")
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [_node(), str(GLTFPACK), "-i", str(Path(src).resolve()), "-o", str(dst.resolve()), *flags],
        capture_output=True, text=True, timeout=600, check=False,
    )
    if proc.returncode != 0 or not dst.is_file():
        raise GltfToolError(f"gltfpack failed on {src}: {(proc.stderr or proc.stdout).strip()[:500]}")
