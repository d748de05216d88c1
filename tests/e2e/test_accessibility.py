"""Accessibility of every page and mode: axe-core (EN 301 549 and WCAG 2.2 AA rules) finds nothing on the landing
page, the 3D view, the text-only mode, high contrast, each dialog and the running tour, and the statement page;
the mirror's accessibility tree is pinned; announcements are polite and made once; the help dialog traps focus,
closes with Esc, gives focus back, and its shortcuts can be remapped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import PageWatch

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["EN-301-549", "wcag22aa"]
READY_TIMEOUT = 120_000


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    """A page whose CSP lets the test add axe-core (the app's own CSP refuses added scripts, as it should)."""
    context = browser.new_context(viewport={"width": 1024, "height": 640}, bypass_csp=True)
    page = context.new_page()
    page.watch = PageWatch(page)  # type: ignore[attr-defined]
    yield page
    context.close()


def axe_violations(page: Page) -> list[dict]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm install` in web/")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return {passes: r.passes.length, violations: r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))};
        }""",
        AXE_TAGS,
    )
    assert result["passes"] > 0, "axe ran no rule: wrong tags?"
    return result["violations"]


def open_scene(page: Page, base: str, query: str = "") -> dict:
    page.goto(f"{base}/scenes/town-hall{query}")
    page.wait_for_function("() => document.body.dataset.state !== 'loading'", timeout=READY_TIMEOUT)
    return page.evaluate("() => window.civicSpace.ready")


def wait_ready(page: Page) -> None:
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=READY_TIMEOUT)


# --- axe ----------------------------------------------------------------------------------------------------------


def test_landing_page_has_no_axe_violations(server, axe_page):
    axe_page.goto(server.url + "/")
    wait_ready(axe_page)
    assert axe_violations(axe_page) == []


def test_accessibility_statement_has_no_axe_violations_and_a_way_to_report(server, axe_page):
    axe_page.goto(server.url + "/accessibility")
    wait_ready(axe_page)
    assert axe_violations(axe_page) == []
    assert axe_page.locator("a[href^='mailto:accessibility@example.org']").count() >= 1
    assert "(WCAG) 2.1" in axe_page.inner_text("main") and "EN 301 549" in axe_page.inner_text("main")


def test_3d_view_with_the_help_dialog_and_preferences_has_no_axe_violations(server, axe_page):
    state = open_scene(axe_page, server.url)
    assert state["mode"] == "3d"
    assert axe_violations(axe_page) == []
    axe_page.click("#help-button")
    assert axe_page.locator("#help-dialog").is_visible()
    assert axe_violations(axe_page) == []
    axe_page.keyboard.press("Escape")
    axe_page.click("#prefs-button")
    assert axe_page.locator("#prefs-dialog").is_visible()
    assert axe_violations(axe_page) == []


def test_3d_view_with_the_tour_running_in_high_contrast_has_no_axe_violations(server, axe_page):
    open_scene(axe_page, server.url)
    axe_page.click("#prefs-button")
    axe_page.check("#pref-contrast")
    axe_page.keyboard.press("Escape")
    assert axe_page.evaluate("() => document.documentElement.dataset.contrast") == "high"
    axe_page.click("#tour-play")
    axe_page.wait_for_function("() => window.civicSpace.tour.state().playing")
    assert axe_violations(axe_page) == []
    axe_page.click("#tour-play")  # pause


def test_text_mode_in_every_state_has_no_axe_violations(server, axe_page):
    state = open_scene(axe_page, server.url, "?mode=text")
    assert state["mode"] == "text"
    assert axe_violations(axe_page) == []
    axe_page.click("#tour-play")
    axe_page.click("#tour-next")
    assert axe_violations(axe_page) == []
    axe_page.click("#prefs-button")
    axe_page.check("#pref-contrast")
    axe_page.check("#pref-text-150")
    assert axe_violations(axe_page) == []
    axe_page.keyboard.press("Escape")
    assert axe_violations(axe_page) == []


def test_every_language_has_no_axe_violations_in_text_mode(server, axe_page):
    for lang in ("fr", "nl", "es"):
        open_scene(axe_page, server.url, f"?mode=text&lang={lang}")
        assert axe_page.evaluate("() => document.documentElement.lang") == lang
        assert axe_violations(axe_page) == [], lang


# --- the mirror's accessibility tree ------------------------------------------------------------------------------

MIRROR_SNAPSHOT = """\
- region "Places here":
  - heading "Places here" [level=2]
  - paragraph:
    - text: You are in
    - strong: Entrance hall
  - paragraph:
    - button "Where am I?"
  - paragraph: Choose a place to go there at once.
  - list "Places here":
    - listitem:
      - button "Entrance hall"
      - paragraph: "The way in: a bright stone hall with four columns, the reception desk on the\
 left and the corridor straight ahead."
    - listitem:
      - button "Citizens' service office"
      - paragraph: Counters where residents ask for documents and help. Take a ticket at the kiosk\
 by the door and wait on the chairs.
    - listitem:
      - button "Stair hall"
      - paragraph: The stairs to the upper floor, and a model of the city on a large table.
    - listitem:
      - button "Corridor"
      - paragraph: Links the front rooms to the council chamber and the meeting room at the back.\
 Benches and a notice board line the walls.
    - listitem:
      - button "Council chamber"
      - paragraph: "Where the council meets in public: five rows of seats face the raised dais with\
 the councillors' desk."
    - listitem:
      - button "Meeting and exhibition room"
      - paragraph: A large table for workshops and consultations, with exhibition panels along the walls.
    - listitem:
      - button "Staircase"
      - paragraph: Twenty gentle steps with a handrail lead up to the upper gallery.
    - listitem:
      - button "Upper gallery"
      - paragraph: An open gallery above the entrance with exhibition panels about current city projects.
    - listitem:
      - button "Committee room"
      - paragraph: A quieter room upstairs where committees and residents' groups meet around one table."""


def test_the_mirror_accessibility_tree_matches_the_snapshot(server, page):
    open_scene(page, server.url, "?mode=text")
    assert page.locator("#places").aria_snapshot() == MIRROR_SNAPSHOT
    # The zone the resident is in is marked for assistive technology, not only by colour.
    assert page.get_attribute("#zone-list li[data-id='entrance-hall'] button", "aria-current") == "location"
    assert page.locator("#zone-list [aria-current]").count() == 1
    # After a jump, the location line and the marked zone follow.
    page.click("#zone-list li[data-id='staircase'] button")
    snapshot = page.locator("#places").aria_snapshot()
    assert "  - paragraph:\n    - text: You are in\n    - strong: Staircase\n" in snapshot
    assert page.get_attribute("#zone-list li[data-id='staircase'] button", "aria-current") == "location"
    assert page.locator("#zone-list [aria-current]").count() == 1


# --- announcements ------------------------------------------------------------------------------------------------

RECORD = """() => {
    window.__spoken = [];
    const region = document.getElementById('announcer');
    new MutationObserver(() => { if (region.textContent) window.__spoken.push(region.textContent); })
        .observe(region, {childList: true, subtree: true, characterData: true});
}"""


def test_a_jump_to_a_zone_is_announced_once_and_politely(server, page):
    open_scene(page, server.url)
    region = page.locator("#announcer")
    assert region.get_attribute("aria-live") == "polite" and region.get_attribute("role") == "status"
    page.wait_for_timeout(1600)  # the welcome and "ready" messages are said and done
    page.evaluate(RECORD)
    page.click("#zone-list li[data-id='council-chamber'] button")
    page.wait_for_timeout(1500)
    spoken = page.evaluate("() => window.__spoken")
    assert spoken == [
        "You are in Council chamber: Where the council meets in public: five rows of seats face the raised dais"
        " with the councillors' desk."
    ], spoken
    assert page.evaluate("() => window.civicSpace.state().zone") == "council-chamber"
    assert page.evaluate("() => document.activeElement.textContent") == "Council chamber"  # focus stayed put
    # Asking "where am I" is said even though it is the same sentence (the resident asked again).
    page.keyboard.press("l")
    page.wait_for_timeout(300)
    assert len(page.evaluate("() => window.__spoken")) == 2
    assert page.watch.errors == []


def test_a_tour_stop_is_announced_once_with_its_narration(server, page):
    open_scene(page, server.url, "?mode=text")
    page.wait_for_timeout(1600)
    page.evaluate(RECORD)
    page.click("#tour-play")
    page.wait_for_timeout(800)
    spoken = page.evaluate("() => window.__spoken")
    assert len(spoken) == 1, spoken
    assert spoken[0].startswith("Stop 1 of 8: Entrance hall. Welcome to the town hall.")
    page.click("#tour-play")  # pause


# --- help dialog and shortcuts ------------------------------------------------------------------------------------


def test_help_dialog_traps_focus_closes_with_escape_and_returns_focus(server, page):
    open_scene(page, server.url, "?mode=text")
    page.focus("#where-button")
    page.keyboard.press("?")
    dialog = page.locator("#help-dialog")
    assert dialog.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "help-close"
    for _ in range(25):
        page.keyboard.press("Tab")
        inside = page.evaluate("() => document.getElementById('help-dialog').contains(document.activeElement)")
        at_top = page.evaluate("() => document.activeElement === document.body")  # browser chrome in headless
        assert inside or at_top
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate("() => document.activeElement.id") == "where-button"


def test_shortcuts_can_be_remapped_and_are_remembered(server, page):
    open_scene(page, server.url, "?mode=text")
    page.click("#help-button")
    page.click("#shortcut-rows button[data-action='whereAmI']")
    page.keyboard.press("w")  # a walking key: refused
    assert "needed for walking" in page.inner_text("#shortcut-status")
    page.keyboard.press("n")  # already "names": refused
    assert "already does" in page.inner_text("#shortcut-status")
    page.keyboard.press("k")
    assert "now uses the key K" in page.inner_text("#shortcut-status")
    page.keyboard.press("Escape")
    page.reload()
    page.evaluate("() => window.civicSpace.ready")
    page.wait_for_timeout(1200)
    page.focus("#tour-play")
    before = len(page.evaluate("() => window.civicSpace.announcements()"))
    page.keyboard.press("l")  # no longer anything
    page.keyboard.press("k")
    page.wait_for_timeout(300)
    spoken = page.evaluate("() => window.civicSpace.announcements()")
    assert len(spoken) == before + 1 and spoken[-1].startswith("You are in Entrance hall")
    # Typing in a field never triggers a shortcut.
    page.focus("#chat-input")
    page.keyboard.type("kk?")
    assert not page.locator("#help-dialog").is_visible()
    assert page.input_value("#chat-input") == "kk?"
