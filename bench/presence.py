"""Presence load generator: N bots walking in one room, observers measuring move-to-seen latency.

Built on the `websockets` library. Each bot moves at R Hz on a fixed schedule with a random phase; move k of
bot b is scheduled at `epoch + phase_b + k / R` and carries k in its yaw, so an observer that sees the pose
knows exactly when it was meant to be sent: latency is measured from the SCHEDULED time, so back-pressure in
the generator or the server is never hidden. Bots run in several generator processes; observers run in the
main one and record latency percentiles, updates seen and bytes received per second. Server CPU comes from
/proc/<pid>/stat. With `--servers 2` two server processes share the room through a real redis-server (started
here on a free port); bots and observers are spread over both.

    .venv/bin/python bench/presence.py --bots 1000 --rate 20 --duration 20 [--servers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import math
import multiprocessing
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import websockets
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.typing import Origin
from websockets.uri import parse_uri

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.codec import Quantizer, decode_frame, encode_pose  # noqa: E402
from server.config import ROOT  # noqa: E402
from tests.support import ServerProcess  # noqa: E402

SCENE = "bench-square"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def phase_of(bot: int, rate: float) -> float:
    return random.Random(bot).random() / rate


def place(bot: int, k: int, rate: float) -> tuple[float, float]:
    """Bots walk circles of 2 m radius at 1 m/s around centres spread over a 50 m × 40 m square."""
    rng = random.Random(bot * 7919)
    cx, cz = rng.uniform(-25, 25), rng.uniform(-18, 18)
    angle = k / rate * 0.5 + rng.random() * math.tau
    return cx + 2 * math.cos(angle), cz + 2 * math.sin(angle)


def origin_of(url: str) -> Origin:
    """The Origin a browser on that server's page sends: the server refuses an upgrade without one."""
    uri = parse_uri(url)
    return Origin(f"{'https' if uri.secure else 'http'}://{uri.host}:{uri.port}")


async def connect(url: str, name: str):  # type: ignore[no-untyped-def]
    ws = await websockets.connect(url, compression=None, max_size=1 << 16, ping_interval=None, open_timeout=30,
                                  origin=origin_of(url))
    await ws.send(json.dumps({"type": "hello", "protocol": 1, "scene": SCENE, "name": name}))
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == "welcome":
            return ws, message
        if message["type"] == "error":
            raise RuntimeError(message)


class SansIOBot:
    """A bot on websockets' sans-I/O protocol: it reads frames straight off the socket and drops them.

    The asyncio client queues every incoming message and stops reading when its queue is full; with hundreds
    of bots per generator process that made the generator, not the server, the bottleneck (bots were closed
    as too slow). Here reading is one `receive_data` per socket read, pings are answered by the protocol.
    """

    def __init__(self, url: str) -> None:
        self.uri = parse_uri(url)
        self.protocol = ClientProtocol(self.uri, origin=origin_of(url), max_size=1 << 16)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def flush(self) -> None:
        assert self.writer is not None
        data = b"".join(self.protocol.data_to_send())
        if data:
            self.writer.write(data)

    async def open(self, hello: dict) -> dict:
        self.reader, self.writer = await asyncio.open_connection(self.uri.host, self.uri.port)
        self.protocol.send_request(self.protocol.connect())
        self.flush()
        sent_hello = False
        while True:
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("closed during the handshake")
            self.protocol.receive_data(data)
            for event in self.protocol.events_received():
                if isinstance(event, Frame) and event.opcode == Opcode.TEXT:
                    message = json.loads(event.data)
                    if message["type"] == "welcome":
                        return message
                    if message["type"] == "error":
                        raise RuntimeError(message)
            if not sent_hello and self.protocol.state == State.OPEN:
                self.protocol.send_text(json.dumps(hello).encode())
                sent_hello = True
            self.flush()

    async def drain(self, on_text: Callable[[bytes], None] | None = None) -> None:
        """Read until the connection ends; binary frames are dropped, text ones go to `on_text` if given."""
        assert self.reader is not None
        while True:
            data = await self.reader.read(65536)
            if not data:
                return
            self.protocol.receive_data(data)
            for event in self.protocol.events_received():  # pings were answered inside
                if on_text is not None and isinstance(event, Frame) and event.opcode == Opcode.TEXT:
                    on_text(event.data)
            self.flush()

    def send(self, payload: bytes) -> None:
        self.protocol.send_binary(payload)
        self.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def run_bots(url_of, bots: list[int], epoch: float, rate: float, end: float) -> int:
    """Connect the bots, then ONE loop sends every due move of every bot (a heap of next due times), so the
    generator costs one wake-up per batch of moves, not a timer per bot per move. A bot that fell behind sends
    only its latest due move (as a real client would) and the skipped ones count as late."""
    clients = {bot: SansIOBot(url_of(bot)) for bot in bots}
    welcome: dict = {}
    for first in range(0, len(bots), 50):  # arrivals in waves of 50, not one storm
        chunk = bots[first:first + 50]
        welcomes = await asyncio.gather(*(clients[bot].open(
            {"type": "hello", "protocol": 1, "scene": SCENE, "name": f"bot-{bot}"}) for bot in chunk))
        welcome = welcomes[0]
    quant = Quantizer(welcome["bounds"]["min"], welcome["bounds"]["max"])
    readers = [asyncio.ensure_future(c.drain()) for c in clients.values()]
    due = [(epoch + phase_of(bot, rate), bot, 0) for bot in bots]
    heapq.heapify(due)
    late = 0
    try:
        while due:
            at, bot, k = due[0]
            if at > end:
                break
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.time()
            while due and due[0][0] <= now:
                at, bot, k = heapq.heappop(due)
                behind = int((now - at) * rate)  # moves whose time has passed already: send the newest only
                if behind:
                    late += behind
                    k += behind
                x, z = place(bot, k, rate)
                qx, qy, qz = (int(v) for v in quant.position([x, 0.0, z]))
                clients[bot].send(encode_pose(qx, qy, qz, k % 65536, 128))
                heapq.heappush(due, (epoch + phase_of(bot, rate) + (k + 1) / rate, bot, k + 1))
    finally:
        for reader in readers:
            reader.cancel()
        for client in clients.values():
            client.close()
    return late


def bot_process(
    urls: list[str], bots: list[int], epoch: float, rate: float, end: float, out: multiprocessing.Queue
) -> None:
    async def main() -> int:
        return await run_bots(lambda bot: urls[bot % len(urls)], bots, epoch, rate, end)

    out.put(asyncio.run(main()))


async def observe(url: str, index: int, rate: float, epoch: float, measure_from: float,
                  end: float) -> dict[str, object]:
    ws, welcome = await connect(url, f"observer-{index}")
    names: dict[int, int] = {}

    def learn(member: dict) -> None:
        if str(member["name"]).startswith("bot-"):
            names[int(member["id"])] = int(member["name"][4:])

    for member in welcome["members"]:
        learn(member)
    quant = Quantizer(welcome["bounds"]["min"], welcome["bounds"]["max"])
    x, z = 0.0, 0.0
    qx, qy, qz = (int(v) for v in quant.position([x, 0.0, z]))
    await ws.send(encode_pose(qx, qy, qz, 0, 128))
    latencies: list[float] = []
    received = 0
    updates = 0
    seen: set[tuple[int, int]] = set()
    try:
        async with asyncio.timeout(max(1.0, end - time.time())):
            async for message in ws:
                now = time.time()
                if isinstance(message, str):
                    event = json.loads(message)
                    if event["type"] == "join":
                        learn(event["member"])
                    continue
                if now < measure_from:
                    continue
                received += len(message) + 2  # + the WebSocket header of a small binary frame
                _, avatars = decode_frame(message)
                for member_id, k in zip(avatars["id"].tolist(), avatars["yaw"].tolist(), strict=True):
                    bot = names.get(member_id)
                    if bot is None or (bot, k) in seen:
                        continue
                    seen.add((bot, k))
                    updates += 1
                    due = epoch + phase_of(bot, rate) + k / rate
                    latencies.append(now - due)
    except TimeoutError:
        pass
    finally:
        await ws.close()
    return {"latencies": latencies, "bytes": received, "updates": updates}


def scrape(url: str) -> dict[str, float]:
    """The server's own view: why connections were closed, frames dropped, tick time."""
    import urllib.request

    text = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(("civic_connections_closed_total", "civic_dropped_frames_total", "civic_tick_seconds_sum",
                            "civic_tick_seconds_count", "civic_members ")):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def bench_scene(root: Path, capacity: int, source: str = "public-square", scene_id: str = SCENE) -> Path:
    """A scenes folder with one bundled scene under another id, big enough to hold everyone in one room."""
    scenes = root / "scenes"
    scenes.mkdir()
    manifest = json.loads((ROOT / "scenes" / f"{source}.json").read_text())
    manifest.update(id=scene_id, capacity=capacity)
    (scenes / f"{scene_id}.json").write_text(json.dumps(manifest))
    return scenes


def run(bots: int, rate: float, duration: float, observers: int, servers: int, generators: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scenes = bench_scene(root, capacity=bots + observers + 10)
        redis = None
        extra = ["--scenes-dir", str(scenes), "--log-level", "warning"]
        if servers > 1:
            from tests.redis_server import RedisServer

            redis = RedisServer()
            redis.start()
            extra += ["--redis", redis.url]
        procs = []
        try:
            for i in range(servers):
                data = root / f"data{i}"
                data.mkdir()
                if i:  # reuse the first server's prepared assets
                    shutil.copytree(root / "data0" / "pipeline", data / "pipeline")
                procs.append(ServerProcess(data, *extra, name=f"server{i}"))
            urls = [p.url.replace("http", "ws") + "/ws" for p in procs]
            ramp = max(5.0, bots / 150)
            epoch = time.time() + 1.0
            measure_from = epoch + ramp
            end = measure_from + duration
            ctx = multiprocessing.get_context("spawn")
            queue = ctx.Queue()
            workers = [ctx.Process(target=bot_process, args=(urls, list(range(g, bots, generators)), epoch, rate,
                                                                end, queue)) for g in range(generators)]
            for worker in workers:
                worker.start()

            async def observers_main() -> list[dict[str, object]]:
                await asyncio.sleep(max(0.0, measure_from - 2 - time.time()))
                tasks = [observe(urls[i % len(urls)], i, rate, epoch, measure_from, end) for i in range(observers)]
                return await asyncio.gather(*tasks)

            cpu_start: list[float] = []
            cpu_task_result: list[float] = []

            async def sample_cpu() -> None:
                await asyncio.sleep(max(0.0, measure_from - time.time()))
                cpu_start.extend(cpu_seconds(p.proc.pid) for p in procs)
                await asyncio.sleep(max(0.0, end - time.time()))
                cpu_task_result.extend(cpu_seconds(p.proc.pid) for p in procs)

            async def both() -> list[dict[str, object]]:
                results, _ = await asyncio.gather(observers_main(), sample_cpu())
                return results

            observed = asyncio.run(both())
            server_metrics = [scrape(p.url) for p in procs]
            late = sum(queue.get(timeout=60) for _ in workers)
            for worker in workers:
                worker.join(timeout=30)
        finally:
            for p in procs:
                p.stop()
            if redis is not None:
                redis.stop()
            logs = Path(tempfile.gettempdir()) / "civic-bench-logs"
            shutil.rmtree(logs, ignore_errors=True)
            shutil.copytree(root, logs, ignore=shutil.ignore_patterns("pipeline", "webcache", "*.sqlite3*"))

    lat = np.array([x for o in observed for x in o["latencies"]]) * 1000  # type: ignore[union-attr]
    cpu = [(b - a) / duration * 100 for a, b in zip(cpu_start, cpu_task_result, strict=True)]
    per_observer_bytes = [o["bytes"] / duration for o in observed]  # type: ignore[operator]
    return {
        "bots": bots, "rate_hz": rate, "servers": servers, "observers": observers, "duration_s": duration,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "latency_ms": {
            "p50": round(float(np.percentile(lat, 50)), 1) if len(lat) else None,
            "p99": round(float(np.percentile(lat, 99)), 1) if len(lat) else None,
            "p99.9": round(float(np.percentile(lat, 99.9)), 1) if len(lat) else None,
        },
        "updates_seen_per_observer_per_s": round(float(np.mean([o["updates"] for o in observed])) / duration, 1),
        "down_kb_per_s_per_client": round(float(np.mean(per_observer_bytes)) / 1000, 2),
        "server_cpu_percent": [round(c, 1) for c in cpu],
        "late_bot_moves": late,
        "server_metrics": server_metrics,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--observers", type=int, default=8)
    parser.add_argument("--servers", type=int, default=1, choices=[1, 2])
    parser.add_argument("--generators", type=int, default=2, help="bot processes")
    args = parser.parse_args()
    result = run(args.bots, args.rate, args.duration, args.observers, args.servers, args.generators)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
