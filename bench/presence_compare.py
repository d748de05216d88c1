"""Civic Space against a minimal Colyseus 0.16 room (bench/peers/colyseus), driven by ONE load generator.

Both servers get the same bots (bench/wsbot.py: raw WebSockets, the same cost per message for either server),
walking the same paths at the same rate; only the adapter differs:
- Civic Space: `hello` as text, the `welcome`, then 10-byte POSE messages (docs/protocol.md).
- Colyseus: a seat reservation over HTTP (`POST /matchmake/joinOrCreate/square`), the WebSocket to
  `/<processId>/<roomId>?sessionId=…`, its JOIN_ROOM message answered with the JOIN_ROOM confirmation byte, then
  moves as ROOM_DATA messages (type 1, msgpack [x, y, z, yaw, pitch]).
Each server is pinned to core 0, the generator to core 1; server CPU from /proc over the measurement window;
download per resident = bytes every bot received in the window / bots / seconds. Latency: from a move's
SCHEDULED time to an observer seeing it (the move's number travels in its yaw), with bench/presence.py's
observers for Civic Space and colyseus.js observers (bench/peers/colyseus/observer.js, which decode the schema
patches) for Colyseus, 8 each, on the generator's core. Runs are interleaved (civic, colyseus, colyseus, civic...).

    .venv/bin/python bench/presence_compare.py --bots 500 1000 --duration 20 --repeat 2
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import multiprocessing
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.presence import (  # noqa: E402
    LOAD_CORE,
    SCENE,
    SERVER_CORE,
    Server,
    Walker,
    bench_scene,
    cpu_seconds,
    loop_factory,
    machine_busy_seconds,
    observe,
    phase_of,
    pin,
)
from bench.wsbot import BINARY, TEXT, LeanBot  # noqa: E402
from server.codec import Quantizer  # noqa: E402
from server.config import ROOT  # noqa: E402
from tests.support import free_port  # noqa: E402

PEER = Path(__file__).resolve().parent / "peers" / "colyseus"
JOIN_ROOM, ROOM_DATA = 10, 13
# Quantisation box for Colyseus moves (Civic Space's come from its welcome): the room sends everything to
# everyone, so where the bots walk does not change its work.
BOUNDS = {"min": [-40.0, -2.0, -30.0], "max": [40.0, 12.0, 30.0]}


def msgpack_uint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    if value < 0x100:
        return bytes((0xCC, value))
    return b"\xcd" + value.to_bytes(2, "big")


def colyseus_move(pose: bytes) -> bytes:
    """A Civic Space POSE (kind, x, y, z, yaw u16, pitch u8) as a Colyseus ROOM_DATA message of type 1."""
    x, y, z, yaw = (int.from_bytes(pose[i:i + 2], "little") for i in (1, 3, 5, 7))
    return bytes((ROOM_DATA, 1, 0x95)) + b"".join(msgpack_uint(v) for v in (x, y, z, yaw, pose[9]))


async def join_civic(base: str, bot: int) -> tuple[LeanBot, dict, str]:
    client = LeanBot(base.replace("http", "ws") + "/ws")
    await client.open()
    client.send(TEXT, json.dumps({"type": "hello", "protocol": 1, "scene": SCENE, "name": f"bot-{bot}"}).encode())
    while True:
        opcode, payload = await client.receive()
        if opcode == TEXT and (message := json.loads(payload))["type"] == "welcome":
            return client, message["bounds"], str(message["id"])


async def join_colyseus(base: str, bot: int) -> tuple[LeanBot, dict, str]:
    def reserve() -> dict:
        request = urllib.request.Request(f"{base}/matchmake/joinOrCreate/square", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(request, timeout=30).read())

    seat = await asyncio.to_thread(reserve)
    room = seat["room"]
    client = LeanBot(f"{base.replace('http', 'ws')}/{room['processId']}/{room['roomId']}?sessionId={seat['sessionId']}")
    await client.open()
    while True:
        opcode, payload = await client.receive()
        if opcode == BINARY and payload[:1] == bytes((JOIN_ROOM,)):
            client.send(BINARY, bytes((JOIN_ROOM,)))  # the confirmation: the room then sends its full state
            return client, BOUNDS, seat["sessionId"]


async def run_bots(peer: str, base: str, bots: list[int], epoch: float, rate: float, measure_from: float,
                   end: float, sessions: Path) -> tuple[int, int]:
    """Join (and write {session id: bot} to `sessions` for the observers), then send every due move (one loop, a
    heap of due times); (late moves, bytes received in the measurement window)."""
    join = join_civic if peer == "civic" else join_colyseus
    clients: dict[int, LeanBot] = {}
    bounds = BOUNDS
    session_of: dict[str, int] = {}
    for first in range(0, len(bots), 50):
        chunk = bots[first:first + 50]
        for bot, (client, seen, session) in zip(chunk, await asyncio.gather(*(join(base, bot) for bot in chunk)),
                                                strict=True):
            client.keep, client.messages = False, []
            clients[bot], bounds, session_of[session] = client, seen, bot
    sessions.with_suffix(".tmp").write_text(json.dumps(session_of))
    sessions.with_suffix(".tmp").rename(sessions)
    quant = Quantizer(bounds["min"], bounds["max"])
    walkers = {bot: Walker(bot, rate, quant) for bot in bots}
    due = [(epoch + walkers[bot].phase, bot, 0) for bot in bots]
    heapq.heapify(due)
    late, received_at_start = 0, None
    try:
        while due:
            at, bot, k = due[0]
            if at > end:
                break
            if received_at_start is None and at >= measure_from:
                received_at_start = sum(c.received for c in clients.values())
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.time()
            while due and due[0][0] <= now:
                at, bot, k = heapq.heappop(due)
                behind = int((now - at) * rate)
                late, k = late + behind, k + behind
                pose = walkers[bot].pose(k, rate)
                clients[bot].send(BINARY, pose if peer == "civic" else colyseus_move(pose))
                heapq.heappush(due, (epoch + walkers[bot].phase + (k + 1) / rate, bot, k + 1))
        received = sum(c.received for c in clients.values()) - (received_at_start or 0)
    finally:
        for client in clients.values():
            client.close()
    return late, received


def bot_process(peer: str, base: str, bots: list[int], epoch: float, rate: float, measure_from: float, end: float,
                out: multiprocessing.Queue, core: int | None, sessions: Path) -> None:
    if core is not None:
        pin(0, core)
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        out.put(runner.run(run_bots(peer, base, bots, epoch, rate, measure_from, end, sessions)))


async def observe_colyseus(base: str, count: int, root: Path, session_files: list[Path], rate: float, epoch: float,
                           measure_from: float, end: float) -> dict[str, float | None]:
    """Latency percentiles (ms) and updates seen by `count` colyseus.js observers (peers/colyseus/observer.js)."""
    while not all(f.exists() for f in session_files):
        await asyncio.sleep(0.2)
    phases = {session: phase_of(bot, rate) for f in session_files for session, bot in json.loads(f.read_text()).items()}
    (root / "phases.json").write_text(json.dumps(phases))
    proc = await asyncio.create_subprocess_exec(
        "taskset", "-c", str(LOAD_CORE), "node", "observer.js", base, str(count), str(root / "phases.json"),
        repr(epoch), repr(rate), repr(measure_from), repr(end), cwd=PEER, stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    return dict(json.loads(out))


async def observe_civic(base: str, count: int, root: Path, session_files: list[Path], rate: float, epoch: float,
                        measure_from: float, end: float) -> dict[str, float | None]:
    """Latency percentiles (ms) and updates seen by `count` observers of bench/presence.py."""
    results = await asyncio.gather(*(observe(base.replace("http", "ws") + "/ws", i, rate, epoch, measure_from, end)
                                     for i in range(count)))
    latencies = np.array([x * 1000 for r in results for x in r["latencies"]])  # type: ignore[attr-defined]
    seen: dict[str, float | None] = {"updates": len(latencies)}
    for p in (50, 99, 99.9):
        seen[f"p{p:g}"] = float(np.percentile(latencies, p)) if len(latencies) else None
    return seen


class Colyseus:
    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.proc = subprocess.Popen(["node", "server.js"], cwd=PEER, env={**os.environ, "PORT": str(self.port)},
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if "running at" in line:
                break
        else:
            raise RuntimeError(f"the Colyseus peer did not start; see {log}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def run(peer: str, bots: int, rate: float, duration: float, generators: int, observers: int) -> dict[str, object]:
    pin(0, LOAD_CORE)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if peer == "civic":
            scenes = bench_scene(root, capacity=bots + 10)
            (root / "data").mkdir()
            server: Server | Colyseus = Server(ROOT, root / "data", "--scenes-dir", str(scenes), "--log-level",
                                               "warning")
        else:
            server = Colyseus(root / "colyseus.log")
        try:
            pin(server.proc.pid, SERVER_CORE)
            ramp = max(5.0, bots / 100)
            epoch = time.time() + 1.0
            measure_from = epoch + ramp
            end = measure_from + duration
            ctx = multiprocessing.get_context("spawn")
            queue = ctx.Queue()
            session_files = [root / f"sessions-{g}.json" for g in range(generators)]
            procs = [ctx.Process(target=bot_process, args=(peer, server.url, list(range(g, bots, generators)), epoch,
                                                           rate, measure_from, end, queue, LOAD_CORE, session_files[g]))
                     for g in range(generators)]
            for proc in procs:
                proc.start()
            observe_with = observe_civic if peer == "civic" else observe_colyseus

            async def window() -> tuple[dict[str, float | None], float, float, float]:
                await asyncio.sleep(max(0.0, measure_from - 2 - time.time()))
                watching = asyncio.ensure_future(observe_with(server.url, observers, root, session_files, rate, epoch,
                                                              measure_from, end))
                await asyncio.sleep(max(0.0, measure_from - time.time()))
                cpu_start, busy_start = cpu_seconds(server.proc.pid), machine_busy_seconds()
                gen_start = sum(cpu_seconds(p.pid) for p in procs if p.pid) + cpu_seconds(os.getpid())
                await asyncio.sleep(max(0.0, end - time.time()))
                cpu = cpu_seconds(server.proc.pid) - cpu_start
                generator = sum(cpu_seconds(p.pid) for p in procs if p.pid) + cpu_seconds(os.getpid()) - gen_start
                others = machine_busy_seconds() - busy_start - cpu - generator
                return await watching, cpu, generator, others

            latencies, cpu, generator, others = asyncio.run(window())
            outcomes = [queue.get(timeout=120) for _ in procs]
            for proc in procs:
                proc.join(timeout=30)
        finally:
            server.stop()
            shutil.copytree(root, Path(tempfile.gettempdir()) / f"civic-compare-{peer}", dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("pipeline", "webcache", "*.sqlite3*"))
    return {
        "peer": peer, "bots": bots, "rate_hz": rate, "duration_s": duration,
        "server_cpu_percent": round(cpu / duration * 100, 1),
        "latency_ms": {q: None if latencies[q] is None else round(float(latencies[q]), 1)  # type: ignore[arg-type]
                       for q in ("p50", "p99", "p99.9")},
        "observed_updates": latencies["updates"],
        "down_kb_per_s_per_resident": round(sum(o[1] for o in outcomes) / bots / duration / 1000, 2),
        "late_bot_moves": sum(o[0] for o in outcomes),
        "generator_cpu_percent": round(generator / duration * 100, 1),
        "others_cpu_percent": round(others / duration * 100, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, nargs="+", default=[500, 1000])
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--generators", type=int, default=2)
    parser.add_argument("--observers", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--peers", nargs="+", default=["civic", "colyseus"], choices=["civic", "colyseus"])
    args = parser.parse_args()
    if "colyseus" in args.peers and not (PEER / "node_modules").exists():
        subprocess.run(["npm", "ci", "--ignore-scripts"], cwd=PEER, check=True)
    results = []
    for bots in args.bots:
        for round_ in range(args.repeat):
            for peer in args.peers if round_ % 2 == 0 else args.peers[::-1]:
                result = run(peer, bots, args.rate, args.duration, args.generators, args.observers)
                results.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
