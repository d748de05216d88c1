"""`python -m server scenes import PATH [--id ID] [--title TEXT] [--units ...] [--up ...]`.

Writes where `serve` reads: the manifest into the scenes directory, the GLBs into the assets directory (the
same --data-dir / --scenes-dir / --assets-dir flags and CIVIC_* variables as `serve`, through
`config_from`). Progress goes to stderr (a bar on a terminal, one percentage line per stage otherwise); the
report goes to stdout. Exit status: 0 imported or unchanged, 1 the source was refused (one `error: ...` line
naming the problem), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from .config import config_from
from .importer import ImportFailure, import_scene


def add_parser(subparsers: Any) -> None:
    scenes = subparsers.add_parser("scenes", help="manage scenes (import a city's own model)")
    scenes.add_argument("--data-dir", help="where caches and data live (default ./data, env CIVIC_DATA_DIR)")
    scenes.add_argument("--scenes-dir", help="scene manifests (default ./scenes, env CIVIC_SCENES_DIR)")
    scenes.add_argument("--assets-dir", help="source glTF/GLB files (default ./assets/gltf, env CIVIC_ASSETS_DIR)")
    actions = scenes.add_subparsers(dest="action", required=True)
    imp = actions.add_parser(
        "import", help="import a .glb, .gltf or .obj (a file, a folder or a .zip) as a scene",
        description="Normalise (metres, +Y up, origin near zero), build levels of detail within the budgets, "
                    "validate, and write the scene where `serve` reads it. Re-importing the same source does "
                    "nothing; a new version replaces the old one only once it is complete.")
    imp.add_argument("path", help="the model: .glb, .gltf or .obj, or a folder or .zip holding it")
    imp.add_argument("--id", dest="scene_id", help="scene id (default: from the file name)")
    imp.add_argument("--title", help="English title (default: from the file name)")
    imp.add_argument("--units", choices=["auto", "m", "cm", "mm", "in", "ft"], default="auto",
                     help="the source's length unit (default: detected from its size)")
    imp.add_argument("--up", choices=["auto", "y", "z"], default="auto",
                     help="the source's up axis (default: detected)")


class ProgressPrinter:
    """A bar redrawn in place on a terminal; a line per stage (with its percentage) anywhere else."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = ""

    def __call__(self, fraction: float, stage: str) -> None:
        percent = int(round(100 * max(0.0, min(1.0, fraction))))
        if self.tty:
            filled = percent * 30 // 100
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% {stage[:40]:<40}")
            if fraction >= 1.0:
                self.stream.write("\n")
        elif stage != self.last:
            self.stream.write(f"import: {percent}% {stage}\n")
        self.last = stage
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from(vars(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from pathlib import Path

    progress = ProgressPrinter(sys.stderr)
    try:
        report = import_scene(Path(args.path), config.scenes_dir, config.assets_dir, config.data_dir,
                              scene_id=args.scene_id, title=args.title, units=args.units, up=args.up,
                              progress=progress)
    except ImportFailure as exc:
        if progress.tty:
            sys.stderr.write("\n")
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0
