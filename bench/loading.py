"""Loading benchmark: the town hall's first view and a return visit on an emulated slow link.

Runs the real server (a fresh data directory, so nothing is pre-warmed in the browser) and Debian's
headless Chromium with SwiftShader. Chromium's network emulation (DevTools protocol) throttles to the
target profile: 1.6 Mbps down, 750 kbps up, 150 ms round trip. Bytes are what crossed the wire
(`encodedDataLength`: headers + compressed bodies). "Interactive" is the time from navigation start until
the client resolves `civicSpace.ready` (scene drawn, walking enabled); `downloaded_ms` is when the scene's
bytes had all arrived and `first_render_ms` how long the first frame took to draw (shader compilation: on
SwiftShader, software rendering, this is most of the time after the download).

    .venv/bin/python bench/loading.py [--scene town-hall] [--runs 3]
    .venv/bin/python bench/loading.py --imported 1000000   # a synthetic reconstruction of a million triangles,
                                                           # imported as a city would (scenes import), then visited
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support import CHROMIUM_ARGS, ServerProcess, TransferLog, chromium_path  # noqa: E402

DOWN_BPS = 1_600_000
UP_BPS = 750_000
RTT_MS = 150
PAYLOAD_3D = ("/assets/",)


def visit(page, cdp, url: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    log = TransferLog(cdp)
    page.goto(url)
    interactive_ms = page.evaluate("async () => { await window.civicSpace.ready; return performance.now(); }")
    # What the first view needed: the 3D bytes finished by the time walking was possible (finer levels of detail
    # stream in afterwards and are counted in payload_3d_bytes).
    first_view = sum(size for url_, size in log.items() if any(p in url_ for p in PAYLOAD_3D))
    marks = dict(page.evaluate("() => performance.getEntriesByType('mark').map(m => [m.name, m.startTime])"))
    page.wait_for_load_state("networkidle")
    log.stop()
    payload = sum(size for url_, size in log.items() if any(p in url_ for p in PAYLOAD_3D))
    return {"interactive_ms": interactive_ms, "downloaded_ms": marks.get("civic:downloaded", 0.0),
            "first_render_ms": marks.get("civic:rendered", 0.0) - marks.get("civic:compiled", 0.0),
            "total_bytes": log.total, "payload_3d_bytes": payload, "first_view_3d_bytes": first_view,
            "requests": len(log.sizes), "triangles": page.evaluate("window.civicSpace.state().triangles")}


def import_synthetic(world: Path, triangles: int) -> tuple[str, list[str]]:
    """A synthetic photogrammetry-like model (centimetres, Z-up, far from the origin, 8 textures of 2048², as
    issue 12's benchmark asks) imported into `world` the way `python -m server scenes import` does: the scene id
    and the serve flags."""
    from server.importer import import_scene, synthetic

    source = synthetic.build(world / "source" / "reconstruction.glb", triangles=triangles, textures=8,
                             texture_size=2048)
    report = import_scene(source, world / "scenes", world / "assets", world / "import-data", scene_id="imported")
    print(f"imported {report.triangles:,} triangles in {report.seconds:.0f} s; budgets: {report.budgets}",
          file=sys.stderr)
    return "imported", ["--scenes-dir", str(world / "scenes"), "--assets-dir", str(world / "assets")]


def run(scene: str, runs: int, throttle: bool = True, imported: int = 0) -> dict[str, object]:
    firsts, returns = [], []
    with tempfile.TemporaryDirectory() as data, sync_playwright() as p:
        flags: list[str] = []
        if imported:
            scene, flags = import_synthetic(Path(data) / "world", imported)
        server = ServerProcess(Path(data), *flags)
        try:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 720})
                page = context.new_page()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                if throttle:
                    cdp.send("Network.emulateNetworkConditions", {
                        "offline": False, "latency": RTT_MS,
                        "downloadThroughput": DOWN_BPS / 8, "uploadThroughput": UP_BPS / 8,
                    })
                firsts.append(visit(page, cdp, f"{server.url}/scenes/{scene}"))
                returns.append(visit(page, cdp, f"{server.url}/scenes/{scene}"))
                context.close()
            browser.close()
        finally:
            server.stop()

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    keys = ("interactive_ms", "downloaded_ms", "first_render_ms", "total_bytes", "payload_3d_bytes",
            "first_view_3d_bytes", "requests")
    return {
        "scene": scene,
        "runs": runs,
        "link": f"{DOWN_BPS / 1e6:g} Mbps down / {UP_BPS / 1e3:g} kbps up / {RTT_MS} ms RTT"
        if throttle else "loopback",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "triangles": firsts[0]["triangles"],
        "first_visit": {k: median(firsts, k) for k in keys},
        "return_visit": {k: median(returns, k) for k in keys},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", default="town-hall")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-throttle", action="store_true", help="loopback speed: shows the CPU share")
    parser.add_argument("--imported", type=int, default=0, metavar="TRIANGLES",
                        help="visit a synthetic reconstruction of this many triangles, imported first")
    args = parser.parse_args()
    result = run(args.scene, args.runs, throttle=not args.no_throttle, imported=args.imported)
    print(json.dumps(result, indent=2))
    first, again = result["first_visit"], result["return_visit"]  # type: ignore[index]
    print(f"\nfirst visit: {first['total_bytes'] / 1000:.0f} kB total, {first['payload_3d_bytes'] / 1000:.0f} kB 3D"
          f" ({first['first_view_3d_bytes'] / 1000:.0f} kB of it before walking was possible),"
          f" interactive in {first['interactive_ms'] / 1000:.2f} s; return visit: {again['payload_3d_bytes']:.0f}"
          f" asset bytes, {again['total_bytes'] / 1000:.1f} kB total")


if __name__ == "__main__":
    main()
