"""Hotspots in the browser: an editor signs in (keyboard), places hotspots (straight ahead and by clicking the 3D view),
edits, moves, deletes with undo, meets a conflict; residents in other browsers see every change live, open the
panel by keyboard or on the marker, read the linked proposal's live state and support a local proposal once per
browser; script in any text stays text; residents see no edit controls; axe finds nothing with the panel or the
editor's form open; the text-only mode lists hotspots and opens their panel without downloading any 3D; a Decidim
proposal reads as the platform says (machine translation marked, a custom state in its own words, a removed proposal
said plainly) and the editor is warned when a save links a proposal the platform does not show.

The module runs its own server (a fresh data directory with a staff account made by the staff CLI), so the hotspots
made here never reach the other browser tests.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import APIRequestContext, Browser, Page, Playwright, Route

from tests.e2e.conftest import PageWatch
from tests.fake_platforms import FakeDecidim
from tests.support import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["EN-301-549", "wcag22aa"]
READY_TIMEOUT = 120_000
LIVE_TIMEOUT = 5_000  # "appears for everyone within a few seconds"
EDITOR, PASSWORD = "edith", "a long enough password"
SCRIPT = "<img src=x onerror=alert(1)>"
THREE_D_DOWNLOADS = ("/vendor/three", "/assets/", "viewer.js", "avatars.js", "hotspot-markers.js", "editor.js")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("hotspot-data")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "server",
            "staff",
            "--data-dir",
            str(data),
            "add",
            EDITOR,
            "--role",
            "editor",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        text=True,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    # 127.0.0.1 on the platform allow-list: the documented way to read a local platform (the fake Decidim below).
    process = ServerProcess(data, "--platform-hosts", "127.0.0.1", name="hotspots")
    yield process
    assert process.stop() == 0


@pytest.fixture(scope="module")
def staff_api(site: ServerProcess, playwright_instance: Playwright) -> Iterator[tuple[APIRequestContext, str]]:
    """An editor's HTTP session beside the browsers (setting the scene up, and the "someone else" of conflicts)."""
    request = playwright_instance.request.new_context(base_url=site.url)
    answer = request.post("/api/auth/login", data={"username": EDITOR, "password": PASSWORD})
    assert answer.ok, answer.text()
    yield request, answer.json()["csrf"]
    request.dispose()


@pytest.fixture(scope="module")
def decidim() -> Iterator[tuple[FakeDecidim, str]]:
    """A fake Decidim 0.30 (tests/fake_platforms.py: real queries against its schema) on a free local port, served
    from its own thread; yields the fake (to change its content) and its origin."""
    fake = FakeDecidim(version="0.30")
    loop = asyncio.new_event_loop()  # everything async happens in the thread: Playwright's loop owns this one
    runner = web.AppRunner(fake.app())
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="fake-decidim", daemon=True)
    thread.start()
    assert started.wait(timeout=30)
    yield fake, f"http://127.0.0.1:{runner.addresses[0][1]}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


def api_write(staff_api, method: str, url: str, body: dict | None = None) -> dict:
    request, csrf = staff_api
    answer = request.fetch(url, method=method, data=body, headers={"X-CSRF-Token": csrf})
    assert answer.ok, answer.text()
    return answer.json()


def new_hotspot(staff_api, title: str, x: float = 0.0, **fields) -> dict:
    body = {"position": [x, 1.6, -0.85], "normal": [0, 0, 1], "kind": "information", "title": {"en": title}, **fields}
    return api_write(staff_api, "POST", "/api/scenes/town-hall/hotspots", body)


def new_page(browser: Browser, **options) -> Page:
    context = browser.new_context(viewport={"width": 1024, "height": 640}, **options)
    page = context.new_page()
    page.watch = PageWatch(page)  # type: ignore[attr-defined]
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))  # type: ignore[attr-defined]
    return page


@pytest.fixture
def pages(browser: Browser) -> Iterator[list[Page]]:
    made: list[Page] = []
    yield made
    for page in made:
        page.context.close()


def open_scene(page: Page, base: str, query: str = "") -> dict:
    page.goto(f"{base}/scenes/town-hall{query}")
    state = page.evaluate("() => window.civicSpace.ready")
    page.wait_for_function("() => window.civicSpace.hotspots.loaded")
    return state


def sign_in_with_keyboard(page: Page) -> None:
    page.focus("#staff-signin")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "signin-username"
    page.keyboard.type(EDITOR)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.civicSpace.staff.user()?.role === 'editor'")
    page.wait_for_function("() => document.activeElement.id === 'edit-toggle'")


def edit_mode(page: Page) -> None:
    page.focus("#edit-toggle")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.civicSpace.staff.editing()")


def wait_hotspot(page: Page, hotspot_id: int, present: bool = True) -> None:
    page.wait_for_function(
        """([id, present]) => {
            const inList = !!document.querySelector(`#hotspot-list li[data-id="${id}"]`);
            const inData = window.civicSpace.hotspots.list().some(h => h.id === id);
            const marker = window.civicSpace.hotspots.markers().some(m => m.id === id);
            const wanted = window.civicSpace.state().mode === '3d' ? [inList, inData, marker] : [inList, inData];
            return wanted.every(v => v === present);
        }""",
        arg=[hotspot_id, present],
        timeout=LIVE_TIMEOUT,
    )


def panel_fact(page: Page, name: str) -> str:
    return page.inner_text(f"#hotspot-dialog dd[data-fact='{name}']")


def active_in(page: Page, selector: str) -> bool:
    return page.evaluate("(s) => !!document.querySelector(s)?.contains(document.activeElement)", selector)


def axe_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return {passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))};
        }""",
        AXE_TAGS,
    )
    assert result["passes"] > 0
    return result["violations"]


# --- placing, seeing live, reading ---------------------------------------------------------------------------------


def test_staff_hotspot_appears_for_all_residents_and_opens_by_keyboard(site, browser, pages):
    resident = new_page(browser)
    editor = new_page(browser)
    pages += [resident, editor]
    open_scene(resident, site.url)
    open_scene(editor, site.url)
    before = {h["id"] for h in resident.evaluate("() => window.civicSpace.hotspots.list()")}

    sign_in_with_keyboard(editor)
    edit_mode(editor)
    # "Place here": straight ahead of the walker's eyes, the form opens with focus inside.
    editor.keyboard.press("Tab")
    assert editor.evaluate("() => document.activeElement.id") == "place-here"
    editor.keyboard.press("Enter")
    editor.wait_for_selector("#hotspot-form[open]")
    assert active_in(editor, "#hotspot-form")
    editor.fill("#hotspot-title-en", "Bike parking at the entrance")
    editor.fill("#hotspot-title-fr", "Parking vélos à l'entrée")
    editor.fill("#hotspot-description-en", "Where should the new racks go?")
    editor.screenshot(path="/tmp/hotspots/editor-form.png")
    editor.focus("#hotspot-save")
    editor.keyboard.press("Enter")
    editor.wait_for_selector("#hotspot-form", state="hidden")
    first = editor.evaluate("() => window.civicSpace.hotspots.list().at(-1)")
    assert first["id"] not in before and first["title"]["en"] == "Bike parking at the entrance"
    assert math.isclose(first["position"][1], 1.6, abs_tol=0.05)  # at eye height, straight ahead
    # The resident sees it without reloading: data, mirror item and 3D marker.
    wait_hotspot(resident, first["id"])

    # The click path: a click on the 3D view places a hotspot where the ray meets the scene.
    box = editor.locator("#canvas").bounding_box()
    editor.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.55)
    editor.wait_for_selector("#hotspot-form[open]")
    editor.check("#hotspot-kind-event")
    editor.fill("#hotspot-title-en", "Open day on Saturday")
    editor.click("#hotspot-save")
    editor.wait_for_selector("#hotspot-form", state="hidden")
    second = editor.evaluate("() => window.civicSpace.hotspots.list().at(-1)")
    assert second["id"] != first["id"] and second["kind"] == "event"
    assert math.isclose(math.hypot(*second["normal"]), 1, abs_tol=1e-3)
    wait_hotspot(resident, second["id"])
    resident.wait_for_timeout(600)
    resident.screenshot(path="/tmp/hotspots/resident-markers.png")

    # The resident opens the first one from the mirror with the keyboard: goes there, the panel takes focus.
    selector = f"#hotspot-list li[data-id='{first['id']}'] .mirror-button"
    resident.focus(selector)
    resident.keyboard.press("Enter")
    resident.wait_for_selector("#hotspot-dialog[open]")
    assert active_in(resident, "#hotspot-dialog")
    assert resident.inner_text("#hotspot-title") == "Bike parking at the entrance"
    assert "Where should the new racks go?" in resident.inner_text("#hotspot-dialog")
    x, _, z = resident.evaluate("() => window.civicSpace.state().position")
    assert 1.0 < math.dist([x, z], [first["position"][0], first["position"][2]]) < 3.5
    resident.screenshot(path="/tmp/hotspots/panel.png")
    resident.keyboard.press("Escape")
    assert not resident.locator("#hotspot-dialog").is_visible()
    assert resident.evaluate("(s) => document.activeElement === document.querySelector(s)", selector)

    # Clicking its marker in the 3D view opens the same panel; focus returns to the view.
    point = resident.evaluate("(id) => window.civicSpace.hotspots.screenPoint(id)", first["id"])
    assert point is not None
    resident.mouse.click(point["x"], point["y"])
    resident.wait_for_selector("#hotspot-dialog[open]")
    resident.keyboard.press("Escape")
    assert resident.evaluate("() => document.activeElement.id") == "view"

    # The French resident reads the French title, with no lang override; English-only ones are marked lang=en.
    french = new_page(browser)
    pages.append(french)
    open_scene(french, site.url, "?lang=fr")
    button = french.locator(f"#hotspot-list li[data-id='{first['id']}'] .mirror-button")
    assert button.inner_text() == "Parking vélos à l'entrée" and button.get_attribute("lang") is None
    other = french.locator(f"#hotspot-list li[data-id='{second['id']}'] .mirror-button")
    assert other.get_attribute("lang") == "en"
    labels = {m["id"]: m["label"] for m in french.evaluate("() => window.civicSpace.hotspots.markers()")}
    assert labels[first["id"]] == "Parking vélos à l'entrée"
    for page in (resident, editor, french):
        assert page.watch.errors == [] and page.dialogs == []


def test_a_local_proposal_is_supported_once_per_browser_and_counts_live(site, browser, pages, staff_api):
    proposal = api_write(
        staff_api,
        "POST",
        "/api/proposals",
        {
            "title": {"en": "More trees on the square"},
            "summary": {"en": "Plant twelve lime trees."},
            "deadline": "2030-06-30",
        },
    )
    hotspot = new_hotspot(staff_api, "Trees for the square", x=1.5, kind="proposal")
    editor, ann, bob = new_page(browser), new_page(browser), new_page(browser)
    pages += [editor, ann, bob]
    for page in (editor, ann, bob):
        open_scene(page, site.url)

    # The editor links it through the form: search the local proposals by text.
    sign_in_with_keyboard(editor)
    edit_mode(editor)
    editor.click(f"#hotspot-list li[data-id='{hotspot['id']}'] .mirror-edit")
    editor.wait_for_selector("#hotspot-form[open]")
    editor.fill("#proposal-search", "trees")
    editor.click("#proposal-search-button")
    editor.click("#proposal-results li:has-text('More trees on the square') button")
    assert "More trees on the square" in editor.inner_text("#linked-proposal")
    editor.click("#hotspot-save")
    editor.wait_for_selector("#hotspot-form", state="hidden")

    for page in (ann, bob):
        page.wait_for_function(
            "([id, ref]) => window.civicSpace.hotspots.list().find(h => h.id === id)?.proposalRef === ref",
            arg=[hotspot["id"], proposal["ref"]],
            timeout=LIVE_TIMEOUT,
        )
        page.evaluate("(id) => window.civicSpace.hotspots.open(id)", hotspot["id"])
        page.wait_for_selector("#hotspot-dialog dd[data-fact='supports']")
        assert page.inner_text("#proposal-title") == "More trees on the square"
        assert panel_fact(page, "status") == "Open" and panel_fact(page, "supports") == "0"
        assert "2030" in panel_fact(page, "deadline")
        assert page.locator("#hotspot-dialog .proposal-updated").is_hidden()  # local: no "last updated"

    ann.click("#support-button")
    ann.wait_for_function("() => document.getElementById('support-status').textContent.startsWith('Thank you')")
    assert panel_fact(ann, "supports") == "1"
    bob.wait_for_function(
        "() => document.querySelector(\"dd[data-fact='supports']\").textContent === '1'", timeout=LIVE_TIMEOUT
    )  # live, in another resident's open panel
    assert ann.locator("#support-button").is_hidden()

    # Ann's browser again, even after forgetting it had supported: the server counts it once.
    ann.evaluate("() => localStorage.removeItem('civicSpace.supported')")
    open_scene(ann, site.url)
    ann.evaluate("(id) => window.civicSpace.hotspots.open(id)", hotspot["id"])
    ann.wait_for_selector("#support-button")
    ann.click("#support-button")
    ann.wait_for_function("() => document.getElementById('support-status').textContent.includes('already')")
    assert panel_fact(ann, "supports") == "1"
    for page in (editor, ann, bob):
        assert page.watch.errors == []


def test_the_list_line_of_a_proposal_follows_its_status_and_supports_live(site, browser, pages, staff_api):
    proposal = api_write(staff_api, "POST", "/api/proposals", {"title": {"en": "A crossing by the school"}})
    shown = new_hotspot(staff_api, "School crossing", x=2.5, kind="proposal", proposalRef=proposal["ref"])
    page = new_page(browser)
    pages.append(page)
    open_scene(page, site.url, "?mode=text")
    line = f"#hotspot-list li[data-id='{shown['id']}'] > .hotspot-proposal"
    assert page.inner_text(line) == "Proposal: A crossing by the school · Status: Open · Supports: 0"  # the server's
    box = page.locator(line).bounding_box()

    # Someone supports it (the same site, another browser), then staff accept it: the open page's line follows.
    request, _ = staff_api
    supported = request.post(f"/api/proposals/{proposal['id']}/support", data={}, headers={"Origin": site.url})
    assert supported.ok, supported.text()
    shows = "([s, text]) => document.querySelector(s)?.textContent === text"
    page.wait_for_function(shows, arg=[f"{line} [data-fact='supports']", "1"], timeout=LIVE_TIMEOUT)
    accept = {"version": proposal["version"], "status": "accepted"}
    api_write(staff_api, "PATCH", f"/api/proposals/{proposal['id']}", accept)
    page.wait_for_function(shows, arg=[f"{line} [data-fact='status']", "Accepted"], timeout=LIVE_TIMEOUT)
    assert page.inner_text(line) == "Proposal: A crossing by the school · Status: Accepted · Supports: 1"
    assert page.locator(line).bounding_box() == box  # refilled in place: nothing moved
    assert page.locator(f"{line}[aria-live], #hotspot-list[aria-live]").count() == 0

    # A hotspot added live gets the same line, for a proposal this page never read before.
    other = api_write(staff_api, "POST", "/api/proposals", {"title": {"en": "Lights on the crossing"}})
    late = new_hotspot(staff_api, "Crossing lights", x=2.8, kind="proposal", proposalRef=other["ref"])
    wait_hotspot(page, late["id"])
    late_line = f"#hotspot-list li[data-id='{late['id']}'] > .hotspot-proposal"
    page.wait_for_selector(late_line, timeout=LIVE_TIMEOUT)
    assert page.inner_text(late_line) == "Proposal: Lights on the crossing · Status: Open · Supports: 0"
    assert page.watch.errors == []


# --- script stays text ---------------------------------------------------------------------------------------------


def test_script_in_a_title_is_shown_as_text_everywhere(site, browser, pages, staff_api):
    resident = new_page(browser)
    pages.append(resident)
    open_scene(resident, site.url)
    images_before = resident.evaluate("() => document.querySelectorAll('img').length")
    proposal = api_write(staff_api, "POST", "/api/proposals", {"title": {"en": SCRIPT}, "summary": {"en": SCRIPT}})
    hotspot = new_hotspot(staff_api, SCRIPT, x=-1.5, description={"en": SCRIPT}, proposalRef=proposal["ref"])
    wait_hotspot(resident, hotspot["id"])
    button = resident.locator(f"#hotspot-list li[data-id='{hotspot['id']}'] .mirror-button")
    assert button.inner_text() == SCRIPT
    label = next(
        m["label"] for m in resident.evaluate("() => window.civicSpace.hotspots.markers()") if m["id"] == hotspot["id"]
    )
    assert label == SCRIPT
    button.focus()
    resident.keyboard.press("Enter")
    resident.wait_for_selector("#hotspot-dialog dd[data-fact='status']")
    assert resident.inner_text("#hotspot-title") == SCRIPT
    assert resident.inner_text("#proposal-title") == SCRIPT
    assert resident.inner_text("#hotspot-dialog .proposal-summary") == SCRIPT
    resident.wait_for_timeout(300)
    assert resident.evaluate("() => document.querySelectorAll('img').length") == images_before
    assert resident.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert resident.dialogs == [] and resident.watch.errors == []


# --- delete with undo, conflicts, moving ---------------------------------------------------------------------------


def test_delete_offers_undo_that_restores_for_everyone_and_a_stale_edit_shows_the_conflict(
    site, browser, pages, staff_api
):
    hotspot = new_hotspot(staff_api, "Notice board", x=-0.5)
    editor, resident = new_page(browser), new_page(browser)
    pages += [editor, resident]
    open_scene(resident, site.url)
    open_scene(editor, site.url)
    sign_in_with_keyboard(editor)
    edit_mode(editor)
    edit = f"#hotspot-list li[data-id='{hotspot['id']}'] .mirror-edit"

    editor.click(edit)
    editor.wait_for_selector("#hotspot-form[open]")
    editor.click("#hotspot-delete")
    editor.wait_for_selector("#editor-toast:not([hidden])")
    assert editor.evaluate("() => document.activeElement.id") == "undo-button"
    assert "Notice board" in editor.inner_text("#editor-toast")
    wait_hotspot(resident, hotspot["id"], present=False)
    editor.keyboard.press("Enter")  # Undo
    wait_hotspot(resident, hotspot["id"])
    wait_hotspot(editor, hotspot["id"])

    # A stale edit: someone else saves first; our save gets the conflict with their values; we reapply ours.
    editor.click(edit)
    editor.wait_for_selector("#hotspot-form[open]")
    current = editor.evaluate("(id) => window.civicSpace.hotspots.list().find(h => h.id === id)", hotspot["id"])
    api_write(
        staff_api,
        "PATCH",
        f"/api/hotspots/{hotspot['id']}",
        {"version": current["version"], "title": {"en": "Their notice board"}},
    )
    editor.fill("#hotspot-title-en", "Our notice board")
    editor.click("#hotspot-save")
    editor.wait_for_selector("#hotspot-form-conflict:not([hidden])")
    conflict = editor.inner_text("#hotspot-form-conflict")
    assert "Someone else changed this hotspot" in conflict and "Their notice board" in conflict
    assert editor.input_value("#hotspot-title-en") == "Our notice board"  # nothing lost
    editor.click("#conflict-reapply")
    editor.wait_for_selector("#hotspot-form", state="hidden")
    resident.wait_for_function(
        "(id) => window.civicSpace.hotspots.list().find(h => h.id === id)?.title.en === 'Our notice board'",
        arg=hotspot["id"],
        timeout=LIVE_TIMEOUT,
    )

    # Move: "Move", then a click on another surface; the resident's marker follows.
    editor.click(edit)
    editor.wait_for_selector("#hotspot-form[open]")
    editor.click("#hotspot-move")
    box = editor.locator("#canvas").bounding_box()
    editor.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.6)
    resident.wait_for_function(
        "([id, x]) => Math.abs(window.civicSpace.hotspots.list().find(h => h.id === id).position[0] - x) > 0.3",
        arg=[hotspot["id"], -0.5],
        timeout=LIVE_TIMEOUT,
    )
    # An API error is shown with its message (a title too long for the server).
    editor.click(edit)
    editor.wait_for_selector("#hotspot-form[open]")
    editor.evaluate("() => { const i = document.getElementById('hotspot-title-en'); i.maxLength = 500; }")
    editor.fill("#hotspot-title-en", "x" * 200)
    editor.click("#hotspot-save")
    editor.wait_for_selector("#hotspot-form-error:not([hidden])")
    assert "title" in editor.inner_text("#hotspot-form-error")
    # The only console errors are the browser's notes on the two refused requests (409, 422).
    assert all("409" in e or "422" in e for e in editor.watch.errors), editor.watch.errors


# --- residents, accessibility, text mode ---------------------------------------------------------------------------


def test_residents_see_no_edit_controls_and_make_no_staff_request(site, browser, pages, staff_api):
    new_hotspot(staff_api, "Library opening hours", x=0.8)
    resident = new_page(browser)
    pages.append(resident)
    open_scene(resident, site.url)
    assert resident.locator("#staff").is_hidden()
    assert not resident.locator("#edit-toggle").is_visible() and not resident.locator("#place-here").is_visible()
    assert resident.locator(".mirror-edit, #hotspot-form, #editor-toast").count() == 0
    assert resident.locator("#staff-signin").is_visible()
    assert not [u for u in resident.watch.requests if "/api/auth/" in u or "editor.js" in u]


def test_panel_and_editor_form_have_no_axe_violations(site, browser, pages, staff_api):
    proposal = api_write(staff_api, "POST", "/api/proposals", {"title": {"en": "A quieter street"}})
    hotspot = new_hotspot(
        staff_api,
        "Traffic calming",
        x=-1.0,
        kind="proposal",
        proposalRef=proposal["ref"],
        description={"en": "Tell us what you think."},
        link="https://example.org/traffic",
    )
    resident = new_page(browser, bypass_csp=True)
    pages.append(resident)
    open_scene(resident, site.url)
    resident.evaluate("(id) => window.civicSpace.hotspots.open(id)", hotspot["id"])
    resident.wait_for_selector("#hotspot-dialog dd[data-fact='supports']")
    link = resident.locator("#hotspot-dialog a.hotspot-link")
    assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"
    assert axe_violations(resident) == []

    editor = new_page(browser, bypass_csp=True)
    pages.append(editor)
    open_scene(editor, site.url)
    sign_in_with_keyboard(editor)
    assert axe_violations(editor) == []
    edit_mode(editor)
    editor.click(f"#hotspot-list li[data-id='{hotspot['id']}'] .mirror-edit")
    editor.wait_for_selector("#hotspot-form[open]")
    editor.fill("#proposal-search", "quieter")
    editor.click("#proposal-search-button")
    editor.wait_for_selector("#proposal-results li")
    assert axe_violations(editor) == []


def test_text_mode_lists_hotspots_and_opens_their_panel_without_3d(site, browser, pages, staff_api):
    hotspot = new_hotspot(staff_api, "Recycling centre", x=0.3)
    page = new_page(browser)
    pages.append(page)
    assert open_scene(page, site.url, "?mode=text")["mode"] == "text"
    wait_hotspot(page, hotspot["id"])
    page.focus(f"#hotspot-list li[data-id='{hotspot['id']}'] .mirror-button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#hotspot-dialog[open]")
    assert page.inner_text("#hotspot-title") == "Recycling centre"
    page.keyboard.press("Escape")
    assert page.evaluate("() => document.activeElement.closest('li')?.dataset.id") == str(hotspot["id"])
    # Live in text mode too.
    late = new_hotspot(staff_api, "Late addition", x=0.6)
    wait_hotspot(page, late["id"])
    assert not [u for u in page.watch.requests if any(part in u for part in THREE_D_DOWNLOADS)]
    assert page.watch.errors == []


# --- what the platform says about a proposal ----------------------------------------------------------------------


def test_a_decidim_proposal_reads_as_the_platform_says_translated_custom_state_or_removed(
    site, browser, pages, staff_api, decidim
):
    fake, origin = decidim
    fake.add_proposal(7, 42, title={"ca": "Més arbres al carrer Major"},
                      machine_title={"en": "More trees on Main Street"},
                      state="in_progress", state_title={"en": "In progress", "fr": "En cours"}, votes=5)
    fake.add_proposal(7, 43, title={"en": "A bench by the fountain"}, votes=2, comments=1)
    address = f"{origin}/processes/budgets-2025/f/7/proposals/{{}}"
    translated = new_hotspot(staff_api, "Street trees", x=-1.5, kind="proposal", proposalRef=address.format(42))
    removed = new_hotspot(staff_api, "Fountain bench", x=-2.5, kind="proposal", proposalRef=address.format(43))
    assert "warning" not in translated and "warning" not in removed  # the platform shows both

    english, french = new_page(browser), new_page(browser)
    pages += [english, french]
    for page, query in ((english, "?mode=text"), (french, "?mode=text&lang=fr")):
        open_scene(page, site.url, query)
        page.evaluate("(id) => window.civicSpace.hotspots.open(id)", translated["id"])
        page.wait_for_selector("#hotspot-dialog dd[data-fact='status']")
        # Decidim machine-translated the title: said as Decidim says it, in the resident's language.
        assert page.inner_text("#proposal-title") == "More trees on Main Street"
        assert page.locator("#proposal-translated").is_visible()
        assert panel_fact(page, "supports") == "5"
    assert english.inner_text("#proposal-translated") == "Automatically translated"
    assert french.inner_text("#proposal-translated") == "Traduit automatiquement"
    # A custom state shows its own title in the resident's language, not "Not stated".
    assert panel_fact(english, "status") == "In progress" and panel_fact(french, "status") == "En cours"
    assert english.locator("#proposal-gone").is_hidden()

    # Removed from the platform: the server keeps the last title and sends status "gone" with no counts
    # (docs/proposals.md). Its cache rereads a platform once a minute, so this browser is given that answer.
    def gone(route: Route) -> None:
        answer = route.fetch()
        proposal = answer.json()
        if proposal.get("ref", "").endswith("/proposals/43"):
            proposal.update(status="gone", supports=None, comments=None, stale=False)
        route.fulfill(response=answer, body=json.dumps(proposal))

    english.route("**/api/proposals/live?*", gone)
    english.keyboard.press("Escape")
    english.evaluate("(id) => window.civicSpace.hotspots.open(id)", removed["id"])
    english.wait_for_selector("#proposal-gone", state="visible")
    assert english.inner_text("#proposal-title") == "A bench by the fountain"
    assert "removed from the platform or is no longer public" in english.inner_text("#proposal-gone")
    for hidden in ("#hotspot-dialog .proposal-facts", "#hotspot-dialog .proposal-link", "#support-button",
                   "#proposal-translated", "#hotspot-dialog .proposal-stale"):
        assert english.locator(hidden).is_hidden(), hidden  # no counts, no way to take part, not "out of date"
    assert english.get_attribute("#hotspot-dialog .proposal", "data-state") == "gone"
    for page in (english, french):
        assert page.watch.errors == []


def test_the_editor_is_warned_when_a_save_links_a_proposal_the_platform_does_not_show(
    site, browser, pages, staff_api, decidim
):
    _, origin = decidim
    missing = new_hotspot(staff_api, "Old consultation", x=-3.5, kind="proposal",
                          proposalRef=f"{origin}/processes/budgets-2025/f/7/proposals/999")
    assert "no such proposal" in missing["warning"]  # saved all the same
    editor = new_page(browser)
    pages.append(editor)
    open_scene(editor, site.url, "?mode=text")
    sign_in_with_keyboard(editor)
    edit_mode(editor)
    editor.click(f"#hotspot-list li[data-id='{missing['id']}'] .mirror-edit")
    editor.wait_for_selector("#hotspot-form[open]")
    editor.fill("#hotspot-title-en", "Old consultation (closed)")
    editor.click("#hotspot-save")
    editor.wait_for_selector("#hotspot-form", state="hidden")  # the save went through
    editor.wait_for_selector("#editor-toast[data-tone='warning']", state="visible")
    toast = editor.inner_text("#editor-toast .toast-text")
    assert "Saved: Old consultation (closed)" in toast and "no such proposal" in toast
    editor.wait_for_function(
        "() => window.civicSpace.announcements().some(m => m.includes('no such proposal'))", timeout=LIVE_TIMEOUT
    )
    saved = next(h for h in editor.evaluate("() => window.civicSpace.hotspots.list()") if h["id"] == missing["id"])
    assert saved["title"]["en"] == "Old consultation (closed)" and "warning" not in saved
    editor.click("#toast-dismiss")
    assert editor.locator("#editor-toast").is_hidden()
    assert [e for e in editor.watch.errors if e.startswith("pageerror")] == []
