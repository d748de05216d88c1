"""OParl import (issue 10.2): the pure mapping, the bounded feed reader against the fake council system
(tests/fake_oparl.py), and whole imports — through the `events import-oparl` command and through OParlSync — into a
real SQLite store."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from server.app import create_app
from server.events.oparl import (
    ImportOptions,
    OParlError,
    OParlReader,
    Remove,
    Skip,
    Upsert,
    agenda_of,
    map_meeting,
    map_meetings,
    parse_time,
)
from server.events.oparl_cli import add_parser, run
from server.events.oparl_sync import OParlSync
from server.proposals import Budget, PlatformHttp
from server.store import SQLiteStore, store_from_url
from tests.fake_oparl import NON_PUBLIC_NAME, FakeOParl
from tests.postgres_server import postgres, postgres_url  # noqa: F401  (fixtures)

OPTIONS = ImportOptions(scene="town-hall", zone="council-chamber", timezone="Europe/Berlin", lang="en")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


def meeting(**fields: Any) -> dict[str, Any]:
    base = {"id": "https://ris.example.org/oparl/meeting/1", "type": "https://schema.oparl.org/1.1/Meeting",
            "name": "Rat", "start": "2026-12-03T17:00:00+01:00", "end": "2026-12-03T20:00:00+01:00"}
    base.update(fields)
    return base


# --- mapping ------------------------------------------------------------------------------------------------------

def test_meeting_becomes_event_fields_under_the_chosen_language() -> None:
    outcome = map_meeting(meeting(location={"description": "Ratssaal", "room": "1.15", "postalCode": "53111",
                                            "locality": "Bonn"}), OPTIONS)
    assert isinstance(outcome, Upsert)
    assert outcome.external_id == "https://ris.example.org/oparl/meeting/1"
    assert outcome.fields == {
        "scene": "town-hall", "zone": "council-chamber", "title": {"en": "Rat"},
        "description": {"en": "Ratssaal, 1.15, 53111 Bonn"}, "starts_at": utc(2026, 12, 3, 16), "ends_at":
        utc(2026, 12, 3, 19), "timezone": "Europe/Berlin", "agenda": [],
    }
    fr = map_meeting(meeting(name=None), ImportOptions(scene="town-hall", zone="hall", lang="fr"))
    assert isinstance(fr, Upsert) and fr.fields["title"] == {"fr": "Séance"}


def test_agenda_is_sorted_by_order_and_non_public_items_are_left_out() -> None:
    items = [
        {"number": "2", "order": 20, "name": "Second", "public": True},
        {"number": "N1", "order": 5, "name": "Secret", "public": False},
        {"number": "1", "order": 10, "name": "First"},
        {"number": "x", "name": "No order"},
        {"number": "3", "order": "30", "name": "Digit string order"},
        {"number": "4", "order": 1, "name": "Deleted", "deleted": True},
        {"number": "5", "order": 2, "name": "Odd flag", "public": "false"},
    ]
    agenda = agenda_of(items, "en")
    assert [i["title"]["en"] for i in agenda] == ["First", "Second", "Digit string order", "No order"]
    assert [i["ref"] for i in agenda] == ["1", "2", "3", "x"]
    assert "Secret" not in repr(agenda) and "Odd flag" not in repr(agenda)


def test_agenda_item_without_name_is_titled_by_its_number_and_a_generic_label() -> None:
    assert agenda_of([{"number": "3", "order": 1}], "nl")[0]["title"] == {"nl": "Agendapunt 3"}
    assert agenda_of([{"order": 1}], "es")[0]["title"] == {"es": "Punto del orden del día"}


def test_agenda_item_text_is_plain_and_documents_are_http_links_only() -> None:
    item = {
        "order": 1, "name": "Rad <b>Ring</b> &amp; Markt", "result": "Beschlossen",
        "resolutionText": "<p>Mit <em>Änderungen</em>.</p>",
        "resolutionFile": {"name": "Beschluss", "accessUrl": "https://ris.example.org/f/0.pdf"},
        "auxiliaryFile": [
            {"name": "Vorlage", "accessUrl": "https://ris.example.org/f/1.pdf", "downloadUrl": ""},
            {"fileName": "2.pdf", "accessUrl": "", "downloadUrl": "http://ris.example.org/f/2.pdf"},
            {"name": "Script", "accessUrl": "javascript:alert(1)"},
            {"name": "Credentials", "accessUrl": "https://user:pw@ris.example.org/f/3.pdf"},
            {"name": "Gone", "accessUrl": "https://ris.example.org/f/4.pdf", "deleted": True},
            {"accessUrl": "https://ris.example.org/f/1.pdf"},
            "https://ris.example.org/oparl/file/5",
        ],
    }
    [mapped] = agenda_of([item], "en")
    assert mapped["title"] == {"en": "Rad Ring & Markt"}
    assert mapped["description"] == {"en": "Beschlossen — Mit Änderungen."}
    assert mapped["documents"] == [
        {"title": "Beschluss", "url": "https://ris.example.org/f/0.pdf"},
        {"title": "Vorlage", "url": "https://ris.example.org/f/1.pdf"},
        {"title": "2.pdf", "url": "http://ris.example.org/f/2.pdf"},
    ]


def test_missing_unreadable_or_early_end_is_an_open_end() -> None:
    for end in (None, "soon", "2026-12-03", "2026-12-03T16:00:00+01:00", 1234):
        outcome = map_meeting(meeting(end=end), OPTIONS)
        assert isinstance(outcome, Upsert) and outcome.fields["ends_at"] is None, end


def test_times_with_offsets_are_instants_and_times_without_are_local_to_the_option() -> None:
    assert parse_time("2026-12-05T16:00:00Z", "Europe/Berlin") == utc(2026, 12, 5, 16)
    assert parse_time("2026-12-10T18:30:00", "Europe/Berlin") == utc(2026, 12, 10, 17, 30)
    assert parse_time("2026-07-10T18:30:00", "Europe/Berlin") == utc(2026, 7, 10, 16, 30)  # summer time
    assert parse_time("2026-12-10T18:30:00", "America/New_York") == utc(2026, 12, 10, 23, 30)
    for bad in ("2026-12-10", "1899-01-01T10:00:00Z", "tomorrow", 5, None, "9" * 100):
        assert parse_time(bad, "Europe/Berlin") is None


def test_cancelled_or_deleted_meeting_is_a_removal() -> None:
    assert map_meeting(meeting(cancelled=True), OPTIONS) == Remove("https://ris.example.org/oparl/meeting/1")
    stub = {"id": "https://ris.example.org/oparl/meeting/1", "type": "https://schema.oparl.org/1.1/Meeting",
            "deleted": True}
    assert map_meeting(stub, OPTIONS) == Remove("https://ris.example.org/oparl/meeting/1")


def test_meeting_without_start_id_or_meeting_type_is_skipped() -> None:
    assert isinstance(map_meeting(meeting(start=None), OPTIONS), Skip)
    assert isinstance(map_meeting(meeting(start="2026-12-03"), OPTIONS), Skip)
    assert isinstance(map_meeting(meeting(id="ftp://ris.example.org/1"), OPTIONS), Skip)
    assert isinstance(map_meeting(meeting(id=17), OPTIONS), Skip)
    assert isinstance(map_meeting(meeting(type="https://schema.oparl.org/1.1/Paper"), OPTIONS), Skip)
    assert isinstance(map_meeting("https://ris.example.org/oparl/meeting/1", OPTIONS), Skip)


def test_meeting_listed_twice_is_taken_once() -> None:
    outcomes = map_meetings([meeting(), meeting(name="Again"), meeting(id="https://ris.example.org/m/2")], OPTIONS)
    assert [o.fields["title"]["en"] for o in outcomes if isinstance(o, Upsert)] == ["Rat", "Rat"]


def test_options_are_checked() -> None:
    for bad in ({"scene": "Town Hall"}, {"zone": "../x"}, {"lang": "de"}, {"timezone": "Mars/Olympus"},
                {"capacity": 0}):
        with pytest.raises(ValueError):
            ImportOptions(**{"scene": "town-hall", "zone": "council-chamber", **bad})  # type: ignore[arg-type]


# --- reading the fake council system ------------------------------------------------------------------------------

async def serve(aiohttp_server: Any) -> tuple[FakeOParl, str]:
    fake = FakeOParl()
    server = await aiohttp_server(fake.app(), host="127.0.0.1")
    return fake, f"http://127.0.0.1:{server.port}"


async def read(url: str, **kwargs: Any) -> Any:
    async with PlatformHttp(frozenset({"127.0.0.1"})) as http:
        return await OParlReader(http, min_interval=0, **kwargs).meetings(url)


async def test_reader_walks_system_body_list_and_three_meeting_pages(aiohttp_server: Any) -> None:
    fake, origin = await serve(aiohttp_server)
    feed = await read(f"{origin}/oparl/v1/system")
    assert [m["id"].rsplit("/", 1)[1] for m in feed.meetings] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert feed.pages == 5 and feed.warnings == []  # system, body list, three meeting pages
    assert fake.paths == ["/oparl/v1/system", "/oparl/v1/bodies", "/oparl/v1/body/1/meetings",
                          "/oparl/v1/body/1/meetings?page=2", "/oparl/v1/body/1/meetings?page=3"]
    assert len((await read(f"{origin}/oparl/v1/body/1")).meetings) == 8
    assert len((await read(f"{origin}/oparl/v1/body/1/meetings")).meetings) == 8
    assert [m["name"] for m in (await read(f"{origin}/oparl/v1/meeting/2")).meetings] == [
        "Ausschuss für Umwelt und Klima"]


async def test_body_list_entries_given_as_urls_are_read_and_bodies_without_meetings_passed_over(
        aiohttp_server: Any) -> None:
    fake, origin = await serve(aiohttp_server)
    fake.extra_bodies = [{"id": "{BASE}/oparl/v1/body/2", "type": "https://schema.oparl.org/1.1/Body",
                          "name": "Zweckverband"}, "{BASE}/oparl/v1/body/1"]
    feed = await read(f"{origin}/oparl/v1/system")
    assert len(feed.meetings) == 16 and len(map_meetings(feed.meetings, OPTIONS)) == 8
    assert "/oparl/v1/body/1" in fake.paths and "a Body without a meeting list" in feed.warnings[0]


async def test_a_large_page_within_the_bound_is_read_whole(aiohttp_server: Any) -> None:
    fake, origin = await serve(aiohttp_server)
    fake.meetings[1]["agendaItem"][1]["resolutionText"] = "Wortlaut " * 400_000  # 3.6 MB, many TCP chunks
    feed = await read(f"{origin}/oparl/v1/body/1/meetings")
    assert len(feed.meetings) == 8
    with pytest.raises(OParlError) as failed:
        await read(f"{origin}/oparl/v1/body/1/meetings", max_body=1 << 20)
    assert failed.value.code == "oparl_too_large"


async def test_a_links_next_loop_stops_and_so_does_the_page_cap(aiohttp_server: Any) -> None:
    fake, origin = await serve(aiohttp_server)
    fake.loop = True
    feed = await read(f"{origin}/oparl/v1/body/1/meetings")
    assert len(feed.meetings) == 8 and fake.requests == 4  # page 1, 2, 3, then page 1 again is recognised
    assert "leads back to" in feed.warnings[0]
    fake.requests = 0
    capped = await read(f"{origin}/oparl/v1/system", max_pages=3)
    assert fake.requests == 3 and len(capped.meetings) == 3 and "stopped after 3 requests" in capped.warnings[0]


async def test_requests_are_spaced_and_a_short_429_is_waited_out_once(aiohttp_server: Any) -> None:
    fake, origin = await serve(aiohttp_server)
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # moves the hand-driven clock instead of waiting
        waits.append(round(seconds, 3))
        now[0] += seconds

    def reader(http: PlatformHttp) -> OParlReader:
        return OParlReader(http, min_interval=0.5, sleep=sleep, clock=lambda: now[0])

    fake.throttle = 1
    async with PlatformHttp(frozenset({"127.0.0.1"}), budget=Budget(clock=lambda: now[0])) as http:
        feed = await reader(http).meetings(f"{origin}/oparl/v1/body/1/meetings")
    assert len(feed.meetings) == 8 and fake.requests == 4
    assert waits == [1.0, 0.5, 0.5]  # the Retry-After, then the interval before each following page
    fake.throttle = 2
    async with PlatformHttp(frozenset({"127.0.0.1"}), budget=Budget(clock=lambda: now[0])) as http:
        with pytest.raises(OParlError) as limited:
            await reader(http).meetings(f"{origin}/oparl/v1/body/1/meetings")
    assert limited.value.code == "oparl_rate_limited"


async def test_a_private_address_is_refused_unless_allow_listed(aiohttp_server: Any) -> None:
    fake, origin = await serve(aiohttp_server)
    async with PlatformHttp() as http:
        with pytest.raises(OParlError) as refused:
            await OParlReader(http, min_interval=0).meetings(f"{origin}/oparl/v1/system")
    assert refused.value.code == "oparl_refused" and fake.requests == 0


@pytest.mark.parametrize(("broken", "code"), [("not_json", "oparl_not_json"), ("wrong_types", "oparl_bad_shape"),
                                              ("huge", "oparl_too_large"), ("status", "oparl_http_status")])
async def test_a_bad_page_is_a_clear_error(aiohttp_server: Any, broken: str, code: str) -> None:
    fake, origin = await serve(aiohttp_server)
    fake.broken = broken
    with pytest.raises(OParlError) as failed:
        await read(f"{origin}/oparl/v1/system", max_body=1 << 20)
    assert failed.value.code == code
    assert "127.0.0.1/oparl/v1/body/1/meetings" in failed.value.message


# --- whole imports into a real SQLite store -----------------------------------------------------------------------

def cli_args(url: str, db: Path | str, *extra: str) -> argparse.Namespace:
    """`events import-oparl URL …` as `python -m server` parses it; `db` a SQLite file or a database URL."""
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command", required=True))
    database = f"sqlite:///{db}" if isinstance(db, Path) else db
    return parser.parse_args(["events", "import-oparl", url, "--scene", "town-hall", "--zone", "council-chamber",
                              "--database", database, "--platform-hosts", "127.0.0.1", "--min-interval", "0",
                              *extra])


async def imported(db: Path) -> dict[str, dict[str, Any]]:
    store = SQLiteStore(db)
    await store.open()
    try:
        return {row["external_id"].rsplit("/", 1)[1]: row for row in await store.events(include_deleted=True)}
    finally:
        await store.close()


def database_text(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return "\n".join(conn.iterdump())


async def test_command_imports_the_feed_and_a_second_run_changes_nothing(
        aiohttp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake, origin = await serve(aiohttp_server)
    db = tmp_path / "civic.sqlite3"
    assert await run(cli_args(f"{origin}/oparl/v1/system", db)) == 0
    out, err = capsys.readouterr()
    assert "imported: created 6, updated 0, unchanged 1, removed 0, skipped 1 (5 pages read)" in out
    assert "no usable start time" in err
    events = await imported(db)
    assert sorted(events) == ["1", "2", "4", "5", "7", "8"]  # 3 is cancelled, 6 has no start
    first = events["1"]
    assert first["source"] == "oparl" and first["external_id"] == f"{origin}/oparl/v1/meeting/1"
    assert first["title"] == {"en": "42. Sitzung des Rates der Stadt"}
    assert (first["scene"], first["zone"], first["timezone"]) == ("town-hall", "council-chamber", "Europe/Berlin")
    assert (first["starts_at"], first["ends_at"]) == (utc(2026, 12, 3, 16), utc(2026, 12, 3, 19, 30))
    assert [item["title"]["en"] for item in first["agenda"]] == [
        "Eröffnung und Feststellung der Tagesordnung", "Radverkehrskonzept Innenstadt & Ring", "Agenda item 3"]
    assert [d["url"] for d in first["agenda"][1]["documents"]] == [f"{origin}/files/1.pdf", f"{origin}/files/2.pdf"]
    assert first["state"] == "scheduled" and first["version"] == 1
    assert events["2"]["ends_at"] is None and events["2"]["starts_at"] == utc(2026, 12, 5, 16)
    assert events["4"]["starts_at"] == utc(2026, 12, 10, 17, 30)
    assert [i["title"]["en"] for i in events["5"]["agenda"]] == ["Zweiter Punkt", "Erster Punkt"]
    assert events["8"]["title"] == {"en": "Meeting"}
    before = database_text(db)

    assert await run(cli_args(f"{origin}/oparl/v1/system", db)) == 0
    assert "imported: created 0, updated 0, unchanged 7, removed 0, skipped 1" in capsys.readouterr()[0]
    assert database_text(db) == before  # not one row, version or audit entry more


async def test_import_and_no_op_reimport_on_postgresql(aiohttp_server: Any, postgres_url: str,  # noqa: F811
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    fake, origin = await serve(aiohttp_server)
    assert await run(cli_args(f"{origin}/oparl/v1/system", postgres_url)) == 0
    assert "imported: created 6, updated 0, unchanged 1, removed 0, skipped 1" in capsys.readouterr()[0]
    assert await run(cli_args(f"{origin}/oparl/v1/system", postgres_url)) == 0
    assert "imported: created 0, updated 0, unchanged 7, removed 0, skipped 1" in capsys.readouterr()[0]
    store = store_from_url(postgres_url)
    await store.open()
    try:
        rows = {row["external_id"].rsplit("/", 1)[1]: row for row in await store.events()}
    finally:
        await store.close()
    assert sorted(rows) == ["1", "2", "4", "5", "7", "8"] and rows["2"]["ends_at"] is None
    assert all(row["version"] == 1 for row in rows.values())
    assert NON_PUBLIC_NAME not in repr(rows)


async def test_non_public_agenda_items_are_never_stored(aiohttp_server: Any, tmp_path: Path) -> None:
    fake, origin = await serve(aiohttp_server)
    db = tmp_path / "civic.sqlite3"
    assert await run(cli_args(f"{origin}/oparl/v1/system", db)) == 0
    dump = database_text(db)
    assert "Radverkehrskonzept" in dump  # the public item next to it is there (the dump can show it)
    assert NON_PUBLIC_NAME not in dump and "Vertraulich" not in dump and "files/99.pdf" not in dump
    assert "javascript:" not in dump


async def test_changed_cancelled_and_deleted_meetings_follow_the_council(
        aiohttp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake, origin = await serve(aiohttp_server)
    db = tmp_path / "civic.sqlite3"
    assert await run(cli_args(f"{origin}/oparl/v1/system", db)) == 0
    fake.change(1, "2026-11-20T09:00:00+01:00", name="42. Sitzung des Rates (verlegt)",
                start="2026-12-04T17:00:00+01:00")
    fake.change(2, "2026-11-20T09:00:00+01:00", cancelled=True)
    fake.delete(7, "2026-11-20T09:00:00+01:00")
    capsys.readouterr()
    assert await run(cli_args(f"{origin}/oparl/v1/system", db)) == 0
    assert "imported: created 0, updated 1, unchanged 4, removed 2, skipped 1" in capsys.readouterr()[0]
    events = await imported(db)
    assert events["1"]["title"] == {"en": "42. Sitzung des Rates (verlegt)"} and events["1"]["version"] == 2
    assert events["1"]["starts_at"] == utc(2026, 12, 4, 16)
    assert events["2"]["deleted_at"] is not None and events["7"]["deleted_at"] is not None
    fake.change(2, "2026-11-21T09:00:00+01:00", cancelled=False)  # un-cancelled: a deleted event stays deleted
    assert await run(cli_args(f"{origin}/oparl/v1/system", db)) == 0
    out, err = capsys.readouterr()
    assert "created 0, updated 0, unchanged 7, removed 0" in out and "stays deleted" in err


@pytest.mark.parametrize("broken", ["not_json", "wrong_types", "huge", "status"])
async def test_a_bad_feed_is_an_error_and_writes_nothing(
        aiohttp_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str) -> None:
    fake, origin = await serve(aiohttp_server)
    db = tmp_path / "civic.sqlite3"
    fake.broken = broken
    assert await run(cli_args(f"{origin}/oparl/v1/system", db)) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and "127.0.0.1/oparl/v1/body/1/meetings" in err
    assert await imported(db) == {}  # page 1 was fine: nothing of it was written either
    fake.broken = None
    assert await run(cli_args(f"{origin}/oparl/v1/system", db)) == 0
    before = database_text(db)
    fake.change(1, "2026-11-20T09:00:00+01:00", name="Changed")
    fake.broken = broken
    assert await run(cli_args(f"{origin}/oparl/v1/system", db)) == 2
    assert database_text(db) == before


async def test_dry_run_counts_and_writes_nothing(aiohttp_server: Any, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    fake, origin = await serve(aiohttp_server)
    db = tmp_path / "civic.sqlite3"
    assert await run(cli_args(f"{origin}/oparl/v1/system", db, "--dry-run")) == 0
    assert "would be: created 6, updated 0, unchanged 1, removed 0, skipped 1" in capsys.readouterr()[0]
    assert await imported(db) == {}


async def test_command_refuses_bad_options_and_unlisted_hosts(aiohttp_server: Any, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    fake, origin = await serve(aiohttp_server)
    db = tmp_path / "civic.sqlite3"
    assert await run(cli_args(f"{origin}/oparl/v1/system", db, "--timezone", "Nowhere/Atlantis")) == 2
    assert "time zone" in capsys.readouterr()[1]
    args = cli_args(f"{origin}/oparl/v1/system", db)
    args.platform_hosts = "ris.example.org"
    assert await run(args) == 2
    assert "not one of the platform hosts" in capsys.readouterr()[1] and fake.requests == 0


async def test_sync_imports_survives_a_bad_feed_and_then_asks_only_for_changes(
        aiohttp_server: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fake, origin = await serve(aiohttp_server)
    store = SQLiteStore(tmp_path / "civic.sqlite3")
    await store.open()
    changed: list[int] = []

    async def on_change(row: dict[str, Any]) -> None:
        changed.append(row["id"])

    try:
        sync = OParlSync(store, f"{origin}/oparl/v1/system", 3600, options=OPTIONS, platform_hosts=["127.0.0.1"],
                         min_interval=0, on_change=on_change)
        first = await sync.run_once()
        assert first is not None and first.counts() == {"created": 6, "updated": 0, "unchanged": 1, "removed": 0,
                                                         "skipped": 1}
        assert len(changed) == 6
        fake.broken, fake.broken_page = "not_json", 1  # an incremental run reads one page only
        with caplog.at_level("WARNING", logger="civic.events.oparl"):
            assert await sync.run_once() is None
        assert "not JSON" in (sync.last_error or "") and "nothing written" in caplog.text
        fake.broken = None
        fake.change(4, "2099-01-01T00:00:00+01:00", name="Bezirksvertretung Beuel (neu)")
        fake.paths.clear()
        third = await sync.run_once()
        assert third is not None and third.counts()["updated"] == 1 and sync.last_error is None
        assert any("modified_since=" in path for path in fake.paths)
        assert third.counts()["created"] + third.counts()["unchanged"] + third.counts()["updated"] == 1
        assert len(changed) == 7
    finally:
        await store.close()


async def test_sync_task_starts_runs_and_stops(aiohttp_server: Any, tmp_path: Path) -> None:
    fake, origin = await serve(aiohttp_server)
    store = SQLiteStore(tmp_path / "civic.sqlite3")
    await store.open()
    try:
        fake.broken = "status"
        sync = OParlSync(store, f"{origin}/oparl/v1/system", 1, options=OPTIONS, platform_hosts=["127.0.0.1"],
                         min_interval=0)
        sync.start()
        for _ in range(100):
            if sync.last_error is not None:
                break
            await asyncio.sleep(0.05)
        assert sync.last_error is not None and "HTTP 500" in sync.last_error
        fake.broken = None
        for _ in range(100):  # the task is still there after the failure and imports on its next round
            if sync.last is not None:
                break
            await asyncio.sleep(0.05)
        assert sync.last is not None and sync.last.created == 6
        await sync.stop()
        requests = fake.requests
        await asyncio.sleep(1.2)
        assert fake.requests == requests
    finally:
        await store.close()


async def test_the_server_imports_council_meetings_on_its_own(aiohttp_server: Any, aiohttp_client: Any,
                                                               tiny_config: Any) -> None:
    """`serve --oparl-url …`: the app's periodic sync fills the meetings list without anyone running a command."""
    fake, origin = await serve(aiohttp_server)
    config = replace(tiny_config, oparl_url=f"{origin}/oparl/v1/system", oparl_scene="tiny", oparl_zone="hall",
                     platform_hosts=frozenset({"127.0.0.1"}))
    client = await aiohttp_client(create_app(config))
    titles: list[str] = []
    for _ in range(200):
        listing = await (await client.get("/api/events?when=all")).json()
        titles = [e["title"]["en"] for e in listing["events"]]
        if len(titles) == 6:
            break
        await asyncio.sleep(0.05)
    assert len(titles) == 6 and fake.requests > 0
