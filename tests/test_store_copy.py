"""`python -m server store copy`: a city that started on the SQLite default moves to PostgreSQL whole (staff,
sessions, hotspots, proposals, supports, public meetings, the audit log in its order), repeatably, verified, and the
copy then behaves as the original did."""

from __future__ import annotations

import subprocess
import sys
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from server.auth import hash_password
from server.config import ROOT
from server.store import Conflict, SQLiteStore, StoreError, store_from_url
from server.store.copy import copy_store
from tests.postgres_server import postgres, postgres_url  # noqa: F401  (fixtures)
from tests.support import ServerProcess
from tests.test_events_store import populate as hold_a_meeting
from tests.test_store import HOTSPOT, PASSWORD, _request


def store_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server", "store", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


async def populated_sqlite(path: Path) -> dict[str, object]:
    """A small city's history: staff with a live session, hotspots placed, edited and deleted, a local proposal
    with supports, a public meeting held and one imported."""
    store = SQLiteStore(path)
    await store.open()
    try:
        edith = await store.add_staff("edith", hash_password(PASSWORD), "editor")
        await store.add_staff("ada", hash_password(PASSWORD), "admin")
        await store.create_session("session-of-edith", edith.id, "csrf-of-edith", 2**40)
        library = await store.create_hotspot("town-hall", HOTSPOT, "edith")
        await store.update_hotspot(library["id"], 1, {"title": {"en": "Library, first floor"}}, "edith")
        gone = await store.create_hotspot("town-hall", {**HOTSPOT, "title": {"en": "Old sign"}}, "edith")
        await store.update_hotspot(gone["id"], 1, {"deleted": 1}, "edith", action="hotspot.delete")
        proposal = await store.create_proposal({"title": {"en": "Benches"}, "summary": {"en": "In the square"},
                                                "body": {"en": ""}, "status": "open"}, "ada")
        for token in ("r1", "r2", "r3", "r2"):
            await store.support(proposal["id"], token)
        await hold_a_meeting(store)
        return {"library": library["id"], "proposal": proposal["id"], "counts": await store.counts(),
                "audit": await store.audit(limit=1000)}
    finally:
        await store.close()


async def test_a_sqlite_city_is_copied_to_postgresql_whole_repeatably_and_keeps_working(tmp_path, postgres_url):  # noqa: F811
    source = tmp_path / "civic.sqlite3"
    before = await populated_sqlite(source)
    first = store_cli("copy", "--from", f"sqlite:///{source}", "--to", postgres_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == ("copied and verified: staff 2, sessions 1, hotspots 2, proposals 1, supports 3, "
                                    "audit 14, secrets 0, events 2, event_slides 1, event_hands 1, event_questions 1, "
                                    "event_question_supports 1, event_captions 1, event_chat 1, event_bans 1, "
                                    "scene_zones 0, scene_tour_stops 0, scene_walk_paints 0, scene_spawns 0, "
                                    "event_recordings 0, event_recording_chunks 0")
    again = store_cli("copy", "--from", f"sqlite:///{tmp_path}", "--to", postgres_url)  # a data directory works too
    assert again.returncode == 0 and again.stdout == first.stdout  # running twice gives the same result

    copy = store_from_url(postgres_url)
    await copy.open()
    try:
        assert await copy.counts() == before["counts"]
        assert await copy.audit(limit=1000) == before["audit"]  # the same history, in the same order
        edith = await copy.get_staff("edith")
        assert edith is not None and await copy.session("session-of-edith") == (edith, "csrf-of-edith")
        library = await copy.hotspot(before["library"])  # type: ignore[arg-type]
        assert library is not None and library["version"] == 2
        with pytest.raises(Conflict):
            await copy.update_hotspot(library["id"], 1, {"title": {"en": "Lost"}}, "ada")
        assert await copy.support(before["proposal"], "r1") == (False, 3)  # type: ignore[arg-type]
        added = await copy.create_hotspot("town-hall", HOTSPOT, "edith")  # new ids continue after the copied ones
        assert added["id"] == 3
        assert (await copy.audit(limit=1))[0]["id"] == 15
        meeting = (await copy.events())[1]
        assert meeting["state"] == "live" and [h["name"] for h in await copy.hands(meeting["id"])] == ["Ann"]
        assert await copy.restrictions(meeting["id"]) == {"ban": {"hd"}, "mute": set()}
    finally:
        await copy.close()

    server = ServerProcess(tmp_path, "--database", postgres_url, name="on-the-copy")
    try:
        _, login, headers = _request(f"{server.url}/api/auth/login", {"username": "edith", "password": PASSWORD})
        cookie = SimpleCookie(headers["Set-Cookie"])["civic_session"].value
        status, _, _ = _request(f"{server.url}/api/scenes/town-hall/hotspots", {**HOTSPOT, "position": [1, 1, 1]},
                                {"X-CSRF-Token": login["csrf"], "Cookie": f"civic_session={cookie}"})
        assert status == 201
        _, listed, _ = _request(f"{server.url}/api/scenes/town-hall/hotspots")
        assert [h["title"]["en"] for h in listed["hotspots"]] == ["Library, first floor", "Library", "Library"]
    finally:
        assert server.stop() == 0


async def test_a_copy_into_a_database_holding_another_history_is_refused_before_writing(
        tmp_path, postgres_url):  # noqa: F811
    other = store_from_url(postgres_url)
    await other.open()
    await other.add_staff("someone-else", "hash", "admin")
    await other.close()
    source = tmp_path / "civic.sqlite3"
    await populated_sqlite(source)
    refused = store_cli("copy", "--from", f"sqlite:///{source}", "--to", postgres_url)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("error: the target already holds another history")
    assert len(refused.stderr.splitlines()) == 1
    await other.open()
    try:
        assert [s["username"] for s in await other.list_staff()] == ["someone-else"]  # left as it was
        assert (await other.counts())["hotspots"] == 0
    finally:
        await other.close()
    assert store_cli("copy", "--from", f"sqlite:///{tmp_path / 'missing.sqlite3'}", "--to", postgres_url
                     ).stderr.startswith("error: there is no database at")


async def test_a_postgresql_store_copies_back_to_sqlite_as_a_backup(tmp_path, postgres_url):  # noqa: F811
    await populated_sqlite(tmp_path / "civic.sqlite3")
    original = SQLiteStore(tmp_path / "civic.sqlite3")
    middle, back = store_from_url(postgres_url), SQLiteStore(tmp_path / "back" / "civic.sqlite3")
    for store in (original, middle, back):
        await store.open()
    try:
        await copy_store(original, middle)
        counts = await copy_store(middle, back)
        assert counts == await original.counts()
        for table in counts:
            assert await back.export_rows(table) == await original.export_rows(table)
        await back.create_session("only-on-the-backup", 1, "csrf", 2**40)  # not audited: found by the verification
        with pytest.raises(StoreError, match="the copy differs in sessions: 1 rows in the source, 2"):
            await copy_store(middle, back)
        await back.add_staff("new-on-the-backup", "hash", "editor")  # audited: refused before writing
        with pytest.raises(StoreError, match="another history"):
            await copy_store(middle, back)
    finally:
        for store in (original, middle, back):
            await store.close()
