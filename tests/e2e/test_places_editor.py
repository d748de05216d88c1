"""Zones and tour stops made in the page (issue 12 item 5), in Chromium: a staff editor signs in by keyboard, adds a
zone around where she stands and two tour stops looking her way, reorders them, all by keyboard; the mirror's list of
places and the tour show them at once, and after a reload in 3D and in text-only mode (there from the server, before
any script); axe finds nothing with the editor's section and its forms open.

The module runs its own server (a fresh data directory with a staff account made by the staff CLI), so what is made
here never reaches the other browser tests.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import PageWatch
from tests.e2e.test_hotspots import axe_violations, edit_mode, open_scene, sign_in_with_keyboard
from tests.support import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
EDITOR, PASSWORD = "edith", "a long enough password"
LIVE_TIMEOUT = 10_000  # generous for a loaded CI machine


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("places-data")
    subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data), "add", EDITOR, "--role",
                    "editor", "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT, check=True,
                   capture_output=True)
    process = ServerProcess(data, name="places")
    yield process
    assert process.stop() == 0


def announced(page: Page, text: str) -> None:
    """`text` was spoken: in the live region now, or among the page's announcements (a later message, such as the
    location after a move, may already have replaced it in the region)."""
    page.wait_for_function("(t) => document.getElementById('announcer').textContent.includes(t)"
                           " || (window.civicSpace?.announcements?.() || []).some((said) => said.includes(t))",
                           arg=text, timeout=LIVE_TIMEOUT)


def focused_id(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement.id"))


# The ids of the focused element and of the controls after it in the open dialog, in reading order.
FOLLOWING_FOCUS = """() => {
    const dialog = document.activeElement.closest('dialog');
    const all = [...dialog.querySelectorAll('input, select, textarea, button')];
    return all.slice(all.indexOf(document.activeElement)).map((node) => node.id);
}"""
# The open dialog's heading is inside its visible box (not scrolled out of view).
HEADING_SHOWN = """() => {
    const dialog = document.querySelector('dialog[open]');
    const box = dialog.getBoundingClientRect();
    const heading = dialog.querySelector('h2').getBoundingClientRect();
    return heading.top >= box.top && heading.bottom <= box.bottom && heading.bottom <= window.innerHeight;
}"""
VIEW_HINT = "Drawing a zone: walk to the opposite corner with the arrow keys, then press Enter to mark it."
EDIT_HINT = "Edit mode: click a surface to place a hotspot, or a marker to edit it."


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page axe can be injected into (CSP bypassed for the test's own script only)."""
    context = browser.new_context(viewport={"width": 1024, "height": 640}, bypass_csp=True)
    made = context.new_page()
    made.watch = PageWatch(made)  # type: ignore[attr-defined]
    yield made
    context.close()


def test_staff_make_a_zone_and_tour_stops_by_keyboard_and_everyone_sees_them(page: Page, site: ServerProcess):
    browser = page.context.browser
    assert browser is not None
    resident_context = browser.new_context()
    resident = resident_context.new_page()  # a resident with the page open while staff edit
    open_scene(resident, site.url, "?mode=text")
    open_scene(page, site.url, "?mode=text")
    sign_in_with_keyboard(page)
    edit_mode(page)
    page.wait_for_selector("#places-editor:not([hidden])")
    assert axe_violations(page) == []

    # A zone around where she stands (the entrance), small, named in English and French.
    page.focus("#zone-new")
    page.keyboard.press("Enter")
    page.wait_for_selector("#zone-form[open]")
    # Focus on the form's first control, the area choice: reading down from it, "Draw the area" is not missed.
    assert focused_id(page) == "zone-shape-around"
    following = page.evaluate(FOLLOWING_FOCUS)
    assert following.index("zone-shape-draw") < following.index("zone-name-en")
    assert "Entrance hall" in page.inner_text("#zone-where")
    # The size's select has the form's font and border (not the browser's small default).
    looks = page.evaluate("() => ['zone-size', 'zone-name-en'].map((id) => {"
                          " const s = getComputedStyle(document.getElementById(id));"
                          " return [s.fontSize, s.fontFamily, s.borderTopWidth]; })")
    assert looks[0] == looks[1], looks
    assert axe_violations(page) == []
    page.focus("#zone-name-en")
    page.keyboard.type("Reading corner")
    page.fill("#zone-name-fr", "Coin lecture")
    page.fill("#zone-description-en", "Two armchairs and the city's newspapers.")
    page.select_option("#zone-size", "small")
    page.focus("#zone-name-en")
    page.keyboard.press("Enter")  # submits the form
    announced(page, "Zone Reading corner added.")
    assert focused_id(page) == "zone-new"  # back to the control that opened the form
    page.wait_for_selector("#zone-list li[data-id='reading-corner'] button.mirror-button")
    assert "Reading corner" in page.inner_text("#location-text")  # she stands in it (the smaller box wins)
    # The resident's page got the new zone live (a `places` content event), without reloading.
    resident.wait_for_selector("#zone-list li[data-id='reading-corner'] button.mirror-button", timeout=LIVE_TIMEOUT)
    resident_context.close()

    # Two tour stops, "here, looking this way"; the second one is then moved up, by keyboard.
    for title, narration in (("Newspapers", "Read today's papers here."), ("Armchairs", "Sit down for a while.")):
        page.focus("#stop-new")
        page.keyboard.press("Enter")
        page.wait_for_selector("#stop-form[open]")
        assert focused_id(page) == "stop-title-en"
        page.keyboard.type(title)
        page.fill("#stop-narration-en", narration)
        page.fill("#stop-narration-es", f"{narration} (es)")
        page.focus("#stop-title-en")
        page.keyboard.press("Enter")
        page.wait_for_function("() => !document.getElementById('stop-form').open", timeout=LIVE_TIMEOUT)
    announced(page, "Tour stop added")
    # The dialog closes before the lists are read again: wait for the second stop to be listed.
    page.wait_for_function("() => document.querySelectorAll('#places-stop-list li').length === 2", timeout=LIVE_TIMEOUT)
    items = page.locator("#places-stop-list li")
    assert "Newspapers" in items.nth(0).inner_text()
    second = page.locator("#places-stop-list li").nth(1).locator("button[id^='stop-up-']")
    second_id = second.get_attribute("id")
    page.focus(f"#{second_id}")
    page.keyboard.press("Enter")
    announced(page, "Moved to place 1 of 2")
    assert "Armchairs" in page.locator("#places-stop-list li").nth(0).inner_text()
    # The moved stop's "Move up" is at the end now (aria-disabled): focus went to its "Move down".
    assert focused_id(page) == second_id.replace("up", "down")
    assert axe_violations(page) == []

    # The tour shows the manifest's stops and then hers, in her order.
    tour = page.evaluate("() => [...document.querySelectorAll('#tour-all .tour-stops li')].map(li => li.textContent)")
    assert tour[-2].endswith("Sit down for a while.") and tour[-1].endswith("Read today's papers here.")
    assert tour[-1].startswith("Reading corner.")

    # After a reload: in text-only mode from the server (before scripts), then in 3D.
    html = page.request.get(f"{site.url}/scenes/town-hall?mode=text&lang=fr").text()
    assert 'data-id="reading-corner"' in html and "Coin lecture" in html
    assert '<span lang="en">Sit down for a while.</span>' in html
    for query in ("?mode=text&lang=en", "?lang=en"):  # English again (the request above chose French)
        state = open_scene(page, site.url, query)
        assert state["mode"] == ("text" if "mode=text" in query else "3d")
        names = page.evaluate("() => [...document.querySelectorAll('#zone-list .mirror-button')]"
                              ".map(b => b.textContent)")
        assert names[-1] == "Reading corner"
        page.focus("#zone-list li[data-id='reading-corner'] .mirror-button")
        page.keyboard.press("Enter")
        announced(page, "Two armchairs and the city's newspapers.")
        listed = page.request.get(f"{site.url}/api/scenes/town-hall/places").json()["tour"]
        assert page.locator("#tour-all .tour-stops li").count() == len(listed)
        assert page.evaluate("() => window.civicSpace.tour.state().count") == len(listed)
    assert page.watch.errors == []  # type: ignore[attr-defined]


def test_in_a_short_window_the_zone_form_opens_with_its_heading_in_view(page: Page, site: ServerProcess):
    """420 px high (a laptop zoomed in): focus on a field further down would scroll the dialog's heading away."""
    page.set_viewport_size({"width": 1024, "height": 420})
    open_scene(page, site.url, "?mode=text&lang=en")
    sign_in_with_keyboard(page)
    edit_mode(page)
    page.wait_for_selector("#places-editor:not([hidden])")
    for _ in range(2):  # also when it opens again after being scrolled down
        page.focus("#zone-new")
        page.keyboard.press("Enter")
        page.wait_for_selector("#zone-form[open]")
        assert focused_id(page) == "zone-shape-around"
        assert page.evaluate(HEADING_SHOWN)
        page.focus("#zone-description-es")  # scrolls the dialog down
        assert not page.evaluate(HEADING_SHOWN)
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.getElementById('zone-form').open")
        assert focused_id(page) == "zone-new"
    assert page.watch.errors == []  # type: ignore[attr-defined]


def zone_named(site: ServerProcess, page: Page, key: str) -> dict:
    zones = page.request.get(f"{site.url}/api/scenes/town-hall/places").json()["zones"]
    return next(zone for zone in zones if zone["id"] == key)


def test_staff_draw_a_zone_corner_to_corner_by_keyboard_and_edit_its_area(page: Page, site: ServerProcess):
    """Text mode (no 3D view): mark a corner, go elsewhere, mark the opposite one; the corners land in labelled
    fields that are checked before anything is sent; an edit draws the area again from the fields."""
    open_scene(page, site.url, "?mode=text&lang=en")
    sign_in_with_keyboard(page)
    edit_mode(page)
    page.wait_for_selector("#places-editor:not([hidden])")
    page.evaluate("() => window.civicSpace.teleport([-4, 0, 3])")  # a corner of the entrance hall

    page.focus("#zone-new")
    page.keyboard.press("Enter")
    page.wait_for_selector("#zone-form[open]")
    page.fill("#zone-name-en", "Notice board")
    assert page.is_checked("#zone-shape-around") and page.is_hidden("#zone-draw")
    page.focus("#zone-shape-around")
    page.keyboard.press("ArrowDown")  # radios move by arrows: "Draw the area"
    assert page.is_checked("#zone-shape-draw")
    assert page.is_visible("#zone-draw") and page.is_hidden("#zone-size")
    assert page.inner_text("label[for='zone-max-y']") == "y, height (metres)"
    assert axe_violations(page) == []

    page.focus("#zone-draw-first")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.getElementById('zone-form').open")
    announced(page, "First corner marked at x -4, z 3.")
    assert focused_id(page) == "zone-draw-mark"  # no 3D view to walk in: the bar's button waits
    assert page.is_visible("#zone-draw-bar")
    assert axe_violations(page) == []
    page.evaluate("() => window.civicSpace.teleport([-1, 0, 7.5])")  # "walks" to the opposite corner
    page.keyboard.press("Enter")
    page.wait_for_selector("#zone-form[open]")
    assert focused_id(page) == "zone-draw-status"
    announced(page, "Opposite corner marked: the zone is 3 m by 4.5 m, 3 m high.")
    assert page.is_hidden("#zone-draw-bar")
    fields = {f"{end}-{axis}": page.input_value(f"#zone-{end}-{axis}") for end in ("min", "max") for axis in "xyz"}
    assert fields == {"min-x": "-4", "min-y": "0", "min-z": "3", "max-x": "-1", "max-y": "3", "max-z": "7.5"}

    # A typed height below the floor is refused here, named, and marked on its field; nothing is sent.
    page.fill("#zone-max-y", "-2")
    page.focus("#zone-name-en")
    page.keyboard.press("Enter")
    page.wait_for_selector("#zone-form-error:not([hidden])")
    assert "must not be less than the lower corner" in page.inner_text("#zone-form-error")
    assert "Upper corner" in page.inner_text("#zone-form-error")
    assert page.get_attribute("#zone-max-y", "aria-invalid") == "true"
    assert all(zone["id"] != "notice-board" for zone in page.request.get(
        f"{site.url}/api/scenes/town-hall/places").json()["zones"])
    page.fill("#zone-max-y", "4,5")  # a decimal comma is a number too
    page.focus("#zone-name-en")
    page.keyboard.press("Enter")
    announced(page, "Zone Notice board added.")
    assert focused_id(page) == "zone-new"
    assert zone_named(site, page, "notice-board")["area"] == {"min": [-4, 0, 3], "max": [-1, 4.5, 7.5]}

    # Editing: the area is kept unless asked; "Draw the area" starts from the zone's own corners.
    record = zone_named(site, page, "notice-board")["record"]
    page.focus(f"#zone-edit-{record}")
    page.keyboard.press("Enter")
    page.wait_for_selector("#zone-form[open]")
    assert page.is_checked("#zone-shape-keep") and page.is_hidden("#zone-draw")
    page.check("#zone-shape-draw")
    assert page.input_value("#zone-max-z") == "7.5"
    assert "3 m by 4.5 m, 4.5 m high" in page.inner_text("#zone-draw-status")
    page.fill("#zone-min-x", "-5")
    page.focus("#zone-name-en")
    page.keyboard.press("Enter")
    announced(page, "Zone Notice board saved.")
    assert zone_named(site, page, "notice-board")["area"] == {"min": [-5, 0, 3], "max": [-1, 4.5, 7.5]}

    # Stopping halfway leaves everything as it was.
    page.focus("#zone-new")
    page.keyboard.press("Enter")
    page.check("#zone-shape-draw")
    page.focus("#zone-draw-first")
    page.keyboard.press("Enter")
    page.wait_for_selector("#zone-draw-bar:not([hidden])")
    page.focus("#zone-draw-stop")
    page.keyboard.press("Enter")
    announced(page, "Drawing stopped.")
    assert page.is_hidden("#zone-draw-bar") and focused_id(page) == "zone-new"
    assert page.watch.errors == []  # type: ignore[attr-defined]


def test_in_3d_staff_walk_by_keys_from_one_corner_and_press_enter_at_the_other(page: Page, site: ServerProcess):
    open_scene(page, site.url, "?lang=en")
    sign_in_with_keyboard(page)
    edit_mode(page)
    page.evaluate("() => window.civicSpace.teleport([-3, 0, 9], 0, 0)")  # in the entrance hall, facing -z
    page.focus("#zone-new")
    page.keyboard.press("Enter")
    page.wait_for_selector("#zone-form[open]")
    page.fill("#zone-name-en", "Welcome desk")
    page.check("#zone-shape-draw")
    page.focus("#zone-draw-first")
    page.keyboard.press("Enter")
    announced(page, "First corner marked at x -3, z 9. Walk to the opposite corner and press Enter in the 3D view")
    page.wait_for_function("() => document.activeElement.id === 'view'")  # walking by keys starts at once
    assert page.inner_text("#view-hint") == VIEW_HINT  # not the hotspot's "click a surface" (also read by the view)

    # Walk forward, then sideways, with the keys held, watching the walker (not the clock).
    for key, arrived in (("ArrowUp", "p => p[2] < 6.5"), ("KeyD", "p => p[0] > -0.5")):
        page.keyboard.down(key)
        page.wait_for_function(f"() => ({arrived})(window.civicSpace.state().position)", timeout=LIVE_TIMEOUT)
        page.keyboard.up(key)
    here = page.evaluate("() => window.civicSpace.state().position")
    page.keyboard.press("Enter")
    page.wait_for_selector("#zone-form[open]")
    assert focused_id(page) == "zone-draw-status"
    assert page.inner_text("#view-hint") == EDIT_HINT  # the corner is marked: edit mode's own hint again
    values = {f"{end}-{axis}": float(page.input_value(f"#zone-{end}-{axis}"))
              for end in ("min", "max") for axis in "xz"}
    assert values["min-x"] == -3 and values["max-z"] == 9
    assert values["max-x"] == pytest.approx(here[0], abs=0.02) and values["min-z"] == pytest.approx(here[2], abs=0.02)
    page.focus("#zone-name-en")
    page.keyboard.press("Enter")
    announced(page, "Zone Welcome desk added.")
    area = zone_named(site, page, "welcome-desk")["area"]
    assert area["min"][0] == -3 and area["max"][2] == 9 and area["max"][1] - area["min"][1] == pytest.approx(3)
    assert page.watch.errors == []  # type: ignore[attr-defined]


def test_a_drawn_zone_is_previewed_in_the_3d_view_while_walking_to_its_other_corner(page: Page, site: ServerProcess):
    open_scene(page, site.url, "?lang=en")
    sign_in_with_keyboard(page)
    edit_mode(page)
    page.evaluate("() => window.civicSpace.teleport([2, 0, 4])")
    page.focus("#zone-new")
    page.keyboard.press("Enter")
    page.check("#zone-shape-draw")
    page.focus("#zone-draw-first")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'view'")  # walking by keys starts at once
    page.evaluate("() => window.civicSpace.teleport([4, 0, 8])")
    page.wait_for_selector("#places-editor[data-preview='shown']", state="attached", timeout=LIVE_TIMEOUT)
    page.focus("#zone-draw-mark")
    page.keyboard.press("Enter")
    page.wait_for_selector("#zone-form[open]")
    page.keyboard.press("Escape")  # leaving the form ends the preview
    page.wait_for_selector("#places-editor[data-preview='hidden']", state="attached", timeout=LIVE_TIMEOUT)
