"""`python -m server serve --workers 2`: two processes on one port and one data directory, sharing rooms through a
real redis-server. Residents whose connections the kernel gave to different workers see each other; the refusals
(no Redis, a taken data directory) are one clear line; SIGTERM stops every worker."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from server.codec import encode_pose
from server.config import ROOT
from tests.redis_server import RedisServer
from tests.support import ServerProcess
from tests.test_scale_out import expect, sees


def workers_of(server: ServerProcess) -> list[int]:
    children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def owner(workers: list[int], server_port: int, client_port: int) -> int:
    """The worker holding the server side of the connection from `client_port` (from /proc: its socket's inode)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.rsplit(":", 1)[1], 16) == server_port and int(remote.rsplit(":", 1)[1], 16) == client_port:
                inode = fields[9]
    assert inode is not None
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError("no worker holds this connection")


@pytest.fixture
def two_workers(tmp_path: Path):  # type: ignore[no-untyped-def]
    redis = RedisServer()
    redis.start()
    server = None
    try:
        server = ServerProcess(tmp_path, "--redis", redis.url, "--workers", "2", name="workers")
        yield server
    finally:
        if server is not None and server.proc.poll() is None:
            server.stop()
        redis.stop()


async def test_residents_on_different_workers_see_each_other(two_workers: ServerProcess):
    server = two_workers
    workers = workers_of(server)
    assert len(workers) == 2
    url = server.url.replace("http", "ws") + "/ws"
    async with aiohttp.ClientSession() as session:
        by_worker: dict[int, tuple[aiohttp.ClientWebSocketResponse, dict]] = {}
        spare = []
        for attempt in range(40):  # the kernel spreads connections by their addresses: a few tries find both
            ws = await session.ws_connect(url, origin=server.url)
            await ws.send_str(json.dumps({"type": "hello", "protocol": 1, "scene": "town-hall",
                                          "name": f"Resident {attempt}"}))
            welcome = await expect(ws, "welcome")
            sock = ws.get_extra_info("socket")
            pid = owner(workers, server.port, sock.getsockname()[1])
            if pid in by_worker:
                spare.append(ws)
            else:
                by_worker[pid] = (ws, welcome)
            if len(by_worker) == 2:
                break
        assert len(by_worker) == 2, "every connection landed on one worker"
        (ann, ann_welcome), (bea, bea_welcome) = by_worker.values()
        # Bea joined after Ann, on the other process: she knows Ann from the welcome, Ann hears of her.
        assert ann_welcome["id"] in [m["id"] for m in bea_welcome["members"]]
        await expect(ann, "join", where=lambda event: event["member"]["id"] == bea_welcome["id"])
        await ann.send_bytes(encode_pose(1234, 100, 2345, 0, 128))
        await bea.send_bytes(encode_pose(3456, 100, 2345, 0, 128))
        await sees(bea, ann_welcome["id"], 1234)
        await sees(ann, bea_welcome["id"], 3456)
        for ws in (ann, bea, *spare):
            await ws.close()
    assert server.stop() == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists()


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", "serve", "--port", "0", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_workers_without_redis_are_refused_with_one_line(tmp_path: Path):
    done = serve("--data-dir", str(tmp_path), "--workers", "2")
    assert done.returncode != 0
    assert done.stderr.strip() == "error: --workers above 1 needs --redis (the workers share rooms through Redis)"


async def test_a_second_server_cannot_take_the_workers_data_directory(two_workers: ServerProcess, tmp_path: Path):
    done = await asyncio.to_thread(serve, "--data-dir", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: another Civic Space server")


def test_sigterm_stops_every_worker(two_workers: ServerProcess):
    workers = workers_of(two_workers)
    two_workers.proc.send_signal(signal.SIGTERM)
    assert two_workers.proc.wait(timeout=30) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists()
