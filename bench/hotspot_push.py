"""Live hotspot benchmark: an editor places a hotspot; how long until each of N connected residents has it?

N residents (websockets' sans-I/O protocol, see bench/presence.py) join the town hall, spread over one or two
server processes (two share the room through a real redis-server started here). An editor signs in over HTTP
and places hotspots one by one; each resident records when the `hotspot` event reaches it. Latency is measured
from just before the editor's request is sent, so it includes the HTTP write, the SQLite commit, the room's
tick and the bus. Target: p99 ≤ 250 ms for 500 residents.

    .venv/bin/python bench/hotspot_push.py --residents 500 --hotspots 10 [--servers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.presence import SansIOBot, bench_scene  # noqa: E402
from server.config import ROOT  # noqa: E402
from tests.support import ServerProcess  # noqa: E402

PASSWORD = "benchmark password"
SCENE = "bench-hall"


async def measure(urls: list[str], residents: int, hotspots: int) -> list[float]:
    arrivals: dict[int, list[float]] = {}

    def listener(text: bytes) -> None:
        now = time.perf_counter()
        message = json.loads(text)
        events = message["events"] if message["type"] == "batch" else [message]
        for event in events:
            if event["type"] == "hotspot" and event["action"] == "upsert":
                arrivals.setdefault(event["hotspot"]["id"], []).append(now)

    bots = [SansIOBot(urls[i % len(urls)].replace("http", "ws") + "/ws") for i in range(residents)]
    for first in range(0, residents, 50):
        await asyncio.gather(*(bot.open({"type": "hello", "protocol": 1, "scene": SCENE, "name": f"r{i}"})
                               for i, bot in enumerate(bots[first:first + 50], start=first)))
    readers = [asyncio.ensure_future(bot.drain(listener)) for bot in bots]
    latencies: list[float] = []
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # IP host
            login = await http.post(f"{urls[0]}/api/auth/login", json={"username": "bench", "password": PASSWORD})
            csrf = (await login.json())["csrf"]
            await asyncio.sleep(1.0)
            for n in range(hotspots):
                started = time.perf_counter()
                response = await http.post(
                    f"{urls[0]}/api/scenes/{SCENE}/hotspots", headers={"X-CSRF-Token": csrf},
                    json={"position": [0, 1.5, 2.2 + n * 0.1], "kind": "information", "title": {"en": f"Notice {n}"}})
                created = await response.json()
                if response.status != 201:
                    raise RuntimeError(f"placing a hotspot failed: {created}")
                hotspot_id = created["id"]
                deadline = time.perf_counter() + 5
                while len(arrivals.get(hotspot_id, [])) < residents and time.perf_counter() < deadline:
                    await asyncio.sleep(0.01)
                got = arrivals.get(hotspot_id, [])
                latencies.extend(t - started for t in got)
                latencies.extend([float("inf")] * (residents - len(got)))  # never seen: counts as a miss
                await asyncio.sleep(0.2)
    finally:
        for reader in readers:
            reader.cancel()
        for bot in bots:
            bot.close()
    return latencies


def run(residents: int, hotspots: int, servers: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        redis = None
        scenes = bench_scene(root, residents + 10, source="town-hall", scene_id=SCENE)  # one room for everyone
        extra = ["--log-level", "warning", "--scenes-dir", str(scenes)]
        if servers > 1:
            from tests.redis_server import RedisServer

            redis = RedisServer()
            redis.start()
            extra += ["--redis", redis.url]
        procs = []
        try:
            data0 = root / "data0"
            data0.mkdir()
            subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data0), "add", "bench",
                            "--role", "editor", "--password-stdin"], input=PASSWORD + "\n", text=True, check=True,
                           cwd=ROOT, capture_output=True)
            for i in range(servers):
                data = root / f"data{i}"
                if i:
                    data.mkdir()
                    shutil.copytree(data0 / "pipeline", data / "pipeline")
                procs.append(ServerProcess(data, *extra, name=f"server{i}"))
            latencies = asyncio.run(measure([p.url for p in procs], residents, hotspots))
        finally:
            for p in procs:
                p.stop()
            if redis is not None:
                redis.stop()
    ms = np.array(latencies) * 1000
    seen = ms[np.isfinite(ms)]
    return {
        "residents": residents, "hotspots": hotspots, "servers": servers,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "missed": int((~np.isfinite(ms)).sum()),
        "latency_ms": {q: round(float(np.percentile(seen, p)), 1) for q, p in (("p50", 50), ("p99", 99), ("max", 100))}
        if len(seen) else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--hotspots", type=int, default=10)
    parser.add_argument("--servers", type=int, default=1, choices=[1, 2])
    args = parser.parse_args()
    print(json.dumps(run(args.residents, args.hotspots, args.servers), indent=2))


if __name__ == "__main__":
    main()
