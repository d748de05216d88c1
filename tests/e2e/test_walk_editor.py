"""Walkable floor corrections made in the page (issue 12 item 4), in Chromium: a staff editor marks two corners where
she stands, by keyboard, and paints the area between them not walkable; a resident with the scene open in 3D, who
walked across that area a moment before, is now stopped at its edge (the new grid reached the open page live); the
grid served for the scene has no floor there. An arrival point added "here, looking this way" is where a new visitor
arrives, and deleting it brings the scene's own entrance back. In 3D, painted areas are drawn (translucent red) while
editing and go when editing stops. axe finds nothing with the editor's section open.

The module runs its own server (a fresh data directory with a staff account made by the staff CLI), so what is made
here never reaches the other browser tests.
"""

from __future__ import annotations

import io
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from server.walkable import WalkGrid
from tests.e2e.conftest import PageWatch
from tests.e2e.test_hotspots import axe_violations, edit_mode, open_scene, sign_in_with_keyboard
from tests.e2e.test_scene_view import WALK_SPEED, hold, place, state
from tests.support import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
EDITOR, PASSWORD = "edith", "a long enough password"
LIVE_TIMEOUT = 10_000  # generous for a loaded CI machine
ENTRANCE = [0.0, 0.0, 10.5]  # the town hall's manifest spawn
# From the entrance facing -X the hall is free up to its wall at x = -5 (tests/e2e/test_scene_view.py); the
# staff paints a strip across the way, 1 m wide, from x = -3 to x = -2.
CORNERS = ([-2.9, 0.0, 9.6], [-2.1, 0.0, 11.4])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("walk-data")
    subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data), "add", EDITOR, "--role",
                    "editor", "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT, check=True,
                   capture_output=True)
    process = ServerProcess(data, name="walk")
    yield process
    assert process.stop() == 0


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page axe can be injected into (CSP bypassed for the test's own script only)."""
    context = browser.new_context(viewport={"width": 1024, "height": 640}, bypass_csp=True)
    made = context.new_page()
    made.watch = PageWatch(made)  # type: ignore[attr-defined]
    yield made
    context.close()


def announced(page: Page, text: str) -> None:
    page.wait_for_function("(t) => document.getElementById('announcer').textContent.includes(t)"
                           " || (window.civicSpace?.announcements?.() || []).some((said) => said.includes(t))",
                           arg=text, timeout=LIVE_TIMEOUT)


def focused_id(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement.id"))


def press(page: Page, selector: str) -> None:
    # Visible first: focusing a control of a section still hidden (edit mode just turning on) leaves focus where
    # it was, and Enter would press that instead.
    page.wait_for_selector(selector, state="visible")
    page.focus(selector)
    page.keyboard.press("Enter")


def walk_west(page: Page) -> list[float]:
    """From the entrance facing -X, walk for as long as the hall is wide; where the walker ends."""
    place(page, ENTRANCE, 90)
    return list(hold(page, "ArrowUp", int(9.0 / WALK_SPEED * 1000))["position"])


def served_grid(page: Page, base: str) -> WalkGrid:
    walkable = page.request.get(f"{base}/api/scenes/town-hall/walk-edits").json()["walkable"]
    return WalkGrid.from_bytes(page.request.get(base + walkable["url"]).body(), walkable)


def test_staff_paint_an_area_not_walkable_by_keyboard_and_an_open_page_is_stopped_there(page: Page,
                                                                                       site: ServerProcess):
    browser = page.context.browser
    assert browser is not None
    resident_context = browser.new_context(viewport={"width": 800, "height": 600})
    resident = resident_context.new_page()
    open_scene(resident, site.url, "?lang=en")  # 3D: walking follows the floor grid
    assert state(resident)["mode"] == "3d"
    before = walk_west(resident)
    assert before[0] < -3.5, f"the hall should be free up to its wall, stopped at x={before[0]:.2f}"
    assert served_grid(page, site.url).step_target(0.0, -2.5, 10.5) == 0.0

    open_scene(page, site.url, "?mode=text&lang=en")
    sign_in_with_keyboard(page)
    edit_mode(page)
    page.wait_for_selector("#walk-editor:not([hidden])")
    assert page.is_checked("#walk-kind-blocked")  # "Not walkable" unless chosen otherwise
    assert axe_violations(page) == []

    page.evaluate("(p) => window.civicSpace.teleport(p)", CORNERS[0])  # where she stands
    press(page, "#walk-corner")
    announced(page, "First corner marked")
    assert page.inner_text("#walk-corner") == "Mark the opposite corner here" and page.is_visible("#walk-corner-cancel")
    assert focused_id(page) == "walk-corner"  # no 3D view to walk in: the button waits for the other corner
    page.evaluate("(p) => window.civicSpace.teleport(p)", CORNERS[1])  # "walks" to the opposite corner
    with resident.expect_response(lambda r: "/api/scenes/town-hall/walkable/" in r.url,
                                  timeout=LIVE_TIMEOUT) as download:
        press(page, "#walk-corner")
        announced(page, "Area painted: Not walkable, 1 × 2 m")
    assert focused_id(page) == "walk-corner" and page.inner_text("#walk-corner") == "Mark a corner here"
    items = page.locator("#walk-paint-list li")
    assert items.count() == 1 and "Not walkable" in items.nth(0).inner_text()
    assert axe_violations(page) == []

    # The grid served now has no floor in the strip, and the resident's open page took it without reloading.
    grid = served_grid(page, site.url)
    assert grid.step_target(0.0, -2.5, 10.5) is None and grid.step_target(0.0, -1.5, 10.5) == 0.0
    assert download.value.finished() is None and download.value.ok
    resident.evaluate("() => window.civicSpace.nextFrame(3)")
    after = walk_west(resident)
    assert after[0] > -2.0, f"walked into the painted area to x={after[0]:.2f}"
    assert after[0] < -1.0, f"stopped too early at x={after[0]:.2f}"
    resident_context.close()

    # Deleted by keyboard: the way is free again.
    delete = items.nth(0).locator("button").get_attribute("id")
    press(page, f"#{delete}")
    announced(page, "Painted area deleted")
    assert page.locator("#walk-paint-list li").count() == 0 and page.is_visible("#walk-paint-empty")
    assert served_grid(page, site.url).step_target(0.0, -2.5, 10.5) == 0.0
    assert page.watch.errors == []  # type: ignore[attr-defined]


def arrival(page: Page, base: str) -> dict:
    """Where a new visitor (a fresh browser context) arrives."""
    context = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        return open_scene(context.new_page(), base, "?mode=text")
    finally:
        context.close()


def test_a_new_arrival_point_is_where_a_new_visitor_arrives(page: Page, site: ServerProcess):
    open_scene(page, site.url, "?mode=text&lang=en")
    sign_in_with_keyboard(page)
    edit_mode(page)
    page.wait_for_selector("#walk-editor:not([hidden])")
    assert page.is_visible("#walk-spawn-empty")
    for number, (position, yaw) in enumerate((([-1.5, 0, 10.5], 45), ([-3.0, 0, 11.0], -90)), start=1):
        page.evaluate("([p, yaw]) => window.civicSpace.teleport(p, yaw, 0)", [position, yaw])  # here, this way
        press(page, "#spawn-add")
        announced(page, f"Added. Arrival point {number}")
    items = page.locator("#walk-spawn-list li")
    assert items.count() == 2 and "looking east" in items.nth(1).inner_text()
    assert axe_violations(page) == []
    arrived = arrival(page, site.url)
    assert math.dist(arrived["position"], [-1.5, 0, 10.5]) < 0.01 and abs(arrived["yaw"] - 45) < 0.01

    # The second moved up, by keyboard: it is where visitors arrive now.
    up = items.nth(1).locator("button[id^='spawn-up-']").get_attribute("id")
    press(page, f"#{up}")
    announced(page, "Moved to place 1 of 2")
    assert focused_id(page) == up.replace("up", "down")  # "Move up" is at the end now (aria-disabled)
    arrived = arrival(page, site.url)
    assert math.dist(arrived["position"], [-3.0, 0, 11.0]) < 0.01 and abs(arrived["yaw"] + 90) < 0.01

    # Both deleted: visitors arrive at the scene's own entrance again.
    for left in (1, 0):
        press(page, "#walk-spawn-list li button[id^='spawn-delete-']")
        page.wait_for_function("(n) => document.querySelectorAll('#walk-spawn-list li').length === n",
                               arg=left, timeout=LIVE_TIMEOUT)
    announced(page, "Arrival point deleted")
    assert focused_id(page) == "spawn-add" and page.is_visible("#walk-spawn-empty")
    assert math.dist(arrival(page, site.url)["position"], ENTRANCE) < 0.01
    assert page.watch.errors == []  # type: ignore[attr-defined]


VIEW_HINT = "Walkable floor: walk to the opposite corner with the arrow keys, then press Enter to mark it."
EDIT_HINT = "Edit mode: click a surface to place a hotspot, or a marker to edit it."


def walk_to(page: Page, key: str, arrived: str) -> None:
    """Holds `key` in the focused view until the walker's position satisfies `arrived` (watching it, not the clock)."""
    page.keyboard.down(key)
    page.wait_for_function(f"() => ({arrived})(window.civicSpace.state().position)", timeout=LIVE_TIMEOUT)
    page.keyboard.up(key)


def test_in_3d_staff_mark_a_corner_walk_by_keys_and_press_enter_in_the_view_at_the_other(page: Page,
                                                                                        site: ServerProcess):
    open_scene(page, site.url, "?lang=en")
    assert state(page)["mode"] == "3d"
    sign_in_with_keyboard(page)
    edit_mode(page)
    page.wait_for_selector("#walk-editor:not([hidden])")
    place(page, [-2.9, 0.0, 11.4], 0)  # facing -z, across the strip of CORNERS
    press(page, "#walk-corner")
    announced(page, "First corner marked")
    announced(page, "press Enter in the 3D view")
    page.wait_for_function("() => document.activeElement.id === 'view'")  # walking by keys starts at once

    walk_to(page, "ArrowUp", "p => p[2] < 9.8")
    walk_to(page, "KeyD", "p => p[0] > -2.3")
    here = page.evaluate("() => window.civicSpace.state().position")
    page.keyboard.press("Enter")  # in the view: the opposite corner
    announced(page, "Area painted: Not walkable")
    page.wait_for_function("() => document.activeElement.id === 'walk-corner'")  # ready for the next area
    assert page.inner_text("#walk-corner") == "Mark a corner here" and page.is_hidden("#walk-corner-cancel")
    paints = page.request.get(f"{site.url}/api/scenes/town-hall/walk-edits").json()["paints"]
    assert len(paints) == 1
    area = paints[0]["area"]
    assert area["min"][0] <= -2.9 and area["max"][2] >= 11.4  # the first corner's cell is in it
    assert area["max"][0] >= here[0] and area["min"][2] <= here[2]  # and the one where she pressed Enter

    # Enter in the view does nothing more once the area is painted.
    page.focus("#view")
    page.keyboard.press("Enter")
    page.evaluate("() => window.civicSpace.nextFrame(2)")
    assert len(page.request.get(f"{site.url}/api/scenes/town-hall/walk-edits").json()["paints"]) == 1

    press(page, "#walk-paint-list li button")  # left as it was for the other tests
    announced(page, "Painted area deleted")
    assert page.watch.errors == []  # type: ignore[attr-defined]


def test_while_a_corner_waits_in_3d_the_hint_over_the_view_says_walk_then_press_enter(page: Page,
                                                                                      site: ServerProcess):
    open_scene(page, site.url, "?lang=en")
    sign_in_with_keyboard(page)
    edit_mode(page)
    page.wait_for_selector("#walk-editor:not([hidden])")
    assert page.inner_text("#view-hint") == EDIT_HINT
    place(page, [-2.9, 0.0, 11.4], 0)
    press(page, "#walk-corner")
    page.wait_for_function("() => document.activeElement.id === 'view'")
    assert page.inner_text("#view-hint") == VIEW_HINT  # also what the view's aria-describedby reads
    press(page, "#walk-corner-cancel")
    announced(page, "Corner cancelled")
    assert page.inner_text("#view-hint") == EDIT_HINT
    press(page, "#walk-corner")  # waiting again, then edit mode off: the page's own hint
    page.wait_for_function("() => document.activeElement.id === 'view'")
    press(page, "#edit-toggle")
    page.wait_for_function("() => !window.civicSpace.staff.editing()")
    page.wait_for_function("(t) => document.getElementById('view-hint').textContent !== t", arg=VIEW_HINT)
    assert page.inner_text("#view-hint") not in (VIEW_HINT, EDIT_HINT)
    assert page.watch.errors == []  # type: ignore[attr-defined]


def redness(page: Page) -> float:
    """How much redder than green the 3D view is, on average (0-255)."""
    page.evaluate("() => window.civicSpace.nextFrame(3)")
    image = np.asarray(Image.open(io.BytesIO(page.locator("#canvas").screenshot())).convert("RGB"), dtype=np.float32)
    return float((image[:, :, 0] - image[:, :, 1]).mean())


def test_painted_areas_are_drawn_in_3d_while_editing(page: Page, site: ServerProcess):
    open_scene(page, site.url, "?lang=en")
    assert state(page)["mode"] == "3d"
    sign_in_with_keyboard(page)
    edit_mode(page)
    page.wait_for_selector("#walk-editor:not([hidden])")
    place(page, ENTRANCE, 90)  # looking west, along the hall, at where the strip goes
    plain = redness(page)
    for corner in CORNERS:
        page.evaluate("(p) => window.civicSpace.teleport(p)", corner)
        press(page, "#walk-corner")
    announced(page, "Area painted: Not walkable")
    page.wait_for_selector("#canvas[data-walk-paints='1']")
    place(page, ENTRANCE, 90)
    painted = redness(page)
    assert painted > plain + 5, (plain, painted)  # a translucent red strip across the view
    press(page, "#edit-toggle")  # edit mode off: the boxes go with it
    page.wait_for_selector("#canvas[data-walk-paints='0']")
    assert abs(redness(page) - plain) < 1
    delete = page.locator("#walk-paint-list li button").first.get_attribute("id")
    edit_mode(page)
    press(page, f"#{delete}")
    announced(page, "Painted area deleted")
    page.wait_for_selector("#canvas[data-walk-paints='0']")
    assert page.watch.errors == []  # type: ignore[attr-defined]
