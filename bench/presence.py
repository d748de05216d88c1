"""Presence load generator: N bots walking in one room, observers measuring move-to-seen latency.

Built on the `websockets` library. Each bot moves at R Hz on a fixed schedule with a random phase; move k of
bot b is scheduled at `epoch + phase_b + k / R` and carries k in its yaw, so an observer that sees the pose
knows exactly when it was meant to be sent: latency is measured from the SCHEDULED time, so back-pressure in
the generator or the server is never hidden. Bots run in several generator processes; observers run in the
main one and record latency percentiles, updates seen and bytes received per second. Server CPU comes from
/proc/<pid>/stat. With `--servers 2` two server processes share the room through a real redis-server (started
here on a free port); bots and observers are spread over both; `--workers 2` runs ONE server with two worker
processes (`serve --workers 2`, same Redis). The server is pinned to core 0 and the generator (bots, observers)
to core 1 when the machine has two cores or more (`--no-pin` to share them).

A/B: `--code A_DIR --code B_DIR --repeat 2` runs the servers of two checkouts interleaved (A B B A ...), one result
line each; `--py-spy OUT` records the server with py-spy during the measurement (speedscope format).

    .venv/bin/python bench/presence.py --bots 1000 --rate 20 --duration 20 [--servers 2 | --workers 2]
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
import signal
import subprocess
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

from bench.wsbot import BINARY, TEXT, LeanBot  # noqa: E402
from server.codec import Quantizer, decode_frame, encode_pose  # noqa: E402
from server.config import ROOT  # noqa: E402
from server.protocol import QUANT_MAX  # noqa: E402
from tests.support import free_port, wait_until_prepared  # noqa: E402

SCENE = "bench-square"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVER_CORE, LOAD_CORE = 0, 1


def pin(pid: int, core: int) -> None:
    """Every thread of `pid` (0: this process) onto one core; children started afterwards inherit it."""
    if (os.cpu_count() or 1) < 2:
        return
    if pid == 0:
        os.sched_setaffinity(0, {core})
    else:
        subprocess.run(["taskset", "-a", "-p", "-c", str(core), str(pid)], check=True, stdout=subprocess.DEVNULL)


class Server:
    """`python -m server serve` of the checkout at `code` on a free port; returns once it printed its URL."""

    def __init__(self, code: Path, data_dir: Path, *extra: str, name: str = "server") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (data_dir / f"{name}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(self.port), "--data-dir", str(data_dir), *extra],
            cwd=code, stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 180
        line = ""
        while time.monotonic() < deadline and "running at" not in line:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log.name}")
        wait_until_prepared(self.url, deadline, self.log.name)

    def pids(self) -> list[int]:
        """The processes doing the work: the workers when there are any, else the server itself."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        workers = [int(p) for p in children.read_text().split()] if children.exists() else []
        return workers or [self.proc.pid]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.log.close()


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
    ws = await websockets.connect(url, compression=None, max_size=1 << 20, ping_interval=None, open_timeout=30,
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


class Walker:
    """One bot's fixed schedule and path, computed once (per move: a cos, a sin and the quantisation)."""

    def __init__(self, bot: int, rate: float, quant: Quantizer) -> None:
        rng = random.Random(bot * 7919)
        self.cx, self.cz = rng.uniform(-25, 25), rng.uniform(-18, 18)
        self.angle0 = rng.random() * math.tau
        self.phase = phase_of(bot, rate)
        self.low, self.scale = quant.low.tolist(), (QUANT_MAX / quant.span).tolist()
        self.qy = int(quant.position([0.0, 0.0, 0.0])[1])

    def pose(self, k: int, rate: float) -> bytes:
        """The same place as `place(bot, k, rate)`, quantised."""
        angle = k / rate * 0.5 + self.angle0
        x, z = self.cx + 2 * math.cos(angle), self.cz + 2 * math.sin(angle)
        qx = min(QUANT_MAX, max(0, round((x - self.low[0]) * self.scale[0])))
        qz = min(QUANT_MAX, max(0, round((z - self.low[2]) * self.scale[2])))
        return encode_pose(qx, self.qy, qz, k % 65536, 128)


async def run_bots(url_of, bots: list[int], epoch: float, rate: float, end: float) -> int:
    """Connect the bots, then ONE loop sends every due move of every bot (a heap of next due times), so the
    generator costs one wake-up per batch of moves, not a timer per bot per move. A bot that fell behind sends
    only its latest due move (as a real client would) and the skipped ones count as late."""
    clients = {bot: LeanBot(url_of(bot)) for bot in bots}
    welcome: dict = {}

    async def join(bot: int) -> dict:
        client = clients[bot]
        await client.open()
        client.send(TEXT, json.dumps({"type": "hello", "protocol": 1, "scene": SCENE, "name": f"bot-{bot}"}).encode())
        while True:
            opcode, payload = await client.receive()
            if opcode == TEXT:
                message = json.loads(payload)
                if message["type"] == "welcome":
                    client.keep, client.messages = False, []  # from now on frames are read and dropped
                    return message
                if message["type"] == "error":
                    raise RuntimeError(message)

    for first in range(0, len(bots), 50):  # arrivals in waves of 50, not one storm
        welcome = (await asyncio.gather(*(join(bot) for bot in bots[first:first + 50])))[0]
    quant = Quantizer(welcome["bounds"]["min"], welcome["bounds"]["max"])
    walkers = {bot: Walker(bot, rate, quant) for bot in bots}
    due = [(epoch + walkers[bot].phase, bot, 0) for bot in bots]
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
                walker = walkers[bot]
                clients[bot].send(BINARY, walker.pose(k, rate))
                heapq.heappush(due, (epoch + walker.phase + (k + 1) / rate, bot, k + 1))
    finally:
        for client in clients.values():
            client.close()
    return late


def bot_process(
    urls: list[str], bots: list[int], epoch: float, rate: float, end: float, out: multiprocessing.Queue,
    core: int | None = None,
) -> None:
    if core is not None:
        pin(0, core)

    async def main() -> int:
        return await run_bots(lambda bot: urls[bot % len(urls)], bots, epoch, rate, end)

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        out.put(runner.run(main()))


def loop_factory():  # type: ignore[no-untyped-def]
    """uvloop for the generator when installed: the same generator drives every server compared."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


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
                            "civic_frames_out_total",
                            "civic_tick_seconds_count", "civic_members ")):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def machine_busy_seconds() -> float:
    """CPU seconds spent by everything on this machine (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLK_TCK


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


def run(bots: int, rate: float, duration: float, observers: int, servers: int, generators: int,
        code: Path = ROOT, workers: int = 1, pinned: bool = True, py_spy: str | None = None) -> dict[str, object]:
    load_core = LOAD_CORE if pinned else None
    if load_core is not None:
        pin(0, load_core)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scenes = bench_scene(root, capacity=bots + observers + 10)
        redis = None
        extra = ["--scenes-dir", str(scenes), "--log-level", "warning"]
        if servers > 1 or workers > 1:
            from tests.redis_server import RedisServer

            redis = RedisServer()
            redis.start()
            extra += ["--redis", redis.url]
        if workers > 1:
            extra += ["--workers", str(workers)]
        procs: list[Server] = []
        spies: list[subprocess.Popen[bytes]] = []
        try:
            for i in range(servers):
                data = root / f"data{i}"
                data.mkdir()
                if i:  # reuse the first server's prepared assets
                    shutil.copytree(root / "data0" / "pipeline", data / "pipeline")
                procs.append(Server(code, data, *extra, name=f"server{i}"))
                if pinned:
                    pin(procs[-1].proc.pid, SERVER_CORE)
                    for pid in procs[-1].pids():
                        pin(pid, SERVER_CORE)
            pids = [pid for p in procs for pid in p.pids()]
            urls = [p.url.replace("http", "ws") + "/ws" for p in procs]
            ramp = max(5.0, bots / 150)
            epoch = time.time() + 1.0
            measure_from = epoch + ramp
            end = measure_from + duration
            ctx = multiprocessing.get_context("spawn")
            queue = ctx.Queue()
            generating = [ctx.Process(target=bot_process, args=(urls, list(range(g, bots, generators)), epoch, rate,
                                                                end, queue, load_core)) for g in range(generators)]
            for worker in generating:
                worker.start()

            async def observers_main() -> list[dict[str, object]]:
                await asyncio.sleep(max(0.0, measure_from - 2 - time.time()))
                tasks = [observe(urls[i % len(urls)], i, rate, epoch, measure_from, end) for i in range(observers)]
                return await asyncio.gather(*tasks)

            cpu_start: list[float] = []
            load: dict[str, float] = {}
            cpu_task_result: list[float] = []

            async def sample_cpu() -> None:
                await asyncio.sleep(max(0.0, measure_from - time.time()))
                cpu_start.extend(cpu_seconds(pid) for pid in pids)
                frames_start = sum([(await asyncio.to_thread(scrape, p.url)).get("civic_frames_out_total", 0)
                                    for p in procs])
                ours_start = sum(cpu_seconds(w.pid) for w in generating if w.pid) + cpu_seconds(os.getpid())
                busy_start = machine_busy_seconds()
                if py_spy:  # on the generator's core, sampling without stopping the server
                    spies.append(subprocess.Popen(
                        [str(Path(sys.executable).parent / "py-spy"), "record", "--nonblocking", "--format",
                         "speedscope", "--rate", "200", "--duration", str(int(duration)), "--output", py_spy,
                         "--pid", str(pids[0])], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                await asyncio.sleep(max(0.0, end - time.time()))
                cpu_task_result.extend(cpu_seconds(pid) for pid in pids)
                load["frames"] = sum([(await asyncio.to_thread(scrape, p.url)).get("civic_frames_out_total", 0)
                                      for p in procs]) - frames_start
                ours = sum(cpu_seconds(w.pid) for w in generating if w.pid) + cpu_seconds(os.getpid()) - ours_start
                server = sum(cpu_task_result) - sum(cpu_start)
                load.update(generator=ours / duration * 100,
                            others=(machine_busy_seconds() - busy_start - ours - server) / duration * 100)


            async def both() -> list[dict[str, object]]:
                results, _ = await asyncio.gather(observers_main(), sample_cpu())
                return results

            observed = asyncio.run(both())
            server_metrics = [scrape(p.url) for p in procs]
            late = sum(queue.get(timeout=60) for _ in generating)
            for worker in generating:
                worker.join(timeout=30)
            for spy in spies:
                spy.wait(timeout=120)
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
        "code": str(code), "bots": bots, "rate_hz": rate, "servers": servers, "workers": workers,
        "observers": observers, "duration_s": duration, "pinned": pinned,
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
        "generator_cpu_percent": round(load.get("generator", 0), 1),
        # Server CPU per frame sent: one resident-tick (its frame out; its pose in, when the generator kept up).
        "server_cpu_us_per_frame": round(sum(cpu) / 100 * duration / max(1.0, load.get("frames", 0)) * 1e6, 1),
        "others_cpu_percent": round(load.get("others", 0), 1),
        "server_metrics": server_metrics,
    }


def summary(result: dict) -> str:
    lat = result["latency_ms"]
    metrics = result["server_metrics"]
    ticks = [m.get("civic_tick_seconds_sum", 0) / max(1, m.get("civic_tick_seconds_count", 1)) * 1000
             for m in metrics]
    return (f"{Path(result['code']).name or result['code']:>12} N={result['bots']} cpu={result['server_cpu_percent']} "
            f"p50={lat['p50']} p99={lat['p99']} p99.9={lat['p99.9']} down={result['down_kb_per_s_per_client']}kB/s "
            f"late={result['late_bot_moves']} us/frame={result['server_cpu_us_per_frame']} "
            f"gen={result['generator_cpu_percent']}% "
            f"others={result['others_cpu_percent']}% tick={[round(t, 1) for t in ticks]}ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bots", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--observers", type=int, default=8)
    parser.add_argument("--servers", type=int, default=1, choices=[1, 2])
    parser.add_argument("--workers", type=int, default=1, help="worker processes of one server (needs Redis)")
    parser.add_argument("--generators", type=int, default=2, help="bot processes")
    parser.add_argument("--code", action="append", type=Path,
                        help="checkout whose server to run (repeat for an interleaved A/B; default this one)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each round runs every --code once")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin server and generator")
    parser.add_argument("--py-spy", help="record the server with py-spy into this speedscope file")
    args = parser.parse_args()
    codes = args.code or [ROOT]
    results = []
    for round_ in range(args.repeat):
        order = codes if round_ % 2 == 0 else codes[::-1]  # A B, B A, ...: drift hits both alike
        for code in order:
            result = run(args.bots, args.rate, args.duration, args.observers, args.servers, args.generators,
                         code.resolve(), args.workers, args.pin, args.py_spy)
            results.append(result)
            print(summary(result), file=sys.stderr, flush=True)
    print(json.dumps(results if len(results) > 1 else results[0], indent=2))


if __name__ == "__main__":
    main()
