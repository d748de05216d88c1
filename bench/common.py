"""What the benchmarks that drive whole server processes share (hotspot_push, store_compare, soak).

A staff account made with the real `staff` command before any server starts; server processes that reuse the
first one's prepared assets; residents (bench/presence.py's sans-I/O bots) joined in waves so the server's
per-address and handshake limits see a realistic arrival, then read until the benchmark ends; an editor's sign-in;
one line describing the machine; and latency percentiles where a resident that never saw an event counts as
missed, never as fast.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from bench.presence import SansIOBot
from server.config import ROOT
from tests.support import ServerProcess

JOIN_WAVE = 50  # residents opening their connection at the same time


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def add_editor(data_dir: Path, username: str, password: str, *options: str) -> None:
    """An editor account, made by `python -m server staff` on `data_dir` (`options`: e.g. `--database URL`)."""
    subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data_dir), *options, "add", username,
                    "--role", "editor", "--password-stdin"], input=password + "\n", text=True, check=True, cwd=ROOT,
                   capture_output=True)


def start_servers(root: Path, count: int, *options: str) -> list[ServerProcess]:
    """`count` server processes on data directories root/data0, data1, …; each after the first starts from a copy
    of data0's prepared assets (the pipeline), so only the first one builds them. If one fails to start, those
    already started are stopped."""
    servers: list[ServerProcess] = []
    try:
        for i in range(count):
            data = root / f"data{i}"
            data.mkdir(exist_ok=True)
            if i:
                shutil.copytree(root / "data0" / "pipeline", data / "pipeline")
            servers.append(ServerProcess(data, *options, name=f"server{i}"))
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


async def sign_in(http: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    """Signs `http` in at the server `base`; returns the session's CSRF token."""
    login = await http.post(f"{base}/api/auth/login", json={"username": username, "password": password})
    csrf: str = (await login.json())["csrf"]
    return csrf


async def join_residents(ws_urls: list[str], count: int, scene: str, name: str) -> list[SansIOBot]:
    """`count` residents welcomed in `scene`, spread over the servers' WebSocket addresses in turn, `JOIN_WAVE` at a
    time; resident i is called `name` followed by i."""
    bots = [SansIOBot(ws_urls[i % len(ws_urls)]) for i in range(count)]
    for first in range(0, count, JOIN_WAVE):
        await asyncio.gather(*(bot.open({"type": "hello", "protocol": 1, "scene": scene, "name": f"{name}{i}"})
                               for i, bot in enumerate(bots[first:first + JOIN_WAVE], start=first)))
    return bots


def read_all(bots: list[SansIOBot], on_text: Callable[[bytes], None] | None = None) -> list[asyncio.Future[None]]:
    """One reading task per resident (see `SansIOBot.drain`); stop them with `leave`."""
    return [asyncio.ensure_future(bot.drain(on_text)) for bot in bots]


def leave(bots: list[SansIOBot], readers: list[asyncio.Future[None]]) -> None:
    for reader in readers:
        reader.cancel()
    for bot in bots:
        bot.close()


def latency_summary(seconds: list[float]) -> dict[str, Any]:
    """Missed events (infinite latencies) counted apart; p50, p99 and max in ms of the others (None if none)."""
    ms = np.array(seconds) * 1000
    seen = ms[np.isfinite(ms)]
    return {
        "missed": int((~np.isfinite(ms)).sum()),
        "latency_ms": {q: round(float(np.percentile(seen, p)), 1) for q, p in (("p50", 50), ("p99", 99), ("max", 100))}
        if len(seen) else None,
    }
