"""First paint benchmark: what the landing page and the text-only town hall cost before they show something, on
an emulated slow link (Lighthouse's mobile network: 1.6 Mbps down, 750 kbps up, 150 ms round trip).

Same method as bench/loading.py: the real server on a fresh data directory, Debian's headless Chromium, a fresh
browser context per run (nothing cached), DevTools network emulation. Per page: requests and bytes until the
network is idle (`encodedDataLength`: headers + compressed bodies), first contentful paint (the browser's own
`first-contentful-paint` entry), the time until the page's content is there (the landing page's scene links, the
text-only page's list of places: `content_ms`, polled every 20 ms, so it is as coarse as that) and the cumulative
layout shift (`layout-shift` entries without recent input). With `--no-js` the same pages with JavaScript off.

    .venv/bin/python bench/first_paint.py [--runs 3] [--no-js]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support import CHROMIUM_ARGS, ServerProcess, TransferLog, chromium_path  # noqa: E402

DOWN_BPS = 1_600_000
UP_BPS = 750_000
RTT_MS = 150
PAGES = {
    "landing": ("/", "#scene-list a[href]"),
    "text-only town hall": ("/scenes/town-hall?mode=text", "#zone-list li"),
}
# Registered before any page script: layout shifts are summed as they happen (entries without recent input).
OBSERVE_SHIFTS = """
window.__shift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value;
}).observe({type: 'layout-shift', buffered: true});
"""


def visit(browser, url: str, content: str, javascript: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 412, "height": 823}, java_script_enabled=javascript)
    context.add_init_script(OBSERVE_SHIFTS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": RTT_MS, "downloadThroughput": DOWN_BPS / 8, "uploadThroughput": UP_BPS / 8,
    })
    log = TransferLog(cdp)
    start = time.monotonic()
    page.goto(url, wait_until="commit")
    content_ms = -1.0
    while time.monotonic() - start < 60:
        if page.locator(content).count():
            content_ms = (time.monotonic() - start) * 1000
            break
        time.sleep(0.02)
    page.wait_for_load_state("networkidle")
    time.sleep(0.5)  # late shifts (fonts, translations) are counted too
    log.stop()
    # Init scripts run even with JavaScript off for the page; the browser's own entries are read the same way.
    fcp = page.evaluate("() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1")
    shift = page.evaluate("() => window.__shift ?? -1")
    context.close()
    return {"fcp_ms": round(fcp, 1), "content_ms": round(content_ms, 1), "cls": round(shift, 4),
            "bytes": log.total, "requests": len(log.sizes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-js", action="store_true", help="JavaScript off in the browser")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as data, sync_playwright() as p:
        server = ServerProcess(Path(data))
        try:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            for name, (path, content) in PAGES.items():
                runs = [visit(browser, server.url + path, content, not args.no_js) for _ in range(args.runs)]
                results[name] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            browser.close()
        finally:
            server.stop()
    print(json.dumps({
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "javascript": not args.no_js, "runs": args.runs, "pages": results,
    }, indent=2))
    for name, row in results.items():
        print(f"{name}: {row['requests']:.0f} requests, {row['bytes'] / 1000:.1f} kB, first contentful paint "
              f"{row['fcp_ms']:.0f} ms, content {row['content_ms']:.0f} ms, layout shift {row['cls']:.3f}")


if __name__ == "__main__":
    main()
