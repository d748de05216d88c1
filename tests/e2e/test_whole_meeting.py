"""A whole small public meeting in headless Chromium, as issue #10 asks: a chair (who also moderates) in the console,
a captioner in the caption console, and two residents — Ines in text-only mode using the keyboard alone (Tab,
Shift+Tab, Space, typing and Enter; no clicks, nothing filled in that she did not reach with Tab) and Theo in 3D.

Doors open, the meeting starts, the next item is shown (in both residents' panels and on the chamber's wall); Ines
raises her hand and hears in the polite status region that she has the floor when the chair gives it; her question
is approved by the moderator and both residents see it; she supports it and hears that it is being answered; the
captioner's lines reach all three surfaces (the panel's log, the 3D caption bar, the second-screen page); Theo is
banned from his chat line and refused on reload (a clear message naming the meeting, no stream opened); the meeting
ends and its page links the WebVTT and text transcripts, which hold the lines (and not the chat). axe-core finds
nothing on the chair's console, the caption console, the text-mode panel and the second screen while the meeting
is live.

The module runs its own server (a fresh data directory with staff accounts made by the staff CLI), so its meeting
never reaches the other browser tests.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import webvtt
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import PageWatch
from tests.e2e.test_accessibility import axe_violations
from tests.support import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 120_000
LIVE = 5_000  # "within a second" in practice; generous for a loaded CI machine
PASSWORD = "a long enough password"
CHAIR, CAPTIONER = "carla", "cato"
AGENDA = [
    {"title": {"en": "Opening"}, "description": {"en": "Welcome by the chair."}, "documents": []},
    {"title": {"en": "The new playground"}, "description": {"en": "Plans for the park."}, "documents": []},
]
LINES = ["Good evening and welcome to the council.", "We now turn to the new playground."]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("whole-meeting-data")
    for username, role in ((CHAIR, "host"), (CAPTIONER, "editor")):
        subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data), "add", username, "--role",
                        role, "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT, check=True,
                       capture_output=True)
    process = ServerProcess(data, name="whole-meeting")
    yield process
    assert process.stop() == 0


def new_page(browser: Browser, *, width: int = 1024, height: int = 700, axe: bool = False) -> Page:
    """A page in its own browser (context): its own cookies, so its own resident or staff session."""
    page = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=axe).new_page()
    page.watch = PageWatch(page)  # type: ignore[attr-defined]
    return page


def sign_in(page: Page, base: str, username: str) -> str:
    """Signs the page's browser in (the sign-in dialog itself is covered by test_event_console); returns CSRF."""
    answer = page.context.request.post(base + "/api/auth/login", data={"username": username, "password": PASSWORD})
    assert answer.ok, answer.text()
    return answer.json()["csrf"]



def tab_to(page: Page, selector: str, *, back: bool = False, limit: int = 150) -> None:
    """Keyboard only: Tab (or Shift+Tab) until `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"never reached with {'Shift+Tab' if back else 'Tab'}: {selector}")


def said(page: Page, text: str) -> None:
    """`text` was announced politely (the announcer's history keeps every message; the scene page shows it through
    `civicSpace.announcements()`, the consoles through `civicSpace.announcer.history`)."""
    page.wait_for_function(
        "(text) => (window.civicSpace.announcements?.() ?? window.civicSpace.announcer?.history ?? [])"
        ".some((m) => m.includes(text))", arg=text, timeout=LIVE)


def status_region_says(page: Page, text: str) -> None:
    """The page's polite status region (what a screen reader reads out) holds `text`."""
    page.wait_for_function("(text) => document.getElementById('announcer').textContent.includes(text)", arg=text,
                           timeout=LIVE)


def wait_scene(page: Page) -> dict:
    page.wait_for_function("() => document.body.dataset.state !== 'loading'", timeout=READY_TIMEOUT)
    page.wait_for_selector("#event:not([hidden])", timeout=LIVE)
    return page.evaluate("() => window.civicSpace.ready")


def errors(page: Page) -> list[str]:
    """Console errors but the one expected on staff pages: `/api/auth/me` answers 401 before restore ran."""
    return [e for e in page.watch.errors if "status of 401" not in e]  # type: ignore[attr-defined]


def test_a_whole_meeting_with_a_chair_a_captioner_a_keyboard_resident_in_text_mode_and_one_in_3d(site, browser):
    base = site.url
    chair = new_page(browser, width=1280, height=900, axe=True)
    chair.on("dialog", lambda dialog: dialog.accept())  # "End the meeting?", "Ban attendee …?"
    captioner = new_page(browser, width=1280, height=900, axe=True)
    ines = new_page(browser, axe=True)  # text-only, keyboard alone
    theo = new_page(browser)  # 3D
    screen = new_page(browser, width=480, axe=True)  # the second screen: a phone
    pages = (chair, captioner, ines, theo, screen)
    try:
        # --- the meeting, made by the chair (a host) with its duties -------------------------------------------
        csrf = sign_in(chair, base, CHAIR)
        created = chair.context.request.post(base + "/api/events", headers={"X-CSRF-Token": csrf}, data={
            "scene": "town-hall", "zone": "council-chamber", "title": {"en": "Neighbourhood council"},
            "description": {"en": "The monthly council of the old town."}, "startsAt": 1_900_000_000,
            "endsAt": 1_900_007_200, "timezone": "Europe/Brussels", "capacity": 50, "agenda": AGENDA,
            "staff": {"chair": [CHAIR], "moderator": [CHAIR], "captioner": [CAPTIONER]}})
        assert created.status == 201, created.text()
        eid = created.json()["id"]

        chair.goto(f"{base}/events/{eid}/console")
        chair.wait_for_selector("#console-body", state="visible")
        chair.wait_for_function("() => document.getElementById('live-status').textContent.startsWith('Live')")
        chair.wait_for_function("() => document.getElementById('duties-text').textContent.includes('chair')")
        sign_in(captioner, base, CAPTIONER)
        captioner.goto(f"{base}/events/{eid}/captioner")
        captioner.wait_for_selector("#caption-form", state="visible")
        captioner.wait_for_function("() => document.getElementById('live-status').textContent.startsWith('Live')")

        # --- Ines joins from the meeting's page without 3D, and names herself, by keyboard -----------------------
        ines.goto(f"{base}/events/{eid}")
        ines.wait_for_function("() => document.body.dataset.state === 'ready'")
        tab_to(ines, "#join-text")
        ines.keyboard.press("Enter")
        ines.wait_for_url(f"**/scenes/town-hall?event={eid}*mode=text*")
        assert wait_scene(ines)["mode"] == "text"
        ines.wait_for_function("() => document.getElementById('event-panel-state').textContent === 'Scheduled'",
                               timeout=LIVE)
        tab_to(ines, "#name-input")
        ines.keyboard.press("Control+A")
        ines.keyboard.type("Ines")
        ines.keyboard.press("Enter")

        # --- Theo joins in 3D from the same page's big Join ---------------------------------------------------
        theo.goto(f"{base}/events/{eid}")
        theo.click("#join-3d")
        state = wait_scene(theo)
        assert state["mode"] == "3d" and state["zone"] == "council-chamber", state

        # --- doors, start, next item --------------------------------------------------------------------------
        chair.click("[data-key='state:open']")
        said(ines, "The doors are open")
        theo.wait_for_function("() => document.getElementById('event-panel-state').textContent === 'Doors open'",
                               timeout=LIVE)
        chair.click("[data-key='state:live']")
        said(chair, "The meeting has started.")
        chair.click("#item-next")
        said(chair, "Now item 1: Opening")
        # "Next" steps from the item the console shows: wait until the stream has shown the first.
        chair.wait_for_function(
            "() => document.querySelector('#agenda-list li[aria-current=\"step\"]')?.textContent.includes('Opening')",
            timeout=LIVE)
        chair.click("#item-next")
        said(chair, "Now item 2: The new playground")
        said(ines, "Now on the agenda: The new playground")
        for resident in (ines, theo):
            resident.wait_for_function(
                "() => document.querySelector('#event-agenda li[aria-current=\"step\"]')?.textContent"
                ".startsWith('The new playground')", timeout=LIVE)
        theo.wait_for_function("() => document.getElementById('event').dataset.wall === 'Live: 2. The new playground'",
                               timeout=LIVE)

        # --- Ines raises her hand (Tab to the topic, type, Enter); the chair gives her the floor ----------------
        tab_to(ines, "#hand-topic")
        ines.keyboard.type("The swings")
        ines.keyboard.press("Enter")
        said(ines, "You are number 1 in the queue")
        assert ines.evaluate("() => document.activeElement.id") == "hand-topic"  # focus stays where it was
        said(chair, "Ines raised a hand.")
        assert "The swings" in chair.inner_text("#hands-list")
        theo.wait_for_function("() => document.getElementById('event-hands').textContent.includes('Ines')",
                               timeout=LIVE)
        chair.get_by_role("button", name="Give the floor to Ines").click()
        said(chair, "Ines has the floor for 3:00.")
        assert ines.get_attribute("#announcer", "role") == "status"
        assert ines.get_attribute("#announcer", "aria-live") == "polite"
        status_region_says(ines, "You have the floor for 3:00.")
        assert ines.inner_text("#event-floor") == "You have the floor."
        theo.wait_for_function("() => document.getElementById('event-floor').textContent === 'Ines has the floor.'",
                               timeout=LIVE)

        # --- Ines's question (Tab to the field, type, Enter), approved by the moderator, seen by both -----------
        question = "Will the playground be open on Sundays?"
        tab_to(ines, "#question-input")
        ines.keyboard.type(question)
        ines.keyboard.press("Enter")
        said(ines, "Question sent")
        said(chair, "New question to review; 1 waiting.")
        chair.click("#pending-list [data-key$=':approve']")
        said(chair, "Question approved.")
        for resident in (ines, theo):
            resident.locator("#event-questions li", has_text=question).wait_for(timeout=LIVE)
        assert "Ines" in theo.inner_text("#event-questions")
        # Ines supports it (Tab to its button, Space); the chair marks it as being answered and she hears so.
        tab_to(ines, "#event-questions button[data-support]")
        ines.keyboard.press("Space")
        said(ines, "Your support is counted.")
        ines.wait_for_function("() => document.querySelector('#event-questions button').textContent === 'Supported'")
        chair.locator("#approved-list li", has_text="Asked by Ines · supports: 1").wait_for(timeout=LIVE)
        chair.click("#approved-list [data-key$=':answering']")
        said(ines, f"Now answering the question: {question}")
        theo.wait_for_selector("#event-questions li[aria-current='true']", timeout=LIVE)

        # --- captions: typed in the caption console, seen on the three surfaces ----------------------------------
        screen.goto(f"{base}/events/{eid}/captions")
        screen.wait_for_function("() => document.body.dataset.state === 'ready'")
        captioner.focus("#caption-text")
        for line in LINES:
            captioner.keyboard.type(line)
            captioner.keyboard.press("Enter")
            captioner.locator("#sent-list li", has_text=line).wait_for(timeout=LIVE)
        for page, where in ((ines, "#event-captions"), (theo, "#caption-bar"), (screen, "#captions-log")):
            for line in LINES:
                page.locator(where, has_text=line).wait_for(timeout=LIVE)
        assert ines.get_attribute("#event-captions", "role") == "log"
        assert theo.is_visible("#caption-bar")
        assert screen.inner_text("#captions-lines .caption-latest") == LINES[-1]

        # --- axe while the meeting is live: the two consoles, the text-mode panel, the second screen -------------
        for page in (captioner, ines, screen):
            assert axe_violations(page) == [], page.url

        # --- Theo writes spam in the chat; the moderator bans him from his line --------------------------------
        theo.click("#event-chat-input")
        theo.keyboard.type("Cheap watches at my stall")
        theo.keyboard.press("Enter")
        spam = chair.locator("#chat-list li", has_text="Cheap watches at my stall")
        spam.wait_for(timeout=LIVE)
        ines.locator("#event-chat li", has_text="Cheap watches at my stall").wait_for(timeout=LIVE)
        spam.locator("[data-key$=':ban']").click()
        said(chair, "is banned from this meeting.")
        chair.wait_for_function("() => document.getElementById('restricted-list').textContent.includes('banned')",
                                timeout=LIVE)
        assert axe_violations(chair) == []  # the console at its fullest: agenda, floor, questions, chat, bans
        theo.wait_for_selector("#event-removed:not([hidden])", timeout=LIVE)
        assert theo.inner_text("#event-removed-title") == "You cannot take part in this meeting"
        assert theo.is_hidden("#event-live-parts") and theo.is_hidden("#caption-bar")
        # Reloading does not let him back in: the same clear message, and no stream is even opened.
        theo.watch.requests.clear()
        theo.reload()
        wait_scene(theo)
        theo.wait_for_selector("#event-removed:not([hidden])", timeout=LIVE)
        assert theo.inner_text("#event-removed-title") == "You cannot take part in this meeting"
        assert "banned you from this meeting" in theo.inner_text("#event-removed-text")
        # The panel still says which meeting (it never got a word of the stream this time).
        theo.wait_for_function("() => document.getElementById('event-name').textContent === 'Neighbourhood council'",
                               timeout=LIVE)
        assert theo.is_hidden("#event-live-parts") and theo.is_hidden("#caption-bar")
        assert theo.get_attribute("#event", "data-wall") is None  # no wall put up for him either
        assert not [url for url in theo.watch.requests if url.endswith(f"/api/events/{eid}/live")]
        refused = theo.context.request.get(f"{base}/api/events/{eid}/live")
        assert refused.status == 403 and refused.json()["error"]["code"] == "banned"
        # Ines is unaffected.
        assert ines.is_visible("#event-live-parts") and ines.is_hidden("#event-removed")

        # --- the meeting ends; its page publishes the transcript --------------------------------------------------
        chair.click("[data-key='state:ended']")
        said(chair, "The meeting has ended. The transcript is published.")
        said(ines, "The meeting has ended.")
        screen.wait_for_function(
            "() => document.getElementById('captions-status').textContent === 'The meeting has ended.'", timeout=LIVE)
        # Ines goes to the meeting's page by keyboard: back up the panel to its link (Shift+Tab), Enter.
        tab_to(ines, "#event-page-link", back=True)
        ines.keyboard.press("Enter")
        ines.wait_for_url(f"{base}/events/{eid}")
        ines.wait_for_function("() => document.body.dataset.state === 'ready'")
        assert ines.locator("#join-3d").count() == 0  # no Join once it ended
        vtt_href = ines.get_attribute("#transcript-vtt", "href")
        txt_href = ines.get_attribute("#transcript-txt", "href")
        assert (vtt_href, txt_href) == (f"/events/{eid}/transcript.vtt", f"/events/{eid}/transcript.txt")
        tab_to(ines, "#transcript-txt")  # reachable by keyboard
        vtt = ines.context.request.get(base + vtt_href)
        assert vtt.ok and vtt.headers["content-type"].startswith("text/vtt")
        cues = webvtt.from_string(vtt.text()).captions
        assert [cue.text for cue in cues] == LINES
        assert all(cue.start_in_seconds < cue.end_in_seconds for cue in cues)
        txt = ines.context.request.get(base + txt_href)
        assert txt.ok and txt.headers["content-type"].startswith("text/plain")
        text = txt.text()
        assert "Neighbourhood council" in text and all(line in text for line in LINES)
        assert "Cheap watches" not in text  # chat is not part of the transcript

        for page in pages:
            assert errors(page) == [], (page.url, errors(page))
    finally:
        for page in pages:
            page.context.close()
