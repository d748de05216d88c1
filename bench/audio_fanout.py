"""Stage audio at scale (issue 11): one speaker (the chair) sends Opus-sized packets at 50 a second to N listeners
of one meeting on the audio WebSocket (`/api/events/{id}/audio`), spread over one or two server processes; what
the relay costs the servers (CPU from /proc), how late packets arrive (send -> receive, p50/p99), how many are
dropped, and the bytes each listener reads per second.

The processes share a real redis-server (the bus: one publish per packet) and a throwaway PostgreSQL, both started
here, as in bench/event_fanout.py (whose staff, event and CPU helpers this reuses). The speaker is an admin's
audio socket on process 0. Packets all have the same size (`--packet-bytes` of "Opus", default 60: speech at
about 24 kbit/s), so a listener's packet count is its audio bytes over one frame's size: most listeners only count
bytes (one asyncio protocol each, no task, no parsing), and every `--observe-every`-th one parses each frame and
notes when each packet (by seq) arrived. A packet an observer never got counts as missed, never as fast.
Listener sockets are read all the time (nobody is slow here): drops would mean the server could not keep up.
With `--walkers N`, N residents also walk at 20 Hz in another room of the same servers (bench/presence.py's bots)
and `--pose-observers` time their moves for `--seconds` without audio, then for `--seconds` with it: pose p99
with audio against without, and the servers' CPU in each window (their difference is the audio path's).

    .venv/bin/python bench/audio_fanout.py --listeners 1000 --servers 2 --seconds 30 [--walkers 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import latency_summary, machine, start_servers  # noqa: E402
from bench.event_fanout import (  # noqa: E402
    CAPTIONER,
    HOST,
    SCENE,
    Cpu,
    add_staff,
    cpu_model,
    create_live_event,
    pin,
    staff_session,
)
from bench.presence import SCENE as PRESENCE_SCENE  # noqa: E402
from bench.presence import bench_scene, bot_process, observe  # noqa: E402
from server.config import ROOT  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.support import ServerProcess  # noqa: E402

CONNECT_WAVE = 50  # listeners opening their socket at the same time
FRAME_MS = 20
HEADER = struct.Struct(">BHI")
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def server_frame_size(packet_bytes: int) -> int:
    """Bytes of one relayed packet on the wire: WebSocket header (2) + kind, slot, seq, timestamp (8) + Opus."""
    payload = 8 + packet_bytes
    return (2 if payload < 126 else 4) + payload


class AudioListener(asyncio.Protocol):
    """One attendee's audio socket. Counts every byte after the upgrade; an observer also parses the frames and
    notes the arrival time of each packet's seq (pings are answered by everyone)."""

    def __init__(self, index: int, request: bytes, observe: bool) -> None:
        self.index, self.request, self.observe = index, request, observe
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.welcomed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.received = 0  # bytes after the upgrade answer
        self.arrivals: dict[int, float] = {}  # seq -> perf_counter (observers only)
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.welcomed.done():
            self.welcomed.set_exception(ConnectionError(f"listener {self.index} closed before its welcome"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(bytes(buffer[:end]).decode(errors="replace"))
            del buffer[:end + 4]
            self.upgraded = True
            self.received += len(buffer)
        else:
            self.received += len(data)
        start, size = 0, len(buffer)
        while size - start >= 2:  # frames are skipped by their length; only observers look inside packets
            opcode, length = buffer[start] & 0x0F, buffer[start + 1] & 0x7F
            at = start + 2
            if length == 126:
                if size - at < 2:
                    break
                length, at = int.from_bytes(buffer[at:at + 2], "big"), at + 2
            if size - at < length:
                break
            if opcode == BINARY:
                if self.observe and length >= 8:
                    self.arrivals.setdefault(int.from_bytes(buffer[at + 2:at + 4], "big"), now)
            elif opcode == TEXT and not self.welcomed.done() and b"audio_welcome" in buffer[at:at + length]:
                self.welcomed.set_result(None)
            elif opcode == PING and self.transport is not None:
                self.transport.write(bytes((0x80 | PONG, 0x80 | length)) + b"\0\0\0\0" + bytes(buffer[at:at + length]))
            elif opcode == CLOSE:
                self.close()
            start = at + length
        if start:
            del buffer[:start]


class Audience:
    def __init__(self) -> None:
        self.listeners: list[AudioListener] = []

    async def connect(self, urls: list[str], event_id: int, count: int, observe_every: int) -> None:
        loop = asyncio.get_running_loop()
        for first in range(0, count, CONNECT_WAVE):
            batch = []
            for index in range(first, min(count, first + CONNECT_WAVE)):
                url = urlsplit(urls[index % len(urls)])
                key = base64.b64encode(os.urandom(16)).decode()
                request = (f"GET /api/events/{event_id}/audio HTTP/1.1\r\nHost: {url.netloc}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           f"Origin: http://{url.netloc}\r\nUser-Agent: civic-bench-audio-fanout\r\n\r\n").encode()
                listener = AudioListener(index, request, observe=index % observe_every == 0)
                self.listeners.append(listener)
                await loop.create_connection(lambda listener=listener: listener,  # type: ignore[misc]
                                             url.hostname or "127.0.0.1", url.port or 80)
                batch.append(listener.welcomed)
            async with asyncio.timeout(30):
                await asyncio.gather(*batch)

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()


async def speak(ws: Any, seconds: float, packet_bytes: int) -> dict[int, float]:
    """The chair's socket sends one packet every 20 ms for `seconds` (on a schedule, not sleeps that drift);
    returns seq -> perf_counter just before each send."""
    sent: dict[int, float] = {}
    count = int(seconds * 1000 / FRAME_MS)
    opus = b"\xfc" + bytes(packet_bytes - 1)
    started = time.perf_counter()
    for seq in range(count):
        await asyncio.sleep(max(0.0, started + seq * FRAME_MS / 1000 - time.perf_counter()))
        sent[seq] = time.perf_counter()
        await ws.send_bytes(HEADER.pack(1, seq & 0xFFFF, seq * 960) + opus)
    await asyncio.sleep(1.0)  # the last packets' way to every listener
    return sent


class Walking:
    """`--walkers` residents walking at 20 Hz in another scene's room on the same servers (bench/presence.py's
    bots, in their own process), and pose observers timing move -> seen in a window without audio, then in one
    with audio: the issue asks that pose p99 with audio stays within 20 % of its figure without."""

    RATE = 20.0

    def __init__(self, urls: list[str], walkers: int, observers: int, seconds: float) -> None:
        self.ws_urls = [url.replace("http", "ws", 1) + "/ws" for url in urls]
        self.observers = observers
        self.epoch = time.time() + 1.0
        self.without_audio = self.epoch + max(5.0, walkers / 150)  # after the arrivals
        self.with_audio = self.without_audio + seconds
        self.end = self.with_audio + seconds + 1.0  # speak() waits 1 s after its last packet
        context = multiprocessing.get_context("spawn")
        self.queue = context.Queue()
        self.process = context.Process(target=bot_process, args=(
            self.ws_urls, list(range(walkers)), self.epoch, self.RATE, self.end, self.queue, None))
        self.process.start()

    def observe(self, start: float, end: float) -> asyncio.Future[list[dict[str, object]]]:
        """Observers joining 2 s before `start`, timing every move they see from `start` to `end`."""
        async def run() -> list[dict[str, object]]:
            await asyncio.sleep(max(0.0, start - 2 - time.time()))
            return await asyncio.gather(*(observe(self.ws_urls[i % len(self.ws_urls)], i, self.RATE, self.epoch,
                                                  start, end) for i in range(self.observers)))
        return asyncio.ensure_future(run())

    def finish(self) -> int:
        """The moves the bots sent late (the generator fell behind)."""
        late = int(self.queue.get(timeout=60))
        self.process.join(timeout=30)
        return late


def pose_summary(observed: list[dict[str, object]]) -> dict[str, Any]:
    latencies = [x for found in observed for x in found["latencies"]]  # type: ignore[attr-defined]
    return {**latency_summary(latencies), "moves_seen": len(latencies)}


async def measure(urls: list[str], cpu: Cpu, options: argparse.Namespace) -> dict[str, Any]:
    event_id = await create_live_event(urls[0], options.listeners + 10)
    audience = Audience()
    http, _ = await staff_session(urls[0], HOST)  # signed in before the measure: Argon2 is slow on purpose
    poses: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        await audience.connect(urls, event_id, options.listeners, options.observe_every)
        connect_s = time.perf_counter() - started
        async with http.ws_connect(f"{urls[0]}/api/events/{event_id}/audio", headers={"Origin": urls[0]}) as ws:
            welcome = json.loads((await ws.receive(timeout=10)).data)
            if not welcome.get("canSpeak"):
                raise RuntimeError(f"the chair may not speak: {welcome}")

            async def drain() -> None:  # the chair's own socket gets the speaker messages: read them
                async for _ in ws:
                    pass

            reader = asyncio.ensure_future(drain())
            walking = None
            if options.walkers:
                walking = Walking(urls, options.walkers, options.pose_observers, options.seconds)
                quiet = walking.observe(walking.without_audio, walking.with_audio)
                loud = walking.observe(walking.with_audio, walking.end)
                await asyncio.sleep(max(0.0, walking.without_audio - time.time()))
                mark = cpu.mark()
                await asyncio.sleep(max(0.0, walking.with_audio - time.time()))
                cpu.record("walking", mark, 0)
            else:
                await asyncio.sleep(1.0)  # the connections settle (the last welcomes)
            before = [listener.received for listener in audience.listeners]
            mark = cpu.mark()
            sent = await speak(ws, options.seconds, options.packet_bytes)
            cpu.record("speaking", mark, len(sent))
            reader.cancel()
            if walking is not None:
                poses = {"walkers": options.walkers, "observers": options.pose_observers,
                         "without_audio": pose_summary(await quiet), "with_audio": pose_summary(await loud),
                         "late_moves": walking.finish()}
        got = [listener.received - b for listener, b in zip(audience.listeners, before, strict=True)]
        frame = server_frame_size(options.packet_bytes)
        latencies: list[float] = []
        for listener in audience.listeners:
            if listener.observe:
                latencies += [listener.arrivals[seq] - at if seq in listener.arrivals else float("inf")
                              for seq, at in sent.items()]
        packets = [g // frame for g in got]  # a few control frames (speaker on/off) round down away
        dropped = sum(max(0, len(sent) - p) for p in packets)
        closed = sum(listener.closed for listener in audience.listeners)
    finally:
        audience.close()
        await http.close()
    speaking = len(sent) * FRAME_MS / 1000
    per_second = sorted(g / speaking for g in got)
    return {"connect_seconds": round(connect_s, 1), "packets_sent": len(sent), "packet_bytes": options.packet_bytes,
            "speaking_s": speaking, "latency": latency_summary(latencies),
            "observers": sum(listener.observe for listener in audience.listeners),
            "packets_dropped": dropped, "listeners_closed": closed,
            "bytes_per_listener_per_s": {"mean": round(sum(per_second) / len(per_second)),
                                         "min": round(per_second[0]), "max": round(per_second[-1])},
            "cpu": cpu.phases["speaking"], "cpu_walking_only": cpu.phases.get("walking"), "poses": poses or None}


def run(options: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scenes = bench_scene(root, options.listeners + 20, source="town-hall", scene_id=SCENE)
        if options.walkers:  # presence's room, beside the meeting's
            manifest = json.loads((ROOT / "scenes" / "public-square.json").read_text())
            manifest.update(id=PRESENCE_SCENE, capacity=options.walkers + options.pose_observers + 10)
            (scenes / f"{PRESENCE_SCENE}.json").write_text(json.dumps(manifest))
        with RedisServer() as redis, PostgresServer() as postgres:
            database = postgres.create_database()
            (root / "data0").mkdir()
            add_staff(root / "data0", database, HOST, "host")  # the host chairs the meeting it creates
            add_staff(root / "data0", database, CAPTIONER, "editor")  # the meeting names a captioner
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
                result["load_average"] = [round(load, 1), round(os.getloadavg()[0], 1)]
            finally:
                for proc in procs:
                    proc.stop()
    return {"listeners": options.listeners, "servers": options.servers, "machine": machine(),
            "cpu_model": cpu_model(), "pinned": options.pin, **result}


def markdown(result: dict[str, Any]) -> str:
    """The figures as a row of bench/RESULTS.md."""
    latency = result["latency"]["latency_ms"] or {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    cpu = result["cpu"]
    rate = result["bytes_per_listener_per_s"]
    return "\n".join([
        "| listeners / processes | packets sent (bytes of Opus) | server CPU per process | Redis CPU | "
        "send → receive p50 / p99 / max | missed (observed) | dropped (all) | bytes per listener per s |",
        "|---|---|---|---|---|---|---|---|",
        f"| {result['listeners']:,} / {result['servers']} | {result['packets_sent']:,} ({result['packet_bytes']}) | "
        + " + ".join(f"{c:.1f} %" for c in cpu["servers_percent"]) + f" | {cpu['redis_percent']:.1f} % | "
        f"{latency['p50']:.1f} / {latency['p99']:.1f} / {latency['max']:.1f} ms | {result['latency']['missed']} of "
        f"{result['observers'] * result['packets_sent']:,} | {result['packets_dropped']:,} | "
        f"{rate['mean']:,} (min {rate['min']:,}) |"]
        + pose_rows(result))


def pose_rows(result: dict[str, Any]) -> list[str]:
    poses = result.get("poses")
    if not poses:
        return []

    def ms(summary: dict[str, Any]) -> str:
        figures = summary["latency_ms"]
        return f"{figures['p50']:.1f} / {figures['p99']:.1f} ms" if figures else "—"

    walking, speaking = result["cpu_walking_only"], result["cpu"]
    return ["", f"| {poses['walkers']:,} residents walking at 20 Hz meanwhile | pose move → seen p50 / p99 | "
            "server CPU per process |", "|---|---|---|",
            f"| without audio | {ms(poses['without_audio'])} | "
            + " + ".join(f"{c:.1f} %" for c in walking["servers_percent"]) + " |",
            f"| with audio | {ms(poses['with_audio'])} | "
            + " + ".join(f"{c:.1f} %" for c in speaking["servers_percent"]) + " |"]


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=1, choices=[1, 2])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the chair speaks")
    parser.add_argument("--packet-bytes", type=int, default=60, help="bytes of each Opus packet (1..400)")
    parser.add_argument("--observe-every", type=int, default=10, help="every n-th listener times each packet")
    parser.add_argument("--walkers", type=int, default=0,
                        help="residents walking at 20 Hz meanwhile: pose latency without, then with audio")
    parser.add_argument("--pose-observers", type=int, default=10, help="residents timing the walkers' moves")
    parser.add_argument("--pin", action="store_true", help="pin server i to CPU i and the generator to the last")
    options = parser.parse_args(argv)
    if options.listeners < 1 or options.seconds <= 0 or options.observe_every < 1 or options.walkers < 0 \
            or options.pose_observers < 1:
        parser.error("listeners, seconds and observe-every must be positive")
    if not 1 <= options.packet_bytes <= 400:
        parser.error("--packet-bytes must be between 1 and 400")
    return options


def main() -> None:
    result = run(parse())
    print(json.dumps(result, indent=2))
    print()
    print(markdown(result))


if __name__ == "__main__":
    main()
