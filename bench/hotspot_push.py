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
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    add_editor,
    join_residents,
    latency_summary,
    leave,
    machine,
    read_all,
    sign_in,
    start_servers,
)
from bench.presence import bench_scene  # noqa: E402

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

    bots = await join_residents([url.replace("http", "ws") + "/ws" for url in urls], residents, SCENE, "r")
    readers = read_all(bots, listener)
    latencies: list[float] = []
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:  # IP host
            csrf = await sign_in(http, urls[0], "bench", PASSWORD)
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
        leave(bots, readers)
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
            (root / "data0").mkdir()
            add_editor(root / "data0", "bench", PASSWORD)
            procs = start_servers(root, servers, *extra)
            latencies = asyncio.run(measure([p.url for p in procs], residents, hotspots))
        finally:
            for p in procs:
                p.stop()
            if redis is not None:
                redis.stop()
    return {"residents": residents, "hotspots": hotspots, "servers": servers, "machine": machine(),
            **latency_summary(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--hotspots", type=int, default=10)
    parser.add_argument("--servers", type=int, default=1, choices=[1, 2])
    args = parser.parse_args()
    print(json.dumps(run(args.residents, args.hotspots, args.servers), indent=2))


if __name__ == "__main__":
    main()
