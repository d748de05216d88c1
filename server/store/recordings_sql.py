"""Recordings of a meeting's stage audio in the store (issue 11 item 4; docs/events.md, "Recording").

The event's `recording` column is the flag every attendee sees (in the live stream's `state` and the event JSON).
Each recording (from "on" to "off" or the meeting's end) is one `event_recordings` row; its finished Ogg Opus
file is kept in `event_recording_chunks` (CHUNK_BYTES per row), so any process on any machine can serve it and
`store copy` moves it with the rest. Written once for both stores, as `walk_sql.WalkTables` is: a mixin on the
primitives `EventTables` declares, with `?` placeholders.

Invariants:
- At most one recording of an event is open (no `ended_at`): `start_recording` opens one only while the event is
  live and its flag is off, under the event's row lock, and sets the flag in the same transaction.
- The flag and its audit entry change together (`event.recording_on`, `event.recording_off`); the file's
  storing (`event.recording_stored`) and the retention's deletion (`event.recording_delete`) are audited too.
- A recording is served only once `stored` (every chunk written, then the row finished in one transaction).
- A deleted recording keeps its row (the audit log refers to it) without its chunks: the audio itself is gone.
"""

from __future__ import annotations

import time
from typing import Any

from .events_sql import EventTables

CHUNK_BYTES = 1024 * 1024


def _recording(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["stored"] = bool(out["stored"])
    return out


class RecordingTables(EventTables):
    """The recordings part of the store contract (see the module's invariants)."""

    async def start_recording(self, event_id: int, node: str, actor: str) -> dict[str, Any] | None:
        """Open a recording of a live event whose flag is off, and set the flag; None otherwise (missing, not
        live, or already recording — perhaps turned on a moment ago by another process)."""

        async def work() -> dict[str, Any] | None:
            before = await self._locked_event(event_id)
            if before is None or before["state"] != "live" or before.get("recording"):
                return None
            after = await self._write_event(event_id, {"recording": 1})
            await self._audit_entry(actor, "event.recording_on", f"event:{event_id}", before, after)
            row = await self._row(
                "INSERT INTO event_recordings (event_id, started_at, started_by, node) VALUES (?, ?, ?, ?) "
                "RETURNING *", event_id, time.time(), actor, node)
            return _recording(row)

        return await self._in_transaction(work)

    async def stop_recording_flag(self, event_id: int, actor: str) -> dict[str, Any] | None:
        """Turn the event's flag off (the process writing the file sees it and finishes); the event after, None
        if it is missing or the flag was off already."""

        async def work() -> dict[str, Any] | None:
            before = await self._locked_event(event_id)
            if before is None or not before.get("recording"):
                return None
            after = await self._write_event(event_id, {"recording": 0})
            await self._audit_entry(actor, "event.recording_off", f"event:{event_id}", before, after)
            return after

        return await self._in_transaction(work)

    async def add_recording_chunk(self, recording_id: int, position: int, data: bytes) -> None:
        """One piece of a finished file (0, 1, 2 … each at most CHUNK_BYTES); written again, it is replaced."""
        await self._in_transaction(lambda: self._execute(
            "INSERT INTO event_recording_chunks (recording_id, position, data) VALUES (?, ?, ?) "
            "ON CONFLICT (recording_id, position) DO UPDATE SET data = excluded.data", recording_id, position, data))

    async def finish_recording(self, recording_id: int, seconds: float, packets: int, size: int,
                               stored: bool) -> dict[str, Any] | None:
        """Close the recording (its chunks all written when `stored`); the event's flag goes off if still on.
        The row after; None if there is none or it was finished already."""

        async def work() -> dict[str, Any] | None:
            row = await self._row(f"SELECT * FROM event_recordings WHERE id = ?{self._LOCK}", recording_id)
            if row is None or row["ended_at"] is not None:
                return None
            event_id = row["event_id"]
            event = await self._locked_event(event_id)
            if event is not None and event.get("recording"):
                after = await self._write_event(event_id, {"recording": 0})
                await self._audit_entry("system", "event.recording_off", f"event:{event_id}", event, after)
            finished = await self._row(
                "UPDATE event_recordings SET ended_at = ?, seconds = ?, packets = ?, bytes = ?, stored = ? "
                "WHERE id = ? RETURNING *", time.time(), seconds, packets, size, 1 if stored else 0, recording_id)
            await self._audit_entry("system", "event.recording_stored", f"event:{event_id}", _recording(row),
                                    _recording(finished))
            return _recording(finished)

        return await self._in_transaction(work)

    async def recordings(self, event_id: int) -> list[dict[str, Any]]:
        """The event's recordings not deleted, oldest first (open and unstored ones included: see `stored`)."""
        rows = await self._rows("SELECT * FROM event_recordings WHERE event_id = ? AND deleted_at IS NULL "
                                "ORDER BY id", event_id)
        return [_recording(r) for r in rows]

    async def recording_chunk(self, recording_id: int, position: int) -> bytes | None:
        row = await self._row("SELECT data FROM event_recording_chunks WHERE recording_id = ? AND position = ?",
                              recording_id, position)
        return bytes(row["data"]) if row is not None else None

    async def expired_recordings(self, ended_before: float) -> list[dict[str, Any]]:
        """Recordings not deleted of meetings that ended before `ended_before` (the retention's candidates)."""
        rows = await self._rows(
            "SELECT r.* FROM event_recordings r JOIN events e ON e.id = r.event_id WHERE r.deleted_at IS NULL "
            "AND e.ended_at IS NOT NULL AND e.ended_at < ? ORDER BY r.id", ended_before)
        return [_recording(r) for r in rows]

    async def abandoned_recordings(self, ended_before: float) -> list[dict[str, Any]]:
        """Recordings still open of meetings that ended before `ended_before`: their writer is gone (a crash)."""
        rows = await self._rows(
            "SELECT r.* FROM event_recordings r JOIN events e ON e.id = r.event_id WHERE r.deleted_at IS NULL "
            "AND r.ended_at IS NULL AND e.ended_at IS NOT NULL AND e.ended_at < ? ORDER BY r.id", ended_before)
        return [_recording(r) for r in rows]

    async def delete_recording(self, recording_id: int, actor: str, reason: str) -> bool:
        """Delete the audio (its chunks) and mark the row deleted, audited with `reason`; False if gone already."""

        async def work() -> bool:
            row = await self._row(f"SELECT * FROM event_recordings WHERE id = ? AND deleted_at IS NULL{self._LOCK}",
                                  recording_id)
            if row is None:
                return False
            await self._execute("DELETE FROM event_recording_chunks WHERE recording_id = ?", recording_id)
            await self._execute("UPDATE event_recordings SET deleted_at = ? WHERE id = ?", time.time(), recording_id)
            await self._audit_entry(actor, "event.recording_delete", f"event:{row['event_id']}", _recording(row),
                                    {"reason": reason})
            return True

        return await self._in_transaction(work)
