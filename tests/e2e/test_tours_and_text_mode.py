"""Keyboard-only journeys (landing page → town hall → every zone through the mirror → the whole guided tour → back to
the entrance) in the 3D view and in the text-only mode with WebGL off; the text-only mode downloads no 3D and stays
under 150 KB; it is chosen by the address, the switch, a missing WebGL or Save-Data; languages and preferences
persist in the browser."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright

from tests.e2e.conftest import PageWatch
from tests.support import CHROMIUM_ARGS, TransferLog, chromium_path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((ROOT / "scenes" / "town-hall.json").read_text())
READY_TIMEOUT = 120_000
TEXT_MODE_BUDGET = 150 * 1024
THREE_D_DOWNLOADS = ("/vendor/three", "/assets/", "viewer.js", "avatars.js", "sky.js", "scene-loader.js",
                     "walk-view.js", "downloads.js")


@pytest.fixture
def no_webgl_browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=chromium_path(), args=[*CHROMIUM_ARGS, "--disable-webgl", "--disable-3d-apis"]
    )
    yield browser
    browser.close()


def new_page(browser: Browser) -> Page:
    page = browser.new_context(viewport={"width": 1024, "height": 700}).new_page()
    page.watch = PageWatch(page)  # type: ignore[attr-defined]
    return page


def active(page: Page) -> dict:
    return page.evaluate(
        "() => ({id: document.activeElement.id, text: document.activeElement.textContent,"
        " zone: document.activeElement.closest('[data-id]')?.dataset.id})"
    )


def tab_until(page: Page, predicate: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(predicate):
            return
    raise AssertionError(f"never reached with Tab: {predicate}")


def keyboard_journey(page: Page, base: str, expected_mode: str) -> None:
    """The whole visit with the keyboard alone: no click, no focus() call, no script driving the app."""
    page.goto(base + "/")
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    tab_until(page, "() => document.activeElement.href?.endsWith('/scenes/town-hall')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/scenes/town-hall")
    state = page.evaluate("() => window.civicSpace.ready")
    assert state["mode"] == expected_mode

    # The skip link to the places, then "where am I", then the zone buttons in order.
    tab_until(page, "() => document.activeElement.getAttribute('href') === '#places-title'", limit=4)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert active(page)["id"] == "where-button"
    for zone in MANIFEST["zones"]:
        page.keyboard.press("Tab")
        assert active(page)["zone"] == zone["id"]
        said = len(page.evaluate("() => window.civicSpace.announcements()"))
        page.keyboard.press("Enter")
        now = page.evaluate("() => window.civicSpace.state()")
        assert now["zone"] == zone["id"], (zone["id"], now)
        lo, hi = zone["area"]["min"], zone["area"]["max"]
        x, y, z = now["position"]
        assert lo[0] <= x <= hi[0] and lo[2] <= z <= hi[2] and lo[1] - 0.05 <= y < hi[1], (zone["id"], now)
        page.wait_for_function(
            "([name, n]) => window.civicSpace.announcements().slice(n).some(t => t.startsWith(`You are in ${name}:`))",
            arg=[zone["name"]["en"], said],
        )

    # The guided tour: start it, then Next through every stop, then Next once more ends it.
    tab_until(page, "() => document.activeElement.id === 'tour-play'", limit=3)
    page.keyboard.press("Enter")
    stops = MANIFEST["tour"]
    page.keyboard.press("Tab")
    assert active(page)["id"] == "tour-next"
    for index, stop in enumerate(stops):
        if index:
            page.keyboard.press("Enter")
        tour = page.evaluate("() => window.civicSpace.tour.state()")
        assert tour["index"] == index
        x, _, z = page.evaluate("() => window.civicSpace.state().position")
        assert math.dist([x, z], [stop["position"][0], stop["position"][2]]) < 0.01, stop["id"]
        assert page.inner_text("#tour-narration") == stop["narration"]["en"]
    page.keyboard.press("Enter")
    assert page.evaluate("() => window.civicSpace.tour.state().finished")
    page.wait_for_function(
        "() => window.civicSpace.announcements().includes('End of the tour. Thank you for visiting.')"
    )

    # One key always goes back to the entrance, wherever the focus is (here: the tour's Next button).
    page.keyboard.press("Home")
    position = page.evaluate("() => window.civicSpace.state().position")
    assert math.dist(position, MANIFEST["spawn"][0]["position"]) < 0.01
    assert page.evaluate("() => window.civicSpace.state().zone") == "entrance-hall"
    assert page.watch.errors == []


def test_keyboard_only_journey_in_the_3d_view(server, page):
    keyboard_journey(page, server.url, "3d")


def test_keyboard_only_journey_in_text_mode_without_webgl(server, no_webgl_browser):
    page = new_page(no_webgl_browser)
    keyboard_journey(page, server.url, "text")
    assert page.evaluate("() => document.body.dataset.state") == "no-webgl"
    assert page.locator("#message").is_visible()  # says why there is no 3D
    assert not [u for u in page.watch.requests if any(part in u for part in THREE_D_DOWNLOADS)]


def test_text_mode_transfers_at_most_150_kb_and_nothing_3d(server, browser):
    context = browser.new_context()
    page = context.new_page()
    log = TransferLog(context.new_cdp_session(page))
    page.goto(f"{server.url}/scenes/town-hall?mode=text")
    assert page.evaluate("() => window.civicSpace.ready")["mode"] == "text"
    page.wait_for_load_state("networkidle")
    total = log.total
    assert not [u for u, _ in log.items() if any(part in u for part in THREE_D_DOWNLOADS)]
    assert total <= TEXT_MODE_BUDGET, f"text mode transferred {total / 1024:.1f} KiB"
    context.close()


def test_save_data_chooses_text_mode_and_the_switch_overrides_it(server, browser):
    context = browser.new_context()
    context.add_init_script(
        "Object.defineProperty(navigator, 'connection', {value: {saveData: true}, configurable: true});"
    )
    page = context.new_page()
    page.goto(f"{server.url}/scenes/town-hall")
    assert page.evaluate("() => window.civicSpace.ready")["mode"] == "text"
    assert page.locator("#mode-note").is_visible()
    page.click("#mode-switch")  # "3D version": remembered
    page.wait_for_url("**mode=3d")
    assert page.evaluate("() => window.civicSpace.ready")["mode"] == "3d"
    page.goto(f"{server.url}/scenes/town-hall")
    assert page.evaluate("() => window.civicSpace.ready")["mode"] == "3d"
    context.close()


def test_the_landing_switch_opens_places_in_text_mode(server, page):
    page.goto(server.url + "/")
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    switch = page.locator("#mode-switch")
    assert switch.get_attribute("aria-pressed") == "false"
    switch.click()
    assert switch.get_attribute("aria-pressed") == "true"
    with page.expect_navigation():
        page.click("#scene-list a[href$='town-hall']")
    assert page.evaluate("() => window.civicSpace.ready")["mode"] == "text"
    assert not [u for u in page.watch.requests if any(part in u for part in THREE_D_DOWNLOADS)]


def test_tour_plays_by_itself_pauses_and_changes_speed(server, page):
    page.goto(f"{server.url}/scenes/town-hall?mode=text")
    page.evaluate("() => window.civicSpace.ready")
    page.select_option("#tour-speed", "1.5")
    page.click("#tour-play")
    assert page.evaluate("() => window.civicSpace.tour.state()")["speed"] == 1.5
    page.wait_for_function("() => window.civicSpace.tour.state().index === 1", timeout=20_000)
    page.keyboard.press("p")  # pause (focus is on the play button, not a text field)
    state = page.evaluate("() => window.civicSpace.tour.state()")
    assert not state["playing"] and state["index"] == 1
    assert page.inner_text("#tour-play") == "Continue the tour"
    page.keyboard.press("[")
    assert page.evaluate("() => window.civicSpace.tour.state().index") == 0
    page.keyboard.press("]")
    assert page.evaluate("() => window.civicSpace.tour.state().index") == 1


def test_languages_fall_back_to_english_with_a_lang_attribute_and_the_choice_persists(server, page):
    page.goto(f"{server.url}/scenes/town-hall?mode=text&lang=nl")
    page.evaluate("() => window.civicSpace.ready")
    assert page.evaluate("() => document.documentElement.lang") == "nl"
    assert page.inner_text("#places-title") == "Plekken hier"
    # The manifest has no Dutch: zone names and descriptions are English, marked as such.
    button = page.locator("#zone-list li[data-id='corridor'] button")
    assert button.inner_text() == "Corridor" and button.get_attribute("lang") == "en"
    # French exists in the manifest: no lang attribute needed there.
    page.goto(f"{server.url}/scenes/town-hall?mode=text&lang=fr")
    page.evaluate("() => window.civicSpace.ready")
    button = page.locator("#zone-list li[data-id='corridor'] button")
    assert button.inner_text() == "Couloir" and button.get_attribute("lang") is None
    # The switch on the landing page is remembered on every page.
    page.goto(server.url + "/")
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    with page.expect_navigation():
        page.select_option("#lang-select", "es")
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    assert page.evaluate("() => document.documentElement.lang") == "es"
    assert page.inner_text("h1") == "Visite su ayuntamiento desde casa"
    page.click("footer a[href='/accessibility']")
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    assert page.evaluate("() => document.documentElement.lang") == "es"
    assert page.inner_text("h1") == "Declaración de accesibilidad"


def test_every_locale_translates_every_key():
    locales = {p.stem: json.loads(p.read_text()) for p in (ROOT / "web" / "locales").glob("*.json")}
    assert set(locales) >= {"en", "fr", "nl", "es"}
    keys = set(locales["en"])
    for lang, strings in locales.items():
        assert set(strings) == keys, (lang, sorted(keys ^ set(strings)))
        assert all(isinstance(v, str) and v.strip() for v in strings.values()), lang
        if lang != "en":  # translated, not copied (a few words are the same in every language: Chat, Agenda, …)
            worded = [k for k in keys if re.search(r"[^\W\d_]{2,}", re.sub(r"\{\w+\}", "", locales["en"][k]))]
            same = [k for k in worded if strings[k] == locales["en"][k]]
            assert len(same) <= len(worded) // 40, (lang, same)  # at most 2.5 %: a copied section fails


def test_preferences_are_kept_in_the_browser_and_follow_the_system(server, browser):
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url + (r.post_data or "")))
    page.goto(f"{server.url}/scenes/town-hall?mode=text")
    page.evaluate("() => window.civicSpace.ready")
    assert page.evaluate("() => document.documentElement.dataset.motion") == "reduced"
    page.click("#prefs-button")
    assert page.is_checked("#pref-motion")
    page.check("#pref-text-125")
    page.check("#pref-speed-1_5")
    page.uncheck("#pref-names")
    page.keyboard.press("Escape")
    assert not page.is_checked("#names-toggle")  # one setting, two places
    stored = json.loads(page.evaluate("() => localStorage.getItem('civicSpace.prefs')"))
    assert stored == {"textSize": 125, "moveSpeed": 1.5, "nameTags": False}
    page.reload()
    page.evaluate("() => window.civicSpace.ready")
    assert page.evaluate("() => document.documentElement.dataset.textSize") == "125"
    assert not [r for r in requests if "textSize" in r or "moveSpeed" in r]
    context.close()
