"""The durable store: migrations, the staff command line, and writes that survive a killed process.

The `store` fixture is parametrised by implementation: SQLite in a temporary folder, and PostgreSQL in a fresh
database on a server the tests start themselves (tests/postgres_server.py; a missing binary fails, never skips).
Both must pass the same contract tests (see `server/store/__init__.py`).
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from server.config import ROOT
from server.store import MIGRATIONS, TABLES, Conflict, SQLiteStore, StoreError, StoreUnavailable, store_from_url
from server.store.postgres import MIGRATIONS as POSTGRES_MIGRATIONS
from server.store.postgres import PostgresStore
from tests.postgres_server import PostgresServer, postgres, postgres_url  # noqa: F401  (fixtures)
from tests.support import ServerProcess

PASSWORD = "a long enough password"
IMPLEMENTATIONS = ("postgresql", "sqlite")


def database_url(request: pytest.FixtureRequest, kind: str, directory: Path) -> str:
    """A new, empty store of the given kind, as the URL `--database` takes."""
    if kind == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{directory / 'civic.sqlite3'}"


@pytest.fixture(params=IMPLEMENTATIONS)
def store_url(request, tmp_path) -> str:  # type: ignore[no-untyped-def]
    return database_url(request, request.param, tmp_path)


@pytest.fixture
async def store(store_url):  # type: ignore[no-untyped-def]
    opened = store_from_url(store_url)
    await opened.open()
    yield opened
    await opened.close()


async def set_schema_version(store, version: int) -> None:  # type: ignore[no-untyped-def]
    async with store.transaction() as conn:
        if isinstance(store, PostgresStore):
            await conn.execute(f"INSERT INTO schema_version (version) VALUES ({version})")
        else:
            await conn.execute(f"PRAGMA user_version = {version}")


def staff_cli(data_dir: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(data_dir), *args],
                          input=password + "\n" if password is not None else None, capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


async def test_migrations_run_once_and_record_the_schema_version(tmp_path):
    store = SQLiteStore(tmp_path / "civic.sqlite3")
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


def test_the_staff_command_refuses_a_piped_password_without_the_flag_in_one_line(tmp_path):
    piped = staff_cli(tmp_path, "add", "edith", "--role", "editor", password=PASSWORD)
    assert piped.returncode == 2 and "Traceback" not in piped.stderr
    assert piped.stderr.strip().splitlines() == [
        "error: standard input is not a terminal; to pipe the password in, give --password-stdin"]
    closed = subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(tmp_path), "passwd", "edith"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert closed.returncode == 2 and closed.stderr.count("\n") == 1 and closed.stderr.startswith("error: ")
    assert staff_cli(tmp_path, "list").stdout == ""  # nothing was added


def test_the_staff_command_takes_the_data_dir_after_the_action_too(tmp_path):
    after = subprocess.run([sys.executable, "-m", "server", "staff", "add", "edith", "--role", "editor",
                            "--password-stdin", "--data-dir", str(tmp_path)], input=PASSWORD + "\n",
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert after.returncode == 0, after.stderr
    assert staff_cli(tmp_path, "list").stdout.split() == ["edith", "editor"]  # the same data directory
    listed = subprocess.run([sys.executable, "-m", "server", "staff", "list", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert listed.stdout.split() == ["edith", "editor"]


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
        await SQLiteStore(tmp_path / "civic.sqlite3").open()
    assert (tmp_path / "civic.sqlite3").stat().st_size == 0


async def test_a_database_newer_than_the_code_is_refused(store):
    await set_schema_version(store, len(MIGRATIONS) + 1)
    await store.close()
    with pytest.raises(StoreError, match="newer"):
        await store.open()


async def test_both_stores_know_the_same_numbered_migrations_and_apply_them_once(store):
    assert len(POSTGRES_MIGRATIONS) == len(MIGRATIONS)  # one version number, one schema, on either store
    await store.close()
    await store.open()  # a second start applies nothing again (a re-run would fail on CREATE TABLE)
    assert await store.migrate() == len(MIGRATIONS)
    assert set(await store.counts()) == set(TABLES)


async def test_the_audit_log_refuses_updates_and_deletes_in_the_database_itself(store):
    await store.create_hotspot("hall", HOTSPOT, "edith")
    for statement in ("UPDATE audit SET actor = 'mallory'", "DELETE FROM audit"):
        with pytest.raises(Exception, match="append-only"):
            async with store.transaction() as conn:
                await conn.execute(statement)
    entries = await store.audit()
    assert [(e["actor"], e["action"]) for e in entries] == [("edith", "hotspot.create")]


async def test_staff_sessions_end_when_the_password_changes_or_the_account_goes(store):
    staff = await store.add_staff("edith", "hash-1", "editor")
    assert await store.get_staff("edith") == staff
    await store.create_session("token-a", staff.id, "csrf-a", 2**40)
    await store.create_session("token-old", staff.id, "csrf-o", 1.0)  # expired: never a session
    assert await store.session("token-a") == (staff, "csrf-a")
    assert await store.session("token-old") is None
    assert await store.set_password("edith", "hash-2")
    assert await store.session("token-a") is None
    assert not await store.set_password("nobody", "hash-3")
    assert [s["username"] for s in await store.list_staff()] == ["edith"]
    assert await store.remove_staff("edith") and await store.get_staff("edith") is None
    assert [e["action"] for e in await store.audit()] == ["staff.remove", "staff.passwd", "staff.add"]


async def test_a_username_is_unique_even_when_added_five_times_at_once(store):
    outcomes = await asyncio.gather(*[store.add_staff("edith", "h", "editor") for _ in range(5)],
                                    return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["AlreadyExists"] * 4 + ["Staff"]
    assert (await store.counts())["staff"] == 1


async def test_local_proposals_are_found_edited_by_version_and_supported_once_per_resident(store):
    created = await store.create_proposal({"title": {"en": "A library bus"}, "summary": {"en": "Books"},
                                           "body": {"en": ""}, "status": "open"}, "edith")
    assert [p["id"] for p in await store.proposals("library")] == [created["id"]]
    assert await store.proposals("swimming") == []
    edited = await store.update_proposal(created["id"], 1, {"status": "closed"}, "edith")
    assert edited is not None and edited["status"] == "closed" and edited["version"] == 2
    with pytest.raises(Conflict):
        await store.update_proposal(created["id"], 1, {"status": "open"}, "ada")
    assert await store.update_proposal(999, 1, {"status": "open"}, "ada") is None
    assert await store.support(created["id"], "resident-1") == (True, 1)
    assert await store.support(created["id"], "resident-1") == (False, 1)
    assert await store.support(created["id"], "resident-2") == (True, 2)
    assert await store.support(999, "resident-1") is None


async def test_hotspots_are_listed_by_scene_and_deleted_ones_kept_for_restoring(store):
    kept = await store.create_hotspot("hall", {**HOTSPOT, "proposal_ref": "decidim:1"}, "edith")
    gone = await store.create_hotspot("hall", HOTSPOT, "edith")
    await store.create_hotspot("square", {**HOTSPOT, "proposal_ref": "local:3"}, "edith")
    await store.update_hotspot(gone["id"], 1, {"deleted": 1}, "edith", action="hotspot.delete")
    assert [h["id"] for h in await store.hotspots("hall")] == [kept["id"]]
    assert await store.hotspot(gone["id"]) is None
    assert (await store.hotspot(gone["id"], include_deleted=True))["deleted"] == 1  # type: ignore[index]
    assert await store.remote_proposal_refs() == {"decidim:1"}
    assert await store.hotspot(999) is None


async def test_a_shared_secret_is_the_first_one_proposed_for_every_later_caller(store):
    first, second = await asyncio.gather(store.shared_secret("resident", b"\x01" * 32),
                                         store.shared_secret("resident", b"\x02" * 32))
    assert first == second and first in (b"\x01" * 32, b"\x02" * 32)
    assert await store.shared_secret("resident", b"\x03" * 32) == first
    assert await store.shared_secret("other", b"\x04" * 32) == b"\x04" * 32


async def test_two_processes_on_one_postgresql_keep_versions_without_a_shared_lock(postgres_url):  # noqa: F811
    first, second = PostgresStore(postgres_url, 5), PostgresStore(postgres_url, 5)
    await first.open()
    await second.open()  # two pools: nothing in this process serialises them
    try:
        created = await first.create_hotspot("hall", HOTSPOT, "edith")
        stores = [first, second] * 15
        outcomes = await asyncio.gather(
            *[s.update_hotspot(created["id"], 1, {"title": {"en": f"Edit {i}"}}, "edith")
              for i, s in enumerate(stores)], return_exceptions=True)
        assert sum(isinstance(o, Conflict) for o in outcomes) == 29
        assert sum(isinstance(o, dict) for o in outcomes) == 1
        proposal = await first.create_proposal({"title": {"en": "Benches"}, "summary": {"en": ""},
                                                "body": {"en": ""}, "status": "open"}, "edith")
        tokens = [f"token-{i % 40}" for i in range(80)]
        await asyncio.gather(*[(first if i % 2 else second).support(proposal["id"], t) for i, t in enumerate(tokens)])
        assert (await second.proposal(proposal["id"]))["supports"] == 40  # type: ignore[index]
        assert [e["id"] for e in await second.audit()] == sorted(range(1, 4), reverse=True)
    finally:
        await first.close()
        await second.close()


async def test_a_postgresql_restart_is_reported_as_unavailable_then_the_store_recovers_by_itself():
    with PostgresServer() as server:
        store = PostgresStore(server.create_database(), 3)
        await store.open()
        try:
            created = await store.create_hotspot("hall", HOTSPOT, "edith")
            server.pause()
            for call in (store.hotspots("hall"), store.create_hotspot("hall", HOTSPOT, "edith")):
                with pytest.raises(StoreUnavailable, match="unreachable"):
                    await call
            server.resume()
            assert [h["id"] for h in await store.hotspots("hall")] == [created["id"]]  # same pool, no reopen
            assert (await store.create_hotspot("hall", HOTSPOT, "edith"))["id"] == created["id"] + 1
        finally:
            await store.close()


async def test_an_unreachable_postgresql_is_refused_in_one_line():
    with pytest.raises(StoreError, match="cannot open the database postgresql://civic:\\*\\*\\*@127.0.0.1:9/"):
        await PostgresStore("postgresql://civic:secret@127.0.0.1:9/civic").open()


def test_a_server_whose_database_is_unreachable_exits_at_once_with_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "server", "serve", "--port", "0", "--data-dir", str(tmp_path),
                           "--no-optimize", "--database", "postgresql://civic:secret@127.0.0.1:9/civic"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr and "secret" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: cannot open the database postgresql://civic:***@")


def test_staff_accounts_are_managed_from_the_command_line_on_postgresql(tmp_path, postgres_url):  # noqa: F811
    url = ["--database", postgres_url]
    added = staff_cli(tmp_path, *url, "add", "edith", "--role", "editor", "--password-stdin", password=PASSWORD)
    assert added.returncode == 0, added.stderr
    assert staff_cli(tmp_path, *url, "list").stdout.split() == ["edith", "editor"]
    assert staff_cli(tmp_path, "list").stdout == ""  # the SQLite store in the data directory is another store
    refused = staff_cli(tmp_path, "--database", "postgresql://civic:secret@127.0.0.1:9/civic", "list")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr and "secret" not in refused.stderr
    assert refused.stderr.startswith("error: cannot open the database") and len(refused.stderr.splitlines()) == 1


def test_the_staff_command_refuses_an_unreadable_database_in_one_line(tmp_path):
    (tmp_path / "civic.sqlite3").write_bytes(b"garbage" * 100)
    listed = staff_cli(tmp_path, "list")
    assert listed.returncode == 2 and "Traceback" not in listed.stderr
    assert listed.stderr.startswith("error: cannot open the database") and "not a database" in listed.stderr
