"""Stage audio of a meeting (issue 11, docs/audio.md): this process's audio hub, one `Stage` per event with audio
connections here. Opus packets are relayed as they came: the server never decodes nor re-encodes.

The hub keeps, per event, what it needs to decide PER PACKET whether its sender may speak: the event's state,
floor and staff duties, updated from the bus topic `event:<id>` (the same messages the SSE hub fans out). A packet
accepted from a local speaker gets one byte inserted (its speaker slot: 0 chair/host, 1 floor holder), becomes ONE
WebSocket frame written to every local listener's socket, goes to the local taps (the recorder), and is published
ONCE on the bus topic `audio:<id>` (`publish_poses`: never back to this node); other nodes feed their listeners and
taps from there. JSON messages on `audio:<id>` carry who is speaking (`speaker`) and the `recording` indicator
(also read from the event's `recording` flag, so a process that opens the event later knows it).

Invariants:
- the fan-out never awaits per listener: a frame is written to a socket holding at most HIGH_WATER bytes, else it
  waits in that listener's queue of QUEUE_PACKETS frames (about 0.5 s), which drops its OLDEST frame when full;
- a packet is relayed only if, at the moment it arrives, the meeting is live and its sender chairs or hosts it or
  holds the floor with `until` still ahead (by the service's clock): a floor that was taken back, ran out or a
  meeting that ended stops the very next packet, even before the bus says so;
- a speaker never receives its own packets; a connection of a banned or removed handle is closed (4403), every
  connection of an event that ended or was deleted is closed (4409);
- control messages (JSON) are never dropped; a socket that holds more than STUCK_BYTES is closed instead;
- the bus never holds up a speaker: packets are published in order by one task per event, at most BUS_IN_FLIGHT
  waiting for a stuck bus (more are dropped for the other processes; local listeners already have them).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from aiohttp import WSCloseCode, web

from ..bus import Bus, Subscription
from ..codec import TEXT, ws_frame
from ..metrics import AudioFigures, Metrics
from ..store import Staff
from .service import EventService, duties_of, not_found, topic

log = logging.getLogger("civic.audio")

AUDIO_VERSION = 1
KIND_OPUS = 1
HEADER = struct.Struct(">BHI")  # client -> server: kind, seq, timestamp (48 kHz samples)
RELAYED = struct.Struct(">BBHI")  # server -> listener: kind, speaker slot, seq, timestamp
MAX_PACKET_BYTES = 400  # one Opus packet (20 ms mono at up to 160 kbit/s fits in 400)
MAX_MESSAGE_BYTES = 1024  # any WebSocket message; more closes 1009
PACKETS_PER_SECOND, PACKET_BURST = 60, 25  # per speaking connection (50 are sent per second)
MIC_PER_SECOND, MIC_BURST = 10, 20  # `mic` messages per connection: each may reach every listener as `speaker`
QUEUE_PACKETS = 25  # per listener: 0.5 s of 20 ms frames waiting for a backed-up socket
HIGH_WATER = 16 * 1024  # bytes in a listener's socket above which audio waits in its queue
STUCK_BYTES = 1024 * 1024  # bytes in a socket at which its client counts as gone
FLUSH_EVERY = 0.02  # seconds between two tries to drain the queues of backed-up listeners
SILENCE = 2.0  # seconds without a packet that end "speaking"
STALE_VOICE = 3 * SILENCE  # a voice another node announced and never ended (it crashed) is forgotten after this
BUS_IN_FLIGHT = 50  # packets (1 s of one voice) waiting for a stuck bus before more are dropped
ERROR_EVERY = 1.0  # at most one `not_allowed` / `rate_limited` error per second per connection
MAX_BAD_MESSAGES = 5
SLOT_STAFF, SLOT_FLOOR = 0, 1
CLOSE_BAD_MESSAGE, CLOSE_NOT_FOUND, CLOSE_BANNED, CLOSE_ENDED = 4001, 4004, 4403, 4409
ATTENDABLE = ("scheduled", "open", "live")  # states in which one may connect (and wait for the meeting to go live)
SPEAKING_ROLES = {"chair", "host"}  # duties (server.events.service.duties_of) that may speak


def audio_topic(event_id: int) -> str:
    return f"audio:{event_id}"


class BadPacket(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def parse_packet(data: bytes) -> tuple[int, int, bytes]:
    """A client's binary message -> (seq, timestamp, opus). BadPacket `bad_message` (short, wrong kind, empty
    packet) or `packet_too_big` (Opus packet over MAX_PACKET_BYTES)."""
    if len(data) <= HEADER.size:
        raise BadPacket("bad_message", "An audio packet is kind, seq, timestamp, then 1 to 400 bytes of Opus.")
    kind, seq, timestamp = HEADER.unpack_from(data)
    if kind != KIND_OPUS:
        raise BadPacket("bad_message", "Unknown packet kind.")
    if len(data) - HEADER.size > MAX_PACKET_BYTES:
        raise BadPacket("packet_too_big", f"An Opus packet is at most {MAX_PACKET_BYTES} bytes.")
    return seq, timestamp, data[HEADER.size:]


def relayed(slot: int, data: bytes) -> bytes:
    """The listener's form of a client packet already parsed: the speaker slot inserted after the kind byte."""
    return bytes((KIND_OPUS, slot)) + data[1:]


def parse_relayed(payload: bytes) -> tuple[int, int, int, bytes] | None:
    """A listener's (or the bus's) packet -> (slot, seq, timestamp, opus); None when it is not one."""
    if len(payload) <= RELAYED.size or len(payload) - RELAYED.size > MAX_PACKET_BYTES:
        return None
    kind, slot, seq, timestamp = RELAYED.unpack_from(payload)
    if kind != KIND_OPUS or slot not in (SLOT_STAFF, SLOT_FLOOR):
        return None
    return slot, seq, timestamp, payload[RELAYED.size:]


def text_frame(message: dict[str, Any]) -> bytes:
    return ws_frame(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode(), TEXT)


def welcome(can_speak: bool, speaker: dict[str, Any] | None, recording: bool) -> dict[str, Any]:
    return {"type": "audio_welcome", "audio": AUDIO_VERSION, "codec": "opus", "sampleRate": 48000, "channels": 1,
            "frameMs": 20, "maxPacketBytes": MAX_PACKET_BYTES, "maxPacketsPerSecond": PACKETS_PER_SECOND,
            "canSpeak": can_speak, "speaker": speaker, "recording": recording}


class TokenBucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, time.monotonic()

    def allow(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass(eq=False)
class Peer:
    """One audio connection: a listener, and a speaker while it may speak. Writes go straight to its transport."""

    ws: web.WebSocketResponse
    transport: asyncio.WriteTransport | None
    handle: str
    staff: Staff | None = None
    can_speak: bool = False
    speaking: str | None = None  # the voice id announced while it speaks
    last_packet: float = 0.0  # monotonic
    backlog: deque[bytes] = field(default_factory=lambda: deque(maxlen=QUEUE_PACKETS))
    dropped: int = 0  # audio frames dropped for this listener (its queue was full)
    sent_bytes: int = 0
    bucket: TokenBucket = field(default_factory=lambda: TokenBucket(PACKETS_PER_SECOND, PACKET_BURST))
    mic_bucket: TokenBucket = field(default_factory=lambda: TokenBucket(MIC_PER_SECOND, MIC_BURST))
    errors_at: dict[str, float] = field(default_factory=dict)
    silence_timer: asyncio.TimerHandle | None = None
    held_until: float = 0.0  # the `until` of the floor it last held: tells a floor that ran out from one taken back
    closing: bool = False
    close_task: asyncio.Task[None] | None = None  # the server's close, awaited by the handler before it returns

    def write(self, frame: bytes) -> None:
        """A control frame: written now, whatever the socket holds (unless it holds so much its client is gone)."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if transport.get_write_buffer_size() > STUCK_BYTES:
            self.transport = None
            transport.abort()  # close() would wait for the buffer to drain, which a stuck client never does
            return
        self.sent_bytes += len(frame)
        transport.write(frame)

    def send(self, message: dict[str, Any]) -> None:
        self.write(text_frame(message))

    def offer_audio(self, frame: bytes) -> bool:
        """An audio frame: written now if the socket keeps up, else queued (oldest dropped). True when it must be
        flushed later."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        if not self.backlog and transport.get_write_buffer_size() <= HIGH_WATER:
            self.sent_bytes += len(frame)
            transport.write(frame)
            return False
        if len(self.backlog) == QUEUE_PACKETS:
            self.dropped += 1  # the deque drops the oldest itself
        self.backlog.append(frame)
        return True

    def flush(self) -> bool:
        """Write what waits, if the socket drained. True while something still waits."""
        transport = self.transport
        if transport is None or transport.is_closing():
            self.backlog.clear()
            return False
        if transport.get_write_buffer_size() > HIGH_WATER:
            return True
        data = b"".join(self.backlog)
        self.backlog.clear()
        self.sent_bytes += len(data)
        transport.write(data)
        return False

    def error(self, code: str, message: str, now: float, every: float = 0.0) -> None:
        if every and now - self.errors_at.get(code, -every) < every:
            return
        self.errors_at[code] = now
        self.send({"type": "error", "code": code, "message": message})


Tap = Callable[[int, int, int, bytes], None]


@dataclass(eq=False)
class TapHandle:
    event_id: int
    callback: Tap


@dataclass
class Voice:
    slot: int
    speaker: dict[str, Any]
    started: float  # monotonic


@dataclass(eq=False)
class Stage:
    """One event's audio on this process: its connections, taps, and what decides who may speak."""

    event_id: int
    state: str = "scheduled"
    floor: dict[str, Any] | None = None
    duties: dict[str, list[str]] = field(default_factory=dict)  # the event's `staff`
    peers: set[Peer] = field(default_factory=set)
    taps: set[TapHandle] = field(default_factory=set)
    subscriptions: list[Subscription] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    voices: dict[str, Voice] = field(default_factory=dict)  # voice id -> who, in the order they started
    heard: dict[int, float] = field(default_factory=dict)  # slot -> monotonic time of its last packet here
    announced: dict[str, Any] | None = None  # the speaker the listeners were last told of
    recording: bool = False
    backlogged: set[Peer] = field(default_factory=set)
    flush_timer: asyncio.TimerHandle | None = None
    floor_timer: asyncio.TimerHandle | None = None
    sweep_timer: asyncio.TimerHandle | None = None
    refreshing: asyncio.Task[None] | None = None
    publishing: int = 0  # packets on their way to the bus (waiting in `outbox`, or being published)
    outbox: deque[bytes] = field(default_factory=deque)
    publisher: asyncio.Task[None] | None = None
    bus_dropped: int = 0  # packets the bus could not take (it was stuck)

    def load(self, event: dict[str, Any]) -> None:
        self.state = event["state"]
        floor = event.get("floor")
        self.floor = {k: floor[k] for k in ("handle", "name", "until")} if floor else None
        self.duties = dict(event.get("staff") or {})
        self.recording = bool(event.get("recording"))

    def speaker(self) -> dict[str, Any] | None:
        """The voice heard now: the last one that started among those still speaking."""
        if not self.voices:
            return None
        return next(reversed(self.voices.values())).speaker


class AudioHub:
    """Stage audio of every event with audio connections (or taps) on this process."""

    def __init__(self, bus: Bus, service: EventService, metrics: Metrics | None = None) -> None:
        self.bus, self.service = bus, service
        self.stages: dict[int, Stage] = {}
        self._voice_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.packets_relayed = 0
        self.gone_listener_drops = 0  # drops of connections that left (those open still count their own)
        self.gone_bus_drops = 0  # bus drops of stages released
        if metrics is not None:
            metrics.watch_audio(self.figures)

    def figures(self) -> AudioFigures:
        """What /metrics shows, counted when it is read."""
        peers = [peer for stage in self.stages.values() for peer in stage.peers]
        return AudioFigures(
            listeners=len(peers), packets_relayed=self.packets_relayed,
            listener_drops=self.gone_listener_drops + sum(peer.dropped for peer in peers),
            bus_drops=self.gone_bus_drops + sum(stage.bus_dropped for stage in self.stages.values()))

    # --- rights -------------------------------------------------------------------------------------------------

    def staff_right(self, stage: Stage, peer: Peer) -> bool:
        return peer.staff is not None and bool(duties_of({"staff": stage.duties}, peer.staff) & SPEAKING_ROLES)

    def may_speak(self, stage: Stage, peer: Peer) -> bool:
        if stage.state != "live":
            return False
        if self.staff_right(stage, peer):
            return True
        floor = stage.floor
        return floor is not None and floor["handle"] == peer.handle and floor["until"] > self.service.clock()

    def slot_of(self, stage: Stage, peer: Peer) -> int:
        return SLOT_STAFF if self.staff_right(stage, peer) else SLOT_FLOOR

    def speaker_of(self, stage: Stage, peer: Peer) -> dict[str, Any]:
        if self.staff_right(stage, peer):
            role = "chair" if "chair" in duties_of({"staff": stage.duties}, cast(Staff, peer.staff)) else "host"
            return {"handle": None, "name": "", "role": role}  # staff usernames are never public
        floor = stage.floor or {}
        return {"handle": peer.handle, "name": floor.get("name", ""), "role": "floor"}

    # --- joining and leaving ------------------------------------------------------------------------------------

    async def _stage(self, event_id: int) -> Stage:
        """The event's stage, subscribed to its two topics (created on first use)."""
        stage = self.stages.get(event_id)
        if stage is not None:
            await stage.ready.wait()
            if self.stages.get(event_id) is not stage:  # its creation failed: the event went
                raise not_found()
            return stage
        stage = self.stages[event_id] = Stage(event_id)
        pubsub = self.bus.pubsub
        try:
            stage.subscriptions.append(await pubsub.subscribe(
                topic(event_id), lambda message: self._event_message(stage, message)))
            stage.subscriptions.append(await pubsub.subscribe(
                audio_topic(event_id), lambda message: self._audio_message(stage, message),
                lambda sender, payload: self._remote_packet(stage, payload)))
            # Read after subscribing: a change published meanwhile is then in what is read, or on its way.
            stage.load(await self.service.event(event_id))
            self._time_floor(stage)
        except BaseException:
            del self.stages[event_id]
            for subscription in stage.subscriptions:
                await pubsub.unsubscribe(subscription)
            raise
        finally:
            stage.ready.set()
        return stage

    async def join(self, event_id: int, peer: Peer) -> Stage:
        """Add a connection to its event's stage, after its welcome (nothing reaches it before)."""
        stage = await self._stage(event_id)
        peer.can_speak = self.may_speak(stage, peer)
        if peer.can_speak and stage.floor is not None and stage.floor["handle"] == peer.handle:
            peer.held_until = float(stage.floor["until"])
        peer.send(welcome(peer.can_speak, stage.speaker(), stage.recording))
        stage.peers.add(peer)
        if stage.state not in ATTENDABLE:  # it ended between the handler's read and this stage's
            self._close(stage, peer, CLOSE_ENDED, "ended")
        return stage

    async def leave(self, stage: Stage, peer: Peer) -> None:
        self._stop_speaking(stage, peer)
        peer.transport = None
        if peer in stage.peers:
            self.gone_listener_drops += peer.dropped
        stage.peers.discard(peer)
        stage.backlogged.discard(peer)
        await self._release(stage)

    async def _release(self, stage: Stage) -> None:
        if stage.peers or stage.taps or self.stages.get(stage.event_id) is not stage:
            return
        del self.stages[stage.event_id]
        self.gone_bus_drops += stage.bus_dropped
        for timer in (stage.flush_timer, stage.floor_timer, stage.sweep_timer):
            if timer is not None:
                timer.cancel()
        if stage.refreshing is not None:
            stage.refreshing.cancel()
        for subscription in stage.subscriptions:
            await self.bus.pubsub.unsubscribe(subscription)

    # --- the recorder's interface (kept stable: server/events/recording.py codes against it) -------------------

    async def tap(self, event_id: int, callback: Tap) -> TapHandle:
        """`callback(speaker_slot, seq, timestamp, opus_bytes)` for every packet of the event this process sees,
        from local speakers and from the bus, until `untap`. 404 ApiError when there is no such event."""
        stage = await self._stage(event_id)
        handle = TapHandle(event_id, callback)
        stage.taps.add(handle)
        return handle

    async def untap(self, handle: TapHandle) -> None:
        stage = self.stages.get(handle.event_id)
        if stage is not None and handle in stage.taps:
            stage.taps.discard(handle)
            await self._release(stage)

    async def recording(self, event_id: int, on: bool) -> None:
        """Tell every listener of the event, on every process, that recording is on (or off). (The event's
        `recording` flag, in the store and in `state` messages, says the same to processes that open later.)"""
        await self.bus.pubsub.publish(audio_topic(event_id), {"type": "recording", "recording": on}, local=True)

    # --- packets ------------------------------------------------------------------------------------------------

    async def speak(self, stage: Stage, peer: Peer, data: bytes) -> bool:
        """A binary message from a connection: checked, then relayed here and published once to the others.
        False when it was malformed (it counts as a bad message)."""
        now = time.monotonic()
        try:
            parse_packet(data)
        except BadPacket as bad:
            peer.error(bad.code, bad.message, now)
            return False
        if not self.may_speak(stage, peer):
            if peer.can_speak:  # its right ran out before any message said so: the floor's `until` passed
                self._update_rights(stage)
            peer.error("not_allowed", "You may not speak now.", now, every=ERROR_EVERY)
            return True
        if not peer.bucket.allow(now):
            peer.error("rate_limited", f"At most {PACKETS_PER_SECOND} packets a second.", now, every=ERROR_EVERY)
            return True
        slot = self.slot_of(stage, peer)
        peer.last_packet = now
        if peer.speaking is None:
            self._start_speaking(stage, peer)
        payload = relayed(slot, data)
        self._fan_out(stage, payload, slot, data[HEADER.size:], data, sender=peer)
        self._publish_packet(stage, payload)
        return True

    def _publish_packet(self, stage: Stage, payload: bytes) -> None:
        """One bus publish, not awaited by the speaker's socket: a slow bus delays neither this process's
        listeners nor the next packet. One task per stage publishes in order; at most BUS_IN_FLIGHT packets wait
        for a stuck bus, more are dropped (for the other processes only)."""
        if stage.publishing >= BUS_IN_FLIGHT:
            stage.bus_dropped += 1
            return
        stage.publishing += 1
        stage.outbox.append(payload)
        if stage.publisher is None:
            stage.publisher = asyncio.ensure_future(self._publish_in_order(stage))

    async def _publish_in_order(self, stage: Stage) -> None:
        try:
            while stage.outbox:
                payload = stage.outbox.popleft()
                try:
                    await self.bus.pubsub.publish_poses(audio_topic(stage.event_id), payload)
                finally:
                    stage.publishing -= 1
        finally:
            stage.publisher = None

    def _remote_packet(self, stage: Stage, payload: bytes) -> None:
        parsed = parse_relayed(payload)
        if parsed is not None:
            slot, seq, timestamp, opus = parsed
            self._fan_out(stage, payload, slot, opus, None, sender=None, seq=seq, timestamp=timestamp)

    def _fan_out(self, stage: Stage, payload: bytes, slot: int, opus: bytes, data: bytes | None,
                 sender: Peer | None, seq: int = 0, timestamp: int = 0) -> None:
        frame = ws_frame(payload)  # built once, written to every listener
        self.packets_relayed += 1
        stage.heard[slot] = time.monotonic()
        backlogged = False
        for peer in stage.peers:
            if peer is not sender and peer.offer_audio(frame):
                stage.backlogged.add(peer)
                backlogged = True
        if backlogged and stage.flush_timer is None:
            stage.flush_timer = asyncio.get_running_loop().call_later(FLUSH_EVERY, self._flush, stage)
        if stage.taps:
            if data is not None:
                _, seq, timestamp = HEADER.unpack_from(data)
            for handle in list(stage.taps):
                try:
                    handle.callback(slot, seq, timestamp, opus)
                except Exception:
                    log.exception("audio tap failed")

    def _flush(self, stage: Stage) -> None:
        stage.flush_timer = None
        stage.backlogged = {peer for peer in stage.backlogged if peer.flush()}
        if stage.backlogged:
            stage.flush_timer = asyncio.get_running_loop().call_later(FLUSH_EVERY, self._flush, stage)

    # --- who is speaking ---------------------------------------------------------------------------------------

    def mic(self, stage: Stage, peer: Peer, on: bool) -> None:
        """A `mic` on or off. Over MIC_PER_SECOND (burst MIC_BURST) it is dropped: a connection flipping its mic
        would otherwise send a `speaker` message to every listener each time."""
        now = time.monotonic()
        if not peer.mic_bucket.allow(now):
            peer.error("rate_limited", f"At most {MIC_PER_SECOND} mic messages a second.", now, every=ERROR_EVERY)
            return
        if not on:
            self._stop_speaking(stage, peer)
        elif not self.may_speak(stage, peer):
            peer.error("not_allowed", "You may not speak now.", now)
        elif peer.speaking is None:
            peer.last_packet = now
            self._start_speaking(stage, peer)

    def _start_speaking(self, stage: Stage, peer: Peer) -> None:
        peer.speaking = f"{self.bus.node_id}:{next(self._voice_ids)}"
        self._publish(stage, {"type": "speaker", "voice": peer.speaking, "slot": self.slot_of(stage, peer),
                              "speaker": self.speaker_of(stage, peer)})
        peer.silence_timer = asyncio.get_running_loop().call_later(SILENCE, self._silence, stage, peer)

    def _silence(self, stage: Stage, peer: Peer) -> None:
        quiet = time.monotonic() - peer.last_packet
        if quiet >= SILENCE:
            peer.silence_timer = None
            self._stop_speaking(stage, peer)
        else:
            peer.silence_timer = asyncio.get_running_loop().call_later(SILENCE - quiet, self._silence, stage, peer)

    def _stop_speaking(self, stage: Stage, peer: Peer) -> None:
        if peer.silence_timer is not None:
            peer.silence_timer.cancel()
            peer.silence_timer = None
        if peer.speaking is not None:
            voice, peer.speaking = peer.speaking, None
            self._publish(stage, {"type": "speaker", "voice": voice, "speaker": None})

    def _publish(self, stage: Stage, message: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self.bus.pubsub.publish(audio_topic(stage.event_id), message, local=True))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _audio_message(self, stage: Stage, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "speaker":
            voice, speaker, slot = message.get("voice"), message.get("speaker"), message.get("slot")
            if not isinstance(voice, str):
                return
            if isinstance(speaker, dict) and slot in (SLOT_STAFF, SLOT_FLOOR):
                stage.voices[voice] = Voice(cast(int, slot), speaker, time.monotonic())
                if stage.sweep_timer is None:
                    stage.sweep_timer = asyncio.get_running_loop().call_later(SILENCE, self._sweep, stage)
            else:
                stage.voices.pop(voice, None)
            self._announce(stage)
        elif kind == "recording":
            self._set_recording(stage, bool(message.get("recording")))
        elif kind == "resync":
            self._refresh(stage)

    def _set_recording(self, stage: Stage, on: bool) -> None:
        if on != stage.recording:
            stage.recording = on
            frame = text_frame({"type": "recording", "recording": on})
            for peer in list(stage.peers):
                peer.write(frame)

    def _announce(self, stage: Stage) -> None:
        speaker = stage.speaker()
        if speaker != stage.announced:
            stage.announced = speaker
            frame = text_frame({"type": "speaker", "speaker": speaker})
            for peer in list(stage.peers):
                peer.write(frame)

    def _sweep(self, stage: Stage) -> None:
        """Forget voices of another node that fell silent without saying so (it crashed or lost the bus)."""
        stage.sweep_timer = None
        now = time.monotonic()
        for voice, found in list(stage.voices.items()):
            if now - max(found.started, stage.heard.get(found.slot, 0.0)) > STALE_VOICE:
                del stage.voices[voice]
        self._announce(stage)
        if stage.voices:
            stage.sweep_timer = asyncio.get_running_loop().call_later(SILENCE, self._sweep, stage)

    # --- the meeting changing -------------------------------------------------------------------------------------

    def _event_message(self, stage: Stage, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "state":
            stage.state = str(message.get("state", stage.state))
            floor = message.get("floor")
            stage.floor = {k: floor[k] for k in ("handle", "name", "until")} if isinstance(floor, dict) else None
            self._time_floor(stage)
            self._update_rights(stage)
            if "recording" in message:
                self._set_recording(stage, bool(message["recording"]))
            if any(peer.staff is not None for peer in stage.peers):
                self._refresh(stage)  # duties may have changed (an edit of the event publishes `state` too)
        elif kind == "removed":
            reason = "banned" if message.get("banned") else "removed"  # removed: it may come back
            for peer in [p for p in stage.peers if p.handle == message.get("handle") and p.staff is None]:
                self._close(stage, peer, CLOSE_BANNED, reason)
        elif kind == "deleted":
            stage.state = "deleted"
            self._update_rights(stage)
        elif kind == "resync":
            self._refresh(stage)

    def _refresh(self, stage: Stage) -> None:
        """Read the event again (duties, or after messages may have been lost)."""
        if stage.refreshing is not None and not stage.refreshing.done():
            return

        async def refresh() -> None:
            try:
                event = await self.service.store.event(stage.event_id)
            except Exception:
                log.exception("audio: reading the event failed")
                return
            if event is None:
                stage.state = "deleted"
            else:
                was = stage.recording
                stage.load(event)
                stage.recording = was
                self._set_recording(stage, bool(event.get("recording")))
                self._time_floor(stage)
            self._update_rights(stage)

        stage.refreshing = asyncio.ensure_future(refresh())

    def _update_rights(self, stage: Stage) -> None:
        """Tell each connection whose right to speak changed; cut off those who lost it; close all once the
        meeting is over."""
        over = stage.state not in ATTENDABLE
        now = self.service.clock()
        for peer in list(stage.peers):
            allowed = self.may_speak(stage, peer)
            floor = stage.floor
            if allowed and floor is not None and floor["handle"] == peer.handle:
                peer.held_until = float(floor["until"])
            if allowed != peer.can_speak:
                peer.can_speak = allowed
                peer.send({"type": "can_speak", "canSpeak": allowed, "reason": self._reason(stage, peer, now)})
                if not allowed:
                    self._stop_speaking(stage, peer)
            if over:
                self._close(stage, peer, CLOSE_ENDED, "ended")

    def _reason(self, stage: Stage, peer: Peer, now: float) -> str:
        if stage.state != "live":
            return "not_live"
        if self.staff_right(stage, peer):
            return "chair"
        if peer.can_speak:
            return "floor_granted"
        return "floor_expired" if 0 < peer.held_until <= now + 0.5 else "floor_taken"

    def _time_floor(self, stage: Stage) -> None:
        """At the floor's `until`, cut its holder off here and ask the service to end it (idempotent)."""
        if stage.floor_timer is not None:
            stage.floor_timer.cancel()
            stage.floor_timer = None
        floor = stage.floor
        if floor is None:
            return
        delay = max(0.0, float(floor["until"]) - self.service.clock()) + 0.05
        stage.floor_timer = asyncio.get_running_loop().call_later(delay, self._floor_ran_out, stage)

    def _floor_ran_out(self, stage: Stage) -> None:
        stage.floor_timer = None
        self._update_rights(stage)
        task = asyncio.ensure_future(self.service.expire_floor(stage.event_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _close(self, stage: Stage, peer: Peer, code: int, reason: str) -> None:
        if peer.closing:
            return
        peer.closing = True
        self._stop_speaking(stage, peer)
        peer.transport = None  # the close frame is the last frame on the wire

        async def close() -> None:
            with contextlib.suppress(Exception):
                await peer.ws.close(code=code, message=reason.encode())

        peer.close_task = asyncio.ensure_future(close())

    async def close(self) -> None:
        """Shutdown: every audio connection closes now (1001), so clients reconnect to another process."""
        closing = []
        for stage in list(self.stages.values()):
            for peer in list(stage.peers):
                peer.closing = True
                peer.transport = None
                closing.append(peer.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server_shutdown"))
        with contextlib.suppress(Exception):
            await asyncio.gather(*closing, return_exceptions=True)
