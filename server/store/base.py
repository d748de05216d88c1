"""Types every store implementation shares with its callers (see `server/store/__init__.py`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class StoreError(Exception):
    """The store cannot be opened or used as it is (unreadable, empty, newer than the code); a one-line reason."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now (a network store restarting, a network cut); nothing was written
    by the call that raised it. Worth answering 503 and retrying later, unlike other `StoreError`s."""


class AlreadyExists(StoreError):
    """A row with the same unique name exists already (a staff username), perhaps added a moment ago elsewhere."""


class Conflict(Exception):
    """An edit based on a stale version; carries the current row."""

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__("stale version")
        self.current = current


# Staff roles, as the database's CHECK admits them (what each may do: `server.auth.GRANTS`).
STAFF_ROLES = ("editor", "moderator", "host", "admin")


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    role: str
    password_hash: str


class StoredRow(Protocol):
    """A row as a driver returns it (`sqlite3.Row`, `asyncpg.Record`): columns by name."""

    def keys(self) -> Iterable[str]: ...
    def __getitem__(self, name: str, /) -> Any: ...


def staff_from_row(row: StoredRow) -> Staff:
    return Staff(row["id"], row["username"], row["role"], row["password_hash"])


# Columns both stores keep as JSON text (the same text in SQLite and PostgreSQL, so `store copy` compares exactly).
HOTSPOT_JSON = ("position", "normal", "title", "description")
PROPOSAL_JSON = ("title", "summary", "body")


def encode_fields(fields: Mapping[str, Any], json_fields: tuple[str, ...]) -> dict[str, Any]:
    """Column values as stored: the JSON columns among `fields` as their text, the others as they are."""
    return {name: (json.dumps(value) if name in json_fields else value) for name, value in fields.items()}


def decode_row(row: StoredRow, json_fields: tuple[str, ...]) -> dict[str, Any]:
    """A stored row as callers see it: its JSON columns parsed."""
    out = dict(row)
    for name in json_fields:
        out[name] = json.loads(out[name])
    return out


def audit_snapshot(value: Any) -> str | None:
    """An audit entry's before or after as stored: JSON text, or NULL for none."""
    return json.dumps(value) if value is not None else None


def decode_audit_row(row: StoredRow) -> dict[str, Any]:
    """A stored audit entry as callers see it: its before and after parsed (None where there was none)."""
    out = dict(row)
    out["before"] = json.loads(out["before"]) if out["before"] else None
    out["after"] = json.loads(out["after"]) if out["after"] else None
    return out


# Every table a store keeps, in the order a copy fills them (parents before children), with the columns that name
# a row. `store copy` (server/store/copy.py) moves rows table by table under these keys; both implementations
# share these table and column names.
TABLES: dict[str, tuple[str, ...]] = {
    "staff": ("id",),
    "sessions": ("token_hash",),
    "hotspots": ("id",),
    "proposals": ("id",),
    "supports": ("proposal_id", "token_hash"),
    "audit": ("id",),
    "secrets": ("name",),
    "events": ("id",),
    "event_slides": ("id",),
    "event_hands": ("event_id", "handle"),
    "event_questions": ("id",),
    "event_question_supports": ("question_id", "token_hash"),
    "event_captions": ("id",),
    "event_chat": ("id",),
    "event_bans": ("event_id", "handle", "kind"),
    "scene_zones": ("id",),
    "scene_tour_stops": ("id",),
    "scene_walk_paints": ("id",),
    "scene_spawns": ("id",),
    "event_recordings": ("id",),
    "event_recording_chunks": ("recording_id", "position"),
}
# Rows of these tables never change once written: a copy adds the missing ones and never overwrites.
APPEND_ONLY = frozenset({"supports", "audit", "event_question_supports", "event_captions"})

_IDENTIFIER = re.compile(r"^[a-z_]{1,40}$")


def table_key(table: str) -> tuple[str, ...]:
    """The key columns of a known table; anything else is refused (table names are put into SQL)."""
    if table not in TABLES:
        raise StoreError(f"unknown table {table!r}")
    return TABLES[table]


def upsert_sql(table: str, columns: list[str], placeholders: list[str]) -> str:
    """`INSERT … ON CONFLICT` (same text for SQLite ≥ 3.24 and PostgreSQL): a row already there under the same key
    is overwritten, or kept as it is for an append-only table, so running a copy twice changes nothing."""
    key = table_key(table)
    if not columns or not all(_IDENTIFIER.match(c) for c in columns) or not set(key) <= set(columns):
        raise StoreError(f"unexpected columns for {table}: {columns}")
    updates = [c for c in columns if c not in key]
    action = ("DO NOTHING" if table in APPEND_ONLY or not updates
              else "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates))
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(placeholders)}) "
            f"ON CONFLICT ({', '.join(key)}) {action}")
