"""The durable store: migrations, the staff command line, and writes that survive a killed process.

The `store` fixture is parametrised by implementation: a second store (PostgreSQL, issue 13) joins its params
and must pass the same contract tests (see `server/store/__init__.py`).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from server.config import ROOT
from server.store import MIGRATIONS, Conflict, SQLiteStore, Store, StoreError
from tests.support import ServerProcess

PASSWORD = "a long enough password"


IMPLEMENTATIONS = {"sqlite": lambda directory: SQLiteStore(directory / "civic.sqlite3")}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
async def store(request, tmp_path):  # type: ignore[no-untyped-def]
    opened = IMPLEMENTATIONS[request.param](tmp_path)
    await opened.open()
    yield opened
    await opened.close()


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


HOTSPOT = {"position": [0, 1, 2], "normal": [0, 0, 1], "kind": "information", "title": {"en": "Library"},
           "description": {"en": ""}}


async def test_a_stale_edit_conflicts_with_the_current_row_and_changes_nothing(store):
    created = await store.create_hotspot("hall", HOTSPOT, "edith")
    updated = await store.update_hotspot(created["id"], 1, {"title": {"en": "Library, first floor"}}, "edith")
    assert updated is not None and updated["version"] == 2
    with pytest.raises(Conflict) as stale:
        await store.update_hotspot(created["id"], 1, {"title": {"en": "Lost edit"}}, "ada")
    assert stale.value.current["title"] == {"en": "Library, first floor"}
    assert (await store.hotspot(created["id"]))["version"] == 2  # type: ignore[index]
    assert [e["action"] for e in await store.audit()] == ["hotspot.update", "hotspot.create"]


async def test_an_empty_database_file_is_refused_not_started_empty(tmp_path):
    (tmp_path / "civic.sqlite3").write_bytes(b"")
    with pytest.raises(StoreError, match="empty"):
        await Store(tmp_path / "civic.sqlite3").open()
    assert (tmp_path / "civic.sqlite3").stat().st_size == 0


async def test_a_database_newer_than_the_code_is_refused(tmp_path):
    store = Store(tmp_path / "civic.sqlite3")
    await store.open()
    await store.conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    await store.close()
    with pytest.raises(StoreError, match="newer"):
        await store.open()


def test_the_staff_command_refuses_an_unreadable_database_in_one_line(tmp_path):
    (tmp_path / "civic.sqlite3").write_bytes(b"garbage" * 100)
    listed = staff_cli(tmp_path, "list")
    assert listed.returncode == 2 and "Traceback" not in listed.stderr
    assert listed.stderr.startswith("error: cannot open the database") and "not a database" in listed.stderr
