"""Public meetings in the store (issue #10; contract in docs/events.md): events, their slides, the hand queue,
written questions and their supports, captions, chat, bans and mutes, and staff roles.

Written once for both stores: `EventTables` is a mixin whose SQL uses `?` placeholders and portable syntax
(`INSERT … ON CONFLICT`, `RETURNING`, SQLite ≥ 3.35 and PostgreSQL alike); each store supplies the few primitives
it declares (`_q` turns the SQL into its dialect, `_in_transaction` runs a write as one transaction, with
PostgreSQL's retries, `_audit_entry` appends to the audit log inside it; `_one`/`_all` read, inside a transaction
from its connection). So both implementations keep the same rules by construction:
- Every staff write (`actor`) and its audit entry commit in one transaction; resident writes (hands, questions,
  supports, chat) are not audited (residents are anonymous; moderation of them is).
- An event changes only at its current version (`Conflict` with the current row otherwise) for edits and deletion;
  live changes (`set_event_live`) and imports serialise on the event's row (`FOR UPDATE` in PostgreSQL, the one
  writer in SQLite) and bump the version, so a later edit against an older version conflicts.
- A deleted event (`deleted_at` set) is gone for `event()` and `events()`; its rows stay (history, transcript).
- An import never writes the live fields or the duties of an existing event, nor revives a deleted one.
- At most one question of an event is `answering`: marking one turns the others to `answered` in the same
  transaction, under the event's row lock (so two processes marking two questions at once still leave one).
- A support counts once per (question, token_hash), its count updated under the question's lock.
- Caption ids only grow (append-only); chat and captions are read newest-`limit`, oldest first.
- Archiving a meeting is followed by `purge_event_attendees`: chat, hands, bans, mutes and question supports go,
  questions lose their handle (docs/events.md, "What is kept about residents").
A caller passing an event id that does not exist to a method adding a row under it gets `LookupError`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from .base import STAFF_ROLES, Conflict, StoredRow, StoreError

T = TypeVar("T")

EVENT_STATES = ("scheduled", "open", "live", "ended", "archived")
QUESTION_STATES = ("pending", "approved", "rejected", "answering", "answered")
RESTRICTIONS = ("ban", "mute")
DUTIES = ("chair", "moderator", "captioner")

EVENT_JSON = ("title", "description", "agenda", "staff", "floor")
NULLABLE_JSON = frozenset({"floor"})
# What hosts edit (update_event); imports write the same minus the duties; live fields only through set_event_live.
EDITABLE = frozenset({"scene", "zone", "title", "description", "starts_at", "ends_at", "timezone", "capacity",
                      "agenda", "staff"})
IMPORTED = EDITABLE - {"staff"}
LIVE = frozenset({"state", "current_item", "slide_id", "floor", "slow_mode"})
EVENT_DEFAULTS: dict[str, Any] = {"zone": None, "description": {}, "ends_at": None, "timezone": "UTC",
                                  "capacity": 0, "agenda": [], "staff": {duty: [] for duty in DUTIES}}
SLIDE_FIELDS = ("blob", "media_type", "width", "height", "alt")


def encode_event(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Event columns as stored: JSON columns as text (a missing floor as NULL), the others as they are."""
    out = {}
    for name, value in fields.items():
        if name in EVENT_JSON and not (name in NULLABLE_JSON and value is None):
            value = json.dumps(value)
        out[name] = value
    return out


def decode_event(row: StoredRow) -> dict[str, Any]:
    """A stored event as callers see it: its JSON columns parsed (a NULL floor as None)."""
    out = dict(row)
    for name in EVENT_JSON:
        out[name] = json.loads(out[name]) if out[name] is not None else None
    return out


def decode_slide(row: StoredRow) -> dict[str, Any]:
    out = dict(row)
    out["alt"] = json.loads(out["alt"])
    return out


def _only(fields: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    unexpected = set(fields) - set(allowed)
    if unexpected:
        raise StoreError(f"unexpected fields for {what}: {sorted(unexpected)}")


class EventTables:
    """The event methods of the store contract (see the module's invariants). Mixed into `SQLiteStore` and
    `PostgresStore`, which implement the primitives below."""

    _LOCK = ""  # appended to a SELECT that locks the rows it reads (PostgreSQL: " FOR UPDATE")

    # --- primitives each store implements ----------------------------------------------------------------------
    def _q(self, sql: str) -> str:
        """`sql` (with `?` placeholders) in this database's dialect."""
        raise NotImplementedError

    async def _one(self, sql: str, *args: Any) -> Any:
        raise NotImplementedError

    async def _all(self, sql: str, *args: Any) -> list[Any]:
        raise NotImplementedError

    async def _execute(self, sql: str, *args: Any) -> int:
        """Run a write (`?` placeholders) inside the current transaction; the number of rows it changed."""
        raise NotImplementedError

    async def _in_transaction(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` as one write transaction (joining the current one if any) and return its result."""
        raise NotImplementedError

    async def _audit_entry(self, actor: str, action: str, target: str, before: Any, after: Any) -> None:
        """Append to the audit log inside the current transaction."""
        raise NotImplementedError

    # --- helpers --------------------------------------------------------------------------------------------------
    async def _row(self, sql: str, *args: Any) -> Any:
        return await self._one(self._q(sql), *args)

    async def _rows(self, sql: str, *args: Any) -> list[Any]:
        return await self._all(self._q(sql), *args)

    async def _locked_event(self, event_id: int) -> dict[str, Any] | None:
        row = await self._row(f"SELECT * FROM events WHERE id = ? AND deleted_at IS NULL{self._LOCK}", event_id)
        return decode_event(row) if row is not None else None

    async def _require_event(self, event_id: int) -> None:
        if await self._row("SELECT 1 AS found FROM events WHERE id = ?", event_id) is None:
            raise LookupError(f"there is no event {event_id}")

    async def _write_event(self, event_id: int, columns: Mapping[str, Any]) -> dict[str, Any]:
        """Write `columns` to the event (already locked), bump its version; the row after."""
        stored = encode_event(columns)
        assignments = "".join(f"{name} = ?, " for name in stored)
        row = await self._row(f"UPDATE events SET {assignments}version = version + 1, updated_at = ? WHERE id = ? "
                              "RETURNING *", *stored.values(), time.time(), event_id)
        return decode_event(row)

    # --- events ---------------------------------------------------------------------------------------------------
    async def events(self, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every event ordered by start (then id); deleted ones only when asked."""
        where = "" if include_deleted else " WHERE deleted_at IS NULL"
        return [decode_event(r) for r in await self._rows(f"SELECT * FROM events{where} ORDER BY starts_at, id")]

    async def event(self, event_id: int) -> dict[str, Any] | None:
        row = await self._row("SELECT * FROM events WHERE id = ? AND deleted_at IS NULL", event_id)
        return decode_event(row) if row is not None else None

    async def create_event(self, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        """A new scheduled event: `scene`, `title` and `starts_at` are needed, the other editable fields default
        (no zone, no end, UTC, capacity 0 = the scene's own limit, no agenda, no duties)."""
        _only(fields, EDITABLE, "an event")
        return await self._insert_event({**EVENT_DEFAULTS, **fields}, actor, "event.create")

    async def _insert_event(self, fields: dict[str, Any], actor: str, action: str) -> dict[str, Any]:
        now = time.time()
        stored = encode_event({**fields, "created_at": now, "updated_at": now})

        async def work() -> dict[str, Any]:
            row = await self._row(f"INSERT INTO events ({', '.join(stored)}) VALUES "
                                  f"({', '.join('?' * len(stored))}) RETURNING *", *stored.values())
            created = decode_event(row)
            await self._audit_entry(actor, action, f"event:{created['id']}", None, created)
            return created

        return await self._in_transaction(work)

    async def update_event(self, event_id: int, version: int, fields: dict[str, Any],
                           actor: str) -> dict[str, Any] | None:
        """Apply editable fields if `version` is current; None if missing or deleted; `Conflict` if stale."""
        _only(fields, EDITABLE, "an event edit")
        return await self._versioned(event_id, version, dict(fields), actor, "event.update")

    async def delete_event(self, event_id: int, version: int, actor: str) -> dict[str, Any] | None:
        """Hide the event (its rows are kept) if `version` is current; the deleted row, None if missing."""
        return await self._versioned(event_id, version, {"deleted_at": time.time()}, actor, "event.delete")

    async def _versioned(self, event_id: int, version: int | None, columns: dict[str, Any], actor: str,
                         action: str) -> dict[str, Any] | None:
        async def work() -> dict[str, Any] | None:
            before = await self._locked_event(event_id)
            if before is None:
                return None
            if version is not None and before["version"] != version:
                raise Conflict(before)
            after = await self._write_event(event_id, columns)
            await self._audit_entry(actor, action, f"event:{event_id}", before, after)
            return after

        return await self._in_transaction(work)

    async def set_event_live(self, event_id: int, fields: dict[str, Any], actor: str,
                             action: str) -> dict[str, Any] | None:
        """Change live fields (state, current_item, slide_id, floor, slow_mode) of a not deleted event, audited as
        `action`; going live first sets `started_at`, ending first sets `ended_at`. None if missing."""
        _only(fields, LIVE, "a live change")
        if "state" in fields and fields["state"] not in EVENT_STATES:
            raise ValueError(f"unknown event state {fields['state']!r}")

        async def work() -> dict[str, Any] | None:
            before = await self._locked_event(event_id)
            if before is None:
                return None
            columns = dict(fields)
            now = time.time()
            if fields.get("state") == "live" and before["started_at"] is None:
                columns["started_at"] = now
            if fields.get("state") in ("ended", "archived") and before["ended_at"] is None:
                columns["ended_at"] = now
            after = await self._write_event(event_id, columns)
            await self._audit_entry(actor, action, f"event:{event_id}", before, after)
            return after

        return await self._in_transaction(work)

    async def upsert_imported_event(self, source: str, external_id: str, fields: dict[str, Any],
                                    actor: str) -> tuple[dict[str, Any], bool]:
        """Create the event known as (source, external_id), or bring its imported fields up to date: (row,
        changed). Live fields and duties of an existing event are never written; a deleted one stays deleted."""
        _only(fields, IMPORTED, "an imported event")

        async def work() -> tuple[dict[str, Any], bool]:
            lookup = f"SELECT * FROM events WHERE source = ? AND external_id = ?{self._LOCK}"
            existing = await self._row(lookup, source, external_id)
            if existing is None:
                now = time.time()
                stored = encode_event({**EVENT_DEFAULTS, **fields, "source": source, "external_id": external_id,
                                       "created_at": now, "updated_at": now})
                row = await self._row(
                    f"INSERT INTO events ({', '.join(stored)}) VALUES ({', '.join('?' * len(stored))}) "
                    "ON CONFLICT (source, external_id) DO NOTHING RETURNING *", *stored.values())
                if row is not None:
                    created = decode_event(row)
                    await self._audit_entry(actor, "event.import", f"event:{created['id']}", None, created)
                    return created, True
                existing = await self._row(lookup, source, external_id)  # imported meanwhile by another process
            before = decode_event(existing)
            changes = {name: value for name, value in fields.items() if before[name] != value}
            if not changes or before["deleted_at"] is not None:
                return before, False
            after = await self._write_event(before["id"], changes)
            await self._audit_entry(actor, "event.import", f"event:{before['id']}", before, after)
            return after, True

        return await self._in_transaction(work)

    # --- slides ---------------------------------------------------------------------------------------------------
    async def add_slide(self, event_id: int, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        """A slide after the event's last one (or at `position`): blob, media_type, width, height, alt."""
        _only(fields, (*SLIDE_FIELDS, "position"), "a slide")

        async def work() -> dict[str, Any]:
            await self._require_event(event_id)
            position = fields.get("position")
            if position is None:
                last = await self._row("SELECT max(position) AS highest FROM event_slides WHERE event_id = ?",
                                       event_id)
                position = (last["highest"] if last["highest"] is not None else -1) + 1
            row = await self._row(
                "INSERT INTO event_slides (event_id, position, blob, media_type, width, height, alt, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *", event_id, position, fields["blob"],
                fields["media_type"], fields["width"], fields["height"], json.dumps(fields["alt"]), time.time())
            slide = decode_slide(row)
            await self._audit_entry(actor, "event.slide.add", f"event:{event_id}", None, slide)
            return slide

        return await self._in_transaction(work)

    async def slides(self, event_id: int) -> list[dict[str, Any]]:
        rows = await self._rows("SELECT * FROM event_slides WHERE event_id = ? ORDER BY position, id", event_id)
        return [decode_slide(r) for r in rows]

    async def slide(self, slide_id: int) -> dict[str, Any] | None:
        row = await self._row("SELECT * FROM event_slides WHERE id = ?", slide_id)
        return decode_slide(row) if row is not None else None

    async def delete_slide(self, slide_id: int, actor: str) -> bool:
        """Remove a slide (its blob stays in the blob store); an event showing it shows none (version bumped)."""
        async def work() -> bool:
            row = await self._row("DELETE FROM event_slides WHERE id = ? RETURNING *", slide_id)
            if row is None:
                return False
            await self._execute("UPDATE events SET slide_id = NULL, version = version + 1, updated_at = ? "
                                "WHERE slide_id = ?", time.time(), slide_id)
            await self._audit_entry(actor, "event.slide.delete", f"event:{row['event_id']}", decode_slide(row), None)
            return True

        return await self._in_transaction(work)

    # --- raised hands (residents: not audited) --------------------------------------------------------------------
    async def raise_hand(self, event_id: int, handle: str, name: str, topic: str | None) -> bool:
        """Join the queue (True), or update name and topic keeping the place if already in it (False)."""
        async def work() -> bool:
            await self._require_event(event_id)
            added = await self._execute(
                "INSERT INTO event_hands (event_id, handle, name, topic, raised_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (event_id, handle) DO NOTHING", event_id, handle, name, topic, time.time())
            if not added:
                await self._execute("UPDATE event_hands SET name = ?, topic = ? WHERE event_id = ? AND handle = ?",
                                    name, topic, event_id, handle)
            return bool(added)

        return await self._in_transaction(work)

    async def lower_hand(self, event_id: int, handle: str) -> bool:
        async def work() -> bool:
            return bool(await self._execute("DELETE FROM event_hands WHERE event_id = ? AND handle = ?",
                                            event_id, handle))

        return await self._in_transaction(work)

    async def hands(self, event_id: int) -> list[dict[str, Any]]:
        """The queue: first raised first (ties by handle, so every process sees one order)."""
        rows = await self._rows("SELECT * FROM event_hands WHERE event_id = ? ORDER BY raised_at, handle", event_id)
        return [dict(r) for r in rows]

    # --- written questions ----------------------------------------------------------------------------------------
    async def add_question(self, event_id: int, handle: str, name: str, text: str) -> dict[str, Any]:
        """A pending question."""
        async def work() -> dict[str, Any]:
            await self._require_event(event_id)
            row = await self._row("INSERT INTO event_questions (event_id, handle, name, text, created_at) "
                                  "VALUES (?, ?, ?, ?, ?) RETURNING *", event_id, handle, name, text, time.time())
            return dict(row)

        return await self._in_transaction(work)

    async def questions(self, event_id: int, states: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """The event's questions in these states (all states if none given), not deleted, oldest first."""
        where = f" AND state IN ({', '.join('?' * len(states))})" if states else ""
        rows = await self._rows(f"SELECT * FROM event_questions WHERE event_id = ? AND deleted_at IS NULL{where} "
                                "ORDER BY id", event_id, *states)
        return [dict(r) for r in rows]

    async def question(self, question_id: int) -> dict[str, Any] | None:
        row = await self._row("SELECT * FROM event_questions WHERE id = ? AND deleted_at IS NULL", question_id)
        return dict(row) if row is not None else None

    async def set_question_state(self, question_id: int, state: str, actor: str) -> dict[str, Any] | None:
        """Review or mark a question; `answering` turns the event's other answering question `answered`."""
        if state not in QUESTION_STATES:
            raise ValueError(f"unknown question state {state!r}")

        async def work() -> dict[str, Any] | None:
            found = await self._row("SELECT event_id FROM event_questions WHERE id = ?", question_id)
            if found is None:
                return None
            # The event's row first: two questions marked answering at once (PostgreSQL, READ COMMITTED) would
            # each miss the other's uncommitted state under their own question's lock alone.
            await self._row(f"SELECT id FROM events WHERE id = ?{self._LOCK}", found["event_id"])
            locked = await self._row(
                f"SELECT * FROM event_questions WHERE id = ? AND deleted_at IS NULL{self._LOCK}", question_id)
            if locked is None:
                return None
            if state == "answering":
                await self._execute("UPDATE event_questions SET state = 'answered' WHERE event_id = ? AND "
                                    "state = 'answering' AND id <> ?", locked["event_id"], question_id)
            row = await self._row("UPDATE event_questions SET state = ? WHERE id = ? RETURNING *", state, question_id)
            after = dict(row)
            await self._audit_entry(actor, f"event.question.{state}", f"event:{after['event_id']}", dict(locked),
                                    after)
            return after

        return await self._in_transaction(work)

    async def delete_question(self, question_id: int, actor: str) -> dict[str, Any] | None:
        """Gone for everyone (kept, marked deleted); the row, None if missing or deleted already."""
        async def work() -> dict[str, Any] | None:
            row = await self._row("UPDATE event_questions SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL "
                                  "RETURNING *", time.time(), question_id)
            if row is None:
                return None
            deleted = dict(row)
            await self._audit_entry(actor, "event.question.delete", f"event:{deleted['event_id']}",
                                    {**deleted, "deleted_at": None}, deleted)
            return deleted

        return await self._in_transaction(work)

    async def support_question(self, question_id: int, token_hash: str) -> tuple[bool, int] | None:
        """Count one support per anonymous token: (newly counted?, total); None for an unknown question."""
        async def work() -> tuple[bool, int] | None:
            if await self._row(f"SELECT id FROM event_questions WHERE id = ? AND deleted_at IS NULL{self._LOCK}",
                               question_id) is None:
                return None
            added = await self._execute("INSERT INTO event_question_supports (question_id, token_hash) "
                                        "VALUES (?, ?) ON CONFLICT DO NOTHING", question_id, token_hash)
            if added:
                await self._execute("UPDATE event_questions SET supports = supports + 1 WHERE id = ?", question_id)
            row = await self._row("SELECT supports FROM event_questions WHERE id = ?", question_id)
            return bool(added), int(row["supports"])

        return await self._in_transaction(work)

    # --- captions (staff, append-only) and chat -------------------------------------------------------------------
    async def add_caption(self, event_id: int, text: str, at: float, author: str) -> dict[str, Any]:
        async def work() -> dict[str, Any]:
            await self._require_event(event_id)
            row = await self._row("INSERT INTO event_captions (event_id, at, text, author) VALUES (?, ?, ?, ?) "
                                  "RETURNING *", event_id, at, text, author)
            caption = dict(row)
            await self._audit_entry(author, "event.caption", f"event:{event_id}", None, caption)
            return caption

        return await self._in_transaction(work)

    async def captions(self, event_id: int, after_id: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """The event's captions after `after_id`, oldest first; with `limit`, only the newest `limit` of them."""
        if limit is None:
            rows = await self._rows("SELECT * FROM event_captions WHERE event_id = ? AND id > ? ORDER BY id",
                                    event_id, after_id)
        else:
            rows = await self._rows("SELECT * FROM (SELECT * FROM event_captions WHERE event_id = ? AND id > ? "
                                    "ORDER BY id DESC LIMIT ?) AS recent ORDER BY id", event_id, after_id, limit)
        return [dict(r) for r in rows]

    async def add_chat(self, event_id: int, handle: str, name: str, text: str, at: float) -> dict[str, Any]:
        async def work() -> dict[str, Any]:
            await self._require_event(event_id)
            row = await self._row("INSERT INTO event_chat (event_id, handle, name, text, at) VALUES (?, ?, ?, ?, ?) "
                                  "RETURNING *", event_id, handle, name, text, at)
            return dict(row)

        return await self._in_transaction(work)

    async def chat(self, event_id: int, limit: int = 50) -> list[dict[str, Any]]:
        """The newest `limit` chat lines not deleted, oldest first."""
        rows = await self._rows("SELECT * FROM (SELECT * FROM event_chat WHERE event_id = ? AND deleted_at IS NULL "
                                "ORDER BY id DESC LIMIT ?) AS recent ORDER BY id", event_id, limit)
        return [dict(r) for r in rows]

    async def delete_chat(self, chat_id: int, actor: str) -> dict[str, Any] | None:
        """Gone for everyone (kept, marked deleted); the row, None if missing or deleted already."""
        async def work() -> dict[str, Any] | None:
            row = await self._row("UPDATE event_chat SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL "
                                  "RETURNING *", time.time(), chat_id)
            if row is None:
                return None
            deleted = dict(row)
            await self._audit_entry(actor, "event.chat.delete", f"event:{deleted['event_id']}",
                                    {**deleted, "deleted_at": None}, deleted)
            return deleted

        return await self._in_transaction(work)

    # --- bans and mutes -------------------------------------------------------------------------------------------
    async def restrict(self, event_id: int, handle: str, kind: str, actor: str) -> None:
        """Ban or mute a handle in an event (again: kept as it was, audited again)."""
        if kind not in RESTRICTIONS:
            raise ValueError(f"unknown restriction {kind!r}")

        async def work() -> None:
            await self._require_event(event_id)
            await self._execute("INSERT INTO event_bans (event_id, handle, kind, at, actor) VALUES (?, ?, ?, ?, ?) "
                                "ON CONFLICT DO NOTHING", event_id, handle, kind, time.time(), actor)
            await self._audit_entry(actor, f"event.{kind}", f"event:{event_id}", None,
                                    {"handle": handle, "kind": kind})

        await self._in_transaction(work)

    async def lift(self, event_id: int, handle: str, kind: str, actor: str) -> bool:
        """Lift a ban or mute; False (and nothing audited) if there was none."""
        async def work() -> bool:
            removed = await self._execute("DELETE FROM event_bans WHERE event_id = ? AND handle = ? AND kind = ?",
                                          event_id, handle, kind)
            if removed:
                await self._audit_entry(actor, f"event.un{kind}", f"event:{event_id}",
                                        {"handle": handle, "kind": kind}, None)
            return bool(removed)

        return await self._in_transaction(work)

    async def restrictions(self, event_id: int) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {kind: set() for kind in RESTRICTIONS}
        for row in await self._rows("SELECT handle, kind FROM event_bans WHERE event_id = ?", event_id):
            out[row["kind"]].add(row["handle"])
        return out

    async def is_restricted(self, event_id: int, handle: str, kind: str) -> bool:
        return await self._row("SELECT 1 AS found FROM event_bans WHERE event_id = ? AND handle = ? AND kind = ?",
                               event_id, handle, kind) is not None

    # --- retention and audit-only entries ----------------------------------------------------------------------------
    async def purge_event_attendees(self, event_id: int, actor: str) -> dict[str, int]:
        """Forget what an archived meeting no longer needs about its attendees (docs/events.md, privacy): its chat
        lines, raised hands, bans and mutes, and the supports of its questions are deleted; its questions stay as
        the record (name, text, state, support count) without their handle. Audited as `event.purge` with how
        many rows went, in the same transaction; running it again deletes nothing more."""
        async def work() -> dict[str, int]:
            await self._require_event(event_id)
            purged = {
                "chat": await self._execute("DELETE FROM event_chat WHERE event_id = ?", event_id),
                "hands": await self._execute("DELETE FROM event_hands WHERE event_id = ?", event_id),
                "restrictions": await self._execute("DELETE FROM event_bans WHERE event_id = ?", event_id),
                "supports": await self._execute(
                    "DELETE FROM event_question_supports WHERE question_id IN "
                    "(SELECT id FROM event_questions WHERE event_id = ?)", event_id),
                "questions": await self._execute(  # the handle column is NOT NULL: '' is "nobody now"
                    "UPDATE event_questions SET handle = '' WHERE event_id = ? AND handle <> ''", event_id),
            }
            await self._audit_entry(actor, "event.purge", f"event:{event_id}", None, purged)
            return purged

        return await self._in_transaction(work)

    async def audit_event(self, event_id: int, action: str, actor: str, detail: dict[str, Any]) -> None:
        """An audit entry for a staff action on an event that changes no row (e.g. `event.remove` of a handle):
        target `event:<id>`, `detail` as its `after`."""
        if not action.startswith("event."):
            raise ValueError(f"not an event action: {action!r}")

        async def work() -> None:
            await self._require_event(event_id)
            await self._audit_entry(actor, action, f"event:{event_id}", None, detail)

        await self._in_transaction(work)

    # --- staff roles ------------------------------------------------------------------------------------------------
    async def set_staff_role(self, username: str, role: str, actor: str) -> bool:
        """Give a staff member another role (effective on their next request); False for an unknown username."""
        if role not in STAFF_ROLES:
            raise ValueError(f"unknown role {role!r}")

        async def work() -> bool:
            before = await self._row(f"SELECT role FROM staff WHERE username = ?{self._LOCK}", username)
            if before is None:
                return False
            await self._execute("UPDATE staff SET role = ? WHERE username = ?", role, username)
            await self._audit_entry(actor, "staff.role", f"staff:{username}", {"role": before["role"]},
                                    {"role": role})
            return True

        return await self._in_transaction(work)


__all__ = ["DUTIES", "EVENT_STATES", "QUESTION_STATES", "RESTRICTIONS", "EventTables"]
