"""Durable data in SQLite: staff, sessions, hotspots, local proposals and their supports, public meetings (their
SQL shared with PostgreSQL in `events_sql.py`), the audit log.

One database file under the data directory, WAL mode, `synchronous=FULL`: a write is acknowledged to a client
only after its transaction committed, so it survives a crash of the process. Migrations are numbered SQL
scripts applied in order at start (`PRAGMA user_version` records the last one); a database newer than the code
is refused. Positions of residents are never stored here (nor anywhere). This module is the repository layer:
SQL lives here and nowhere else.

Concurrency invariants (many requests write at once, issue 9 item 2):
- Writes go through ONE writer connection and only inside `transaction()`, which holds an asyncio lock from
  `BEGIN IMMEDIATE` to `COMMIT`: transactions of concurrent requests queue, never interleave on the connection.
- Reads outside a transaction use a separate read-only connection: WAL gives them the last committed state,
  never another request's uncommitted rows. Reads inside a transaction (same task) see its own writes.
- A transaction that fails or is cancelled is rolled back before the next one begins (aiosqlite runs one
  connection's statements in order, so the ROLLBACK is queued behind anything still pending).
- Other processes (the `staff` command while serving) wait up to `busy_timeout`; two servers on one data
  directory are refused at start (see `server.__main__`).

The contract this implements is in `server/store/__init__.py`; nothing above this module sees a connection,
SQL or an sqlite3 error.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from .base import (
    HOTSPOT_JSON,
    PROPOSAL_JSON,
    TABLES,
    AlreadyExists,
    Conflict,
    Staff,
    StoreError,
    audit_snapshot,
    decode_audit_row,
    decode_row,
    encode_fields,
    staff_from_row,
    table_key,
    upsert_sql,
)
from .events_sql import EventTables
from .places_sql import PlaceTables
from .recordings_sql import RecordingTables
from .walk_sql import WalkTables

T = TypeVar("T")

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE staff (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('editor', 'moderator', 'admin')),
        created_at REAL NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE TABLE hotspots (
        id INTEGER PRIMARY KEY,
        scene TEXT NOT NULL,
        position TEXT NOT NULL,
        normal TEXT NOT NULL,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        proposal_ref TEXT,
        link TEXT,
        version INTEGER NOT NULL DEFAULT 1,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at REAL NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX hotspots_scene ON hotspots(scene, deleted);
    CREATE TABLE proposals (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        summary TEXT NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        deadline TEXT,
        supports INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 1,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE supports (
        proposal_id INTEGER NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL,
        PRIMARY KEY (proposal_id, token_hash)
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        before TEXT,
        after TEXT
    );
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 2: secrets every process of a city shares (the key signing anonymous resident ids), issue 13
    """
    CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 3: public meetings (issue 10) and the staff role `host`. A CHECK cannot be altered in SQLite: the staff table
    # is rebuilt the documented way (new table, copy, drop, rename; `migrate` turns foreign keys off around it so
    # dropping the old table does not cascade to sessions, and checks them before committing).
    """
    CREATE TABLE staff_new (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('editor', 'moderator', 'host', 'admin')),
        created_at REAL NOT NULL
    );
    INSERT INTO staff_new (id, username, password_hash, role, created_at)
        SELECT id, username, password_hash, role, created_at FROM staff;
    DROP TABLE staff;
    ALTER TABLE staff_new RENAME TO staff;

    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        scene TEXT NOT NULL,
        zone TEXT,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        starts_at REAL NOT NULL,
        ends_at REAL,
        timezone TEXT NOT NULL,
        capacity INTEGER NOT NULL DEFAULT 0,
        agenda TEXT NOT NULL,
        staff TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'scheduled'
            CHECK (state IN ('scheduled', 'open', 'live', 'ended', 'archived')),
        current_item INTEGER,
        slide_id INTEGER,
        floor TEXT,
        slow_mode INTEGER NOT NULL DEFAULT 0,
        source TEXT,
        external_id TEXT,
        version INTEGER NOT NULL DEFAULT 1,
        started_at REAL,
        ended_at REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        deleted_at REAL,
        UNIQUE (source, external_id)
    );
    CREATE INDEX events_starts ON events(starts_at);
    CREATE TABLE event_slides (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        position INTEGER NOT NULL,
        blob TEXT NOT NULL,
        media_type TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        alt TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX event_slides_event ON event_slides(event_id, position);
    CREATE TABLE event_hands (
        event_id INTEGER NOT NULL REFERENCES events(id),
        handle TEXT NOT NULL,
        name TEXT NOT NULL,
        topic TEXT,
        raised_at REAL NOT NULL,
        PRIMARY KEY (event_id, handle)
    );
    CREATE TABLE event_questions (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        handle TEXT NOT NULL,
        name TEXT NOT NULL,
        text TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'approved', 'rejected', 'answering', 'answered')),
        supports INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        deleted_at REAL
    );
    CREATE INDEX event_questions_event ON event_questions(event_id, state);
    CREATE TABLE event_question_supports (
        question_id INTEGER NOT NULL REFERENCES event_questions(id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL,
        PRIMARY KEY (question_id, token_hash)
    );
    CREATE TABLE event_captions (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        at REAL NOT NULL,
        text TEXT NOT NULL,
        author TEXT NOT NULL
    );
    CREATE INDEX event_captions_event ON event_captions(event_id, id);
    CREATE TABLE event_chat (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        handle TEXT NOT NULL,
        name TEXT NOT NULL,
        text TEXT NOT NULL,
        at REAL NOT NULL,
        deleted_at REAL
    );
    CREATE INDEX event_chat_event ON event_chat(event_id, id);
    CREATE TABLE event_bans (
        event_id INTEGER NOT NULL REFERENCES events(id),
        handle TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('ban', 'mute')),
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        PRIMARY KEY (event_id, handle, kind)
    );
    """,
    # 4: zones and tour stops staff define in the page's editor (issue 12 item 5; store/places_sql.py)
    """
    CREATE TABLE scene_zones (
        id INTEGER PRIMARY KEY,
        scene TEXT NOT NULL,
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        area TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at REAL NOT NULL,
        deleted_at REAL
    );
    CREATE UNIQUE INDEX scene_zones_live_key ON scene_zones(scene, key) WHERE deleted_at IS NULL;
    CREATE TABLE scene_tour_stops (
        id INTEGER PRIMARY KEY,
        scene TEXT NOT NULL,
        position INTEGER NOT NULL,
        position_xyz TEXT NOT NULL,
        yaw REAL NOT NULL,
        pitch REAL NOT NULL,
        zone TEXT,
        title TEXT NOT NULL,
        narration TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at REAL NOT NULL,
        deleted_at REAL
    );
    CREATE INDEX scene_tour_stops_scene ON scene_tour_stops(scene, position);
    """,
    # 5: staff corrections of the walkable floor (painted boxes) and spawn points (issue 12 item 4; walk_sql.py)
    """
    CREATE TABLE scene_walk_paints (
        id INTEGER PRIMARY KEY,
        scene TEXT NOT NULL,
        area TEXT NOT NULL,
        walkable INTEGER NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at REAL NOT NULL,
        deleted_at REAL
    );
    CREATE INDEX scene_walk_paints_scene ON scene_walk_paints(scene, id);
    CREATE TABLE scene_spawns (
        id INTEGER PRIMARY KEY,
        scene TEXT NOT NULL,
        position INTEGER NOT NULL,
        position_xyz TEXT NOT NULL,
        yaw REAL NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        created_by TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_by TEXT NOT NULL,
        updated_at REAL NOT NULL,
        deleted_at REAL
    );
    CREATE INDEX scene_spawns_scene ON scene_spawns(scene, position);
    """,
    # 6: recordings of a meeting's stage audio (issue 11 item 4; store/recordings_sql.py): the flag attendees see,
    # one row per recording (on to off) and its Ogg Opus file in chunks (so every process can serve it)
    """
    ALTER TABLE events ADD COLUMN recording INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE event_recordings (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        started_at REAL NOT NULL,
        started_by TEXT NOT NULL,
        node TEXT NOT NULL,
        ended_at REAL,
        seconds REAL NOT NULL DEFAULT 0,
        packets INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        stored INTEGER NOT NULL DEFAULT 0,
        deleted_at REAL
    );
    CREATE INDEX event_recordings_event ON event_recordings(event_id, id);
    CREATE TABLE event_recording_chunks (
        recording_id INTEGER NOT NULL REFERENCES event_recordings(id),
        position INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (recording_id, position)
    );
    """,
]


# The store whose transaction the current task is inside (reads then go to the writer connection).
_IN_TRANSACTION: contextvars.ContextVar[SQLiteStore | None] = contextvars.ContextVar("store_transaction", default=None)


DATABASE_FILE = "civic.sqlite3"  # under the data directory


class SQLiteStore(RecordingTables, WalkTables, PlaceTables, EventTables):
    """The SQLite store. A missing database file is created; an existing 0-byte one is refused (a truncated file
    means lost data: staff, hotspots and the audit log would silently start empty)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: aiosqlite.Connection | None = None  # the writer
        self.reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self) -> None:
        if self.path.exists() and self.path.stat().st_size == 0:
            raise StoreError(f"the database {self.path} is empty (0 bytes): it may have been truncated; restore it "
                             "from a backup, or start with --new-store to begin a new, empty store")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = await self._connect()
            await self.migrate()
            self.reader = await self._connect()
            await self.reader.execute("PRAGMA query_only=ON")
        except (sqlite3.Error, OSError) as exc:
            await self.close()
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        except BaseException:
            await self.close()
            raise

    async def _connect(self) -> aiosqlite.Connection:
        db = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            db.row_factory = aiosqlite.Row
            for pragma in ("busy_timeout=5000", "journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
                await db.execute(f"PRAGMA {pragma}")
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        for db in (self.reader, self.db):
            if db is not None:
                await db.close()
        self.db = self.reader = None

    @property
    def conn(self) -> aiosqlite.Connection:
        """The writer connection (statements on it outside `transaction()` autocommit; tests use it)."""
        if self.db is None:
            raise RuntimeError("the store is not open")
        return self.db

    @property
    def _read_conn(self) -> aiosqlite.Connection:
        if _IN_TRANSACTION.get() is self or self.reader is None:
            return self.conn
        return self.reader

    async def migrate(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        if current > len(MIGRATIONS):
            raise StoreError(f"the database {self.path} has schema version {current}, newer than this server "
                             f"knows ({len(MIGRATIONS)}): run a newer Civic Space")
        if current == len(MIGRATIONS):
            return current
        # A migration may rebuild a table others refer to (SQLite's documented way to change a constraint):
        # with foreign keys on, dropping the old table would delete the rows referring to it. The pragma only
        # takes effect outside a transaction; the references are checked before each migration commits.
        await self.conn.execute("PRAGMA foreign_keys=OFF")
        try:
            for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                async with self.transaction():
                    for statement in _statements(script):
                        await self.conn.execute(statement)
                    async with self.conn.execute("PRAGMA foreign_key_check") as cursor:
                        broken = await cursor.fetchone()
                    if broken is not None:
                        raise StoreError(f"migration {version} would leave a row of {broken[0]} referring to a "
                                         f"missing row of {broken[2]}")
                    await self.conn.execute(f"PRAGMA user_version = {version}")
        finally:
            await self.conn.execute("PRAGMA foreign_keys=ON")
        return len(MIGRATIONS)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time: committed when the block ends, rolled back if it raises. A nested
        call in the same task joins the outer transaction."""
        if _IN_TRANSACTION.get() is self:
            yield self.conn
            return
        async with self._write_lock:
            token = _IN_TRANSACTION.set(self)
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                yield self.conn
                await self.conn.execute("COMMIT")
            except BaseException:
                await asyncio.shield(self._rollback())
                raise
            finally:
                _IN_TRANSACTION.reset(token)

    async def _rollback(self) -> None:
        # "no transaction is active": BEGIN failed, or COMMIT went through before a cancellation.
        with contextlib.suppress(sqlite3.OperationalError):
            await self.conn.execute("ROLLBACK")

    async def _one(self, sql: str, *args: Any) -> aiosqlite.Row | None:
        async with self._read_conn.execute(sql, args) as cursor:
            return await cursor.fetchone()

    async def _all(self, sql: str, *args: Any) -> list[aiosqlite.Row]:
        async with self._read_conn.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    # The primitives `EventTables` writes its SQL with (server/store/events_sql.py).
    def _q(self, sql: str) -> str:
        return sql

    async def _execute(self, sql: str, *args: Any) -> int:
        async with self.conn.execute(sql, args) as cursor:
            return int(cursor.rowcount)

    async def _in_transaction(self, work: Callable[[], Awaitable[T]]) -> T:
        async with self.transaction():
            return await work()

    async def _audit_entry(self, actor: str, action: str, target: str, before: Any, after: Any) -> None:
        await self._audit(actor, action, target, before, after)

    async def _audit(self, actor: str, action: str, target: str, before: Any, after: Any) -> None:
        await self.conn.execute(
            "INSERT INTO audit (at, actor, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?)",
            (time.time(), actor, action, target, audit_snapshot(before), audit_snapshot(after)),
        )

    # --- staff and sessions -------------------------------------------------------------------------------------
    async def add_staff(self, username: str, password_hash: str, role: str, actor: str = "cli") -> Staff:
        try:
            async with self.transaction():
                cursor = await self.conn.execute(
                    "INSERT INTO staff (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                    (username, password_hash, role, time.time()))
                await self._audit(actor, "staff.add", f"staff:{username}", None,
                                  {"username": username, "role": role})
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise
            raise AlreadyExists(f"{username} exists already") from exc
        return Staff(int(cursor.lastrowid or 0), username, role, password_hash)

    async def get_staff(self, username: str) -> Staff | None:
        row = await self._one("SELECT id, username, role, password_hash FROM staff WHERE username = ?", username)
        return staff_from_row(row) if row else None

    async def list_staff(self) -> list[dict[str, Any]]:
        rows = await self._all("SELECT username, role, created_at FROM staff ORDER BY username")
        return [dict(r) for r in rows]

    async def set_password(self, username: str, password_hash: str, actor: str = "cli") -> bool:
        async with self.transaction():
            cursor = await self.conn.execute("UPDATE staff SET password_hash = ? WHERE username = ?",
                                              (password_hash, username))
            if cursor.rowcount:
                await self.conn.execute(
                    "DELETE FROM sessions WHERE staff_id = (SELECT id FROM staff WHERE username = ?)", (username,))
                await self._audit(actor, "staff.passwd", f"staff:{username}", None, None)
        return bool(cursor.rowcount)

    async def remove_staff(self, username: str, actor: str = "cli") -> bool:
        async with self.transaction():
            cursor = await self.conn.execute("DELETE FROM staff WHERE username = ?", (username,))
            if cursor.rowcount:
                await self._audit(actor, "staff.remove", f"staff:{username}", {"username": username}, None)
        return bool(cursor.rowcount)

    async def create_session(self, token_hash: str, staff_id: int, csrf: str, expires_at: float) -> None:
        async with self.transaction():
            await self.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (time.time(),))
            await self.conn.execute(
                "INSERT INTO sessions (token_hash, staff_id, csrf, expires_at) VALUES (?, ?, ?, ?)",
                (token_hash, staff_id, csrf, expires_at))

    async def session(self, token_hash: str) -> tuple[Staff, str] | None:
        row = await self._one(
            "SELECT s.csrf, s.expires_at, t.id, t.username, t.role, t.password_hash FROM sessions s "
            "JOIN staff t ON t.id = s.staff_id WHERE s.token_hash = ?", token_hash)
        if row is None or row["expires_at"] < time.time():
            return None
        return staff_from_row(row), row["csrf"]

    async def end_session(self, token_hash: str) -> None:
        async with self.transaction():
            await self.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    # --- hotspots -------------------------------------------------------------------------------------------------
    async def hotspots(self, scene: str) -> list[dict[str, Any]]:
        rows = await self._all("SELECT * FROM hotspots WHERE scene = ? AND deleted = 0 ORDER BY id", scene)
        return [decode_row(r, HOTSPOT_JSON) for r in rows]

    async def hotspot(self, hotspot_id: int, include_deleted: bool = False) -> dict[str, Any] | None:
        row = await self._one("SELECT * FROM hotspots WHERE id = ?", hotspot_id)
        if row is None or (row["deleted"] and not include_deleted):
            return None
        return decode_row(row, HOTSPOT_JSON)

    async def create_hotspot(self, scene: str, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        now = time.time()
        async with self.transaction():
            cursor = await self.conn.execute(
                "INSERT INTO hotspots (scene, position, normal, kind, title, description, proposal_ref, link, "
                "created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (scene, json.dumps(fields["position"]), json.dumps(fields["normal"]), fields["kind"],
                 json.dumps(fields["title"]), json.dumps(fields["description"]), fields.get("proposal_ref"),
                 fields.get("link"), actor, now, actor, now))
            created = await self.hotspot(int(cursor.lastrowid or 0))
            assert created is not None
            await self._audit(actor, "hotspot.create", f"hotspot:{created['id']}", None, created)
        return created

    async def update_hotspot(self, hotspot_id: int, version: int, fields: dict[str, Any], actor: str,
                             action: str = "hotspot.update") -> dict[str, Any] | None:
        """Apply `fields` if `version` is current; None if missing; raises Conflict with the current row."""
        return await self._update_versioned(
            "hotspots", HOTSPOT_JSON, lambda: self.hotspot(hotspot_id, include_deleted=True), hotspot_id, version,
            {**fields, "updated_by": actor}, actor, action)

    async def _update_versioned(self, table: str, json_fields: tuple[str, ...],
                                read: Callable[[], Awaitable[dict[str, Any] | None]], row_id: int, version: int,
                                fields: dict[str, Any], actor: str, action: str) -> dict[str, Any] | None:
        """Optimistic concurrency: the row changes only if its version is still `version` (checked and written in
        one transaction), its version goes up by one, and the audit log gets the before and after."""
        async with self.transaction():
            before = await read()
            if before is None:
                return None
            if before["version"] != version:
                raise Conflict(before)
            columns = encode_fields(fields, json_fields)
            assignments = ", ".join(f"{name} = ?" for name in columns)
            await self.conn.execute(
                f"UPDATE {table} SET {assignments}, version = version + 1, updated_at = ? WHERE id = ?",
                (*columns.values(), time.time(), row_id))
            after = await read()
            await self._audit(actor, action, f"{table[:-1]}:{row_id}", before, after)
        return after

    async def remote_proposal_refs(self) -> set[str]:
        """The remote proposals some live hotspot shows (watched by the proposal cache)."""
        rows = await self._all("SELECT DISTINCT proposal_ref FROM hotspots WHERE deleted = 0 AND proposal_ref "
                               "IS NOT NULL AND proposal_ref NOT LIKE 'local:%'")
        return {r["proposal_ref"] for r in rows}

    # --- local proposals ------------------------------------------------------------------------------------------
    async def proposals(self, query: str = "", limit: int = 20) -> list[dict[str, Any]]:
        pattern = f"%{query.strip().lower()}%"
        rows = await self._all("SELECT * FROM proposals WHERE lower(title) LIKE ? OR lower(summary) LIKE ? "
                               "ORDER BY updated_at DESC LIMIT ?", pattern, pattern, limit)
        return [decode_row(r, PROPOSAL_JSON) for r in rows]

    async def proposal(self, proposal_id: int) -> dict[str, Any] | None:
        row = await self._one("SELECT * FROM proposals WHERE id = ?", proposal_id)
        return decode_row(row, PROPOSAL_JSON) if row else None

    async def create_proposal(self, fields: dict[str, Any], actor: str) -> dict[str, Any]:
        now = time.time()
        async with self.transaction():
            cursor = await self.conn.execute(
                "INSERT INTO proposals (title, summary, body, status, deadline, created_by, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (json.dumps(fields["title"]), json.dumps(fields["summary"]), json.dumps(fields["body"]),
                 fields["status"], fields.get("deadline"), actor, now, now))
            created = await self.proposal(int(cursor.lastrowid or 0))
            assert created is not None
            await self._audit(actor, "proposal.create", f"proposal:{created['id']}", None, created)
        return created

    async def update_proposal(self, proposal_id: int, version: int, fields: dict[str, Any],
                              actor: str) -> dict[str, Any] | None:
        return await self._update_versioned("proposals", PROPOSAL_JSON, lambda: self.proposal(proposal_id),
                                            proposal_id, version, fields, actor, "proposal.update")

    async def support(self, proposal_id: int, token_hash: str) -> tuple[bool, int] | None:
        """Count one support per anonymous token: (newly counted?, total); None for an unknown proposal."""
        async with self.transaction():
            if await self.proposal(proposal_id) is None:
                return None
            cursor = await self.conn.execute(
                "INSERT OR IGNORE INTO supports (proposal_id, token_hash) VALUES (?, ?)", (proposal_id, token_hash))
            added = bool(cursor.rowcount)
            if added:
                await self.conn.execute("UPDATE proposals SET supports = supports + 1 WHERE id = ?", (proposal_id,))
            row = await self._one("SELECT supports FROM proposals WHERE id = ?", proposal_id)
        return added, int(row["supports"]) if row else 0

    # --- secrets shared by every process ---------------------------------------------------------------------------
    async def shared_secret(self, name: str, proposed: bytes) -> bytes:
        """The secret stored under `name`; `proposed` becomes it if there is none yet (the first writer wins)."""
        async with self.transaction():
            await self.conn.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, proposed.hex()))
            row = await self._one("SELECT value FROM secrets WHERE name = ?", name)
        assert row is not None
        return bytes.fromhex(row["value"])

    # --- audit ----------------------------------------------------------------------------------------------------
    async def audit(self, limit: int = 100, before_id: int | None = None) -> list[dict[str, Any]]:
        rows = await self._all("SELECT * FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?",
                               before_id if before_id is not None else 2**62, limit)
        return [decode_audit_row(r) for r in rows]

    # --- whole tables (`store copy`, its verification, tests) ----------------------------------------------------
    async def counts(self) -> dict[str, int]:
        """Rows per table (see `base.TABLES`)."""
        out = {}
        for table in TABLES:
            row = await self._one(f"SELECT count(*) AS n FROM {table}")
            out[table] = int(row["n"]) if row else 0
        return out

    async def export_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of a table as stored (JSON columns as their text), ordered by its key."""
        rows = await self._all(f"SELECT * FROM {table} ORDER BY {', '.join(table_key(table))}")
        return [dict(r) for r in rows]

    async def import_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Write rows under their own keys in one transaction (see `base.upsert_sql`: repeatable)."""
        if not rows:
            return
        columns = list(rows[0])
        sql = upsert_sql(table, columns, ["?"] * len(columns))
        async with self.transaction():
            await self.conn.executemany(sql, [tuple(row[c] for c in columns) for row in rows])


def _statements(script: str) -> list[str]:
    """Split a migration into statements; triggers keep their inner semicolons."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and (not text.upper().startswith("CREATE TRIGGER") or text.upper().endswith("END;")):
            statements.append(text)
            current = []
    if "\n".join(current).strip():
        statements.append("\n".join(current).strip())
    return statements
