"""Public meetings from the staff side in Chromium: a host signs in and creates a meeting by keyboard (titles, scene
and zone from the catalog, times in the meeting's zone, an agenda reordered with the move buttons, duties) and adds
a slide that must have a text alternative; the chair runs it from the console (doors, start, next item, the floor
to a resident's raised hand with its countdown, a question approved and marked as being answered); the captioner
sends a line with Enter and a failed send keeps the typed text; axe-core finds nothing on the three pages.

The module runs its own server (a fresh data directory with staff accounts made by the staff CLI), so its meetings
never reach the other browser tests. Residents act through plain same-origin HTTP requests with their cookie.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import APIRequestContext, Browser, Page, Playwright

from tests.e2e.conftest import PageWatch
from tests.e2e.test_accessibility import axe_violations
from tests.support import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
LIVE = 5_000
PASSWORD = "a long enough password"
HOST, CHAIR, CAPTIONER, MODERATOR = "hana", "carla", "cato", "mona"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("event-console-data")
    for username, role in ((HOST, "host"), (CHAIR, "moderator"), (CAPTIONER, "editor"),
                           (MODERATOR, "moderator")):
        subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data), "add", username, "--role",
                        role, "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT, check=True,
                       capture_output=True)
    process = ServerProcess(data, name="event-console")
    yield process
    assert process.stop() == 0


@pytest.fixture(scope="module")
def slide_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("slides") / "budget.png"
    image = Image.new("RGB", (640, 360), (13, 92, 99))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def new_page(browser: Browser, *, axe: bool = False) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=axe)
    page = context.new_page()
    page.watch = PageWatch(page)  # type: ignore[attr-defined]
    return page


def press(page: Page, selector: str, key: str = "Enter") -> None:
    """Keyboard only: focus the control, then press the key."""
    page.focus(selector)
    page.keyboard.press(key)


def sign_in(page: Page, username: str) -> None:
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    press(page, "#staff-signin")
    assert page.evaluate("() => document.activeElement.id") == "signin-username"
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#sign-out", state="visible")


def errors(page: Page) -> list[str]:
    """The page's console errors but the one expected: `/api/auth/me` answers 401 before anyone signed in."""
    return [e for e in page.watch.errors if "status of 401" not in e]  # type: ignore[attr-defined]


def said(page: Page, text: str) -> None:
    """`text` was announced by the polite announcer (its history keeps every message)."""
    page.wait_for_function("(text) => window.civicSpace.announcer.history.some((m) => m.includes(text))", arg=text,
                           timeout=LIVE)



@pytest.fixture(scope="module")
def meeting(site: ServerProcess, browser: Browser, slide_png: Path) -> Iterator[dict]:
    """The host creates the meeting in the browser (keyboard); yields its id and the host's page."""
    page = new_page(browser)
    questions: list[str] = []

    def accept(dialog) -> None:  # type: ignore[no-untyped-def]
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.goto(site.url + "/staff/events")
    sign_in(page, HOST)
    page.wait_for_selector("#events-section", state="visible")
    press(page, "#new-event")
    page.wait_for_function("() => document.activeElement.id === 'editor-heading'")
    page.wait_for_function("() => document.querySelectorAll('#scene option').length >= 2")

    # Saving an empty form lists the problems, each a link to its field; nothing is sent.
    press(page, "#save-event")
    page.wait_for_function("() => document.activeElement.id === 'form-problems'")
    assert page.get_attribute("#title-en", "aria-invalid") == "true"
    page.locator("#form-problem-list a").first.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "title-en"

    page.fill("#title-en", "Neighbourhood council")
    page.fill("#title-fr", "Conseil de quartier")
    page.fill("#description-en", "The monthly council of the old town.")
    page.focus("#scene")
    page.select_option("#scene", "town-hall")
    page.wait_for_selector("#zone option[value='council-chamber']", state="attached")
    page.select_option("#zone", "council-chamber")
    page.fill("#timezone", "Europe/Amsterdam")
    page.fill("#start", "2030-06-01T19:00")
    page.fill("#end", "2030-06-01T21:00")
    page.fill("#capacity", "80")
    for title in ("Budget", "Opening"):
        press(page, "#add-item")
        index = page.locator("#agenda-items > li").count() - 1
        assert page.evaluate("() => document.activeElement.id") == f"item-{index}-title-en"
        page.keyboard.type(title)
    # "Opening" goes first: move item 2 up, by keyboard; focus follows the item.
    press(page, "[data-key='up:1']")
    assert page.evaluate("() => document.activeElement.dataset.key") == "up:0"
    assert page.input_value("#item-0-title-en") == "Opening" and page.input_value("#item-1-title-en") == "Budget"
    press(page, "[data-key='doc-add:1']")
    page.keyboard.type("Draft budget")
    page.fill("#item-1-doc-0-url", "https://example.org/budget.pdf")
    page.fill("#duty-chair", CHAIR)
    page.fill("#duty-moderator", CHAIR)
    page.fill("#duty-captioner", CAPTIONER)
    press(page, "#save-event")
    said(page, "Meeting “Neighbourhood council” created.")
    page.wait_for_selector("#slides-editor", state="visible")
    assert page.locator("#event-list > li").count() == 1

    # A slide without a text alternative is refused before upload; with one it is added.
    page.set_input_files("#slide-file", str(slide_png))
    press(page, "#slide-upload")
    page.wait_for_function("() => document.getElementById('slide-error').textContent.includes('text alternative')")
    assert page.evaluate("() => document.activeElement.id") == "slide-alt-en"
    page.keyboard.type("Bar chart: the 2031 budget by district")
    press(page, "#slide-upload")
    said(page, "Slide uploaded.")
    page.wait_for_selector("#slides-editor-list img[alt='Bar chart: the 2031 budget by district']")
    edit_key = page.get_attribute("#event-list [data-key^='edit:']", "data-key") or ""
    event_id = int(edit_key.split(":")[1])
    assert errors(page) == []
    yield {"id": event_id, "host_page": page, "questions": questions}
    page.context.close()


@pytest.fixture(scope="module")
def host_api(site: ServerProcess, playwright_instance: Playwright) -> Iterator[tuple[APIRequestContext, str]]:
    """The host's HTTP session beside the browsers (one sign-in: sign-ins are rate-limited per account)."""
    api, csrf = staff_api(playwright_instance, site, HOST)
    yield api, csrf
    api.dispose()


def resident(playwright_instance: Playwright, site: ServerProcess) -> APIRequestContext:
    return playwright_instance.request.new_context(base_url=site.url, extra_http_headers={"Origin": site.url})


def test_host_creates_a_meeting_that_the_api_shows_with_its_agenda_and_slide(site, meeting, playwright_instance):
    api = resident(playwright_instance, site)
    event = api.get(f"/api/events/{meeting['id']}").json()
    api.dispose()
    assert event["title"] == {"en": "Neighbourhood council", "fr": "Conseil de quartier"}
    assert event["scene"] == "town-hall" and event["zone"] == "council-chamber"
    assert event["timezone"] == "Europe/Amsterdam" and event["startsAt"] == 1906563600  # 17:00 UTC
    assert [item["title"]["en"] for item in event["agenda"]] == ["Opening", "Budget"]
    assert event["agenda"][1]["documents"] == [{"title": "Draft budget", "url": "https://example.org/budget.pdf"}]
    assert event["capacity"] == 80
    assert [slide["alt"] for slide in event["slides"]] == [{"en": "Bar chart: the 2031 budget by district"}]


def test_chair_runs_the_meeting_from_the_console_by_keyboard(site, meeting, browser, playwright_instance):
    page = new_page(browser)
    page.goto(f"{site.url}/events/{meeting['id']}/console")
    sign_in(page, CHAIR)
    page.wait_for_selector("#console-body", state="visible")
    page.wait_for_function("() => document.getElementById('state-text').textContent.includes('scheduled')")
    assert page.locator("#state-actions button").all_inner_texts() == ["Open the doors", "Start the meeting"]

    press(page, "[data-key='state:open']")
    said(page, "The doors are open.")
    page.wait_for_function("() => document.getElementById('state-text').textContent.includes('open')")
    press(page, "[data-key='state:live']")
    said(page, "The meeting has started.")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#state-actions button')].map((b) => b.textContent).join() === "
        "'End the meeting'")

    press(page, "#item-next")
    said(page, "Now item 1: Opening")
    page.wait_for_function(
        "() => document.querySelector('#agenda-list li[aria-current=\"step\"]')?.textContent.includes('Opening')")
    press(page, "#slide-next")
    said(page, "Slide 1 is shown.")

    # A resident raises a hand and asks a question (plain same-origin HTTP with the resident cookie).
    ann = resident(playwright_instance, site)
    assert ann.get(f"/api/events/{meeting['id']}/me").ok
    raised = ann.post(f"/api/events/{meeting['id']}/hand", data={"raised": True, "name": "Ann", "topic": "Parking"})
    assert raised.ok, raised.text()
    page.wait_for_selector("#hands-list [data-key^='hand:']", timeout=LIVE)
    said(page, "Ann raised a hand.")
    assert "Parking" in page.inner_text("#hands-list")
    page.select_option("#floor-seconds", "120")
    press(page, "#hands-list [data-key^='hand:']")
    said(page, "Ann has the floor for 2:00.")
    page.wait_for_function("() => !document.getElementById('floor-clock').hidden")
    assert page.get_attribute("#floor-clock", "role") == "timer"
    assert page.inner_text("#floor-clock") in ("2:00 left", "1:59 left", "1:58 left")
    assert page.locator("#hands-list li").count() == 0  # granting lowers the hand
    press(page, "#floor-back")
    said(page, "Ann no longer has the floor.")

    asked = ann.post(f"/api/events/{meeting['id']}/questions", data={"name": "Ann", "text": "When does the park open?"})
    assert asked.status == 201, asked.text()
    page.wait_for_selector("#pending-list [data-key$=':approve']", timeout=LIVE)
    said(page, "New question to review; 1 waiting.")
    press(page, "#pending-list [data-key$=':approve']")
    said(page, "Question approved.")
    # The approved question left the list it was in: focus stays in the questions, never thrown to the top.
    page.wait_for_function("() => document.getElementById('questions-section').contains(document.activeElement)")
    page.wait_for_selector("#approved-list [data-key$=':answering']", timeout=LIVE)
    assert "When does the park open?" in page.inner_text("#approved-list")
    press(page, "#approved-list [data-key$=':answering']")
    page.wait_for_function(
        "() => document.querySelector('#approved-list li[aria-current]')?.textContent.includes('being answered now')",
        timeout=LIVE)
    assert page.inner_text("#pending-list") == ""
    ann.dispose()
    assert page.inner_text("#console-error") == ""
    assert errors(page) == []
    page.context.close()


def test_captioner_sends_lines_with_enter_and_keeps_the_text_when_a_send_fails(site, meeting, browser):
    page = new_page(browser)
    page.goto(f"{site.url}/events/{meeting['id']}/captioner")
    sign_in(page, CAPTIONER)
    page.wait_for_selector("#caption-form", state="visible")
    page.wait_for_function("() => document.activeElement.id === 'caption-text'")  # ready to type at once
    page.keyboard.type("Good evening, welcome to the council.")
    page.keyboard.press("Enter")
    said(page, "Sent.")
    page.wait_for_function("() => document.getElementById('sent-list').textContent.includes('welcome to the council')")
    assert page.input_value("#caption-text") == ""
    assert page.evaluate("() => document.activeElement.id") == "caption-text"

    # The server refuses the next one: the line stays in the field and the reason is shown in words.
    page.route("**/captions", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": {"code": "store_unavailable", "message": "The database is not reachable."}}'))
    page.keyboard.type("The first item is the budget.")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('caption-error').textContent.includes('store_unavailable')")
    assert page.input_value("#caption-text") == "The first item is the budget."
    assert "Not sent, your text is kept" in page.inner_text("#caption-error")
    page.unroute("**/captions")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('sent-list').textContent.includes('The first item is the budget.')")
    assert page.inner_text("#caption-error") == ""
    assert page.locator("#sent-list li").count() == 2
    assert errors(page) == [
        "Failed to load resource: the server responded with a status of 503 (Service Unavailable)"]
    page.context.close()


def staff_api(playwright_instance: Playwright, site: ServerProcess, username: str) -> tuple[APIRequestContext, str]:
    """A staff member's HTTP session beside the browsers (the "someone else" of conflicts, setting things up)."""
    api = playwright_instance.request.new_context(base_url=site.url, extra_http_headers={"Origin": site.url})
    answer = api.post("/api/auth/login", data={"username": username, "password": PASSWORD})
    assert answer.ok, answer.text()
    return api, answer.json()["csrf"]


def test_an_edit_against_an_old_version_is_explained_and_can_be_saved_over(site, meeting, host_api):
    page = meeting["host_page"]
    page.watch.errors.clear()
    page.goto(site.url + "/staff/events")
    page.wait_for_selector("#events-section", state="visible")
    press(page, f"[data-key='edit:{meeting['id']}']")
    page.wait_for_function("() => document.getElementById('title-en').value === 'Neighbourhood council'")
    # Someone else saves first.
    other, csrf = host_api
    version = other.get(f"/api/events/{meeting['id']}").json()["version"]
    changed = other.patch(f"/api/events/{meeting['id']}", data={"version": version, "capacity": 120},
                          headers={"X-CSRF-Token": csrf})
    assert changed.ok, changed.text()
    page.fill("#title-en", "Neighbourhood council (June)")
    press(page, "#save-event")
    page.wait_for_selector("#form-conflict", state="visible")
    assert page.evaluate("() => document.activeElement.id") == "conflict-theirs"
    assert f"version {version + 1}" in page.inner_text("#form-conflict")
    assert page.input_value("#title-en") == "Neighbourhood council (June)"  # nothing typed is lost
    press(page, "#conflict-mine")
    said(page, "Meeting “Neighbourhood council (June)” saved.")
    event = other.get(f"/api/events/{meeting['id']}").json()
    assert event["title"]["en"] == "Neighbourhood council (June)" and event["version"] == version + 2
    assert event["capacity"] == 80  # saved over: the form's whole state wins, as the button said
    assert errors(page) == ["Failed to load resource: the server responded with a status of 409 (Conflict)"]


def test_a_moderator_deletes_chat_mutes_bans_and_unbans_but_cannot_chair(site, browser, playwright_instance,
                                                                         host_api):
    host, csrf = host_api
    created = host.post("/api/events", headers={"X-CSRF-Token": csrf}, data={
        "scene": "town-hall", "title": {"en": "Hearing on the park"}, "startsAt": 1906563600,
        "staff": {"chair": [HOST], "moderator": [MODERATOR]}})
    assert created.status == 201, created.text()
    event_id = created.json()["id"]
    assert host.post(f"/api/events/{event_id}/state", data={"to": "live"}, headers={"X-CSRF-Token": csrf}).ok
    page = new_page(browser)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{site.url}/events/{event_id}/console")
    sign_in(page, MODERATOR)
    page.wait_for_function("() => document.getElementById('duties-text').textContent.includes('moderator')")
    # Chair controls are not offered to a moderator who is not chair.
    assert not page.locator("#state-actions").is_visible() and not page.locator("#floor-first").is_visible()
    assert page.locator("#slow-mode").is_visible()

    bob = resident(playwright_instance, site)
    assert bob.get(f"/api/events/{event_id}/me").ok  # the resident cookie
    chat = f"/api/events/{event_id}/chat"
    assert bob.post(chat, data={"name": "Bob", "text": "Cheap watches here"}).status == 201
    page.wait_for_selector("#chat-list [data-key$=':delete']", timeout=LIVE)
    press(page, "#chat-list [data-key$=':delete']")
    said(page, "Message deleted for everyone.")
    page.wait_for_function("() => document.querySelectorAll('#chat-list li').length === 0", timeout=LIVE)

    assert bob.post(chat, data={"name": "Bob", "text": "Still here"}).status == 201
    page.wait_for_selector("#chat-list [data-key$=':mute']", timeout=LIVE)
    press(page, "#chat-list [data-key$=':mute']")
    said(page, "is muted in the chat.")
    page.wait_for_function("() => document.getElementById('restricted-list').textContent.includes('muted')",
                           timeout=LIVE)
    refused = bob.post(chat, data={"name": "Bob", "text": "Hello?"})
    assert refused.status == 403 and refused.json()["error"]["code"] == "muted"

    press(page, "#chat-list [data-key$=':ban']")
    said(page, "is banned from this meeting.")
    page.wait_for_function("() => document.getElementById('restricted-list').textContent.includes('banned')",
                           timeout=LIVE)
    assert bob.get(f"/api/events/{event_id}/live").status == 403
    press(page, "#restricted-list [data-key$=':unban']")
    said(page, "is no longer banned.")
    page.wait_for_function("() => !document.getElementById('restricted-list').textContent.includes('banned')",
                           timeout=LIVE)

    page.select_option("#slow-mode", "30")
    press(page, "#slow-mode-apply")
    said(page, "Slow mode on: one message per 30 seconds.")
    assert host.get(f"/api/events/{event_id}").json()["slowMode"] == 30
    assert page.inner_text("#console-error") == ""
    bob.dispose()
    assert errors(page) == []
    page.context.close()


def test_host_deletes_a_meeting_naming_its_version(site, meeting, host_api):
    host, csrf = host_api
    created = host.post("/api/events", headers={"X-CSRF-Token": csrf}, data={
        "scene": "public-square", "title": {"en": "Cancelled market talk"}, "startsAt": 1906563600})
    event_id = created.json()["id"]
    page = meeting["host_page"]
    page.watch.errors.clear()
    meeting["questions"].clear()
    console = page.context.new_page()  # the same session: the host follows the meeting's console meanwhile
    console.goto(f"{site.url}/events/{event_id}/console")
    console.wait_for_function("() => document.getElementById('live-status').textContent.startsWith('Live')")
    page.goto(site.url + "/staff/events")
    press(page, f"[data-key='delete:{event_id}']")
    said(page, "Meeting “Cancelled market talk” deleted.")
    assert meeting["questions"] == [
        "Delete the meeting “Cancelled market talk” (version 1)? Attendees will no longer find it."]
    assert page.evaluate("() => document.activeElement.id") == "events-heading"
    assert page.locator(f"[data-key='delete:{event_id}']").count() == 0
    assert host.get(f"/api/events/{event_id}").status == 404
    # The open console hears it, says so and stops (its stream ended; reconnecting would only find it gone).
    console.wait_for_function("() => document.getElementById('console-error').textContent.includes('was deleted')",
                              timeout=LIVE)
    console.close()
    assert errors(page) == []


@pytest.mark.parametrize(("path", "who", "ready"), [
    ("/staff/events", HOST, "#events-section"),
    ("/events/{id}/console", CHAIR, "#console-body"),
    ("/events/{id}/captioner", CAPTIONER, "#caption-form"),
])
def test_the_staff_pages_have_no_axe_violations(site, meeting, browser, path, who, ready):
    page = new_page(browser, axe=True)
    login = page.context.request.post(site.url + "/api/auth/login", data={"username": who, "password": PASSWORD})
    assert login.ok
    page.goto(site.url + path.format(id=meeting["id"]))
    page.wait_for_selector(ready, state="visible")
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    if path == "/staff/events":
        press(page, f"[data-key='edit:{meeting['id']}']")
        page.wait_for_selector("#slides-editor-list img")
    else:
        page.wait_for_function("() => document.getElementById('live-status').textContent.startsWith('Live')")
    assert axe_violations(page) == []
    page.context.close()


def test_the_chair_records_by_keyboard_while_live_and_focus_lands_on_what_comes_next(site, browser, host_api):
    """The recording switch ("Record the meeting's audio", aria-pressed) is offered only while the meeting is live,
    says when it turns on or off and follows the meeting's state; after Start focus goes to the agenda, after End
    to the state line — not to the next state button (End, then Archive) that took the pressed one's place."""
    host, csrf = host_api
    created = host.post("/api/events", headers={"X-CSRF-Token": csrf}, data={
        "scene": "town-hall", "zone": "council-chamber", "title": {"en": "Recorded council"}, "startsAt": 1906563600,
        "agenda": [{"title": {"en": "Opening"}}], "staff": {"chair": [CHAIR]}})
    assert created.status == 201, created.text()
    event_id = created.json()["id"]
    french = host.get(f"/events/{event_id}/console", headers={"Accept-Language": "fr"}).text()
    assert "<title>Console de présidence : Recorded council" in french  # a space before the French colon

    page = new_page(browser, axe=True)
    page.on("dialog", lambda dialog: dialog.accept())
    login = page.context.request.post(site.url + "/api/auth/login", data={"username": CHAIR, "password": PASSWORD})
    assert login.ok, login.text()
    page.goto(f"{site.url}/events/{event_id}/console")
    page.wait_for_selector("#console-body", state="visible")
    page.wait_for_function("() => document.getElementById('state-text').textContent.includes('scheduled')")
    assert page.is_hidden("#recording-toggle")  # nothing to record before the start
    assert page.inner_text("#audio-hint").startswith("Your microphone switch appears here once the meeting is live")

    press(page, "[data-key='state:open']")
    said(page, "The doors are open.")
    page.wait_for_function("() => document.getElementById('state-text').textContent.includes('open')")
    assert page.is_hidden("#recording-toggle")
    press(page, "[data-key='state:live']")
    said(page, "The meeting has started.")
    page.wait_for_function("() => document.activeElement.id === 'agenda-heading'", timeout=LIVE)
    page.wait_for_selector("#recording-toggle", state="visible", timeout=LIVE)
    toggle = page.get_by_role("button", name="Record the meeting’s audio")
    assert toggle.get_attribute("aria-pressed") == "false"
    assert page.inner_text("#recording-note").startswith("Not recording.")
    assert axe_violations(page) == []

    press(page, "#recording-toggle")
    said(page, "The meeting’s audio is now being recorded.")
    assert toggle.get_attribute("aria-pressed") == "true"
    assert page.evaluate("() => document.activeElement.id") == "recording-toggle"  # focus stays on the switch
    page.wait_for_selector("#console-audio-recording", state="visible", timeout=LIVE)
    assert host.get(f"/api/events/{event_id}").json()["recording"] is True
    assert axe_violations(page) == []
    # Turned off elsewhere (the host's API session): the switch follows the meeting's live state.
    off = host.post(f"/api/events/{event_id}/recording", headers={"X-CSRF-Token": csrf}, data={"on": False})
    assert off.ok, off.text()
    page.wait_for_function("() => document.getElementById('recording-toggle').getAttribute('aria-pressed')"
                           " === 'false'", timeout=LIVE)
    said(page, "Recording stopped.")
    press(page, "#recording-toggle")
    page.wait_for_function("() => document.getElementById('recording-toggle').getAttribute('aria-pressed')"
                           " === 'true'", timeout=LIVE)

    press(page, "[data-key='state:ended']")
    said(page, "The meeting has ended.")
    page.wait_for_function("() => document.activeElement.id === 'state-text'", timeout=LIVE)
    assert page.inner_text("#state-text") == "The meeting is ended."
    page.wait_for_selector("#recording-toggle", state="hidden", timeout=LIVE)
    page.wait_for_selector("#console-audio-recording", state="hidden", timeout=LIVE)
    assert page.inner_text("#audio-hint").startswith("The meeting has ended")
    page.wait_for_function("() => document.querySelector(\"[data-key='state:archived']\")", timeout=LIVE)
    assert page.evaluate("() => document.activeElement.id") == "state-text"  # not moved onto "Archive"
    assert axe_violations(page) == []
    assert page.inner_text("#console-error") == ""
    assert errors(page) == []
    page.context.close()
