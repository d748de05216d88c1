"""Soak benchmark: N residents for a long time, with chat, hotspot edits, proposal edits and supports.

What it watches is what degrades slowly: the server's resident memory (RSS), the frame rate one observer
receives (per 10-second window, so a slow decline shows), and lines at level error or above in the server's log.
N bots walk at 20 Hz (the presence bench's sans-I/O generators, two processes); a few chatters talk; an editor
signs in and every few seconds places, edits and deletes hotspots linked to local proposals (so the proposal
cache keeps refreshing them) and edits a proposal; anonymous residents support it. RSS growth is measured from
the end of a warm-up (everyone connected, caches filled) to the end. Target (issue 9): growth < 10 %, no error
lines, a steady frame rate.

    .venv/bin/python bench/soak.py --residents 500 --minutes 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import add_editor, join_residents, leave, machine, read_all, sign_in  # noqa: E402
from bench.presence import SansIOBot, bench_scene, bot_process, scrape  # noqa: E402
from tests.support import ServerProcess  # noqa: E402

SCENE = "bench-square"
PASSWORD = "soak benchmark password"
WINDOW = 10.0  # seconds per frame-rate and RSS sample


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def observer(url: str, end: float, frames: list[int]) -> None:
    """Counts binary frames per WINDOW; `frames` gets one count per window."""
    bot = SansIOBot(url)
    await bot.open({"type": "hello", "protocol": 1, "scene": SCENE, "name": "observer"})
    assert bot.reader is not None
    count, window_end = 0, time.time() + WINDOW
    from websockets.frames import Frame, Opcode

    while time.time() < end:
        data = await bot.reader.read(65536)
        if not data:
            break
        bot.protocol.receive_data(data)
        for event in bot.protocol.events_received():
            if isinstance(event, Frame) and event.opcode == Opcode.BINARY:
                count += 1
        bot.flush()
        if time.time() >= window_end:
            frames.append(count)
            count, window_end = 0, window_end + WINDOW
    bot.close()


async def chatters(url: str, n: int, end: float) -> int:
    bots = await join_residents([url], n, SCENE, "chatter-")
    readers = read_all(bots)
    sent = 0
    try:
        while time.time() < end:
            bot = random.choice(bots)
            bot.protocol.send_text(json.dumps({"type": "chat", "text": f"soak message {sent}"}).encode())
            bot.flush()
            sent += 1
            await asyncio.sleep(0.5)
    finally:
        leave(bots, readers)
    return sent


async def staff_work(base: str, end: float, statuses: dict[str, int]) -> None:
    """An editor churns hotspots linked to local proposals and edits one proposal; residents support it."""
    def count(what: str, status: int) -> None:
        key = f"{what} {status}"
        statuses[key] = statuses.get(key, 0) + 1

    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, headers={"Origin": base}) as http:
        h = {"X-CSRF-Token": await sign_in(http, base, "soak", PASSWORD)}
        created = await http.post(f"{base}/api/proposals", headers=h, json={"title": {"en": "Soak proposal"}})
        proposal = await created.json()
        count("create proposal", created.status)
        n = 0
        while time.time() < end:
            n += 1
            r = await http.post(f"{base}/api/scenes/{SCENE}/hotspots", headers=h, json={
                "position": [random.uniform(-5, 5), 1.5, random.uniform(-5, 5)], "kind": "proposal",
                "title": {"en": f"Soak {n}"}, "proposalRef": f"local:{proposal['id']}"})
            count("create hotspot", r.status)
            hotspot = await r.json()
            if r.status == 201:
                r = await http.patch(f"{base}/api/hotspots/{hotspot['id']}", headers=h,
                                     json={"version": hotspot["version"], "title": {"en": f"Soak {n} edited"}})
                count("patch hotspot", r.status)
                if r.status == 200:
                    hotspot = await r.json()
                if n % 2:  # keep about half of them, delete the rest (a delete names the version it deletes)
                    r = await http.delete(f"{base}/api/hotspots/{hotspot['id']}", headers=h,
                                          params={"version": hotspot["version"]})
                    count("delete hotspot", r.status)
            current = await (await http.get(f"{base}/api/proposals/{proposal['id']}")).json()
            r = await http.patch(f"{base}/api/proposals/{proposal['id']}", headers=h,
                                 json={"version": current["version"], "summary": {"en": f"Revision {n}"}})
            count("patch proposal", r.status)
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                             headers={"Origin": base}) as resident:  # a new anonymous browser
                r = await resident.post(f"{base}/api/proposals/{proposal['id']}/support",
                                        json={"token": f"soak-resident-{n:08d}"})
                count("support", r.status)
            await asyncio.sleep(3.0)


def error_lines(log: Path) -> list[str]:
    out = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            level = json.loads(line).get("level", "")
        except json.JSONDecodeError:
            out.append(line)  # not one of our JSON lines: a raw traceback or a crash
            continue
        if str(level).lower() in ("error", "critical"):
            out.append(line)
    return out


def run(residents: int, minutes: float, warmup: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scenes = bench_scene(root, capacity=residents + 50)
        data = root / "data"
        data.mkdir()
        add_editor(data, "soak", PASSWORD)
        server = ServerProcess(data, "--scenes-dir", str(scenes), "--log-level", "info", name="server")
        ws = server.url.replace("http", "ws") + "/ws"
        rate, duration = 20.0, minutes * 60
        epoch = time.time() + 1.0
        ramp = max(5.0, residents / 150)
        measure_from = epoch + ramp + warmup
        end = measure_from + duration
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        workers = [ctx.Process(target=bot_process, args=([ws], list(range(g, residents, 2)), epoch, rate, end, queue))
                   for g in range(2)]
        for w in workers:
            w.start()
        rss: list[tuple[float, int]] = []
        members: list[float] = []  # residents the server counts, per window: bots dropped as too slow show here
        loads: list[float] = []  # the machine's 1-minute load average per window (shared, noisy machines)
        frames: list[int] = []
        statuses: dict[str, int] = {}

        async def sample() -> None:
            while time.time() < end:
                rss.append((time.time(), rss_bytes(server.proc.pid)))
                members.append(sum(v for k, v in scrape(server.url).items() if k.startswith("civic_members")))
                loads.append(os.getloadavg()[0])
                await asyncio.sleep(WINDOW)

        async def main() -> int:
            await asyncio.sleep(max(0.0, epoch + ramp - time.time()))
            results = await asyncio.gather(observer(ws, end, frames), chatters(ws, 10, end),
                                           staff_work(server.url, end, statuses), sample())
            return int(results[1])

        try:
            chats = asyncio.run(main())
            closed = {k: v for k, v in scrape(server.url).items() if k.startswith("civic_connections_closed")}
            late = sum(queue.get(timeout=120) for _ in workers)
            for w in workers:
                w.join(timeout=30)
        finally:
            code = server.stop()
        errors = error_lines(data / "server.log")

    start_rss = next(b for t, b in rss if t >= measure_from)
    end_rss = rss[-1][1]
    fps = np.array(frames[int((measure_from - epoch - ramp) // WINDOW):], dtype=float) / WINDOW
    return {
        "residents": residents, "minutes": minutes, "warmup_s": warmup,
        "machine": f"{machine()}, load average {os.getloadavg()[0]:.1f} at the end",
        "rss_mb": {"after_warmup": round(start_rss / 2**20, 1), "end": round(end_rss / 2**20, 1),
                   "max": round(max(b for _, b in rss) / 2**20, 1)},
        "rss_growth_percent": round((end_rss - start_rss) / start_rss * 100, 1),
        "observer_frames_per_s": {"min": float(fps.min()), "median": float(np.median(fps)), "max": float(fps.max()),
                                  "first_window": float(fps[0]), "last_window": float(fps[-1])} if len(fps) else None,
        "members": {"min": min(members[1:], default=None), "median": float(np.median(members)),
                    "end": members[-1]},
        "load_average": {"median": round(float(np.median(loads)), 1), "max": round(max(loads), 1)},
        "connections_closed": closed,
        "chat_messages": chats, "http": statuses, "late_bot_moves": late,
        "error_log_lines": len(errors), "first_error_lines": errors[:5], "server_exit_code": code,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds after everyone joined before RSS counts")
    args = parser.parse_args()
    print(json.dumps(run(args.residents, args.minutes, args.warmup), indent=2))


if __name__ == "__main__":
    main()
