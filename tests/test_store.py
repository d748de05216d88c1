"""The durable store: migrations, the staff command line, and writes that survive a killed process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

from server.config import ROOT
from server.store import MIGRATIONS, Store
from tests.support import ServerProcess

PASSWORD = "a long enough password"


def staff_cli(data_dir: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data_dir), *args],
                          input=password + "\n" if password is not None else None, capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


async def test_migrations_run_once_and_record_the_schema_version(tmp_path):
    store = Store(tmp_path / "civic.sqlite3")
    await store.open()
    async with store.conn.execute("PRAGMA user_version") as cursor:
        assert (await cursor.fetchone())[0] == len(MIGRATIONS)
    async with store.conn.execute("PRAGMA journal_mode") as cursor:
        assert (await cursor.fetchone())[0] == "wal"
    await store.close()
    await store.open()  # a second start applies nothing again (a re-run would fail on CREATE TABLE)
    assert await store.migrate() == len(MIGRATIONS)
    await store.close()


def test_staff_accounts_are_managed_from_the_command_line(tmp_path):
    added = staff_cli(tmp_path, "add", "edith", "--role", "editor", "--password-stdin", password=PASSWORD)
    assert added.returncode == 0, added.stderr
    assert staff_cli(tmp_path, "add", "edith", "--role", "admin", "--password-stdin", password=PASSWORD).returncode == 2
    short = staff_cli(tmp_path, "add", "bob", "--role", "admin", "--password-stdin", password="short")
    assert short.returncode == 2 and "10" in short.stderr
    assert staff_cli(tmp_path, "list").stdout.split() == ["edith", "editor"]
    assert staff_cli(tmp_path, "passwd", "edith", "--password-stdin", password=PASSWORD + "!").returncode == 0
    assert staff_cli(tmp_path, "remove", "edith").returncode == 0
    assert staff_cli(tmp_path, "list").stdout == ""
    assert staff_cli(tmp_path, "remove", "edith").returncode == 2


def _request(url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})},
                                     method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read()), dict(response.headers)


def test_an_acknowledged_hotspot_survives_a_killed_server(tmp_path):
    added = staff_cli(tmp_path, "add", "edith", "--role", "editor", "--password-stdin", password=PASSWORD)
    assert added.returncode == 0
    server = ServerProcess(tmp_path)
    try:
        _, login, headers = _request(f"{server.url}/api/auth/login", {"username": "edith", "password": PASSWORD})
        cookie = SimpleCookie(headers["Set-Cookie"])["civic_session"].value
        status, created, _ = _request(
            f"{server.url}/api/scenes/town-hall/hotspots",
            {"position": [0, 1.5, 2.2], "kind": "information", "title": {"en": "Opening hours"}},
            {"X-CSRF-Token": login["csrf"], "Cookie": f"civic_session={cookie}"})
        assert status == 201
    finally:
        server.proc.send_signal(signal.SIGKILL)  # no shutdown, no flush: only what was committed remains
        server.proc.wait(timeout=30)
        server.log.close()
    again = ServerProcess(tmp_path, name="restarted")
    try:
        _, listed, _ = _request(f"{again.url}/api/scenes/town-hall/hotspots")
        assert [h["id"] for h in listed["hotspots"]] == [created["id"]]
    finally:
        assert again.stop() == 0
