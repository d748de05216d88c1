"""No layout shift (issue 14): the landing page, the text-only town hall and the 3D scene page are laid out by the
server's HTML, so scripts that arrive later move nothing — the cumulative shift the browser reports (`layout-shift`
performance entries without recent input, observed from before the first byte) stays at most 0.1 ("good")."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

GOOD = 0.1
READY_TIMEOUT = 120_000
# Registered before any page script runs (an init script): every shift from the first paint on is summed.
OBSERVE = """
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shifts.push(entry.value);
}).observe({type: 'layout-shift', buffered: true});
"""


@pytest.mark.parametrize(("path", "viewport"), [
    ("/", {"width": 412, "height": 823}),
    ("/", {"width": 1280, "height": 720}),
    ("/scenes/town-hall?mode=text", {"width": 412, "height": 823}),
    ("/scenes/town-hall?mode=text", {"width": 1280, "height": 720}),
    ("/scenes/town-hall", {"width": 1280, "height": 720}),
])
def test_cumulative_layout_shift_is_good_while_the_page_loads(server, browser: Browser, path, viewport):
    context = browser.new_context(viewport=viewport)
    context.add_init_script(OBSERVE)
    page = context.new_page()
    page.goto(server.url + path)
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=READY_TIMEOUT)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # a shift from the last response still gets reported
    shifts = page.evaluate("() => window.__shifts")
    assert sum(shifts) <= GOOD, shifts
    context.close()
