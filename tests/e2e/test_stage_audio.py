"""Stage audio end to end (issue 11): real browsers with fake microphones, two server processes on one PostgreSQL
and one real redis-server.

The chair speaks from the console (its browser's fake microphone plays a WAV made here: three tones, 400 ms each);
two listeners press "Listen" like a person — one on the text-only page of process A, one in overflow instance 2 of
the 3D chamber on process B — and each HEARS the tone sequence: the dominant frequency of what their page plays
(its AnalyserNode, after the jitter buffer, the decoder, the AudioWorklet and the volume), in order, not merely
bytes arriving. A resident without the floor has no microphone control and the server refuses packets sent
anyway (`not_allowed`, nothing reaches a listener); once the chair gives her the floor she speaks (her browser's
microphone plays three other tones) and both listeners hear HER tones; when the chair takes the floor back her
microphone is cut off (the page says why) and the server refuses her next packet. axe finds nothing in the
text-only panel and the console with the audio controls shown.
"""

from __future__ import annotations

import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, Playwright

from tests.e2e.conftest import PageWatch
from tests.e2e.test_accessibility import axe_violations
from tests.postgres_server import PostgresServer, postgres  # noqa: F401  (fixture)
from tests.redis_server import RedisServer
from tests.support import CHROMIUM_ARGS, ServerProcess, chromium_path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long enough password"
CHAIR = "clara"
READY_TIMEOUT = 120_000
LIVE = 10_000
HEAR = 30_000  # two loops of the tone file through capture, relay, jitter buffer and playback, on a loaded machine
CHAIR_TONES = (500, 900, 1500)  # Hz, 400 ms each, looped by Chromium's fake microphone
RESIDENT_TONES = (700, 1200, 2000)
TONE_MS = 400
RATE = 48_000


def tone_wav(path: Path, tones: tuple[int, ...]) -> Path:
    """A mono 16-bit 48 kHz WAV: each tone for TONE_MS with 10 ms fades (no clicks for the encoder to smear)."""
    n = RATE * TONE_MS // 1000
    t = np.arange(n) / RATE
    fade = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (RATE * 0.01))
    signal = np.concatenate([0.5 * np.sin(2 * np.pi * f * t) * fade for f in tones])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((signal * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer  # noqa: F811
            ) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    base = tmp_path_factory.mktemp("stage-audio")
    url = postgres.create_database()
    subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(base), "--database", url, "add", CHAIR,
                    "--role", "host", "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT, check=True,
                   capture_output=True)
    redis = RedisServer()
    redis.start()
    servers: list[ServerProcess] = []
    try:
        for name in ("a", "b"):
            (base / name).mkdir()
            servers.append(ServerProcess(base / name, "--database", url, "--redis", redis.url, "--node-id", name,
                                         name=f"audio-{name}"))
        yield servers[0], servers[1]
    finally:
        for server in servers:
            if server.proc.poll() is None:
                assert server.stop() == 0
        redis.stop()
        postgres.drop_database(url)


def microphone_browser(playwright: Playwright, wav: Path) -> Browser:
    """Chromium whose microphone is `wav` (looped), granted without a prompt. Autoplay keeps its default policy:
    the listeners press "Listen" as a person would."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=[
        *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}"])


@pytest.fixture(scope="module")
def browsers(playwright_instance: Playwright,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Browser, Browser]]:
    folder = tmp_path_factory.mktemp("tones")
    chair = microphone_browser(playwright_instance, tone_wav(folder / "chair.wav", CHAIR_TONES))
    resident = microphone_browser(playwright_instance, tone_wav(folder / "resident.wav", RESIDENT_TONES))
    yield chair, resident
    chair.close()
    resident.close()


def new_page(browser: Browser, *, axe: bool = False) -> Page:
    page = browser.new_context(viewport={"width": 1100, "height": 800}, bypass_csp=axe).new_page()
    page.watch = PageWatch(page)  # type: ignore[attr-defined]
    return page


# What a page hears: every 40 ms the dominant frequency of its stage audio output (AnalyserNode), or null when it
# is quiet, kept in window.heard. The StageAudio is the one the audio controls drive (their section holds it).
START_EAR = """(section) => {
    const audio = document.getElementById(section).stageAudio;
    window.heard = [];
    const bins = new Float32Array(2048);
    setInterval(() => {
        const analyser = audio.playback?.analyser;
        if (!analyser) return;
        const data = bins.subarray(0, analyser.frequencyBinCount);
        analyser.getFloatFrequencyData(data);
        let best = 0;
        for (let i = 1; i < data.length; i += 1) if (data[i] > data[best]) best = i;
        const hz = (best * analyser.context.sampleRate) / analyser.fftSize;
        window.heard.push(data[best] > -60 ? hz : null);
        if (window.heard.length > 2000) window.heard.splice(0, 1000);
    }, 40);
}"""

# True once `tones` were heard in order (each for at least two readings, then the next), in any rotation of the loop.
HEARD_SEQUENCE = """(tones) => {
    const near = (hz) => tones.findIndex((t) => Math.abs(hz - t) < 60);
    const runs = [];
    let last = -2, count = 0;
    for (const hz of window.heard) {
        const k = hz === null ? -1 : near(hz);
        if (k === last) count += 1;
        else { if (last >= 0 && count >= 2) runs.push(last); last = k; count = 1; }
    }
    if (last >= 0 && count >= 2) runs.push(last);
    const collapsed = runs.filter((k, i) => i === 0 || runs[i - 1] !== k);
    for (let i = 0; i + 2 < collapsed.length; i += 1) {
        const [a, b, c] = collapsed.slice(i, i + 3);
        if ((b === (a + 1) % 3) && (c === (b + 1) % 3)) return true;
    }
    return false;
}"""


def hears(page: Page, tones: tuple[int, ...]) -> None:
    page.evaluate("() => { window.heard = []; }")
    page.wait_for_function(HEARD_SEQUENCE, arg=list(tones), timeout=HEAR, polling=200)


def listen(page: Page, prefix: str) -> None:
    """Presses Listen (a click: the user gesture that lets the page play) and waits for 'Audio is live'."""
    page.click(f"#{prefix}-listen")
    page.wait_for_function("(id) => document.getElementById(id).textContent === 'Audio is live'", arg=f"{prefix}-state",
                           timeout=LIVE)
    page.evaluate(START_EAR, f"{prefix}-section")


# Headless Chromium lets Web Audio play without a gesture here (whatever --autoplay-policy says), and Playwright's
# own evaluations count as user activation, so this page gets the policy of browsers that block autoplay: an
# AudioContext made or resumed before the person pressed something (a trusted pointer or key event) stays suspended.
AUTOPLAY_NEEDS_A_GESTURE = """(() => {
    let pressed = false;
    for (const type of ['pointerdown', 'keydown']) {
        addEventListener(type, (event) => { if (event.isTrusted) pressed = true; }, true);
    }
    const Real = window.AudioContext;
    window.AudioContext = class extends Real {
        constructor(options) {
            super(options);
            if (!pressed) this.suspend();
        }
        resume() {
            return pressed ? super.resume() : this.suspend();
        }
    };
})();"""


# A raw audio socket from a page (its cookies: its identity): it announces the microphone and sends real-looking
# packets, and collects what the server answers.
RAW_SPEAKER = """async (eventId) => {
    const ws = new WebSocket(`ws://${location.host}/api/events/${eventId}/audio`);
    ws.binaryType = 'arraybuffer';
    const said = [];
    ws.onmessage = (m) => { if (typeof m.data === 'string') said.push(JSON.parse(m.data)); };
    await new Promise((resolve) => { ws.onopen = resolve; });
    await new Promise((resolve) => {
        const t = setInterval(() => { if (said.length) { clearInterval(t); resolve(); } }, 20); });
    ws.send(JSON.stringify({type: 'mic', on: true}));
    for (let seq = 0; seq < 10; seq += 1) {
        const packet = new Uint8Array(7 + 60).fill(0xf8);
        new DataView(packet.buffer).setUint8(0, 1);
        new DataView(packet.buffer).setUint16(1, seq);
        new DataView(packet.buffer).setUint32(3, seq * 960);
        ws.send(packet);
    }
    await new Promise((resolve) => { const t = setInterval(() => {
        if (said.some((m) => m.type === 'error')) { clearInterval(t); resolve(); } }, 20); });
    ws.close();
    return said;
}"""


def text_is(page: Page, element_id: str, text: str) -> None:
    page.wait_for_function("([id, text]) => document.getElementById(id)?.textContent === text", arg=[element_id, text],
                           timeout=LIVE)


def pressed(page: Page, element_id: str, value: bool) -> None:
    page.wait_for_function("([id, v]) => document.getElementById(id).getAttribute('aria-pressed') === v",
                           arg=[element_id, str(value).lower()], timeout=LIVE)


def said(page: Page, text: str) -> None:
    """`text` was spoken through the page's polite live region (the announcer fills it a moment after asked)."""
    page.wait_for_function("(text) => window.civicSpace.announcements().some((m) => m.includes(text))", arg=text,
                           timeout=LIVE)


def slot_received(page: Page, section: str, slot: int) -> int:
    return page.evaluate("([id, slot]) => document.getElementById(id).stageAudio.playback.stats()[slot].received",
                         [section, slot])


def test_the_chair_and_a_floor_holder_are_heard_in_text_mode_and_in_an_overflow_room_on_another_process(
        cluster, browsers):
    a, b = cluster
    chair_browser, resident_browser = browsers
    chair = new_page(chair_browser, axe=True)
    text_listener = new_page(chair_browser, axe=True)  # process A, text-only
    overflow_listener = new_page(chair_browser)  # process B, 3D, overflow instance 2
    page_listener = new_page(chair_browser, axe=True)  # the meeting's page on B, no scene at all, no WebCodecs
    # As in a browser without WebCodecs (Safari before 26): the WebAssembly Opus decoder takes over.
    page_listener.add_init_script("delete window.AudioDecoder; delete window.AudioEncoder;")
    rita = new_page(resident_browser)  # process A, text-only; her microphone plays RESIDENT_TONES
    pages = (chair, text_listener, overflow_listener, page_listener, rita)
    try:
        login = chair.context.request.post(a.url + "/api/auth/login", data={"username": CHAIR, "password": PASSWORD})
        assert login.ok, login.text()
        headers = {"X-CSRF-Token": login.json()["csrf"]}
        created = chair.context.request.post(a.url + "/api/events", headers=headers, data={
            "scene": "town-hall", "zone": "council-chamber", "title": {"en": "Council with sound"},
            "startsAt": 1_900_000_000, "timezone": "UTC", "agenda": [{"title": {"en": "Opening"}}],
            "staff": {"chair": [CHAIR], "moderator": [CHAIR]}})
        assert created.status == 201, created.text()
        eid = created.json()["id"]
        started = chair.context.request.post(f"{a.url}/api/events/{eid}/state", headers=headers, data={"to": "live"})
        assert started.ok, started.text()

        # --- the chair's console: the microphone is offered (the server said canSpeak) ---------------------------
        console = chair.goto(f"{a.url}/events/{eid}/console")
        assert console is not None
        policy = console.headers.get("permissions-policy", "")
        assert "microphone=(self)" in policy, f"the pages may not use the microphone: Permissions-Policy {policy!r}"
        chair.wait_for_selector("#console-body", state="visible")
        chair.wait_for_selector("#console-audio-mic", state="visible", timeout=LIVE)
        assert chair.get_attribute("#console-audio-mic", "aria-pressed") == "false"

        # --- two listeners press Listen: text-only on A, the 3D overflow instance on B --------------------------
        text_listener.goto(f"{a.url}/scenes/town-hall?event={eid}&mode=text")
        text_listener.wait_for_function("() => document.body.dataset.state !== 'loading'", timeout=READY_TIMEOUT)
        assert text_listener.evaluate("() => window.civicSpace.ready")["mode"] == "text"
        text_listener.wait_for_selector("#event:not([hidden])", timeout=LIVE)
        assert text_listener.inner_text("#event-audio-state").startswith("Not listening")
        listen(text_listener, "event-audio")

        overflow_listener.goto(f"{b.url}/scenes/town-hall?event={eid}&at=council-chamber&instance=2")
        overflow_listener.wait_for_function("() => document.body.dataset.state !== 'loading'", timeout=READY_TIMEOUT)
        assert overflow_listener.evaluate("() => window.civicSpace.ready")["mode"] == "3d"
        assert "instance=2" in overflow_listener.url
        listen(overflow_listener, "event-audio")

        page_listener.goto(f"{b.url}/events/{eid}")
        page_listener.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=READY_TIMEOUT)
        listen(page_listener, "page-audio")

        # --- the chair speaks: both listeners hear the chair's three tones, in order -----------------------------
        chair.click("#console-audio-mic")
        pressed(chair, "console-audio-mic", True)
        for listener in (text_listener, overflow_listener):
            text_is(listener, "event-audio-speaker", "Speaking: the chair")
            hears(listener, CHAIR_TONES)
        text_is(page_listener, "page-audio-speaker", "Speaking: the chair")
        hears(page_listener, CHAIR_TONES)
        decoder = "() => document.getElementById('page-audio-section').stageAudio.playback.kind"
        assert page_listener.evaluate(decoder) == "wasm"
        assert any(url.endswith("/static/vendor/opus-decoder.js") for url in page_listener.watch.requests)  # type: ignore[attr-defined]
        said(text_listener, "The chair is speaking.")
        # Mute silences what the page plays (the analyser is after the volume); unmuted, the tones are back.
        text_listener.click("#event-audio-mute")
        text_listener.wait_for_function(
            "() => window.heard.length > 10 && window.heard.slice(-10).every((hz) => hz === null)", timeout=LIVE)
        text_listener.click("#event-audio-mute")
        hears(text_listener, CHAIR_TONES)
        overflow_listener.wait_for_function(
            "() => (document.getElementById('event').dataset.wall || '').includes('The chair is speaking')",
            timeout=LIVE)
        chair.click("#console-audio-mic")
        for listener in (text_listener, overflow_listener):
            text_is(listener, "event-audio-speaker", "Nobody is speaking.")

        # --- Rita, without the floor, cannot speak: no microphone control, and raw packets are refused ----------
        rita.goto(f"{a.url}/scenes/town-hall?event={eid}&mode=text")
        rita.wait_for_function("() => document.body.dataset.state !== 'loading'", timeout=READY_TIMEOUT)
        rita.wait_for_selector("#event:not([hidden])", timeout=LIVE)
        rita.fill("#name-input", "Rita")
        rita.press("#name-input", "Enter")
        listen(rita, "event-audio")
        assert rita.is_hidden("#event-audio-mic-area")
        before = [slot_received(p, "event-audio-section", 1) for p in (text_listener, overflow_listener)]
        answers = rita.evaluate(RAW_SPEAKER, eid)
        assert answers[0]["type"] == "audio_welcome" and answers[0]["canSpeak"] is False, answers
        assert any(m.get("type") == "error" and m.get("code") == "not_allowed" for m in answers), answers

        # --- the chair gives her the floor; she switches her microphone on and both listeners hear HER tones ----
        rita.fill("#hand-topic", "The swings")
        rita.press("#hand-topic", "Enter")
        chair.get_by_role("button", name="Give the floor to Rita").click()
        rita.wait_for_selector("#event-audio-mic-area:not([hidden])", timeout=LIVE)
        after = [slot_received(p, "event-audio-section", 1) for p in (text_listener, overflow_listener)]
        assert after == before, "the packets Rita sent without the floor reached a listener"
        rita.click("#event-audio-mic")
        pressed(rita, "event-audio-mic", True)
        for listener in (text_listener, overflow_listener):
            text_is(listener, "event-audio-speaker", "Speaking: Rita (has the floor)")
            hears(listener, RESIDENT_TONES)
        said(text_listener, "Rita is speaking.")
        assert rita.inner_text("#event-audio-speaker") == "You are speaking: everyone hears you."
        # Push to talk: the microphone is on only while Space is held on the talk button.
        rita.click("#event-audio-mic")
        pressed(rita, "event-audio-mic", False)
        rita.check("#event-audio-ptt")
        text_is(rita, "event-audio-mic", "Hold to talk")
        rita.focus("#event-audio-mic")
        rita.keyboard.down("Space")
        pressed(rita, "event-audio-mic", True)
        text_is(text_listener, "event-audio-speaker", "Speaking: Rita (has the floor)")
        rita.keyboard.up("Space")
        pressed(rita, "event-audio-mic", False)
        rita.keyboard.down("Space")  # held while the chair takes the floor back
        pressed(rita, "event-audio-mic", True)

        # --- the chair takes the floor back: her microphone is cut off, and the server refuses her packets ------
        chair.click("#floor-back")
        pressed(rita, "event-audio-mic", False)
        cut = "Your microphone was switched off: the chair took the floor back."
        assert rita.inner_text("#event-audio-mic-note") == cut
        said(rita, cut)
        rita.keyboard.up("Space")
        rita.wait_for_selector("#event-audio-mic-area", state="hidden", timeout=LIVE)
        answers = rita.evaluate(RAW_SPEAKER, eid)
        assert any(m.get("type") == "error" and m.get("code") == "not_allowed" for m in answers), answers
        for listener in (text_listener, overflow_listener):
            text_is(listener, "event-audio-speaker", "Nobody is speaking.")

        # --- a listener back another day, in a browser that wants a gesture first: "press to listen", then live --
        returning = new_page(resident_browser)
        returning.add_init_script("localStorage.setItem('civicSpace.audioListening', '1')")  # listened last time
        returning.add_init_script(AUTOPLAY_NEEDS_A_GESTURE)
        returning.goto(f"{a.url}/scenes/town-hall?event={eid}&mode=text")
        returning.wait_for_selector("#event:not([hidden])", timeout=READY_TIMEOUT)
        text_is(returning, "event-audio-state", "Audio blocked by the browser — press to listen")
        assert returning.inner_text("#event-audio-listen") == "Press to listen"
        returning.click("#event-audio-listen")
        text_is(returning, "event-audio-state", "Audio is live")
        assert returning.inner_text("#event-audio-listen") == "Stop listening"
        returning.context.close()

        # --- accessibility with the audio controls shown -----------------------------------------------------------
        assert axe_violations(text_listener) == []
        assert axe_violations(chair) == []
        assert axe_violations(page_listener) == []
        for page in pages:
            assert [e for e in page.watch.errors if "status of 401" not in e] == [], page.watch.errors  # type: ignore[attr-defined]
    finally:
        for page in pages:
            page.context.close()
