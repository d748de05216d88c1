"""Public meetings at scale (issue 10): N attendees of one event, spread over two server processes (the chamber's
and the overflow's), reading the live stream; how fast a caption line and a change of the hand queue reach every
one of them, and what a minute of captions costs each attendee on the wire.

Both processes share a real redis-server (the bus) and a throwaway PostgreSQL (the store), both started here.
A host (staff role `host`) creates the event over HTTP with a captioner on duty and takes it live. Attendees are
`GET /api/events/{id}/live` listeners, alternately on each process, read by one asyncio protocol each in this
process (no task per listener) that counts every byte read off the socket (response head, chunked framing, SSE
fields and keep-alives) and parses the stream itself. Phases, in order:

1. bytes: a realistic captioner, one line of ~80 characters every `--caption-interval` s for `--bytes-seconds`;
   bytes each listener read in that window, scaled to a minute.
2. captions: `--captions` lines at `--caption-rate` lines/s sent through process 0 (the captioner's); each line
   carries its number, and its latency at a listener is from just before the POST to the line's arrival.
3. hands: `--hands` residents (each its own cookie) raise their hand, then lower it, one change a second,
   alternately through each process; a change's latency at a listener is from just before the POST to the first
   `state` message whose queue shows it.

A listener that never sees a line or a change counts as missed, never as fast (bench/common.py). Server CPU is
read from /proc per phase; `--pin` pins server i to CPU i (mod the count) and this generator to the last CPU,
as `taskset` would.

    .venv/bin/python bench/event_fanout.py --listeners 1000 --captions 50 --hands 20 --bytes-seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import latency_summary, machine, sign_in, start_servers  # noqa: E402
from bench.presence import bench_scene, cpu_seconds  # noqa: E402
from server.config import ROOT  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.support import ServerProcess  # noqa: E402

SCENE = "bench-chamber"
ZONE = "council-chamber"
PASSWORD = "benchmark password"
HOST, CAPTIONER = "bench-host", "bench-captioner"
LISTEN_WAVE = 50  # listeners opening their stream at the same time
TARGET = 0.25  # seconds: issue 10's p99 for captions and hand-queue changes
WAIT = 5.0  # seconds a line or a change may take before the listeners that lack it count as missed
FILLER = ("the committee recommends that the council approves the revised plan for the river quays and asks "
          "for a report on parking before the summer recess")
LINE = re.compile(r"^\[(\w+) (\d+)\]")
SEPARATOR = re.compile(rb"\r?\n\r?\n")

StateCheck = Callable[[dict[str, Any]], bool]


def caption_text(tag: str, number: int, length: int = 80) -> str:
    """A caption of `length` characters that names its phase and number, as a captioner's line would read."""
    head = f"[{tag} {number}] "
    return (head + " ".join([FILLER] * (length // len(FILLER) + 1)))[:length].rstrip()


class Listener(asyncio.Protocol):
    """One attendee's EventSource: an HTTP/1.1 GET of the live stream on a raw socket, chunked transfer decoded and
    Server-Sent Events parsed here, so `received` is every byte the server sent, framing included."""

    def __init__(self, index: int, request: bytes, on_event: Callable[[Listener, str, str, float], None]) -> None:
        self.index = index
        self.request = request
        self.on_event = on_event
        self.received = 0
        self.head_bytes = 0
        self.status: int | None = None
        self.chunked = False
        self.raw = bytearray()
        self.body = bytearray()
        self.chunk_left = 0  # bytes of the current chunk still to come; -1: its closing CRLF
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"listener {self.index}: stream closed (status {self.status})"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.received += len(data)
        self.raw += data
        if self.status is None:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.raw[:end].decode("latin-1").split("\r\n")
            self.head_bytes = end + 4
            del self.raw[:end + 4]
            self.status = int(head[0].split()[1])
            fields = {k.strip().lower(): v.strip().lower() for k, _, v in (line.partition(":") for line in head[1:])}
            self.chunked = fields.get("transfer-encoding") == "chunked"
            if self.status != 200 or not fields.get("content-type", "").startswith("text/event-stream"):
                if not self.ready.done():
                    self.ready.set_exception(RuntimeError(f"listener {self.index}: {head[0]}"))
                self.close()
                return
        if self.chunked:
            self._dechunk()
        else:
            self.body += self.raw
            self.raw.clear()
        while (match := SEPARATOR.search(self.body)) is not None:
            block = bytes(self.body[:match.start()])
            del self.body[:match.end()]
            self._dispatch(block, now)

    def _dechunk(self) -> None:
        raw = self.raw
        while raw:
            if self.chunk_left > 0:
                piece = raw[:self.chunk_left]
                self.body += piece
                del raw[:len(piece)]
                self.chunk_left -= len(piece)
                if self.chunk_left == 0:
                    self.chunk_left = -1
            elif self.chunk_left < 0:
                if len(raw) < 2:
                    return
                del raw[:2]
                self.chunk_left = 0
            else:
                eol = raw.find(b"\r\n")
                if eol < 0:
                    return
                size = int(bytes(raw[:eol]).split(b";")[0], 16)
                del raw[:eol + 2]
                if size == 0:  # the server ended the stream
                    return
                self.chunk_left = size

    def _dispatch(self, block: bytes, now: float) -> None:
        name, data = "message", []
        for line in block.decode().split("\n"):
            line = line.rstrip("\r")
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if data:
            self.on_event(self, name, "\n".join(data), now)


class Audience:
    """Every listener of the event and what they saw: first arrival of each numbered caption, first `state` that
    satisfies the change being watched."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self.captions: dict[tuple[str, int], dict[int, float]] = {}
        self.watch: tuple[str, StateCheck] | None = None
        self.changes: dict[str, dict[int, float]] = {}
        self.messages: dict[str, int] = {}

    def on_event(self, listener: Listener, name: str, data: str, now: float) -> None:
        self.messages[name] = self.messages.get(name, 0) + 1
        if name == "state":
            if not listener.ready.done():
                listener.ready.set_result(None)
            if self.watch is not None:
                key, check = self.watch
                seen = self.changes.setdefault(key, {})
                if listener.index not in seen and check(json.loads(data)):
                    seen[listener.index] = now
        elif name == "caption":
            match = LINE.match(json.loads(data)["text"])
            if match:
                self.captions.setdefault((match[1], int(match[2])), {}).setdefault(listener.index, now)

    async def connect(self, urls: list[str], event_id: int, count: int) -> None:
        loop = asyncio.get_running_loop()
        for first in range(0, count, LISTEN_WAVE):
            batch = []
            for index in range(first, min(count, first + LISTEN_WAVE)):
                url = urlsplit(urls[index % len(urls)])
                request = (f"GET /api/events/{event_id}/live HTTP/1.1\r\nHost: {url.netloc}\r\n"
                           "Accept: text/event-stream\r\nCache-Control: no-cache\r\n"
                           "User-Agent: civic-bench-event-fanout\r\n\r\n").encode()
                listener = Listener(index, request, self.on_event)
                self.listeners.append(listener)
                await loop.create_connection(lambda listener=listener: listener,  # type: ignore[misc]
                                             url.hostname or "127.0.0.1", url.port or 80)
                batch.append(listener.ready)
            async with asyncio.timeout(30):
                await asyncio.gather(*batch)

    async def wait_all(self, arrivals: Callable[[], dict[int, float]], timeout: float = WAIT) -> None:
        deadline = time.perf_counter() + timeout
        while len(arrivals()) < len(self.listeners) and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)

    def received(self) -> list[int]:
        return [listener.received for listener in self.listeners]

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()


def add_staff(data_dir: Path, database_url: str, username: str, role: str) -> None:
    """A staff account made by the real `python -m server staff` command on the shared database."""
    subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data_dir), "--database", database_url,
                    "add", username, "--role", role, "--password-stdin"], input=PASSWORD + "\n", text=True,
                   check=True, cwd=ROOT, capture_output=True)


async def expect(response: aiohttp.ClientResponse, status: int, what: str) -> Any:
    body = await response.json(content_type=None)
    if response.status != status:
        raise RuntimeError(f"{what}: HTTP {response.status} {body}")
    return body


async def staff_session(base: str, username: str) -> tuple[aiohttp.ClientSession, str]:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # servers on an IP address
    return http, await sign_in(http, base, username, PASSWORD)


async def create_live_event(base: str, capacity: int) -> int:
    """The host creates the meeting with a captioner on duty (the host chairs it) and takes it straight live."""
    http, csrf = await staff_session(base, HOST)
    async with http:
        now = time.time()
        event = await expect(await http.post(f"{base}/api/events", headers={"X-CSRF-Token": csrf}, json={
            "scene": SCENE, "zone": ZONE, "title": {"en": "Benchmark council meeting"},
            "description": {"en": "Captions and the hand queue under load."}, "startsAt": now + 60,
            "endsAt": now + 7200, "timezone": "Europe/Amsterdam", "capacity": capacity,
            "agenda": [{"title": {"en": "Opening"}, "description": {"en": ""}, "documents": []}],
            "staff": {"chair": [HOST], "moderator": [], "captioner": [CAPTIONER]}}), 201, "creating the event")
        event_id = int(event["id"])
        await expect(await http.post(f"{base}/api/events/{event_id}/state", headers={"X-CSRF-Token": csrf},
                                     json={"to": "live"}), 200, "taking the event live")
    return event_id


class Cpu:
    """CPU seconds of the server processes, of redis-server and of this generator, per phase."""

    def __init__(self, servers: list[int], redis: int) -> None:
        self.pids = [*servers, redis]
        self.phases: dict[str, dict[str, Any]] = {}

    def mark(self) -> tuple[float, list[float], float]:
        return time.perf_counter(), [cpu_seconds(pid) for pid in self.pids], time.process_time()

    def record(self, phase: str, start: tuple[float, list[float], float], messages: int) -> None:
        """CPU share over the phase, and each server's CPU per message sent in it (the write where it was made,
        the fan-out to its listeners everywhere): messages are rare, so the share hides the burst each one costs."""
        wall, before, own = start
        now, after, own_now = self.mark()
        span = now - wall
        used = [b - a for a, b in zip(before, after, strict=True)]
        self.phases[phase] = {"servers_percent": [round(x / span * 100, 1) for x in used[:-1]],
                              "servers_ms_per_message": [round(x * 1000 / max(1, messages), 1) for x in used[:-1]],
                              "redis_percent": round(used[-1] / span * 100, 1),
                              "generator_percent": round((own_now - own) / span * 100, 1), "seconds": round(span, 1)}


class Timings:
    """Latencies of one kind of message: every listener's, kept per server process (listener i reads process
    i mod servers), and the writer's own round trip of each POST (the write path: checks, the store's commit)."""

    def __init__(self, servers: int) -> None:
        self.by_server: list[list[float]] = [[] for _ in range(servers)]
        self.writes: list[float] = []
        self.slowest: list[float] = []  # per message: its last listener's latency
        self.spread: list[float] = []  # per message: first to last arrival (this generator reading 1,000 sockets)
        self.slow: list[dict[str, float]] = []  # messages over the target: where their time went

    def add(self, arrivals: dict[int, float], listeners: int, sent: float, answered: float) -> None:
        """A listener that never saw it counts as infinitely late (a miss)."""
        self.writes.append(answered - sent)
        self.slowest.append(max(arrivals.values()) - sent if len(arrivals) == listeners else float("inf"))
        self.spread.append(max(arrivals.values()) - min(arrivals.values()) if arrivals else float("inf"))
        if self.slowest[-1] > TARGET and arrivals:
            self.slow.append({"answered_ms": round((answered - sent) * 1000),
                              "first_ms": round((min(arrivals.values()) - sent) * 1000),
                              "last_ms": round((max(arrivals.values()) - sent) * 1000)})
        for i in range(listeners):
            self.by_server[i % len(self.by_server)].append(arrivals[i] - sent if i in arrivals else float("inf"))

    def summary(self) -> dict[str, Any]:
        return {**latency_summary([x for server in self.by_server for x in server]),
                "by_server_ms": [latency_summary(server)["latency_ms"] for server in self.by_server],
                "write_round_trip_ms": latency_summary(self.writes)["latency_ms"],
                "messages_over_target": sum(x > TARGET for x in self.slowest),
                "arrival_spread_ms": latency_summary(self.spread)["latency_ms"], "slow_messages": self.slow}


async def send_caption(http: aiohttp.ClientSession, base: str, csrf: str, event_id: int,
                       text: str) -> tuple[float, float]:
    """POSTs one caption line; returns the perf_counter times just before sending and once answered."""
    sent = time.perf_counter()
    await expect(await http.post(f"{base}/api/events/{event_id}/captions", headers={"X-CSRF-Token": csrf},
                                 json={"text": text}), 201, "sending a caption")
    return sent, time.perf_counter()


async def bytes_phase(audience: Audience, http: aiohttp.ClientSession, base: str, csrf: str, event_id: int,
                      seconds: float, interval: float, length: int) -> dict[str, Any]:
    before = audience.received()
    started = time.perf_counter()
    lines = 0
    while (due := started + lines * interval) < started + seconds:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await send_caption(http, base, csrf, event_id, caption_text("rate", lines, length))
        lines += 1
    await asyncio.sleep(max(0.0, started + seconds - time.perf_counter()))
    window = time.perf_counter() - started
    per_minute = sorted((b - a) * 60 / window for a, b in zip(before, audience.received(), strict=True))
    return {"lines": lines, "line_chars": length, "interval_s": interval, "window_s": round(window, 1),
            "bytes_per_listener_per_min": {"mean": round(sum(per_minute) / len(per_minute)),
                                           "min": round(per_minute[0]), "max": round(per_minute[-1])}}


async def caption_phase(audience: Audience, http: aiohttp.ClientSession, base: str, csrf: str, event_id: int,
                        count: int, rate: float, timings: Timings) -> None:
    started = time.perf_counter()
    sent: dict[int, tuple[float, float]] = {}
    for number in range(count):
        await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
        sent[number] = await send_caption(http, base, csrf, event_id, caption_text("lat", number))
    await audience.wait_all(lambda: audience.captions.get(("lat", count - 1), {}))
    for number, (at, answered) in sent.items():
        timings.add(audience.captions.get(("lat", number), {}), len(audience.listeners), at, answered)


async def hand_phase(audience: Audience, urls: list[str], event_id: int, residents: int, timings: Timings) -> int:
    """Residents raise their hands one a second, then lower them; returns how many changes the server refused
    (e.g. 429 from a rate limit)."""
    sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in range(residents)]
    refused = 0
    try:
        handles = []
        for i, http in enumerate(sessions):
            me = await expect(await http.get(f"{urls[i % len(urls)]}/api/events/{event_id}/me"), 200, "resident")
            handles.append(me["handle"])
        for raised in (True, False):
            for i, http in enumerate(sessions):
                base = urls[i % len(urls)]
                handle = handles[i]
                key = f"{'raise' if raised else 'lower'}-{i}"

                def shows(state: dict[str, Any], handle: str = handle, raised: bool = raised) -> bool:
                    return (handle in {hand["handle"] for hand in state.get("hands", [])}) == raised

                audience.watch = (key, shows)
                audience.changes[key] = {}
                sent = time.perf_counter()
                response = await http.post(
                    f"{base}/api/events/{event_id}/hand", headers={"Origin": base, "Sec-Fetch-Site": "same-origin"},
                    json={"raised": raised, "name": f"Resident {i}", "topic": "On the river quays" if raised else None})
                await response.read()
                answered = time.perf_counter()
                if not 200 <= response.status < 300:
                    refused += 1
                else:
                    await audience.wait_all(lambda key=key: audience.changes[key])  # type: ignore[misc]
                    timings.add(audience.changes[key], len(audience.listeners), sent, answered)
                audience.watch = None
                await asyncio.sleep(max(0.0, sent + 1.0 - time.perf_counter()))
    finally:
        for http in sessions:
            await http.close()
    return refused


def pin(pid: int, cpu: int) -> None:
    """Every thread of `pid` on one CPU (what `taskset -a -p` does)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), {cpu})


async def measure(urls: list[str], cpu: Cpu, options: argparse.Namespace) -> dict[str, Any]:
    event_id = await create_live_event(urls[0], options.listeners)
    audience = Audience()
    try:
        started = time.perf_counter()
        await audience.connect(urls, event_id, options.listeners)
        connected = {"seconds": round(time.perf_counter() - started, 1),
                     "head_bytes": audience.listeners[0].head_bytes,
                     "connect_bytes_mean": round(sum(audience.received()) / len(audience.listeners))}
        http, csrf = await staff_session(urls[0], CAPTIONER)
        async with http:
            mark = cpu.mark()
            rate = await bytes_phase(audience, http, urls[0], csrf, event_id, options.bytes_seconds,
                                     options.caption_interval, options.caption_chars)
            cpu.record("bytes", mark, rate["lines"])
            mark = cpu.mark()
            captions = Timings(len(urls))
            await caption_phase(audience, http, urls[0], csrf, event_id, options.captions, options.caption_rate,
                                captions)
            cpu.record("captions", mark, options.captions)
        mark = cpu.mark()
        hands = Timings(len(urls))
        refused = await hand_phase(audience, urls, event_id, options.hands, hands)
        cpu.record("hands", mark, 2 * options.hands - refused)
        dropped = sum(listener.closed for listener in audience.listeners)
    finally:
        audience.close()
    return {"connect": connected, "bytes": rate,
            "captions": {"lines": options.captions, "rate_per_s": options.caption_rate, **captions.summary()},
            "hands": {"changes": 2 * options.hands - refused, "refused": refused, **hands.summary()},
            "listeners_dropped": dropped, "messages": audience.messages, "cpu": cpu.phases}


def run(options: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scenes = bench_scene(root, options.listeners + 10, source="town-hall", scene_id=SCENE)
        with RedisServer() as redis, PostgresServer() as postgres:
            database = postgres.create_database()
            (root / "data0").mkdir()
            add_staff(root / "data0", database, HOST, "host")
            add_staff(root / "data0", database, CAPTIONER, "editor")  # captions by duty on the event, not by role
            procs: list[ServerProcess] = start_servers(root, options.servers, "--log-level", "warning",
                                                       "--scenes-dir", str(scenes), "--redis", redis.url,
                                                       "--database", database)
            try:
                if options.pin:
                    cpus = sorted(os.sched_getaffinity(0))
                    for i, proc in enumerate(procs):
                        pin(proc.proc.pid, cpus[i % len(cpus)])
                    pin(os.getpid(), cpus[-1])
                cpu = Cpu([p.proc.pid for p in procs], redis.process.pid if redis.process else 0)
                load = os.getloadavg()[0]
                result = asyncio.run(measure([p.url for p in procs], cpu, options))
                result["load_average"] = [round(load, 1), round(os.getloadavg()[0], 1)]  # 1 min, at start and end
            finally:
                for proc in procs:
                    proc.stop()
    return {"listeners": options.listeners, "servers": options.servers, "machine": machine(),
            "cpu_model": cpu_model(), "pinned": options.pin, **result}


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def markdown(result: dict[str, Any]) -> str:
    """The figures as the rows of bench/RESULTS.md."""
    def ms(figures: dict[str, float] | None, key: str) -> str:
        return f"{figures[key]:.0f} ms" if figures else "—"

    def cells(summary: dict[str, Any]) -> str:
        processes = " / ".join(ms(figures, "p99") for figures in summary["by_server_ms"])
        return (f"{summary['missed']} | {ms(summary['latency_ms'], 'p50')} | {ms(summary['latency_ms'], 'p99')} | "
                f"{ms(summary['latency_ms'], 'max')} | {processes} | {summary['messages_over_target']} | "
                f"{ms(summary['write_round_trip_ms'], 'p50')}")

    caps, hands, rate = result["captions"], result["hands"], result["bytes"]
    cpu = result["cpu"]

    def cpu_cell(phase: str) -> str:
        figures = cpu[phase]
        return (" + ".join(f"{c:.0f} %" for c in figures["servers_percent"]) + " ("
                + " + ".join(f"{c:.0f} ms" for c in figures["servers_ms_per_message"]) + " a message; "
                f"Redis {figures['redis_percent']:.0f} %, generator {figures['generator_percent']:.0f} %)")

    lines = [
        "| what | missed | p50 | p99 | max | p99 per process | messages whose last attendee took > 250 ms | "
        "POST answered, p50 | server CPU (one core = 100 %) |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| caption line → every attendee ({caps['lines']} lines at {caps['rate_per_s']:g}/s) | {cells(caps)} | "
        f"{cpu_cell('captions')} |",
        f"| hand queue change → every attendee ({hands['changes']} changes, {hands['refused']} refused) | "
        f"{cells(hands)} | {cpu_cell('hands')} |",
        "",
        "| captions on the wire | per attendee per minute (mean / min / max) | server CPU |",
        "|---|---|---|",
        f"| {rate['lines']} lines of {rate['line_chars']} characters, one every {rate['interval_s']:g} s, "
        f"over {rate['window_s']:g} s | {rate['bytes_per_listener_per_min']['mean']:,} / "
        f"{rate['bytes_per_listener_per_min']['min']:,} / {rate['bytes_per_listener_per_min']['max']:,} bytes | "
        f"{cpu_cell('bytes')} |",
    ]
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=2, choices=[1, 2])
    parser.add_argument("--captions", type=int, default=50, help="lines timed in the caption phase")
    parser.add_argument("--caption-rate", type=float, default=1.0, help="lines per second in the caption phase")
    parser.add_argument("--hands", type=int, default=20, help="residents who raise, then lower, their hand")
    parser.add_argument("--bytes-seconds", type=float, default=60.0, help="length of the bytes phase")
    parser.add_argument("--caption-interval", type=float, default=3.0, help="seconds between lines (bytes phase)")
    parser.add_argument("--caption-chars", type=int, default=80, help="characters per line (bytes phase)")
    parser.add_argument("--pin", action="store_true", help="pin server i to CPU i and the generator to the last")
    options = parser.parse_args(argv)
    if options.listeners < 1 or options.captions < 1 or options.hands < 1 or options.caption_rate <= 0:
        parser.error("listeners, captions, hands and the caption rate must be positive")
    if not 20 <= options.caption_chars <= 300:  # the API takes 1..300 characters; the number must fit
        parser.error("--caption-chars must be between 20 and 300")
    return options


def main() -> None:
    result = run(parse())
    print(json.dumps(result, indent=2))
    print()
    print(markdown(result))


if __name__ == "__main__":
    main()
