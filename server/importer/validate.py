"""The Khronos glTF-Validator on a source .gltf whose buffers and images are side files.

`server.gltftools.validate_glb` validates one self-contained file; a .gltf names its .bin and textures, so the
validator is given a resource reader that serves them from the model's folder only (the import's own checks
have already refused names that leave it). Same report shape as `validate_glb`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from .. import gltftools

_VALIDATE_JS = r"""
const fs = require('fs');
const path = require('path');
const validator = require(process.argv[1]);
const file = process.argv[2];
const folder = path.dirname(file);
const data = new Uint8Array(fs.readFileSync(file));
const read = (uri) => new Promise((resolve, reject) => {
  const target = path.resolve(folder, decodeURIComponent(uri));
  if (!target.startsWith(folder + path.sep)) { reject(new Error('outside the folder')); return; }
  fs.readFile(target, (err, bytes) => err ? reject(err) : resolve(new Uint8Array(bytes)));
});
validator.validateBytes(data, {maxIssues: 100, uri: path.basename(file), externalResourceFunction: read}).then(
  (report) => { process.stdout.write(JSON.stringify(report)); },
  (err) => { process.stderr.write(String(err)); process.exit(2); });
"""


def validate_gltf(path: Path) -> dict[str, Any]:
    if not (gltftools.VALIDATOR / "package.json").is_file():
        raise gltftools.GltfToolError(f"glTF-Validator not found at {gltftools.VALIDATOR}; run `npm install` in web/")
    proc = subprocess.run(
        [gltftools._node(), "-e", _VALIDATE_JS, str(gltftools.VALIDATOR), str(Path(path).resolve())],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if proc.returncode != 0:
        raise gltftools.GltfToolError(f"glTF-Validator could not read {path.name}: {proc.stderr.strip()[:500]}")
    issues = json.loads(proc.stdout)["issues"]
    return {key: issues[key] for key in ("numErrors", "numWarnings", "numInfos", "numHints", "messages")}
