"""Civic Space against a minimal Colyseus 0.16 room (bench/peers/colyseus), driven by ONE load generator.

Both servers get the same bots (bench/wsbot.py: raw WebSockets, the same cost per message for either server),
walking the same paths at the same rate; only the adapter differs:
- Civic Space: `hello` as text, the `welcome`, then 10-byte POSE messages (docs/protocol.md).
- Colyseus: a seat reservation over HTTP (`POST /matchmake/joinOrCreate/square`), the WebSocket to
  `/<processId>/<roomId>?sessionId=…`, its JOIN_ROOM message answered with the JOIN_ROOM confirmation byte, then
  moves as ROOM_DATA messages (type 1, msgpack [x, y, z, yaw, pitch]).
Each server is pinned to core 0, the generator to core 1; server CPU from /proc over the measurement window;
download per resident = bytes every bot received in the window / bots / seconds. Runs are interleaved
(civic, colyseus, colyseus, civic, ...). Latency is not measured here (see bench/presence.py for Civic Space's):
a Colyseus observer would have to decode schema patches.

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


async def join_civic(base: str, bot: int) -> tuple[LeanBot, dict]:
    client = LeanBot(base.replace("http", "ws") + "/ws")
    await client.open()
    client.send(TEXT, json.dumps({"type": "hello", "protocol": 1, "scene": SCENE, "name": f"bot-{bot}"}).encode())
    while True:
        opcode, payload = await client.receive()
        if opcode == TEXT and (message := json.loads(payload))["type"] == "welcome":
            return client, message["bounds"]


async def join_colyseus(base: str, bot: int) -> tuple[LeanBot, dict]:
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
            return client, BOUNDS


async def run_bots(peer: str, base: str, bots: list[int], epoch: float, rate: float, measure_from: float,
                   end: float) -> tuple[int, int]:
    """Join, then send every due move (one loop, a heap of due times); (late moves, bytes received in the
    measurement window)."""
    join = join_civic if peer == "civic" else join_colyseus
    clients: dict[int, LeanBot] = {}
    bounds = BOUNDS
    for first in range(0, len(bots), 50):
        chunk = bots[first:first + 50]
        for bot, (client, seen) in zip(chunk, await asyncio.gather(*(join(base, bot) for bot in chunk)),
                                       strict=True):
            client.keep, client.messages = False, []
            clients[bot], bounds = client, seen
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
                out: multiprocessing.Queue, core: int | None) -> None:
    if core is not None:
        pin(0, core)
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        out.put(runner.run(run_bots(peer, base, bots, epoch, rate, measure_from, end)))


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


def run(peer: str, bots: int, rate: float, duration: float, generators: int) -> dict[str, object]:
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
            procs = [ctx.Process(target=bot_process, args=(peer, server.url, list(range(g, bots, generators)), epoch,
                                                           rate, measure_from, end, queue, LOAD_CORE))
                     for g in range(generators)]
            for proc in procs:
                proc.start()
            time.sleep(max(0.0, measure_from - time.time()))
            cpu_start, busy_start = cpu_seconds(server.proc.pid), machine_busy_seconds()
            gen_start = sum(cpu_seconds(p.pid) for p in procs if p.pid)
            time.sleep(max(0.0, end - time.time()))
            cpu = cpu_seconds(server.proc.pid) - cpu_start
            generator = sum(cpu_seconds(p.pid) for p in procs if p.pid) - gen_start
            others = machine_busy_seconds() - busy_start - cpu - generator
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
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--peers", nargs="+", default=["civic", "colyseus"], choices=["civic", "colyseus"])
    args = parser.parse_args()
    if "colyseus" in args.peers and not (PEER / "node_modules").exists():
        subprocess.run(["npm", "ci", "--ignore-scripts"], cwd=PEER, check=True)
    results = []
    for bots in args.bots:
        for round_ in range(args.repeat):
            for peer in args.peers if round_ % 2 == 0 else args.peers[::-1]:
                result = run(peer, bots, args.rate, args.duration, args.generators)
                results.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
