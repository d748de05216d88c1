"""The site with JavaScript turned off (issue 14): the landing page lists every scene with a working link, the
text-only town hall shows its places, its tour and its hotspots with their proposal's state, language links switch
the language, what needs a live connection says so; axe-core finds nothing on these pages with scripts off or on.

The module runs its own server with an editor account, so its hotspots are its own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, Route

from tests.support import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["EN-301-549", "wcag22aa"]
MANIFEST = json.loads((ROOT / "scenes" / "town-hall.json").read_text())
EDITOR, PASSWORD = "edith", "a long enough password"
MARKUP = "<b>Library</b> bus <img src=x>"
PAGES = ("/", "/accessibility", "/scenes/town-hall?mode=text")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, playwright_instance: Playwright) -> Iterator[ServerProcess]:
    """A server whose town hall holds a hotspot showing a local proposal (its title has markup in it)."""
    data = tmp_path_factory.mktemp("no-script-data")
    subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data), "add", EDITOR, "--role",
                    "editor", "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT, check=True,
                   capture_output=True)
    process = ServerProcess(data, name="no-script")
    request = playwright_instance.request.new_context(base_url=process.url)
    csrf = request.post("/api/auth/login", data={"username": EDITOR, "password": PASSWORD}).json()["csrf"]
    headers = {"X-CSRF-Token": csrf}
    proposal = request.post("/api/proposals", headers=headers,
                            data={"title": {"en": MARKUP}, "summary": {"en": "Books on wheels"}}).json()
    answer = request.post("/api/scenes/town-hall/hotspots", headers=headers, data={
        "position": [0.0, 1.6, -0.85], "normal": [0, 0, 1], "kind": "proposal", "title": {"en": MARKUP},
        "description": {"en": "Have your say."}, "proposalRef": proposal["ref"]})
    assert answer.ok, answer.text()
    request.dispose()
    yield process
    assert process.stop() == 0


def no_script_page(browser: Browser, **options) -> Page:
    return browser.new_context(viewport={"width": 1024, "height": 700}, java_script_enabled=False, **options).new_page()


def axe_violations(page: Page) -> list[dict]:
    """axe-core run by the test itself, in a context that lets it past the app's CSP."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm install` in web/")
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return {passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))};
        }""",
        AXE_TAGS,
    )
    assert result["passes"] > 0, "axe ran no rule: wrong tags?"
    return result["violations"]


def test_the_landing_page_lists_every_scene_with_a_working_link_without_scripts(site, browser):
    page = no_script_page(browser)
    page.goto(site.url + "/")
    scenes = sorted(p.stem for p in (ROOT / "scenes").glob("*.json"))
    links = page.locator("#scene-list a")
    assert sorted(a.split("/")[-1] for a in links.evaluate_all("as => as.map(a => a.getAttribute('href'))")) == scenes
    with page.expect_navigation():
        page.click("#scene-list a[href='/scenes/town-hall']")
    assert page.inner_text("h1") == MANIFEST["title"]["en"]
    page.context.close()


def test_the_text_only_town_hall_shows_places_tour_and_hotspots_without_scripts(site, browser):
    page = no_script_page(browser)
    page.goto(site.url + "/scenes/town-hall?mode=text")
    places = page.locator("#zone-list li").all_inner_texts()
    assert [text.splitlines()[0] for text in places] == [zone["name"]["en"] for zone in MANIFEST["zones"]]
    stops = page.locator(".tour-stops li")
    assert stops.count() == len(MANIFEST["tour"]) and stops.first.is_visible()
    assert MANIFEST["tour"][0]["narration"]["en"] in stops.first.inner_text()
    hotspot = page.locator("#hotspot-list li")
    assert hotspot.count() == 1
    assert MARKUP in hotspot.inner_text()  # markup shown as text, not run
    assert hotspot.locator("[data-fact='status']").inner_text() == "Open"
    assert hotspot.locator("[data-fact='supports']").inner_text() == "0"
    assert page.locator("#hotspot-list img").count() == 0
    # Controls that need a script are not shown; what needs a live connection says so.
    for control in ("#tour-play", "#where-button", "#chat-form", "#prefs-button", "#lang-select"):
        assert not page.locator(control).is_visible(), control
    assert "JavaScript and a live connection" in page.inner_text("main")
    page.context.close()


def test_language_links_switch_the_language_without_scripts_and_it_is_kept(site, browser):
    page = no_script_page(browser, locale="en-GB")
    page.goto(site.url + "/scenes/town-hall?mode=text")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.click(".lang-links a[hreflang='fr']")
    page.wait_for_url("**/scenes/town-hall?mode=text&lang=fr")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.inner_text("#places-title") == "Lieux de ce bâtiment"
    assert page.inner_text("#zone-list li[data-id='corridor'] .mirror-button") == "Couloir"
    page.click("a[href='/accessibility']")
    assert page.evaluate("document.documentElement.lang") == "fr"  # kept for the next page, by the cookie
    assert page.inner_text("h1") == "Déclaration d’accessibilité"
    page.context.close()


def as_without_scripts(page: Page, url: str) -> None:
    """Opens `url` as a browser without scripts lays it out (the page's module scripts gone, its <noscript> parts
    parsed), while the test can still run axe-core: with scripting off, axe's own timers would never fire."""

    def serve(route: Route) -> None:
        response = route.fetch()
        html = re.sub(r'<script type="module"[^>]*></script>', "", response.text())
        route.fulfill(response=response, body=html.replace("<noscript>", "").replace("</noscript>", ""))

    page.route(url, serve)
    page.goto(url)


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_axe_violations_without_scripts(site, browser, path):
    page = browser.new_context(viewport={"width": 1024, "height": 700}, bypass_csp=True).new_page()
    as_without_scripts(page, site.url + path)
    assert page.locator(".lang-links").is_visible() and not page.locator("#lang-select").is_visible()
    assert axe_violations(page) == []
    page.context.close()


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_axe_violations_with_scripts_and_a_hotspot(site, browser, path):
    # The app's CSP refuses scripts the page did not load itself, as it should: this context lets axe-core in.
    page = browser.new_context(viewport={"width": 1024, "height": 700}, bypass_csp=True).new_page()
    page.goto(site.url + path)
    page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=120_000)
    if "mode=text" in path:
        page.wait_for_function("() => document.querySelector('#hotspot-list button')")
    assert axe_violations(page) == []
    page.context.close()


def test_a_language_an_older_version_kept_in_the_browser_is_handed_to_the_server_once(site, browser):
    context = browser.new_context(locale="en-GB")
    context.add_init_script("localStorage.getItem('civicSpace.prefs') ?? localStorage.setItem('civicSpace.prefs', "
                            "JSON.stringify({lang: 'nl', textSize: 125}))")
    page = context.new_page()
    page.goto(site.url + "/")
    page.wait_for_url("**/?lang=nl")
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    assert page.evaluate("document.documentElement.lang") == "nl"
    assert json.loads(page.evaluate("localStorage.getItem('civicSpace.prefs')")) == {"textSize": 125}
    page.goto(site.url + "/accessibility")  # the server's cookie keeps it now
    assert page.evaluate("document.documentElement.lang") == "nl"
    context.close()
