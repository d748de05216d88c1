"""The store under load, SQLite against PostgreSQL (issue 13): hotspot placement reaching N residents across one or
two processes, and write throughput of concurrent staff edits and anonymous supports.

- `--database sqlite` (default): each process has its own SQLite file, so with two processes only the bus joins
  them (what issue 13 replaces); the editor writes through process 0.
- `--database postgresql`: a throwaway PostgreSQL (tests/postgres_server.py, never the machine's own) shared by
  every process, as on many machines.

Phases: (1) bench/hotspot_push.py's measurement (editor places hotspots; latency until each resident has it);
(2) `--writes` hotspot creations by one signed-in editor, sent concurrently and spread over the processes (HTTP,
so this includes sign-in checks, validation, the commit and the push); (3) `--writes` supports from distinct
resident tokens against the store directly (the HTTP route rate-limits supports per address, which would measure
the limiter, not the store).

    .venv/bin/python bench/store_compare.py --database postgresql --servers 2 --residents 500 --hotspots 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import add_editor, latency_summary, machine, sign_in, start_servers  # noqa: E402
from bench.hotspot_push import PASSWORD, SCENE, measure  # noqa: E402
from bench.presence import bench_scene  # noqa: E402
from server.store import store_from_url  # noqa: E402
from tests.postgres_server import PostgresServer  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.support import ServerProcess  # noqa: E402


async def staff_writes(urls: list[str], writes: int) -> dict[str, Any]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        csrf = await sign_in(http, urls[0], "bench", PASSWORD)

        async def create(i: int) -> int:
            response = await http.post(f"{urls[i % len(urls)]}/api/scenes/{SCENE}/hotspots",
                                       headers={"X-CSRF-Token": csrf},
                                       json={"position": [0, 1.5, 2.0], "kind": "information",
                                             "title": {"en": f"Write {i}"}})
            await response.read()
            return response.status

        started = time.perf_counter()
        statuses = Counter(await asyncio.gather(*[create(i) for i in range(writes)]))
        elapsed = time.perf_counter() - started
    return {"writes": writes, "statuses": dict(statuses), "per_second": round(writes / elapsed, 1)}


async def support_writes(store_url: str, writes: int) -> dict[str, Any]:
    store = store_from_url(store_url)
    await store.open()
    try:
        proposal = await store.create_proposal({"title": {"en": "Bench"}, "summary": {"en": ""}, "body": {"en": ""},
                                                "status": "open"}, "bench")
        started = time.perf_counter()
        await asyncio.gather(*[store.support(proposal["id"], f"resident-{i}") for i in range(writes)])
        elapsed = time.perf_counter() - started
        total = (await store.proposal(proposal["id"]) or {}).get("supports")
    finally:
        await store.close()
    return {"writes": writes, "counted": total, "per_second": round(writes / elapsed, 1)}


def run(database: str, residents: int, hotspots: int, servers: int, writes: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scenes = bench_scene(root, residents + 10, source="town-hall", scene_id=SCENE)
        extra = ["--log-level", "warning", "--scenes-dir", str(scenes)]
        redis = RedisServer() if servers > 1 else None
        postgres = PostgresServer() if database == "postgresql" else None
        procs: list[ServerProcess] = []
        try:
            if redis is not None:
                redis.start()
                extra += ["--redis", redis.url]
            data0 = root / "data0"
            data0.mkdir()
            if postgres is not None:
                postgres.start()
                store_url = postgres.create_database()
                extra += ["--database", store_url]
            else:
                store_url = f"sqlite:///{data0 / 'civic.sqlite3'}"
            add_editor(data0, "bench", PASSWORD, *(["--database", store_url] if postgres is not None else []))
            procs = start_servers(root, servers, *extra)
            urls = [p.url for p in procs]
            latencies = asyncio.run(measure(urls, residents, hotspots))
            edits = asyncio.run(staff_writes(urls if postgres is not None else urls[:1], writes))
            for p in procs:
                p.stop()
            procs = []
            supports = asyncio.run(support_writes(store_url, writes))
        finally:
            for p in procs:
                p.stop()
            if redis is not None:
                redis.stop()
            if postgres is not None:
                postgres.stop()
    return {
        "database": database, "residents": residents, "hotspots": hotspots, "servers": servers, "machine": machine(),
        **latency_summary(latencies), "staff_writes": edits, "supports": supports,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--hotspots", type=int, default=10)
    parser.add_argument("--servers", type=int, default=1, choices=[1, 2])
    parser.add_argument("--writes", type=int, default=500, help="hotspot creations and supports in each phase")
    args = parser.parse_args()
    print(json.dumps(run(args.database, args.residents, args.hotspots, args.servers, args.writes), indent=2))


if __name__ == "__main__":
    main()
