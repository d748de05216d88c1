"""Stage audio, mouth to ear (issue 11): how long a sound takes from the chair's microphone to what a listener's
page plays, in real browsers on loopback; p50, p95 and max over many short sounds (target: p95 ≤ 400 ms).

Set-up as tests/e2e/test_stage_audio.py (whose browser and page helpers this imports): a real server process (or
two on one PostgreSQL and one redis-server with `--servers 2`, the listener on the second), the chair signed in on
the console with Chromium's fake microphone playing a WAV made here, a listener on the meeting's page in ANOTHER
Chromium (its own audio service: the chair's echo canceller never hears the listener's output) who presses Listen.

The WAV: `--bursts` tone bursts (60–180 ms, each with a fundamental of its own, 300 Hz + 40 Hz × k, and two
harmonics) after pseudo-random gaps of 250–450 ms; Chromium loops it. Both pages record it: the chair's page
through an AnalyserNode it is given on the microphone's stream as the capture uses it (after the browser's echo
cancellation, noise suppression and gain control; before the capture worklet, the Opus encoder and the socket),
the listener's through the playback's own AnalyserNode (after jitter buffer, decoder, playback worklet and volume,
just before the loudspeakers). Every `--poll-ms` each page reads its analyser's last 2048 samples and stamps them
with performance.timeOrigin + performance.now() (one wall clock for both browsers on one machine; checked:
`clock_skew_ms` in the output): the RMS of each 2 ms block (overlapping reads averaged on a 2 ms grid) and the
dominant frequency. Sounds are the runs of blocks over a fifth of the loudest; each is named by its frequency.
Each burst the chair's page captured (after `--warmup` s) is matched to the first sound the listener's page
played with the same frequency within `--max-lag-ms`: its delay is onset to onset (a burst never heard counts as
missed, with its time). Bursts, not a sliding window over the whole recording, because the listener's copy is
time-warped: the jitter buffer conceals gaps and drops frames to catch up, so the delay changes between bursts.
Cross-check: the lag (±20 ms around the onsets') of the best cross-correlation of the two loudness curves over
the burst.

What it measures: capture (analyser tap) → capture worklet (20 ms frames) → WebCodecs Opus encoder → WebSocket →
server relay (→ Redis → other process) → WebSocket → jitter buffer → decoder → playback worklet → gain → analyser.
What it leaves out: the fake microphone's own buffering before the stream (Chromium's fake device delivers 10 ms
chunks), the browser's audio processing ahead of the tap, and the output device's buffer after the listener's
analyser (the browser's own report of it, `outputLatency` + `baseLatency`, is printed beside the figures; on a
real machine add it, plus the sound card's). Both taps are read the same way, so the analysers' block-wise
rendering offsets the two readings alike.

Self-check: `--add-delay-ms 200` puts a DelayNode of 200 ms before the listener's analyser; the figures grow by
that much (measured on 2026-11-30: p50 308 and 320 ms with it, 108–124 ms in five sessions without). Within a
session the delay holds to a few ms; between sessions it moves by up to one 20 ms frame (where the capture cut
its frames and the playback started).

    .venv/bin/python bench/audio_latency.py [--seconds 40] [--bursts 30] [--servers 2] [--wasm] [--add-delay-ms 200]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import wave
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from bench.common import machine, start_servers  # noqa: E402
from server.config import ROOT  # noqa: E402
from tests.e2e.test_stage_audio import CHAIR, PASSWORD, READY_TIMEOUT, listen, microphone_browser, new_page  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.support import CHROMIUM_ARGS, ServerProcess, chromium_path  # noqa: E402

RATE = 48_000
GRID_MS = 2.0  # loudness blocks and the grid they are averaged on
ON_LEVEL = 0.2  # a sound: louder than this share of the loudest
MERGE_MS, MIN_SOUND_MS = 20.0, 20.0
FREQ_LOW, FREQ_STEP = 300.0, 40.0  # the bursts' fundamentals; 40 Hz apart is two FFT bins at 48 kHz
LIVE = 15_000


# --- the microphone's sound ---------------------------------------------------------------------------------------

def burst_frequencies(bursts: int) -> list[float]:
    """Burst k's fundamental: FREQ_LOW + FREQ_STEP * k, shuffled (neighbours in time are far apart in pitch)."""
    order = np.random.default_rng(7).permutation(bursts)
    return [FREQ_LOW + FREQ_STEP * int(k) for k in order]


def burst_wav(path: Path, bursts: int, seed: int = 11) -> tuple[Path, list[float]]:
    """A mono 16-bit 48 kHz WAV of `bursts` tone bursts after irregular gaps (250–450 ms); returns it and the
    bursts' fundamentals. Each burst lasts 60–180 ms: a fundamental of its own with the 2nd and 3rd harmonics
    (speech-like enough for the browser's noise suppression to keep it), 5 ms fades."""
    rng = np.random.default_rng(seed)
    frequencies = burst_frequencies(bursts)
    pieces: list[np.ndarray] = []
    for f in frequencies:
        pieces.append(np.zeros(int(RATE * rng.uniform(0.25, 0.45))))
        n = int(RATE * rng.uniform(0.06, 0.18))
        t = np.arange(n) / RATE
        tone = 0.5 * np.sin(2 * np.pi * f * t) + 0.25 * np.sin(4 * np.pi * f * t) + 0.12 * np.sin(6 * np.pi * f * t)
        fade = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / (RATE * 0.005))
        pieces.append(0.6 * tone * fade)
    pieces.append(np.zeros(int(RATE * 0.3)))
    signal = np.concatenate(pieces)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes())
    return path, frequencies


# --- the taps in the pages ------------------------------------------------------------------------------------------

# Every `pollMs`, one row in window.latencyTap.rows: the wall-clock time, the dominant frequency of the analyser's
# last 2048 samples (Hz, parabolic peak) and its level (dB), then the RMS of each `block`-sample block of those
# samples, newest first. `which` says where the analyser is: 'capture' (a new one on the chair's microphone stream,
# in the capture's AudioContext) or 'playback' (the listener's own, after the volume).
TAP = """async ({section, which, pollMs}) => {
    const audio = document.getElementById(section).stageAudio;
    const until = async (get) => {
        for (;;) { const v = get(); if (v) return v; await new Promise((r) => setTimeout(r, 20)); }
    };
    let analyser;
    if (which === 'capture') {
        const capture = await until(() => audio.capture?.source && audio.capture);
        const ctx = capture.context;
        analyser = ctx.createAnalyser();
        analyser.fftSize = 2048;
        const silent = ctx.createGain();
        silent.gain.value = 0;
        capture.source.connect(analyser);
        analyser.connect(silent).connect(ctx.destination);  // pulled by the graph, heard by nobody
    } else {
        analyser = await until(() => audio.playback?.analyser);
    }
    analyser.smoothingTimeConstant = 0;  // each read's spectrum is of its own samples only
    const rate = analyser.context.sampleRate;
    const block = Math.round(rate * 0.002);
    const samples = new Float32Array(analyser.fftSize);
    const spectrum = new Float32Array(analyser.frequencyBinCount);
    const blocks = Math.floor(samples.length / block);
    const rows = [];
    const read = () => {
        const t = performance.timeOrigin + performance.now();
        analyser.getFloatTimeDomainData(samples);
        analyser.getFloatFrequencyData(spectrum);
        let best = 1;
        for (let i = 2; i < spectrum.length - 1; i += 1) if (spectrum[i] > spectrum[best]) best = i;
        const [a, b, c] = [spectrum[best - 1], spectrum[best], spectrum[best + 1]];
        const shift = a - 2 * b + c < 0 ? (0.5 * (a - c)) / (a - 2 * b + c) : 0;
        const row = [t, ((best + shift) * rate) / analyser.fftSize, b];
        for (let k = 0; k < blocks; k += 1) {
            let sum = 0;
            const end = samples.length - k * block;
            for (let i = end - block; i < end; i += 1) sum += samples[i] * samples[i];
            row.push(Math.sqrt(sum / block));
        }
        rows.push(row);
    };
    const timer = setInterval(read, pollMs);
    window.latencyTap = { rows, rate, block, stop: () => clearInterval(timer), context: analyser.context };
    return { rate, block, blocks };
}"""

# The listener's jitter buffer now: packets received, the spread of its transit history (newest minus fastest, ms:
# how late the newest packet is against the fastest of the last 3 s) and its target delay.
BUFFER = """() => {
    const buffer = document.getElementById('page-audio-section').stageAudio.playback.buffers[0];
    const transits = buffer.history.map((h) => h.transit);
    const spread = transits.length ? Math.round(transits[transits.length - 1] - Math.min(...transits)) : null;
    return { now: performance.now(), received: buffer.stats.received, spread, target: buffer.targetDelayMs };
}"""

# The page's high-resolution wall clock minus Date.now(), many times (their median compares two pages' clocks).
CLOCK = """() => {
    const d = [];
    for (let i = 0; i < 400; i += 1) d.push(performance.timeOrigin + performance.now() - Date.now());
    return d;
}"""


# --- the meeting ----------------------------------------------------------------------------------------------------

def add_chair(data_dir: Path, *database: str) -> None:
    subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data_dir), *database, "add", CHAIR,
                    "--role", "host", "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT, check=True,
                   capture_output=True)


def open_meeting(chair: Page, base: str) -> str:
    """The chair signs in, creates a meeting in the town hall's council chamber and takes it live; its id."""
    login = chair.context.request.post(base + "/api/auth/login", data={"username": CHAIR, "password": PASSWORD})
    if not login.ok:
        raise RuntimeError(f"sign-in: {login.status} {login.text()}")
    headers = {"X-CSRF-Token": login.json()["csrf"]}
    created = chair.context.request.post(base + "/api/events", headers=headers, data={
        "scene": "town-hall", "zone": "council-chamber", "title": {"en": "Latency"}, "startsAt": 1_900_000_000,
        "timezone": "UTC", "agenda": [{"title": {"en": "Opening"}}], "staff": {"chair": [CHAIR], "moderator": [CHAIR]}})
    if created.status != 201:
        raise RuntimeError(f"creating the meeting: {created.status} {created.text()}")
    eid = str(created.json()["id"])
    live = chair.context.request.post(f"{base}/api/events/{eid}/state", headers=headers, data={"to": "live"})
    if not live.ok:
        raise RuntimeError(f"going live: {live.status} {live.text()}")
    return eid


def record(chair_browser: Browser, listener_browser: Browser, speak_url: str, listen_url: str, seconds: float,
           poll_ms: float, wasm: bool, added_delay_ms: float = 0) -> dict[str, Any]:
    """The chair opens a meeting and speaks from the console on `speak_url`; a listener listens on the meeting's
    page on `listen_url`; both pages' loudness taps run for `seconds`."""
    chair = new_page(chair_browser)
    listener = new_page(listener_browser)
    try:
        eid = open_meeting(chair, speak_url)
        chair.goto(f"{speak_url}/events/{eid}/console")
        chair.wait_for_selector("#console-audio-mic", state="visible", timeout=READY_TIMEOUT)
        if wasm:  # as in a browser without WebCodecs: the WebAssembly Opus decoder
            listener.add_init_script("delete window.AudioDecoder; delete window.AudioEncoder;")
        listener.goto(f"{listen_url}/events/{eid}")
        listener.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=READY_TIMEOUT)
        listen(listener, "page-audio")
        if added_delay_ms:  # the self-check: a known delay between the volume and the listener's analyser
            listener.evaluate("""(ms) => {
                const p = document.getElementById('page-audio-section').stageAudio.playback;
                const delay = p.context.createDelay(2);
                delay.delayTime.value = ms / 1000;
                p.gain.disconnect();
                p.gain.connect(delay).connect(p.analyser);
            }""", added_delay_ms)
        listener.evaluate(TAP, {"section": "page-audio-section", "which": "playback", "pollMs": poll_ms})
        chair.click("#console-audio-mic")
        chair.wait_for_function("() => document.getElementById('console-audio-mic').getAttribute('aria-pressed') "
                                "=== 'true'", timeout=LIVE)
        chair.evaluate(TAP, {"section": "console-audio-section", "which": "capture", "pollMs": poll_ms})
        listener.wait_for_function("() => document.getElementById('page-audio-speaker').textContent.startsWith("
                                   "'Speaking')", timeout=LIVE)
        load_before = os.getloadavg()
        buffer_before = listener.evaluate(BUFFER)
        listener.wait_for_timeout(seconds * 1000)  # recording: the pages' own timers do the work meanwhile
        buffer_after = listener.evaluate(BUFFER)
        # read before the taps' rows are fetched: sending them stalls the pages, which the jitter buffer would see
        playback = listener.evaluate("() => { const p = document.getElementById('page-audio-section').stageAudio"
                                     ".playback; return {kind: p.kind, stats: p.stats()[0]}; }")
        load_after = os.getloadavg()
        for page in (chair, listener):
            page.evaluate("() => window.latencyTap.stop()")
        skew = float(np.median(listener.evaluate(CLOCK)) - np.median(chair.evaluate(CLOCK)))
        taps = {name: page.evaluate("() => ({rows: window.latencyTap.rows, rate: window.latencyTap.rate, "
                                    "block: window.latencyTap.block, base: window.latencyTap.context.baseLatency, "
                                    "output: window.latencyTap.context.outputLatency})")
                for name, page in (("chair", chair), ("listener", listener))}
        arrived = {"packets_per_s": round(1000 * (buffer_after["received"] - buffer_before["received"])
                                          / (buffer_after["now"] - buffer_before["now"]), 2),
                   "transit_spread_ms": [buffer_before["spread"], buffer_after["spread"]],
                   "target_delay_ms": [buffer_before["target"], buffer_after["target"]]}
        return {"taps": taps, "clock_skew_ms": round(skew, 2), "playback": playback, "arrivals": arrived,
                "load_average": [round(load_before[0], 2), round(load_after[0], 2)]}
    finally:
        chair.context.close()
        listener.context.close()


# --- the analysis ---------------------------------------------------------------------------------------------------

def loudness_grid(tap: dict[str, Any], start: float, bins: int) -> np.ndarray:
    """The tap's reads as one loudness per GRID_MS from `start` (ms): each read's block k ends k blocks before the
    read's time; overlapping reads are averaged; bins no read covered are interpolated."""
    block_ms = tap["block"] / tap["rate"] * 1000
    sums = np.zeros(bins)
    counts = np.zeros(bins)
    for row in tap["rows"]:
        t, levels = row[0], np.asarray(row[3:])
        centres = t - (np.arange(len(levels)) + 0.5) * block_ms
        index = np.floor((centres - start) / GRID_MS).astype(int)
        keep = (index >= 0) & (index < bins)
        np.add.at(sums, index[keep], levels[keep])
        np.add.at(counts, index[keep], 1)
    seen = counts > 0
    grid = np.zeros(bins)
    grid[seen] = sums[seen] / counts[seen]
    if seen.sum() >= 2 and not seen.all():
        grid[~seen] = np.interp(np.flatnonzero(~seen), np.flatnonzero(seen), grid[seen])
    return grid


def segments(level: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) grid bins of each sound: over ON_LEVEL of the loudest (99th percentile), gaps under
    MERGE_MS bridged, at least MIN_SOUND_MS long."""
    loud = level > ON_LEVEL * max(float(np.percentile(level, 99)), 1e-9)
    found: list[tuple[int, int]] = []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(int), [0]])))
    for first, end in zip(edges[::2], edges[1::2], strict=True):
        if found and (first - found[-1][1]) * GRID_MS < MERGE_MS:
            found[-1] = (found[-1][0], int(end) - 1)
        else:
            found.append((int(first), int(end) - 1))
    return [(a, b) for a, b in found if (b - a + 1) * GRID_MS >= MIN_SOUND_MS]


def identify(tap: dict[str, Any], start: float, sound: tuple[int, int], frequencies: list[float]) -> int | None:
    """Which burst `sound` is: the burst whose fundamental is nearest (within half the step between bursts) to the
    median dominant frequency of the reads taken inside it (from 10 ms after its onset, so a read's loudest
    samples are the burst's)."""
    first_ms, last_ms = start + sound[0] * GRID_MS, start + (sound[1] + 1) * GRID_MS
    heard = [row[1] for row in tap["rows"] if first_ms + 10 <= row[0] <= last_ms + 10 and row[2] > -70]
    if not heard:
        return None
    hz = float(np.median(heard))
    k = int(np.argmin([abs(hz - f) for f in frequencies]))
    return k if abs(hz - frequencies[k]) < FREQ_STEP / 2 else None


def delays(recorded: dict[str, Any], frequencies: list[float], warmup: float, max_lag_ms: float,
           dump: Path | None = None) -> dict[str, Any]:
    """Each burst the chair's page captured after `warmup` s, matched to the first sound the listener's page played
    with the same fundamental within `max_lag_ms`: the delay between their onsets. A local cross-correlation of the
    two loudness curves around that match (±20 ms) is the cross-check."""
    chair, listener = recorded["taps"]["chair"], recorded["taps"]["listener"]
    start = min(chair["rows"][0][0], listener["rows"][0][0]) - 100
    end = max(chair["rows"][-1][0], listener["rows"][-1][0])
    bins = int((end - start) / GRID_MS) + 1
    said, heard = loudness_grid(chair, start, bins), loudness_grid(listener, start, bins)
    if dump is not None:  # both loudness grids, to look at with numpy
        np.savez(dump, said=said, heard=heard, grid_ms=GRID_MS, start=start)
    first = int((chair["rows"][0][0] - start + warmup * 1000) / GRID_MS)
    last = int((listener["rows"][-1][0] - start - max_lag_ms) / GRID_MS)
    max_lag = int(max_lag_ms / GRID_MS)
    heard_sounds = [(sound, identify(listener, start, sound, frequencies)) for sound in segments(heard)]
    said_norm = said / max(float(np.percentile(said, 99)), 1e-9)
    heard_norm = heard / max(float(np.percentile(heard, 99)), 1e-9)
    found: list[dict[str, Any]] = []
    missed: list[dict[str, Any]] = []
    unidentified = 0
    for sound in segments(said):
        if not first <= sound[0] <= last:
            continue
        k = identify(chair, start, sound, frequencies)
        if k is None:
            unidentified += 1
            continue
        match = next((h for h, hk in heard_sounds if hk == k and 0 <= h[0] - sound[0] <= max_lag), None)
        at_s = round((sound[0] - first) * GRID_MS / 1000 + warmup, 2)
        if match is None:  # what the listener played instead, in the 600 ms after: (delay, burst Hz or None, length)
            near = [((h[0] - sound[0]) * GRID_MS, None if hk is None else frequencies[hk], (h[1] - h[0] + 1) * GRID_MS)
                    for h, hk in heard_sounds if 0 <= h[0] - sound[0] <= 600 / GRID_MS]
            missed.append({"at_s": at_s, "hz": frequencies[k], "heard_then": near})
            continue
        lag = match[0] - sound[0]
        a, b = max(sound[0] - 20, 0), sound[1] + 20
        window = said_norm[a:b] - said_norm[a:b].mean()
        lags = range(max(lag - 10, 0), lag + 11)
        scores = [float(np.dot(window, heard_norm[a + m:b + m] - heard_norm[a + m:b + m].mean())) for m in lags]
        found.append({"at_s": at_s, "hz": frequencies[k], "delay_ms": lag * GRID_MS,
                      "xcorr_delay_ms": lags[int(np.argmax(scores))] * GRID_MS,
                      "said_ms": (sound[1] - sound[0] + 1) * GRID_MS, "heard_ms": (match[1] - match[0] + 1) * GRID_MS})

    def summary(values: list[float]) -> dict[str, float] | None:
        if not values:
            return None
        return {q: round(float(np.percentile(values, p)), 1) for q, p in (("p50", 50), ("p95", 95), ("max", 100))}

    return {"bursts": len(found) + len(missed), "matched": len(found), "missed": missed,
            "unidentified_on_the_chair_side": unidentified,
            "latency_ms": summary([f["delay_ms"] for f in found]),
            "xcorr_latency_ms": summary([f["xcorr_delay_ms"] for f in found]), "per_burst": found}


# --- the run ----------------------------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="audio-latency-") as folder:
        root = Path(folder)
        wav, frequencies = burst_wav(root / "bursts.wav", args.bursts)
        postgres = redis = None
        servers: list[ServerProcess] = []
        try:
            if args.servers == 1:
                (root / "data0").mkdir()
                add_chair(root / "data0")
                servers = [ServerProcess(root / "data0", name="server0")]
            else:
                postgres = PostgresServer()
                postgres.start()
                url = postgres.create_database()
                redis = RedisServer()
                redis.start()
                (root / "data0").mkdir()
                add_chair(root / "data0", "--database", url)
                servers = start_servers(root, args.servers, "--database", url, "--redis", redis.url)
            with sync_playwright() as playwright:
                chair_browser = microphone_browser(playwright, wav)
                listener_browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                try:
                    recorded = record(chair_browser, listener_browser, servers[0].url, servers[-1].url,
                                      args.seconds, args.poll_ms, args.wasm, args.add_delay_ms)
                finally:
                    chair_browser.close()
                    listener_browser.close()
        finally:
            for server in servers:
                server.stop()
            if redis is not None:
                redis.stop()
            if postgres is not None:
                postgres.stop()
    result = delays(recorded, frequencies, args.warmup, args.max_lag_ms, args.dump)
    taps = recorded["taps"]
    listener = taps["listener"]
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": "bench/audio_latency.py " + " ".join(sys.argv[1:]),
        "servers": args.servers,
        "decoder": recorded["playback"]["kind"],
        "seconds": args.seconds,
        "load_average": recorded["load_average"],
        "clock_skew_ms": recorded["clock_skew_ms"],
        "jitter_buffer": recorded["playback"]["stats"],
        "arrivals": recorded["arrivals"],
        "listener_output_latency_ms": round(1000 * ((listener["base"] or 0) + (listener["output"] or 0)), 1),
        "sample_rates": [taps["chair"]["rate"], taps["listener"]["rate"]],
        **result,
    }


def markdown(result: dict[str, Any]) -> str:
    lat, xcorr = result["latency_ms"] or {}, result["xcorr_latency_ms"] or {}
    return ("| command | servers | decoder | bursts heard | onset → onset p50 | p95 | max | cross-correlation p50 / p95"
            " | browser output buffer (not included) | load average |\n|---|---|---|---|---|---|---|---|---|---|\n"
            f"| `{result['command']}` | {result['servers']} | {result['decoder']} | {result['matched']} of "
            f"{result['bursts']} | {lat.get('p50')} ms | {lat.get('p95')} ms | {lat.get('max')} ms | "
            f"{xcorr.get('p50')} / {xcorr.get('p95')} ms | {result['listener_output_latency_ms']} ms | "
            f"{result['load_average'][0]}–{result['load_average'][1]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40, help="how long both pages record (default 40)")
    parser.add_argument("--bursts", type=int, default=30, help="tone bursts in the looped WAV (default 30, ~14 s)")
    parser.add_argument("--servers", type=int, choices=(1, 2), default=1,
                        help="2: two processes on PostgreSQL and Redis, the listener on the second")
    parser.add_argument("--wasm", action="store_true", help="the listener decodes with the WebAssembly fallback")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of bursts ignored at the start (default 3)")
    parser.add_argument("--poll-ms", type=float, default=10, help="how often each page reads its analyser")
    parser.add_argument("--max-lag-ms", type=float, default=2000, help="the longest delay looked for")
    parser.add_argument("--add-delay-ms", type=float, default=0,
                        help="self-check: a DelayNode of this many ms before the listener's analyser (the figures "
                             "should grow by as much)")
    parser.add_argument("--dump", type=Path, help="save both loudness grids to this .npz file")
    parser.add_argument("--keep-bursts", action="store_true", help="print each burst's delay in the JSON")
    args = parser.parse_args()
    result = run(args)
    if not args.keep_bursts:
        result.pop("per_burst")
    print(json.dumps(result, indent=2))
    print()
    print(markdown(result))


if __name__ == "__main__":
    main()
