"""Text-only mode benchmark: bytes transferred to open the town hall in its text-only version (`?mode=text`).

Same method as bench/loading.py: the real server on a fresh data directory, Debian's headless Chromium, a fresh
browser context per run (nothing cached), and the DevTools protocol's `Network.loadingFinished` `encodedDataLength`
(headers + compressed bodies) summed over every request until the network is idle. Also checks that nothing 3D
(three.js, the GLB, the walkable grid, the 3D modules) was fetched. Target: <= 150 KB.

    .venv/bin/python bench/text_mode.py [--scene town-hall] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support import CHROMIUM_ARGS, ServerProcess, TransferLog, chromium_path  # noqa: E402

THREE_D = ("/vendor/three", "/assets/", "viewer.js", "avatars.js", "sky.js", "scene-loader.js", "walk-view.js",
           "downloads.js")
TARGET_BYTES = 150 * 1024


def visit(browser, url: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    log = TransferLog(context.new_cdp_session(page))
    page.goto(url)
    mode = page.evaluate("async () => (await window.civicSpace.ready).mode")
    page.wait_for_load_state("networkidle")
    by_kind: dict[str, float] = {}
    for url_, size in log.items():
        name = url_.split("?")[0]
        kind = name.rsplit(".", 1)[-1] if "." in name.rsplit("/", 1)[-1] else "page/api"
        by_kind[kind] = by_kind.get(kind, 0) + size
    context.close()
    return {
        "mode": mode,
        "total_bytes": log.total,
        "requests": len(log.sizes),
        "by_kind": by_kind,
        "three_d_requests": [u for u, _ in log.items() if any(p in u for p in THREE_D)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", default="town-hall")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, sync_playwright() as p:
        server = ServerProcess(Path(data))
        try:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            runs = [visit(browser, f"{server.url}/scenes/{args.scene}?mode=text") for _ in range(args.runs)]
            browser.close()
        finally:
            server.stop()
    total = statistics.median(run["total_bytes"] for run in runs)  # type: ignore[misc]
    print(json.dumps({"scene": args.scene, "runs": runs}, indent=2))
    print(
        f"\ntext-only mode: {total / 1000:.1f} kB transferred (median of {args.runs}, "
        f"{runs[0]['requests']} requests), 3D requests: {len(runs[0]['three_d_requests'])};"  # type: ignore[arg-type]
        f" target <= {TARGET_BYTES / 1000:.1f} kB (150 KiB): {'met' if total <= TARGET_BYTES else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
