"""Recording a meeting's stage audio (issue 11 item 4; docs/events.md, "Recording").

The chair (or a host) turns recording on while the meeting is live; the process that handled it becomes the
recording's writer: it taps this process's audio hub (server/events/audio.py), which hands it every Opus packet of
the event this process sees (its own speakers' and, through the bus, every other process's), and appends them to
an Ogg Opus file under `<data dir>/recordings/` as they come (server/events/ogg_opus.py: never all in memory,
never decoded). When recording stops — the chair turns it off on any process, the meeting ends or is deleted, the
server shuts down — the writer finishes the file, copies it into the store (so every process on every machine can
serve it) and deletes its local copy. After the meeting ended it is published at `/events/{id}/recording.ogg`
beside the transcript, until the retention (`--recording-keep-days`) deletes it.

The file's timeline is the wall clock from "on": a voice is placed by its first packet's arrival, then by its own
48 kHz timestamps (network jitter does not stretch it); time nobody speaks is filled with 20 ms frames of Opus
silence up to LAG seconds behind now (every player plays those; a granule jump would be skipped by some). The
server never mixes (it never decodes): where two voices overlap, the packets already written win and the
overlapping ones are dropped (`overlapped`).

Invariants:
- at most one recording of an event is open (the store's `start_recording`), written by one process;
- the event's `recording` flag is on exactly while a recording is open, and every attendee is told when it
  changes (the `state` message of the live stream, and the audio socket's `recording` message);
- a recording is stored, and published, only whole (a failure leaves it unpublished, logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from aiohttp import web

from ..bus import Bus, Subscription
from ..errors import ApiError
from ..keys import BUS, CONFIG, EVENT_AUDIO, EVENTS, STORE
from ..store import Staff, Store
from ..store.recordings_sql import CHUNK_BYTES
from .audio import AudioHub, TapHandle
from .ogg_opus import SAMPLE_RATE, SILENCE, OggOpusWriter, packet_samples
from .service import EventService, published, require_duty, topic

log = logging.getLogger("civic.recording")

RECORDER: web.AppKey[Recorder] = web.AppKey("event_recorder")
MAY_RECORD = {"chair", "host"}  # duties (service.duties_of): the event's chair, hosts and admins
LAG = 1.0  # seconds behind now that silence is written: a packet from another process arriving late still fits
TICK = 1.0  # seconds between two fills of silence and page writes (a crash loses at most this much)
REANCHOR = 1.0  # seconds a voice's timestamps may drift from its arrivals before it is placed again
RETENTION_EVERY = 3600.0  # seconds between two runs of the retention
ABANDONED = 3600.0  # seconds after a meeting's end when a recording still open is taken for a crashed writer's
SYSTEM = "system"
SILENCE_SAMPLES = packet_samples(SILENCE)


class Timeline:
    """Places packets of up to two voices (speaker slots) on one mono timeline and writes them (see the module)."""

    def __init__(self, writer: OggOpusWriter, clock: Callable[[], float] = time.monotonic) -> None:
        self.writer, self.clock = writer, clock
        self.started = clock()
        self.anchors: dict[int, tuple[int, int]] = {}  # slot -> (position, timestamp) it was placed at
        self.overlapped = 0
        self.malformed = 0

    def now(self) -> int:
        return round((self.clock() - self.started) * SAMPLE_RATE)

    def packet(self, slot: int, timestamp: int, opus: bytes) -> None:
        samples = packet_samples(opus)
        if samples == 0:
            self.malformed += 1
            return
        arrival = self.now()
        anchor = self.anchors.get(slot)
        position = arrival
        if anchor is not None:
            since = ((timestamp - anchor[1] + 2**31) % 2**32) - 2**31  # u32 timestamps wrap after 24.8 hours
            position = anchor[0] + since
            if abs(position - arrival) > REANCHOR * SAMPLE_RATE:
                anchor, position = None, arrival
        if anchor is None:
            self.anchors[slot] = (arrival, timestamp)
        end = self.writer.samples
        if position + samples // 2 < end:  # its time is taken: another voice's packets, or it came too late
            self.overlapped += 1
            return
        self.fill(position)
        self.writer.add(opus, samples)

    def fill(self, position: int) -> None:
        """Silence up to `position` (whole frames: a packet never starts before the end of what is written)."""
        writer = self.writer
        while writer.samples + SILENCE_SAMPLES <= position:
            writer.add(SILENCE, SILENCE_SAMPLES)

    def tick(self) -> None:
        self.fill(self.now() - round(LAG * SAMPLE_RATE))
        self.writer.flush()


@dataclass(eq=False)
class Session:
    """One open recording written by this process."""

    event_id: int
    recording_id: int
    path: Path
    file: BinaryIO
    writer: OggOpusWriter
    timeline: Timeline
    tap: TapHandle | None = None
    subscription: Subscription | None = None
    ticker: asyncio.Task[None] | None = None
    stopping: bool = False
    finished: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class Recorder:
    """This process's recordings and the site's published ones (see the module docstring)."""

    def __init__(self, store: Store, bus: Bus, hub: AudioHub, service: EventService, directory: Path,
                 keep_days: int, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.bus, self.hub, self.service, self.directory = bus, hub, service, directory
        self.keep_days, self.clock = keep_days, clock
        self.sessions: dict[int, Session] = {}
        self.stopping: set[Session] = set()  # being finished and stored

    # --- on and off ---------------------------------------------------------------------------------------------

    async def turn(self, event_id: int, on: bool, staff: Staff) -> None:
        """The chair's switch: 404 no event, 403 not its chair nor a host, 409 `event_not_live` to turn it on."""
        event = await self.service.event(event_id)
        require_duty(event, staff, MAY_RECORD, "chair or a host")
        if on:
            if event["state"] != "live":
                raise ApiError(409, "event_not_live", "A meeting is recorded only while it is live.")
            if not event.get("recording"):
                await self._start(event, staff)
            return
        if await self.store.stop_recording_flag(event_id, staff.username) is not None:
            session = self.sessions.get(event_id)
            if session is not None:
                await self._stop(session)  # answered once the file is stored
            else:
                await self.service.publish_state(event_id)  # its writer, on another process, hears it and stops

    async def _start(self, event: dict[str, Any], staff: Staff) -> None:
        event_id = event["id"]
        row = await self.store.start_recording(event_id, self.bus.node_id, staff.username)
        if row is None:  # turned on a moment ago elsewhere, or the meeting just ended
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"event-{event_id}-{row['id']}.ogg"
        out = path.open("wb")
        title = next(iter((event.get("title") or {}).values()), "")
        began = datetime.datetime.fromtimestamp(row["started_at"], datetime.UTC).isoformat(timespec="seconds")
        writer = OggOpusWriter(out, secrets.randbits(32), [f"TITLE={title}", f"DATE={began}",
                                                          "COMMENT=Stage audio: the chair and the floor holder"])
        session = Session(event_id, row["id"], path, out, writer, Timeline(writer))
        self.sessions[event_id] = session
        try:
            session.subscription = await self.bus.pubsub.subscribe(
                topic(event_id), lambda message: self._event_message(session, message))
            session.tap = await self.hub.tap(event_id, lambda slot, seq, stamp, opus:
                                             session.timeline.packet(slot, stamp, opus))
            session.ticker = asyncio.ensure_future(self._tick(session))
            await self.hub.recording(event_id, True)
            await self.service.publish_state(event_id)
        except BaseException:
            await self._stop(session, store_file=False)
            raise

    async def _tick(self, session: Session) -> None:
        while True:
            await asyncio.sleep(TICK)
            session.timeline.tick()

    def _event_message(self, session: Session, message: dict[str, Any]) -> None:
        """A change of the meeting (any process): stop when the flag went off, the meeting is no longer live or
        was deleted — as the store says, not as a message that may be older than "on" says."""
        kind = message.get("type")
        if kind == "deleted" or kind == "resync" or (
                kind == "state" and (not message.get("recording") or message.get("state") != "live")):
            task = asyncio.ensure_future(self._check(session))
            session.tasks.add(task)
            task.add_done_callback(session.tasks.discard)

    async def _check(self, session: Session) -> None:
        try:
            event = await self.service.store.event(session.event_id)
        except Exception:
            log.exception("recording: reading the event failed")
            return
        if event is None or not event.get("recording") or event["state"] != "live":
            await self._stop(session)

    async def _stop(self, session: Session, store_file: bool = True) -> None:
        """Finish the file, store it, tell everyone; once (later callers wait for the first)."""
        if session.stopping:
            await asyncio.shield(session.finished)
            return
        session.stopping = True
        try:
            await self._finish(session, store_file)
        finally:
            session.finished.set_result(None)

    async def _finish(self, session: Session, store_file: bool) -> None:
        event_id = session.event_id
        if self.sessions.get(event_id) is session:
            del self.sessions[event_id]
        self.stopping.add(session)
        session.finished.add_done_callback(lambda _: self.stopping.discard(session))
        if session.ticker is not None:
            session.ticker.cancel()
        if session.tap is not None:
            await self.hub.untap(session.tap)
        if session.subscription is not None:
            await self.bus.pubsub.unsubscribe(session.subscription)
        writer = session.writer
        session.timeline.fill(session.timeline.now())  # the silence up to "off"
        writer.close()
        session.file.close()
        stored = False
        if store_file:
            try:
                await self._store_file(session)
                stored = True
            except Exception:
                log.exception("recording: storing the file of event %d failed; it stays in %s", event_id,
                              session.path)
        try:
            await self.store.finish_recording(session.recording_id, writer.samples / SAMPLE_RATE, writer.packets,
                                              writer.bytes, stored)
        except Exception:
            log.exception("recording: finishing recording %d failed", session.recording_id)
        if stored:
            with contextlib.suppress(OSError):
                session.path.unlink()
        log.info("recording of event %d stopped: %.1f s, %d packets, %d bytes, %d overlapped, stored: %s",
                 event_id, writer.samples / SAMPLE_RATE, writer.packets, writer.bytes,
                 session.timeline.overlapped, stored)
        await self.hub.recording(event_id, False)
        await self.service.publish_state(event_id)

    async def _store_file(self, session: Session) -> None:
        with session.path.open("rb") as source:
            position = 0
            while chunk := await asyncio.to_thread(source.read, CHUNK_BYTES):
                await self.store.add_recording_chunk(session.recording_id, position, chunk)
                position += 1

    async def close(self) -> None:
        """Shutdown: every recording this process writes is finished and stored (its flag goes off)."""
        for session in list(self.sessions.values()):
            await self._stop(session)
        for session in list(self.stopping):
            await asyncio.shield(session.finished)

    # --- published recordings -------------------------------------------------------------------------------------

    async def published(self, event_id: int, part: int) -> dict[str, Any]:
        """The event's `part`-th stored recording (1 = the first), once the meeting ended; 404 otherwise."""
        event = await self.service.event(event_id)
        stored = [r for r in await self.store.recordings(event_id) if r["stored"]] if published(event) else []
        if not 1 <= part <= len(stored):
            raise ApiError(404, "recording_not_published",
                           "A meeting's recording is published once the meeting ended, if it was recorded.")
        return stored[part - 1]

    async def chunk(self, recording_id: int, position: int) -> bytes:
        data = await self.store.recording_chunk(recording_id, position)
        if data is None:  # deleted by the retention while being read
            raise ApiError(404, "recording_not_published", "This recording was deleted.")
        return data

    # --- retention ------------------------------------------------------------------------------------------------

    async def apply_retention(self) -> int:
        """Delete the recordings of meetings that ended more than `keep_days` days ago; how many went. First, a
        recording whose writer crashed (still open an hour after the meeting ended) is closed unpublished, its
        flag turned off, and its partial file deleted if it is in this data directory."""
        for row in await self.store.abandoned_recordings(self.clock() - ABANDONED):
            if await self.store.finish_recording(row["id"], 0.0, 0, 0, False) is not None:
                log.warning("recording %d of event %d was never finished (its writer stopped): closed unpublished",
                            row["id"], row["event_id"])
                with contextlib.suppress(OSError):
                    (self.directory / f"event-{row['event_id']}-{row['id']}.ogg").unlink()
        deleted = 0
        for row in await self.store.expired_recordings(self.clock() - self.keep_days * 86400):
            if await self.store.delete_recording(row["id"], SYSTEM, f"kept {self.keep_days} days after the meeting"):
                deleted += 1
        if deleted:
            log.info("recording retention: %d recordings older than %d days deleted", deleted, self.keep_days)
        return deleted

    async def _retention_loop(self) -> None:
        while True:
            try:
                await self.apply_retention()
            except Exception:  # a database away for a moment: next time
                log.exception("recording retention failed")
            await asyncio.sleep(RETENTION_EVERY)


def install_recording(app: web.Application) -> None:
    """The recorder on the app (after `install_events`): its retention on the process that runs periodic jobs,
    and every recording of this process finished and stored at shutdown."""
    config = app[CONFIG]
    app[RECORDER] = Recorder(app[STORE], app[BUS], app[EVENT_AUDIO], app[EVENTS], config.data_dir / "recordings",
                             config.recording_keep_days)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        recorder = app[RECORDER]
        retention = asyncio.ensure_future(recorder._retention_loop()) if config.periodic_jobs else None
        yield
        if retention is not None:
            retention.cancel()
        await recorder.close()

    app.cleanup_ctx.append(lifecycle)
