"""Public meetings in the store (issue #10, docs/events.md "Store"): every event method, on SQLite and on a real
PostgreSQL (the parametrised `store` fixture of tests/test_store.py), the migration from the schema before
meetings existed, and `store copy` carrying the event tables."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from server.store import Conflict, SQLiteStore, StoreError, store_from_url
from server.store import postgres as postgres_module
from server.store import sqlite as sqlite_module
from server.store.copy import copy_store
from tests.postgres_server import postgres, postgres_url  # noqa: F401  (fixtures)
from tests.test_store import HOTSPOT, database_url, store, store_url  # noqa: F401  (fixtures)

EVENT: dict[str, Any] = {
    "scene": "town-hall", "zone": "council-chamber", "title": {"en": "Council", "fr": "Conseil"},
    "description": {"en": "Monthly meeting"}, "starts_at": 1_900_000_000.0, "ends_at": 1_900_007_200.0,
    "timezone": "Europe/Amsterdam", "capacity": 120,
    "agenda": [{"title": {"en": "Opening"}, "description": {"en": ""}, "documents": [], "ref": None},
               {"title": {"en": "Budget"}, "description": {"en": "2027"},
                "documents": [{"title": "Draft", "url": "https://example.org/b.pdf"}], "ref": "7"}],
    "staff": {"chair": ["carla"], "moderator": ["mo"], "captioner": ["cap"]},
}
SLIDE = {"blob": "ab" * 32, "media_type": "image/webp", "width": 1920, "height": 1080, "alt": {"en": "Budget chart"}}


def actions(entries: list[dict[str, Any]]) -> list[str]:
    return [e["action"] for e in entries]


async def test_an_event_is_created_listed_edited_by_version_and_deleted(store):  # noqa: F811
    later = await store.create_event({**EVENT, "starts_at": 1_950_000_000}, "host")
    created = await store.create_event(EVENT, "host")
    assert created["title"] == EVENT["title"] and created["agenda"] == EVENT["agenda"]
    assert created["staff"] == EVENT["staff"] and created["floor"] is None
    assert (created["state"], created["version"], created["slow_mode"]) == ("scheduled", 1, 0)
    assert created["current_item"] is None and created["slide_id"] is None and created["source"] is None
    assert created["started_at"] is None and created["ended_at"] is None and created["deleted_at"] is None
    assert [e["id"] for e in await store.events()] == [created["id"], later["id"]]  # by start
    assert await store.event(created["id"]) == created

    bare = await store.create_event({"scene": "square", "title": {"en": "Walk"}, "starts_at": 1_960_000_000}, "host")
    assert (bare["zone"], bare["ends_at"], bare["timezone"], bare["capacity"]) == (None, None, "UTC", 0)
    assert bare["agenda"] == [] and bare["staff"] == {"chair": [], "moderator": [], "captioner": []}

    edited = await store.update_event(created["id"], 1, {"title": {"en": "Council (moved)"}, "ends_at": None,
                                                         "staff": {"chair": ["carla", "cas"]}}, "host")
    assert edited["version"] == 2 and edited["ends_at"] is None and edited["staff"] == {"chair": ["carla", "cas"]}
    with pytest.raises(Conflict) as stale:
        await store.update_event(created["id"], 1, {"title": {"en": "Lost"}}, "other")
    assert stale.value.current["title"] == {"en": "Council (moved)"}
    with pytest.raises(StoreError, match="unexpected"):
        await store.update_event(created["id"], 2, {"state": "live"}, "host")  # live fields have their own method
    assert await store.update_event(999, 1, {"capacity": 3}, "host") is None

    with pytest.raises(Conflict):
        await store.delete_event(created["id"], 1, "host")
    deleted = await store.delete_event(created["id"], 2, "host")
    assert deleted is not None and deleted["deleted_at"] is not None and deleted["version"] == 3
    assert await store.event(created["id"]) is None
    assert [e["id"] for e in await store.events()] == [later["id"], bare["id"]]
    assert created["id"] in [e["id"] for e in await store.events(include_deleted=True)]
    assert await store.delete_event(created["id"], 3, "host") is None  # gone already
    assert await store.update_event(created["id"], 3, {"capacity": 3}, "host") is None

    entries = await store.audit()
    assert actions(entries) == ["event.delete", "event.update", "event.create", "event.create", "event.create"]
    assert entries[0]["target"] == f"event:{created['id']}" and entries[0]["actor"] == "host"
    assert entries[1]["before"]["version"] == 1 and entries[1]["after"]["version"] == 2


async def test_live_changes_bump_the_version_set_the_actual_start_and_end_and_are_audited(store):  # noqa: F811
    created = await store.create_event(EVENT, "host")
    opened = await store.set_event_live(created["id"], {"state": "open"}, "carla", "event.open")
    assert opened["state"] == "open" and opened["version"] == 2 and opened["started_at"] is None
    live = await store.set_event_live(created["id"], {"state": "live", "current_item": 0}, "carla", "event.start")
    assert live["started_at"] is not None and live["current_item"] == 0
    floor = {"handle": "abcdefghijkl", "name": "Ann", "granted_at": 1.5, "seconds": 120, "until": 121.5}
    granted = await store.set_event_live(created["id"], {"floor": floor, "slow_mode": 10}, "carla", "event.floor")
    assert granted["floor"] == floor and granted["slow_mode"] == 10 and granted["started_at"] == live["started_at"]
    taken = await store.set_event_live(created["id"], {"floor": None}, "carla", "event.floor")
    assert taken["floor"] is None
    ended = await store.set_event_live(created["id"], {"state": "ended"}, "carla", "event.end")
    assert ended["ended_at"] >= ended["started_at"] and ended["version"] == 6
    archived = await store.set_event_live(created["id"], {"state": "archived"}, "carla", "event.archive")
    assert archived["ended_at"] == ended["ended_at"]  # the first end stays
    removal = await store.set_event_live(created["id"], {}, "mo", "event.remove")  # an action only audited
    assert removal["version"] == archived["version"] + 1 and removal["state"] == "archived"
    with pytest.raises(Conflict):  # an edit made before the meeting ran is stale now
        await store.update_event(created["id"], 1, {"capacity": 10}, "host")
    with pytest.raises(StoreError):
        await store.set_event_live(created["id"], {"title": {"en": "x"}}, "carla", "event.x")
    with pytest.raises(ValueError):
        await store.set_event_live(created["id"], {"state": "paused"}, "carla", "event.x")
    assert await store.set_event_live(999, {"state": "open"}, "carla", "event.open") is None
    entries = await store.audit()
    assert actions(entries) == ["event.remove", "event.archive", "event.end", "event.floor", "event.floor",
                                "event.start", "event.open", "event.create"]
    assert entries[5]["before"]["state"] == "open" and entries[5]["after"]["state"] == "live"


async def test_an_import_creates_then_updates_only_imported_fields_and_reports_no_change(store):  # noqa: F811
    fields = {key: EVENT[key] for key in ("scene", "zone", "title", "description", "starts_at", "ends_at",
                                          "timezone", "agenda")}
    created, changed = await store.upsert_imported_event("oparl", "https://council.example/m/1", fields, "oparl")
    assert changed and created["source"] == "oparl" and created["external_id"] == "https://council.example/m/1"
    assert created["state"] == "scheduled" and created["staff"] == {"chair": [], "moderator": [], "captioner": []}
    same, changed = await store.upsert_imported_event("oparl", "https://council.example/m/1", fields, "oparl")
    assert not changed and same == created

    # the meeting is being run here: duties assigned, doors opened, an item shown
    await store.update_event(created["id"], 1, {"staff": {"chair": ["carla"]}}, "host")
    await store.set_event_live(created["id"], {"state": "live", "current_item": 1, "slow_mode": 5}, "carla",
                               "event.start")
    moved, changed = await store.upsert_imported_event(
        "oparl", "https://council.example/m/1", {**fields, "ends_at": None, "title": {"en": "Council, renamed"}},
        "oparl")
    assert changed and moved["ends_at"] is None and moved["title"] == {"en": "Council, renamed"}
    assert (moved["state"], moved["current_item"], moved["slow_mode"]) == ("live", 1, 5)
    assert moved["staff"] == {"chair": ["carla"]} and moved["version"] == 4
    with pytest.raises(StoreError):
        await store.upsert_imported_event("oparl", "https://council.example/m/1", {"state": "ended"}, "oparl")

    other, changed = await store.upsert_imported_event("oparl", "https://council.example/m/2", fields, "oparl")
    assert changed and other["id"] != created["id"]
    await store.delete_event(other["id"], 1, "host")
    kept, changed = await store.upsert_imported_event("oparl", "https://council.example/m/2",
                                                      {**fields, "title": {"en": "Back?"}}, "oparl")
    assert not changed and kept["deleted_at"] is not None and await store.event(other["id"]) is None
    assert actions(await store.audit()) == ["event.delete", "event.import", "event.import", "event.start",
                                            "event.update", "event.import"]
    # the same meeting imported by several processes at once is one event
    results = await asyncio.gather(*[store.upsert_imported_event("oparl", "m3", fields, "oparl") for _ in range(6)])
    assert len({row["id"] for row, _ in results}) == 1 and sum(changed for _, changed in results) == 1


async def test_slides_are_added_in_order_read_and_deleted_and_a_shown_slide_is_unshown(store):  # noqa: F811
    event = await store.create_event(EVENT, "host")
    first = await store.add_slide(event["id"], SLIDE, "host")
    second = await store.add_slide(event["id"], {**SLIDE, "alt": {"en": "Map", "nl": "Kaart"}}, "carla")
    assert (first["position"], second["position"]) == (0, 1) and second["alt"] == {"en": "Map", "nl": "Kaart"}
    assert first["event_id"] == event["id"] and first["blob"] == SLIDE["blob"] and first["width"] == 1920
    assert [s["id"] for s in await store.slides(event["id"])] == [first["id"], second["id"]]
    assert await store.slide(second["id"]) == second and await store.slide(999) is None
    shown = await store.set_event_live(event["id"], {"slide_id": second["id"]}, "carla", "event.slide")
    assert await store.delete_slide(second["id"], "host")
    assert not await store.delete_slide(second["id"], "host")
    after = await store.event(event["id"])
    assert after["slide_id"] is None and after["version"] == shown["version"] + 1
    assert [s["id"] for s in await store.slides(event["id"])] == [first["id"]]
    with pytest.raises(LookupError):
        await store.add_slide(999, SLIDE, "host")
    assert actions(await store.audit(limit=4)) == ["event.slide.delete", "event.slide", "event.slide.add",
                                                   "event.slide.add"]


async def test_hands_queue_in_the_order_raised_and_a_second_raise_keeps_the_place(store):  # noqa: F811
    event = await store.create_event(EVENT, "host")
    assert await store.raise_hand(event["id"], "hb", "Ben", None)
    assert await store.raise_hand(event["id"], "ha", "Ann", "Parking")
    assert not await store.raise_hand(event["id"], "hb", "Benjamin", "Trees")  # topic updated, place kept
    queue = await store.hands(event["id"])
    assert [(h["handle"], h["name"], h["topic"]) for h in queue] == [("hb", "Benjamin", "Trees"),
                                                                     ("ha", "Ann", "Parking")]
    assert queue[0]["raised_at"] <= queue[1]["raised_at"]
    assert await store.lower_hand(event["id"], "hb") and not await store.lower_hand(event["id"], "hb")
    assert [h["handle"] for h in await store.hands(event["id"])] == ["ha"]
    assert await store.hands(999) == []
    with pytest.raises(LookupError):
        await store.raise_hand(999, "ha", "Ann", None)
    assert await store.audit() == [e for e in await store.audit() if e["action"] == "event.create"]  # not audited


async def test_two_hands_raised_at_the_same_moment_queue_by_handle(store):  # noqa: F811
    event = await store.create_event(EVENT, "host")
    async def same_moment() -> None:  # the same raised_at, as two processes might write it
        for handle in ("zz", "aa"):
            await store._execute("INSERT INTO event_hands (event_id, handle, name, topic, raised_at) "
                                 "VALUES (?, ?, 'X', NULL, 5.0)", event["id"], handle)

    await store._in_transaction(same_moment)
    assert [h["handle"] for h in await store.hands(event["id"])] == ["aa", "zz"]


async def test_questions_are_reviewed_answered_one_at_a_time_supported_once_and_deleted(store):  # noqa: F811
    event = await store.create_event(EVENT, "host")
    other_event = await store.create_event(EVENT, "host")
    q1 = await store.add_question(event["id"], "ha", "Ann", "Why the bridge?")
    q2 = await store.add_question(event["id"], "hb", "Ben", "When is the vote?")
    q3 = await store.add_question(event["id"], "hc", "Cas", "Spam")
    elsewhere = await store.add_question(other_event["id"], "ha", "Ann", "Elsewhere")
    assert (q1["state"], q1["supports"], q1["handle"], q1["event_id"]) == ("pending", 0, "ha", event["id"])
    assert [q["id"] for q in await store.questions(event["id"], ("pending",))] == [q1["id"], q2["id"], q3["id"]]
    assert await store.question(q1["id"]) == q1 and await store.question(999) is None

    for question in (q1, q2):
        await store.set_question_state(question["id"], "approved", "mo")
    assert (await store.set_question_state(q3["id"], "rejected", "mo"))["state"] == "rejected"
    await store.set_question_state(elsewhere["id"], "answering", "carla")
    assert (await store.set_question_state(q1["id"], "answering", "carla"))["state"] == "answering"
    await store.set_question_state(q2["id"], "answering", "carla")  # q1 becomes answered in the same write
    states = {q["id"]: q["state"] for q in await store.questions(event["id"])}
    assert states == {q1["id"]: "answered", q2["id"]: "answering", q3["id"]: "rejected"}
    assert (await store.question(elsewhere["id"]))["state"] == "answering"  # another event's is left alone
    assert [q["id"] for q in await store.questions(event["id"], ("approved", "answering", "answered"))] == \
        [q1["id"], q2["id"]]
    with pytest.raises(ValueError):
        await store.set_question_state(q1["id"], "closed", "carla")
    assert await store.set_question_state(999, "approved", "mo") is None

    assert await store.support_question(q2["id"], "t1") == (True, 1)
    assert await store.support_question(q2["id"], "t1") == (False, 1)
    outcomes = await asyncio.gather(*[store.support_question(q2["id"], f"t{i % 5}") for i in range(20)])
    assert sum(added for added, _ in outcomes) == 4 and (await store.question(q2["id"]))["supports"] == 5
    assert await store.support_question(999, "t1") is None

    deleted = await store.delete_question(q3["id"], "mo")
    assert deleted is not None and deleted["deleted_at"] is not None
    assert await store.delete_question(q3["id"], "mo") is None
    assert await store.question(q3["id"]) is None and await store.support_question(q3["id"], "t1") is None
    assert q3["id"] not in [q["id"] for q in await store.questions(event["id"])]
    entries = await store.audit(limit=7)
    assert actions(entries) == ["event.question.delete", "event.question.answering", "event.question.answering",
                                "event.question.answering", "event.question.rejected", "event.question.approved",
                                "event.question.approved"]
    assert entries[0]["before"]["deleted_at"] is None and entries[0]["target"] == f"event:{event['id']}"


async def test_captions_are_appended_with_growing_ids_and_read_newest_last(store):  # noqa: F811
    event = await store.create_event(EVENT, "host")
    other = await store.create_event(EVENT, "host")
    lines = [await store.add_caption(event["id"], f"line {i}", 1000.0 + i, "cap") for i in range(5)]
    await store.add_caption(other["id"], "elsewhere", 1.0, "cap")
    assert [c["id"] for c in lines] == sorted(c["id"] for c in lines)
    assert lines[0] == {"id": lines[0]["id"], "event_id": event["id"], "at": 1000.0, "text": "line 0",
                        "author": "cap"}
    assert [c["text"] for c in await store.captions(event["id"])] == [f"line {i}" for i in range(5)]
    assert [c["text"] for c in await store.captions(event["id"], after_id=lines[2]["id"])] == ["line 3", "line 4"]
    assert [c["text"] for c in await store.captions(event["id"], limit=2)] == ["line 3", "line 4"]
    assert [c["text"] for c in await store.captions(event["id"], after_id=lines[0]["id"], limit=10)] == \
        ["line 1", "line 2", "line 3", "line 4"]
    with pytest.raises(LookupError):
        await store.add_caption(999, "x", 1.0, "cap")
    assert actions(await store.audit(limit=1)) == ["event.caption"]


async def test_chat_is_read_newest_last_without_deleted_lines(store):  # noqa: F811
    event = await store.create_event(EVENT, "host")
    lines = [await store.add_chat(event["id"], "ha", "Ann", f"hello {i}", 2000.0 + i) for i in range(6)]
    assert lines[0]["handle"] == "ha" and lines[0]["at"] == 2000.0 and lines[0]["deleted_at"] is None
    deleted = await store.delete_chat(lines[5]["id"], "mo")
    assert deleted is not None and deleted["deleted_at"] is not None and deleted["text"] == "hello 5"
    assert await store.delete_chat(lines[5]["id"], "mo") is None and await store.delete_chat(999, "mo") is None
    assert [c["text"] for c in await store.chat(event["id"], limit=3)] == ["hello 2", "hello 3", "hello 4"]
    assert [c["text"] for c in await store.chat(event["id"])] == [f"hello {i}" for i in range(5)]
    entry = (await store.audit(limit=1))[0]
    assert entry["action"] == "event.chat.delete" and entry["actor"] == "mo"


async def test_bans_and_mutes_hold_per_event_and_handle_and_are_audited(store):  # noqa: F811
    event = await store.create_event(EVENT, "host")
    other = await store.create_event(EVENT, "host")
    await store.restrict(event["id"], "ha", "ban", "mo")
    await store.restrict(event["id"], "ha", "ban", "mo")  # again: still one ban
    await store.restrict(event["id"], "hb", "mute", "mo")
    assert await store.restrictions(event["id"]) == {"ban": {"ha"}, "mute": {"hb"}}
    assert await store.restrictions(other["id"]) == {"ban": set(), "mute": set()}
    assert await store.is_restricted(event["id"], "ha", "ban")
    assert not await store.is_restricted(event["id"], "ha", "mute")
    assert not await store.is_restricted(other["id"], "ha", "ban")
    with pytest.raises(ValueError):
        await store.restrict(event["id"], "ha", "exile", "mo")
    assert await store.lift(event["id"], "ha", "ban", "mo") and not await store.lift(event["id"], "ha", "ban", "mo")
    assert not await store.is_restricted(event["id"], "ha", "ban")
    assert (await store.counts())["event_bans"] == 1
    assert actions(await store.audit(limit=4)) == ["event.unban", "event.mute", "event.ban", "event.ban"]


async def test_purging_an_archived_meetings_attendees_keeps_only_its_questions_without_handles(store):  # noqa: F811
    event = await store.create_event(EVENT, "host")
    other = await store.create_event(EVENT, "host")
    for meeting in (event, other):
        question = await store.add_question(meeting["id"], "ha", "Ann", "Why the bridge?")
        await store.set_question_state(question["id"], "approved", "mo")
        await store.support_question(question["id"], "t1")
        await store.support_question(question["id"], "t2")
        await store.add_chat(meeting["id"], "ha", "Ann", "hello", 2000.0)
        await store.raise_hand(meeting["id"], "hb", "Ben", None)
        await store.restrict(meeting["id"], "hc", "ban", "mo")
        await store.restrict(meeting["id"], "hc", "mute", "mo")
    deleted = await store.add_question(event["id"], "hd", "Dee", "Spam")
    await store.delete_question(deleted["id"], "mo")
    await store.add_chat(event["id"], "hd", "Dee", "more spam", 2001.0)
    await store.set_event_live(event["id"], {"state": "archived"}, "carla", "event.archive")

    purged = await store.purge_event_attendees(event["id"], "carla")
    assert purged == {"chat": 2, "hands": 1, "restrictions": 2, "supports": 2, "questions": 2}
    assert await store.chat(event["id"]) == [] and await store.hands(event["id"]) == []
    assert await store.restrictions(event["id"]) == {"ban": set(), "mute": set()}
    kept = await store.questions(event["id"])  # the record: name, text, state, count; no handle
    assert [(q["handle"], q["name"], q["text"], q["state"], q["supports"]) for q in kept] == \
        [("", "Ann", "Why the bridge?", "approved", 2)]
    assert (await store.question(kept[0]["id"]))["handle"] == ""
    rows = await store.export_rows("event_chat") + await store.export_rows("event_questions")
    assert not [r for r in rows if r["event_id"] == event["id"] and r["handle"]]  # deleted lines too
    assert not [r for r in await store.export_rows("event_question_supports") if r["question_id"] == kept[0]["id"]]
    # Another meeting keeps all of it.
    assert [c["text"] for c in await store.chat(other["id"])] == ["hello"]
    assert [h["handle"] for h in await store.hands(other["id"])] == ["hb"]
    assert await store.restrictions(other["id"]) == {"ban": {"hc"}, "mute": {"hc"}}
    assert [q["handle"] for q in await store.questions(other["id"])] == ["ha"]
    assert await store.support_question((await store.questions(other["id"]))[0]["id"], "t1") == (False, 2)

    entry = (await store.audit(limit=1))[0]
    assert (entry["action"], entry["actor"], entry["target"]) == ("event.purge", "carla", f"event:{event['id']}")
    assert entry["after"] == purged
    assert await store.purge_event_attendees(event["id"], "carla") == dict.fromkeys(purged, 0)  # idempotent
    with pytest.raises(LookupError):
        await store.purge_event_attendees(999, "carla")


async def test_an_audit_only_entry_names_what_a_staff_action_changed_no_row_for(store):  # noqa: F811
    event = await store.create_event(EVENT, "host")
    await store.audit_event(event["id"], "event.remove", "mo", {"handle": "ha"})
    entry = (await store.audit(limit=1))[0]
    assert (entry["action"], entry["actor"], entry["target"]) == ("event.remove", "mo", f"event:{event['id']}")
    assert entry["before"] is None and entry["after"] == {"handle": "ha"}
    with pytest.raises(ValueError):
        await store.audit_event(event["id"], "staff.role", "mo", {})
    with pytest.raises(LookupError):
        await store.audit_event(999, "event.remove", "mo", {"handle": "ha"})
    assert len(await store.audit()) == 2  # the creation and the removal: nothing from the refusals


async def test_admins_give_staff_the_host_role_audited(store):  # noqa: F811
    staff = await store.add_staff("hana", "hash", "editor")
    await store.create_session("token-h", staff.id, "csrf", 2**40)
    assert await store.set_staff_role("hana", "host", "ada")
    assert (await store.get_staff("hana")).role == "host"
    assert (await store.session("token-h"))[0].role == "host"  # at once, in the running session
    assert not await store.set_staff_role("nobody", "host", "ada")
    with pytest.raises(ValueError):
        await store.set_staff_role("hana", "owner", "ada")
    assert (await store.add_staff("hugo", "hash", "host")).role == "host"
    entry = (await store.audit(limit=2))[1]
    assert (entry["action"], entry["before"], entry["after"]) == ("staff.role", {"role": "editor"}, {"role": "host"})


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_a_database_from_before_meetings_gains_them_and_the_host_role_keeping_its_rows(
        kind, request, tmp_path, monkeypatch):
    module = sqlite_module if kind == "sqlite" else postgres_module
    url = database_url(request, kind, tmp_path)
    with monkeypatch.context() as old_code:
        old_code.setattr(module, "MIGRATIONS", module.MIGRATIONS[:2])  # the code as it was before issue 10
        old = store_from_url(url)
        await old.open()
        edith = await old.add_staff("edith", "hash", "editor")
        await old.create_session("token-e", edith.id, "csrf-e", 2**40)
        hotspot = await old.create_hotspot("hall", HOTSPOT, "edith")
        with pytest.raises(Exception, match="CHECK|check"):
            await old.add_staff("hugo", "hash", "host")
        await old.close()
    upgraded = store_from_url(url)
    await upgraded.open()
    try:
        assert await upgraded.session("token-e") == (edith, "csrf-e")  # the staff rebuild kept the sessions
        assert await upgraded.hotspot(hotspot["id"]) == hotspot
        assert await upgraded.set_staff_role("edith", "host", "ada")
        assert (await upgraded.add_staff("hugo", "hash", "host")).role == "host"
        event = await upgraded.create_event(EVENT, "edith")
        assert (await upgraded.counts())["events"] == 1 and (await upgraded.event(event["id"])) == event
        assert await upgraded.remove_staff("edith")  # references from sessions still cascade
        assert (await upgraded.counts())["sessions"] == 0
        if isinstance(upgraded, SQLiteStore):
            async with upgraded.conn.execute("PRAGMA foreign_keys") as cursor:
                assert (await cursor.fetchone())[0] == 1
            with pytest.raises(Exception, match="FOREIGN KEY"):
                await upgraded.create_session("token-x", 999, "csrf", 2**40)
        assert actions(await upgraded.audit(limit=1)) == ["staff.remove"]
    finally:
        await upgraded.close()


async def populate(target: Any) -> None:
    """A meeting as it leaves its rows: slides, hands, questions with supports, captions, chat, bans."""
    event = await target.create_event(EVENT, "host")
    await target.add_slide(event["id"], SLIDE, "host")
    await target.set_event_live(event["id"], {"state": "live", "current_item": 1}, "carla", "event.start")
    await target.raise_hand(event["id"], "ha", "Ann", "Parking")
    question = await target.add_question(event["id"], "hb", "Ben", "When?")
    await target.set_question_state(question["id"], "approved", "mo")
    await target.support_question(question["id"], "t1")
    await target.add_caption(event["id"], "Welcome", 1.5, "cap")
    await target.add_chat(event["id"], "hc", "Cas", "Hi", 2.5)
    await target.restrict(event["id"], "hd", "ban", "mo")
    await target.upsert_imported_event("oparl", "m1", {"scene": "hall", "title": {"en": "Imported"},
                                                      "starts_at": 1.0}, "oparl")


EVENT_TABLES = ("events", "event_slides", "event_hands", "event_questions", "event_question_supports",
                "event_captions", "event_chat", "event_bans")


async def test_store_copy_moves_every_event_row_to_postgresql_and_back(tmp_path: Path, postgres_url):  # noqa: F811
    original, middle = SQLiteStore(tmp_path / "civic.sqlite3"), store_from_url(postgres_url)
    back = SQLiteStore(tmp_path / "back" / "civic.sqlite3")
    for opened in (original, middle, back):
        await opened.open()
    try:
        await populate(original)
        counts = await copy_store(original, middle)
        assert all(counts[table] >= 1 for table in EVENT_TABLES) and counts["events"] == 2
        await copy_store(original, middle)  # repeatable
        assert await copy_store(middle, back) == counts
        for table in EVENT_TABLES:
            assert await back.export_rows(table) == await original.export_rows(table)
        assert await middle.events() == await original.events()
        assert [e["state"] for e in await middle.events()] == ["scheduled", "live"]  # the import starts earlier
        added = await middle.create_event(EVENT, "host")  # new ids continue after the copied ones
        assert added["id"] == 3
        assert (await middle.add_caption(added["id"], "next", 3.0, "cap"))["id"] == 2
    finally:
        for opened in (original, middle, back):
            await opened.close()


async def test_two_processes_on_postgresql_leave_one_question_answering_and_one_queue(postgres_url):  # noqa: F811
    first, second = store_from_url(postgres_url, 5), store_from_url(postgres_url, 5)
    await first.open()
    await second.open()  # two pools: only PostgreSQL's locks keep the rules
    try:
        event = await first.create_event(EVENT, "host")
        asked = [await first.add_question(event["id"], f"h{i}", "N", f"Q{i}") for i in range(10)]
        await asyncio.gather(*[(first if i % 2 else second).set_question_state(q["id"], "answering", "carla")
                               for i, q in enumerate(asked)])
        states = [q["state"] for q in await second.questions(event["id"])]
        assert states.count("answering") == 1 and states.count("answered") == 9
        raised = await asyncio.gather(*[(first if i % 2 else second).raise_hand(event["id"], f"h{i % 4}", "N", None)
                                        for i in range(12)])
        assert sum(raised) == 4 and len(await first.hands(event["id"])) == 4
    finally:
        await first.close()
        await second.close()
