"""A public meeting as attendees see it, in headless Chromium: the events list, a meeting's page and the second-screen
captions page render and have no axe-core violations; a resident in the text-only scene page and one in 3D follow
the meeting live (state, current item, the floor and its countdown) and act with the keyboard alone (raise a hand and
hear their own place in the queue, ask a question and support it once, chat — a deleted line vanishes); a caption
typed by the captioner is seen on all three surfaces (the panel's log, the 3D caption bar, the second screen); a
banned resident is told so, and still is after reloading.

The module runs its own server (a fresh data directory with an admin made by the staff CLI, who chairs, moderates and
captions through the HTTP API), so its meetings never reach the other browser tests.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import APIRequestContext, Browser, Page, Playwright

from tests.e2e.conftest import PageWatch
from tests.support import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["EN-301-549", "wcag22aa"]
READY_TIMEOUT = 120_000
LIVE = 5_000  # "within a second" in practice; generous for a loaded CI machine
ADMIN, PASSWORD = "ada", "a long enough password"
AGENDA = [
    {"title": {"en": "Opening", "fr": "Ouverture"}, "description": {"en": "Welcome by the chair."},
     "documents": [{"title": "Minutes of last month", "url": "https://example.org/minutes.pdf"}]},
    {"title": {"en": "The new playground"}, "description": {"en": "Plans for the park."}, "documents": []},
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("event-data")
    subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data), "add", ADMIN, "--role", "admin",
                    "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT, check=True, capture_output=True)
    process = ServerProcess(data, name="events")
    yield process
    assert process.stop() == 0


@pytest.fixture(scope="module")
def staff(site: ServerProcess, playwright_instance: Playwright) -> Iterator[tuple[APIRequestContext, str]]:
    request = playwright_instance.request.new_context(base_url=site.url)
    answer = request.post("/api/auth/login", data={"username": ADMIN, "password": PASSWORD})
    assert answer.ok, answer.text()
    yield request, answer.json()["csrf"]
    request.dispose()


def call(staff, method: str, url: str, body: dict | None = None) -> dict:
    request, csrf = staff
    answer = request.fetch(url, method=method, data=body, headers={"X-CSRF-Token": csrf})
    assert answer.ok, f"{method} {url}: {answer.status} {answer.text()}"
    return answer.json() if answer.text() else {}


def show_slide(staff, event_id: int, alt: str) -> dict:
    """Uploads a small PNG slide with its text alternative and shows it."""
    request, csrf = staff
    png = io.BytesIO()
    Image.new("RGB", (320, 180), (13, 92, 99)).save(png, format="PNG")
    answer = request.post(f"/api/events/{event_id}/slides", headers={"X-CSRF-Token": csrf}, multipart={
        "image": {"name": "slide.png", "mimeType": "image/png", "buffer": png.getvalue()},
        "alt": json.dumps({"en": alt})})
    assert answer.ok, answer.text()
    slide = answer.json()
    call(staff, "POST", f"/api/events/{event_id}/slide", {"slideId": slide["id"]})
    return slide


def new_meeting(staff, title: str) -> dict:
    return call(staff, "POST", "/api/events", {
        "scene": "town-hall", "zone": "council-chamber", "title": {"en": title, "fr": f"{title} (fr)"},
        "description": {"en": "A public meeting of the neighbourhood council."}, "startsAt": 1_900_000_000,
        "endsAt": 1_900_007_200, "timezone": "Europe/Brussels", "capacity": 50, "agenda": AGENDA})


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 700}, bypass_csp=True)
    page = context.new_page()
    page.watch = PageWatch(page)  # type: ignore[attr-defined]
    yield page
    context.close()


def new_page(browser: Browser, width: int = 1024) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 700}).new_page()
    page.watch = PageWatch(page)  # type: ignore[attr-defined]
    return page


def axe_violations(page: Page) -> list[dict]:
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
    assert result["passes"] > 0
    return result["violations"]


def open_meeting(page: Page, base: str, event_id: int, mode: str = "text") -> dict:
    query = f"?event={event_id}&at=council-chamber" + ("&mode=text" if mode == "text" else "")
    page.goto(f"{base}/scenes/town-hall{query}")
    page.wait_for_function("() => document.body.dataset.state !== 'loading'", timeout=READY_TIMEOUT)
    state = page.evaluate("() => window.civicSpace.ready")
    page.wait_for_selector("#event:not([hidden])", timeout=LIVE)
    page.wait_for_function("() => document.getElementById('event-panel-state').textContent !== ''", timeout=LIVE)
    return state


def handle_of(page: Page, event_id: int) -> str:
    return page.evaluate(f"() => fetch('/api/events/{event_id}/me').then(r => r.json()).then(me => me.handle)")


def said(page: Page, text: str) -> None:
    page.wait_for_function("(text) => window.civicSpace.announcements().some((a) => a.includes(text))", arg=text,
                           timeout=LIVE)


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"never reached with Tab: {selector}")


# --- the pages ------------------------------------------------------------------------------------------------------


def test_the_events_pages_render_and_have_no_axe_violations(site, staff, axe_page):
    event = new_meeting(staff, "Council of the west district")
    axe_page.goto(f"{site.url}/events")
    axe_page.wait_for_function("() => document.body.dataset.state === 'ready'")
    assert axe_page.locator(f"a[href='/events/{event['id']}']").inner_text() == "Council of the west district"
    assert axe_violations(axe_page) == []

    axe_page.goto(f"{site.url}/events/{event['id']}")
    axe_page.wait_for_function("() => document.body.dataset.state === 'ready'")
    join = axe_page.get_attribute("#join-3d", "href")
    assert join == f"/scenes/town-hall?event={event['id']}&at=council-chamber"
    assert axe_page.get_attribute("#join-text", "href") == join + "&mode=text"
    assert axe_page.get_attribute("#captions-link", "href") == f"/events/{event['id']}/captions"
    assert axe_page.get_attribute("#calendar-link", "href") == f"/events/{event['id']}/event.ics"
    assert "Minutes of last month" in axe_page.inner_text("#agenda-list")
    assert axe_violations(axe_page) == []
    # The page follows the meeting: doors open, then the current item is marked.
    call(staff, "POST", f"/api/events/{event['id']}/state", {"to": "live"})
    call(staff, "POST", f"/api/events/{event['id']}/item", {"index": 1})
    axe_page.wait_for_function("() => document.querySelector('#agenda-list li[data-index=\"1\"]')"
                               ".getAttribute('aria-current') === 'step'", timeout=LIVE)
    assert axe_page.inner_text("#event-state") == "Live"
    assert axe_page.inner_text("#event-current-title") == "The new playground"
    assert axe_violations(axe_page) == []

    axe_page.goto(f"{site.url}/events/{event['id']}/captions?lang=fr")
    axe_page.wait_for_function("() => document.body.dataset.state === 'ready'")
    assert axe_page.get_attribute("#captions-log", "role") == "log"
    call(staff, "POST", f"/api/events/{event['id']}/captions", {"text": "Bonsoir à toutes et à tous."})
    axe_page.wait_for_selector("#captions-lines .caption-latest", timeout=LIVE)
    assert axe_violations(axe_page) == []
    # The high-contrast preference keeps light text on black (the page's own palette is already the contrast).
    axe_page.evaluate("() => document.documentElement.dataset.contrast = 'high'")
    colours = axe_page.evaluate("() => [getComputedStyle(document.body).backgroundColor,"
                                " getComputedStyle(document.querySelector('.caption-latest')).color]")
    assert colours == ["rgb(0, 0, 0)", "rgb(255, 255, 255)"]
    assert axe_violations(axe_page) == []
    assert axe_page.watch.errors == []


def test_a_meeting_in_text_mode_by_keyboard_and_in_3d_with_captions_on_three_surfaces(site, staff, browser):
    event = new_meeting(staff, "Neighbourhood council")
    eid = event["id"]
    text = new_page(browser)
    three = new_page(browser)
    second = new_page(browser, width=480)  # a phone
    try:
        state = open_meeting(text, site.url, eid, "text")
        assert state["mode"] == "text" and state["zone"] == "council-chamber"  # ?at= started it in the chamber
        assert text.inner_text("#event-panel-state") == "Scheduled"
        assert "Neighbourhood council" in text.inner_text("#event-heading")

        call(staff, "POST", f"/api/events/{eid}/state", {"to": "open"})
        said(text, "The doors are open")
        call(staff, "POST", f"/api/events/{eid}/state", {"to": "live"})
        call(staff, "POST", f"/api/events/{eid}/item", {"index": 0})
        said(text, "Now on the agenda: Opening")
        assert text.locator("#event-agenda li[aria-current='step']").inner_text().startswith("Opening")

        # Raise a hand with the keyboard alone: Tab to the topic, type, Enter.
        tab_to(text, "#hand-topic")
        text.keyboard.type("The swings")
        text.keyboard.press("Enter")
        said(text, "You are number 1 in the queue")
        text.wait_for_function("() => document.getElementById('hand-button').textContent === 'Lower hand'")
        assert text.evaluate("() => document.activeElement.id") == "hand-topic"  # focus stays where it was
        assert text.inner_text("#event-hands").startswith("Guest")

        # The 3D resident joins and raises a hand too: second in the queue.
        state3 = open_meeting(three, site.url, eid, "3d")
        assert state3["mode"] == "3d" and state3["zone"] == "council-chamber"
        # The chamber's wall shows the current item.
        three.wait_for_function("() => document.getElementById('event').dataset.wall === 'Live: 1. Opening'",
                                timeout=LIVE)
        three.focus("#hand-topic")
        three.keyboard.press("Enter")
        said(three, "You are number 2 in the queue")

        # The chair gives the floor to the first: the text resident hears it, the 3D one moves up.
        call(staff, "POST", f"/api/events/{eid}/floor", {"handle": handle_of(text, eid), "seconds": 120})
        said(text, "You have the floor for 2:00")
        said(three, "You are now number 1 in the queue")
        assert text.inner_text("#event-floor") == "You have the floor."
        minutes, seconds = text.inner_text("#event-countdown").removesuffix(" left").split(":")
        assert 90 <= int(minutes) * 60 + int(seconds) <= 120  # counting down from 2:00 by the server's clock
        assert three.inner_text("#event-floor") == "Guest has the floor."

        # A written question, approved by the moderator, supported once.
        text.focus("#question-input")
        text.keyboard.type("Will the playground be open on Sundays?")
        text.keyboard.press("Enter")
        said(text, "Question sent")
        pending = call(staff, "GET", f"/api/events/{eid}/staff-view")["questions"]
        call(staff, "POST", f"/api/events/{eid}/questions/{pending[0]['id']}/review", {"state": "approved"})
        button = three.locator("#event-questions button[data-support]")
        button.wait_for(timeout=LIVE)
        button.focus()
        three.keyboard.press("Enter")
        said(three, "Your support is counted.")
        three.wait_for_function("() => document.querySelector('#event-questions button').textContent === 'Supported'")
        assert "Supports: 1" in three.inner_text("#event-questions")
        call(staff, "POST", f"/api/events/{eid}/questions/{pending[0]['id']}/answering", {})
        said(text, "Now answering the question: Will the playground be open on Sundays?")
        assert text.locator("#event-questions li[aria-current='true']").count() == 1

        # Chat: sent by keyboard, seen by the other; deleted by a moderator, gone for both.
        three.focus("#event-chat-input")
        three.keyboard.type("Hello from the chamber")
        three.keyboard.press("Enter")
        line = text.locator("#event-chat li", has_text="Hello from the chamber")
        line.wait_for(timeout=LIVE)
        chat_id = int(line.get_attribute("data-id"))
        call(staff, "DELETE", f"/api/events/{eid}/chat/{chat_id}")
        line.wait_for(state="detached", timeout=LIVE)
        assert three.locator(f"#event-chat li[data-id='{chat_id}']").count() == 0

        # A caption, seen on the three surfaces: the log in the panel, the 3D caption bar, the second screen.
        second.goto(f"{site.url}/events/{eid}/captions")
        second.wait_for_function("() => document.body.dataset.state === 'ready'")
        call(staff, "POST", f"/api/events/{eid}/captions", {"text": "Good evening and welcome."})
        for page, where in ((text, "#event-captions"), (three, "#caption-bar"), (second, "#captions-log")):
            page.locator(where, has_text="Good evening and welcome.").wait_for(timeout=LIVE)
        assert text.get_attribute("#event-captions", "role") == "log"
        assert text.get_attribute("#event-captions", "aria-live") is None  # the log role's polite default
        assert three.is_visible("#caption-bar") and three.get_attribute("#caption-bar", "aria-hidden") == "true"
        assert "caption-latest" in second.get_attribute("#captions-lines li:last-child", "class")
        for page in (text, three, second):
            assert page.watch.errors == [], page.watch.errors
        call(staff, "POST", f"/api/events/{eid}/item", {"index": 1})
        three.wait_for_function("() => document.getElementById('event').dataset.wall === 'Live: 2. The new playground'",
                                timeout=LIVE)
        show_slide(staff, eid, "The playground plan")
        three.wait_for_function("(want) => document.getElementById('event').dataset.wall === want",
                                arg="2. The new playground [slide]", timeout=LIVE)
        said(text, "A new slide is shown.")
        assert text.get_attribute("#event-slide-image", "alt") == "The playground plan"
    finally:
        for page in (text, three, second):
            page.context.close()


def test_the_meeting_panel_in_text_mode_has_no_axe_violations(site, staff, axe_page):
    event = new_meeting(staff, "Hearing on the square")
    call(staff, "POST", f"/api/events/{event['id']}/state", {"to": "live"})
    call(staff, "POST", f"/api/events/{event['id']}/item", {"index": 1})
    call(staff, "POST", f"/api/events/{event['id']}/captions", {"text": "We begin."})
    show_slide(staff, event["id"], "A map of the square with the new trees in green.")
    open_meeting(axe_page, site.url, event["id"], "text")
    axe_page.wait_for_selector("#event-captions .caption-line")
    # The slide: an image with its text alternative, the same text shown under it.
    image = axe_page.locator("#event-slide-image")
    assert image.get_attribute("alt") == "A map of the square with the new trees in green."
    axe_page.wait_for_function("() => document.getElementById('event-slide-image').naturalWidth > 0")
    assert axe_page.inner_text("#event-slide-caption") == "A map of the square with the new trees in green."
    assert axe_violations(axe_page) == []
    # High contrast and the largest text keep it clean.
    axe_page.click("#prefs-button")
    axe_page.check("#pref-contrast")
    axe_page.check("#pref-text-150")
    axe_page.keyboard.press("Escape")
    assert axe_violations(axe_page) == []


def test_a_banned_resident_is_told_and_stays_out_after_reloading(site, staff, browser):
    event = new_meeting(staff, "Council with an unruly guest")
    eid = event["id"]
    call(staff, "POST", f"/api/events/{eid}/state", {"to": "live"})
    page = new_page(browser)
    try:
        open_meeting(page, site.url, eid, "text")
        page.focus("#event-chat-input")
        call(staff, "POST", f"/api/events/{eid}/moderation", {"action": "ban", "handle": handle_of(page, eid)})
        page.wait_for_selector("#event-removed:not([hidden])", timeout=LIVE)
        assert page.evaluate("() => document.activeElement.id") == "event-heading"  # not lost with the controls
        assert page.get_attribute("#event-removed", "role") == "alert"
        assert page.inner_text("#event-removed-title") == "You cannot take part in this meeting"
        assert page.is_hidden("#event-live-parts")
        page.reload()
        page.wait_for_function("() => document.body.dataset.state !== 'loading'", timeout=READY_TIMEOUT)
        page.wait_for_selector("#event-removed:not([hidden])", timeout=LIVE)
        assert page.is_hidden("#event-live-parts")
        # The second screen refuses too.
        page.goto(f"{site.url}/events/{eid}/captions")
        page.wait_for_function("() => document.getElementById('captions-status').textContent.includes('banned')",
                               timeout=LIVE)
    finally:
        page.context.close()


def test_a_scene_page_naming_a_meeting_that_does_not_exist_says_so(site, browser):
    page = new_page(browser)
    try:
        page.goto(f"{site.url}/scenes/town-hall?event=987654&mode=text")
        page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=READY_TIMEOUT)
        page.wait_for_function("() => document.getElementById('event-connection').textContent"
                               " === 'This meeting no longer exists.'", timeout=LIVE)
    finally:
        page.context.close()


def test_a_meeting_deleted_while_attended_says_so_and_stops(site, staff, browser):
    event = new_meeting(staff, "Meeting that will be called off")
    eid = event["id"]
    page = new_page(browser)
    try:
        open_meeting(page, site.url, eid, "text")
        version = staff[0].get(f"/api/events/{eid}").json()["version"]
        call(staff, "DELETE", f"/api/events/{eid}?version={version}")
        page.wait_for_selector("#event-removed:not([hidden])", timeout=LIVE)
        assert page.inner_text("#event-removed-title") == "This meeting was called off"
        assert page.is_hidden("#event-live-parts")
    finally:
        page.context.close()


def test_a_link_without_a_place_still_shows_the_meeting_on_its_rooms_wall(site, staff, browser):
    """`/scenes/town-hall?event=N` (no `at=`, as a resident may share it): the wall hangs in the meeting's zone."""
    event = new_meeting(staff, "Budget hearing")
    eid = event["id"]
    call(staff, "POST", f"/api/events/{eid}/state", {"to": "live"})
    call(staff, "POST", f"/api/events/{eid}/item", {"index": 0})
    page = new_page(browser)
    try:
        page.goto(f"{site.url}/scenes/town-hall?event={eid}")
        page.wait_for_function("() => document.body.dataset.state !== 'loading'", timeout=READY_TIMEOUT)
        page.wait_for_function("() => (document.getElementById('event').dataset.wall || '').startsWith('Live: 1.')",
                               timeout=LIVE)
    finally:
        page.context.close()


def test_the_recording_indicator_follows_the_meeting_and_the_ended_page_offers_the_recording(site, staff, browser,
                                                                                           axe_page):
    """A resident listening in the panel and a visitor listening on the meeting's page see (and hear said) that the
    meeting is recorded; when it ends the indicator goes, nothing offers "Stop listening", hands are said to be
    closed; the meeting's page then lists the recording beside the transcript, without any script."""
    event = new_meeting(staff, "Council on the record")
    eid = event["id"]
    call(staff, "POST", f"/api/events/{eid}/state", {"to": "live"})
    resident = new_page(browser)
    try:
        open_meeting(resident, site.url, eid, "text")
        axe_page.goto(f"{site.url}/events/{eid}")
        axe_page.wait_for_function("() => document.body.dataset.state === 'ready'")
        assert resident.is_hidden("#event-audio-recording") and axe_page.is_hidden("#page-audio-recording")
        for page, prefix in ((resident, "event-audio"), (axe_page, "page-audio")):
            page.click(f"#{prefix}-listen")
            page.wait_for_function("(id) => document.getElementById(id).textContent === 'Stop listening'",
                                   arg=f"{prefix}-listen", timeout=LIVE)

        call(staff, "POST", f"/api/events/{eid}/recording", {"on": True})
        resident.wait_for_selector("#event-audio-recording", state="visible", timeout=LIVE)
        said(resident, "The meeting’s audio is now being recorded.")
        axe_page.wait_for_selector("#page-audio-recording", state="visible", timeout=LIVE)

        call(staff, "POST", f"/api/events/{eid}/state", {"to": "ended"})
        resident.wait_for_selector("#event-audio-recording", state="hidden", timeout=LIVE)
        axe_page.wait_for_selector("#page-audio-recording", state="hidden", timeout=LIVE)
        assert axe_page.inner_text("#page-audio-listen") == "Listen"
        assert resident.inner_text("#event-audio-listen") == "Listen"
        assert resident.get_attribute("#event-audio-listen", "aria-disabled") == "true"
        assert resident.inner_text("#event-audio-state") == "The meeting’s audio has ended."
        assert resident.inner_text("#hand-position") == "The meeting has ended: hands, questions and chat are closed."
        said(resident, "The meeting has ended")

        # The recorder finishes the file after the end: the page lists it once it is stored.
        axe_page.wait_for_function(
            f"() => fetch('/api/events/{eid}').then((r) => r.json()).then((e) => e.recordings.length === 1)",
            timeout=LIVE, polling=200)
        axe_page.goto(f"{site.url}/events/{eid}")
        link = axe_page.locator("#transcript-heading ~ ul a.event-recording")
        assert link.inner_text() == "Audio recording (Ogg), 1 min"
        assert link.get_attribute("href") == f"/events/{eid}/recording.ogg"
        assert axe_page.locator("#transcript-heading ~ ul .event-file-size").inner_text().endswith("kB)")
        answer = axe_page.request.get(f"{site.url}/events/{eid}/recording.ogg")
        assert answer.status == 200 and answer.headers["content-type"] == "audio/ogg"
        assert answer.body()[:4] == b"OggS"
        assert axe_violations(axe_page) == []
        assert resident.watch.errors == [] and axe_page.watch.errors == []  # type: ignore[attr-defined]
    finally:
        resident.context.close()
