"""Recording a meeting's stage audio (issue 11 item 4; docs/events.md "Recording"): only the chair or a host turns
it on, only while live; attendees see the flag in the live stream's `state`, the event JSON and the audio socket;
the chair's real Opus packets sent over the audio WebSocket end up in an Ogg Opus file (headers, CRCs, granule
positions, packets byte for byte) that is published only once the meeting ended, served with byte ranges, and
deleted by the retention. The timeline (silence between voices, overlapping voices, timestamps that wrap) is
checked by decoding the file with FFmpeg (PyAV) and finding each tone's frequency where it belongs.

Real parts: the app on a real SQLite file, real HTTP and WebSocket clients, real Opus from libopus (PyAV)."""

from __future__ import annotations

import asyncio
import io
import struct
from typing import Any

import av
import numpy as np
import pytest

from server.app import create_app
from server.events.ogg_opus import PRE_SKIP, SILENCE, OggOpusWriter, ogg_crc, packet_samples, read_pages
from server.events.recording import RECORDER, Timeline, install_recording
from server.keys import STORE
from server.store import SQLiteStore, store_from_url
from server.store.copy import copy_store

from .postgres_server import postgres, postgres_url  # noqa: F401  (fixtures: a real PostgreSQL)
from .test_events_api import Person, new_event, people, resident  # noqa: F401  (people: a fixture)
from .test_events_live import listen
from .test_stage_audio import joined, packet

RATE = 48000


@pytest.fixture
async def tiny_client(aiohttp_client, tiny_config):  # type: ignore[no-untyped-def]
    """The app with its recorder (create_app installs it once server/app.py calls `install_recording`)."""
    app = create_app(tiny_config)
    if RECORDER not in app:
        install_recording(app)
    return await aiohttp_client(app)


def tone_packets(frequency: float, seconds: float) -> list[bytes]:
    """Real Opus packets (libopus through PyAV: mono, 48 kHz, 20 ms frames) of a sine tone."""
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format, codec.bit_rate = RATE, "mono", "s16", 24000
    codec.options = {"frame_duration": "20", "application": "audio"}
    codec.open()
    n = int(seconds * RATE)
    pcm = (np.sin(2 * np.pi * frequency * np.arange(n) / RATE) * 12000).astype(np.int16)
    out: list[bytes] = []
    for start in range(0, n, 960):
        frame = av.AudioFrame.from_ndarray(pcm[None, start:start + 960], format="s16", layout="mono")
        frame.sample_rate, frame.pts = RATE, start
        out += [bytes(p) for p in codec.encode(frame)]
    out += [bytes(p) for p in codec.encode(None)]
    return out[:n // 960]


def decode(data: bytes) -> np.ndarray:
    """The Ogg Opus file decoded by FFmpeg (pre-skip applied), mono float samples."""
    with av.open(io.BytesIO(data), format="ogg") as container:
        return np.concatenate([frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)])


def frequency(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * RATE / len(samples))


def check_ogg(data: bytes) -> list[bytes]:
    """Every page valid (RFC 3533 / RFC 7845): its CRC, sequence, one serial, OpusHead then OpusTags alone, granule
    positions = pre-skip + the samples of the packets so far, end of stream last. The audio packets."""
    pages = list(read_pages(data))
    assert all(p.crc_ok for p in pages)
    assert [p.sequence for p in pages] == list(range(len(pages)))
    assert len({p.serial for p in pages}) == 1
    head, tags = pages[0], pages[1]
    assert head.flags == 0x02 and head.granule == 0 and len(head.packets) == 1
    version, channels, pre_skip, rate, gain, family = struct.unpack("<BBHIhB", head.packets[0][8:])
    assert head.packets[0][:8] == b"OpusHead" and (version, channels, pre_skip, rate, gain, family) == (
        1, 1, PRE_SKIP, RATE, 0, 0)
    assert tags.flags == 0 and tags.granule == 0 and tags.packets[0].startswith(b"OpusTags")
    assert pages[-1].flags == 0x04 and not any(p.flags & 0x04 for p in pages[:-1])
    packets, samples = [], 0
    for page in pages[2:]:
        assert not page.continued_last and page.packets
        packets += page.packets
        samples += sum(packet_samples(p) for p in page.packets)
        assert page.granule == PRE_SKIP + samples
    return packets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_ogg_crc_is_the_one_of_rfc_3533() -> None:
    # CRC-32/MPEG-2 without its initial value and final XOR: the check value of "123456789" is 0x89A1897F.
    assert ogg_crc(b"123456789") == 0x89A1897F
    assert ogg_crc(b"") == 0


def test_opus_packet_durations_come_from_the_toc_byte() -> None:
    assert packet_samples(SILENCE) == 960  # CELT fullband 20 ms
    assert packet_samples(bytes([0x08])) == 960  # SILK NB 20 ms
    assert packet_samples(bytes([0x09])) == 1920  # two frames of 20 ms (code 1)
    assert packet_samples(bytes([0xFB, 0x03])) == 2880  # code 3: three frames of 20 ms
    assert packet_samples(bytes([0x18])) == 2880  # SILK NB 60 ms
    assert packet_samples(b"") == 0 and packet_samples(bytes([0x0B])) == 0  # empty; code 3 without its count


def test_voices_silences_and_overlaps_land_on_the_wall_clock_timeline() -> None:
    """1 s of 440 Hz from the chair, 1 s of nobody, 1 s of 880 Hz from the floor holder (its timestamps wrap past
    2^32 while the chair's 5 packets overlap it and are dropped), 0.5 s of nobody: decoded, each where it was."""
    clock = Clock()
    out = io.BytesIO()
    writer = OggOpusWriter(out, 0x1234, ["TITLE=Council"])
    timeline = Timeline(writer, clock)
    chair, floor = tone_packets(440, 1.0), tone_packets(880, 1.0)
    start = 1000.0
    for i, opus in enumerate(chair):
        clock.now = start + 0.02 * i + (0.013 if i % 3 else 0.0)  # network jitter does not move a packet
        timeline.packet(0, 5000 + 960 * i, opus)
    clock.now = start + 2.0
    timeline.tick()
    wrap = 2**32 - 960 * 10
    for i, opus in enumerate(floor):
        clock.now = start + 2.0 + 0.02 * i
        timeline.packet(1, (wrap + 960 * i) % 2**32, opus)
        if 20 <= i < 25:
            timeline.packet(0, 5000 + 960 * (100 + i), chair[i])  # the chair speaks over the floor holder
    clock.now = start + 3.5
    timeline.fill(timeline.now())
    writer.close()
    assert timeline.overlapped == 5
    data = out.getvalue()
    packets = check_ogg(data)
    silence = [p for p in packets if p == SILENCE]
    assert [p for p in packets if p != SILENCE] == chair + floor
    assert len(silence) == 50 + 25 and writer.samples == int(3.5 * RATE)
    pcm = decode(data)
    assert abs(len(pcm) - 3.5 * RATE) <= 960

    def part(a: float, b: float) -> np.ndarray:
        return pcm[int(a * RATE):int(b * RATE)]

    assert abs(frequency(part(0.2, 0.8)) - 440) < 5
    assert np.sqrt(np.mean(part(1.2, 1.8) ** 2)) < 1e-3
    assert abs(frequency(part(2.2, 2.8)) - 880) < 5
    assert np.sqrt(np.mean(part(3.1, 3.5) ** 2)) < 1e-3
    assert np.sqrt(np.mean(part(0.2, 0.8) ** 2)) > 0.1  # the tone itself, not near-silence


async def turn(person: Person, event_id: int, on: bool) -> tuple[int, Any]:
    return await person.post(f"/api/events/{event_id}/recording", {"on": on})


async def end(chair: Person, event_id: int, app: Any) -> None:
    """End the meeting and wait until its writer stored the recording (it hears the end on the bus)."""
    session = app[RECORDER].sessions.get(event_id)
    status, body = await chair.post(f"/api/events/{event_id}/state", {"to": "ended"})
    assert status == 200, body
    if session is not None:
        await asyncio.wait_for(session.finished, 10)


async def fetch(person: Person, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    async with person.session.get(f"{person.base}{path}", headers=headers or {}) as response:
        return response.status, await response.read(), response.headers


async def test_only_the_chair_or_a_host_records_and_only_while_live(people):  # noqa: F811
    event_id, host = await new_event(people, "open")
    chair = await people("chloe")
    moderator = await people("mo")
    status, body = await turn(chair, event_id, True)
    assert status == 409 and body["error"]["code"] == "event_not_live"
    assert (await chair.post(f"/api/events/{event_id}/state", {"to": "live"}))[0] == 200
    status, body = await turn(moderator, event_id, True)
    assert status == 403 and body["error"]["code"] == "forbidden"
    ann, _ = await resident(people, event_id)
    assert (await turn(ann, event_id, True))[0] == 401
    assert (await chair.post(f"/api/events/{event_id}/recording", {"on": True}, csrf=False))[0] == 403
    assert (await chair.post(f"/api/events/{event_id}/recording", {"on": True, "x": 1}))[0] == 422
    assert (await turn(chair, 999999, True))[0] == 404
    status, event = await ann.get(f"/api/events/{event_id}")
    assert event["recording"] is False and event["recordings"] == []
    status, event = await turn(host, event_id, True)  # a host may
    assert status == 200 and event["recording"] is True
    assert (await turn(chair, event_id, True))[0] == 200  # on again: nothing changes
    rows = await people.store.recordings(event_id)
    assert len(rows) == 1 and rows[0]["ended_at"] is None
    status, event = await turn(chair, event_id, False)
    assert status == 200 and event["recording"] is False
    [row] = await people.store.recordings(event_id)
    assert row["stored"] and row["ended_at"] is not None
    actions = [entry["action"] for entry in await people.store.audit(limit=20)]
    assert {"event.recording_on", "event.recording_off", "event.recording_stored"} <= set(actions)


async def test_the_chairs_packets_are_recorded_and_published_once_the_meeting_ended(people, tiny_client):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    ann, _ = await resident(people, event_id)
    stream = await listen(ann, event_id)
    assert (await stream.next("state"))["recording"] is False
    speaker, _ = await joined(chair, event_id)
    listener, welcome = await joined(ann, event_id)
    assert welcome["recording"] is False
    status, event = await turn(chair, event_id, True)
    assert status == 200 and event["recording"] is True
    assert (await stream.next("state", where=lambda s: s["recording"]))["recording"] is True
    assert await listener.json("recording") == {"type": "recording", "recording": True}
    late, welcome = await joined(await people(), event_id)  # who comes later is told at once
    assert welcome["recording"] is True
    sent = tone_packets(440, 0.4)  # 20 packets: within the speaker's burst of 25
    for seq, opus in enumerate(sent):
        await speaker.send(packet(seq, opus))
    for _ in sent:  # the listener heard them all: the recorder's tap, called in the same fan-out, has them too
        await listener.binary()
    status, body, _ = await fetch(ann, f"/events/{event_id}/recording.ogg")
    assert status == 404 and b"recording_not_published" in body
    assert (await chair.post(f"/api/events/{event_id}/state", {"to": "ended"}))[0] == 200  # stops the recording
    assert (await stream.next("state", where=lambda s: not s["recording"]))["recording"] is False
    await stream.response.release()
    status, event = await ann.get(f"/api/events/{event_id}")
    [published] = event["recordings"]
    assert event["recording"] is False and published["url"] == f"/events/{event_id}/recording.ogg"
    status, data, headers = await fetch(ann, published["url"])
    assert status == 200 and headers["Content-Type"] == "audio/ogg" and len(data) == published["bytes"]
    packets = check_ogg(data)
    assert [p for p in packets if p != SILENCE] == sent
    assert published["seconds"] == pytest.approx(sum(packet_samples(p) for p in packets) / RATE)
    pcm = decode(data)
    voiced = np.flatnonzero(np.abs(pcm) > 0.05)
    assert abs(frequency(pcm[voiced[0] + 2400:voiced[0] + 2400 + 9600]) - 440) < 5
    # Byte ranges: a player seeks.
    status, part, headers = await fetch(ann, published["url"], {"Range": "bytes=100-199"})
    assert status == 206 and part == data[100:200] and headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    status, part, _ = await fetch(ann, published["url"], {"Range": "bytes=-50"})
    assert status == 206 and part == data[-50:]
    status, _, headers = await fetch(ann, published["url"], {"Range": f"bytes={len(data)}-"})
    assert status == 416
    assert (await fetch(ann, published["url"] + "?part=2"))[0] == 404
    assert (await fetch(ann, published["url"] + "?part=0"))[0] == 422
    # Nothing is left in the data directory: the file lives in the store.
    assert not list((tiny_client.server.app[RECORDER].directory).glob("*.ogg"))
    for client in (speaker, listener, late):
        await client.ws.close()


async def test_a_file_larger_than_a_chunk_is_served_whole_and_by_ranges_across_chunks(people, tiny_client,  # noqa: F811
                                                                                       monkeypatch):
    from server.api import event_recording
    from server.store import recordings_sql

    monkeypatch.setattr(recordings_sql, "CHUNK_BYTES", 100)  # stored in chunks of 100 bytes
    monkeypatch.setattr(event_recording, "CHUNK_BYTES", 100)
    monkeypatch.setattr("server.events.recording.CHUNK_BYTES", 100)
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    speaker, _ = await joined(chair, event_id)
    listener, _ = await joined(await people(), event_id)
    await turn(chair, event_id, True)
    sent = tone_packets(660, 0.3)
    for seq, opus in enumerate(sent):
        await speaker.send(packet(seq, opus))
    for _ in sent:
        await listener.binary()
    await end(chair, event_id, tiny_client.server.app)
    [row] = await people.store.recordings(event_id)
    assert row["bytes"] > 300 and await people.store.recording_chunk(row["id"], row["bytes"] // 100) is not None
    status, data, _ = await fetch(chair, f"/events/{event_id}/recording.ogg")
    assert status == 200 and len(data) == row["bytes"]
    assert [p for p in check_ogg(data) if p != SILENCE] == sent
    status, part, _ = await fetch(chair, f"/events/{event_id}/recording.ogg", {"Range": "bytes=150-349"})
    assert status == 206 and part == data[150:350]
    await speaker.ws.close()
    await listener.ws.close()


async def test_the_retention_deletes_recordings_older_than_the_setting_and_says_so(people, tiny_client):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    await turn(chair, event_id, True)
    await turn(chair, event_id, False)
    await turn(chair, event_id, True)  # a second recording of the same meeting: ?part=2
    await end(chair, event_id, tiny_client.server.app)
    status, event = await chair.get(f"/api/events/{event_id}")
    assert [r["url"] for r in event["recordings"]] == [f"/events/{event_id}/recording.ogg",
                                                       f"/events/{event_id}/recording.ogg?part=2"]
    assert (await fetch(chair, f"/events/{event_id}/recording.ogg?part=2"))[0] == 200
    recorder = tiny_client.server.app[RECORDER]
    ended = (await tiny_client.server.app[STORE].event(event_id))["ended_at"]
    recorder.keep_days = 30
    recorder.clock = lambda: ended + 29 * 86400
    assert await recorder.apply_retention() == 0
    assert (await fetch(chair, f"/events/{event_id}/recording.ogg"))[0] == 200
    recorder.clock = lambda: ended + 31 * 86400
    assert await recorder.apply_retention() == 2
    status, body, _ = await fetch(chair, f"/events/{event_id}/recording.ogg")
    assert status == 404 and b"recording_not_published" in body
    assert (await chair.get(f"/api/events/{event_id}"))[1]["recordings"] == []
    assert await people.store.recordings(event_id) == []
    assert (await people.store.counts())["event_recording_chunks"] == 0
    deletions = [e for e in await people.store.audit(limit=50) if e["action"] == "event.recording_delete"]
    assert len(deletions) == 2 and all(e["actor"] == "system" for e in deletions)
    assert await recorder.apply_retention() == 0


async def test_archiving_keeps_the_recording(people, tiny_client):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    await turn(chair, event_id, True)
    await end(chair, event_id, tiny_client.server.app)
    assert (await chair.post(f"/api/events/{event_id}/state", {"to": "archived"}))[0] == 200
    assert (await fetch(chair, f"/events/{event_id}/recording.ogg"))[0] == 200


async def test_deleting_the_meeting_stops_its_recording(people, tiny_client):  # noqa: F811
    event_id, host = await new_event(people, "live")
    chair = await people("chloe")
    await turn(chair, event_id, True)
    recorder = tiny_client.server.app[RECORDER]
    session = recorder.sessions[event_id]
    version = (await host.get(f"/api/events/{event_id}"))[1]["version"]
    assert (await host.call("DELETE", f"/api/events/{event_id}?version={version}"))[0] == 200
    await asyncio.wait_for(session.finished, 5)  # the writer heard the deletion and finished by itself
    assert event_id not in recorder.sessions
    [row] = await people.store.recordings(event_id)
    assert row["ended_at"] is not None and row["stored"]


@pytest.fixture(params=["sqlite", "postgresql"])
async def both_stores(request, tmp_path):  # type: ignore[no-untyped-def]
    """The recordings' store contract on both implementations (PostgreSQL: a real server, tests/postgres_server)."""
    if request.param == "sqlite":
        store = SQLiteStore(tmp_path / "civic.sqlite3")
    else:
        store = store_from_url(request.getfixturevalue("postgres_url"))
    await store.open()
    yield store
    await store.close()


async def test_the_store_opens_one_recording_at_a_time_keeps_its_bytes_and_deletes_them(both_stores):
    store = both_stores
    event = await store.create_event({"scene": "tiny", "title": {"en": "Council"}, "starts_at": 1.0}, "hana")
    assert await store.start_recording(event["id"], "a", "chloe") is None  # not live
    await store.set_event_live(event["id"], {"state": "live"}, "chloe", "event.start")
    row = await store.start_recording(event["id"], "a", "chloe")
    assert row is not None and row["ended_at"] is None and not row["stored"]
    assert await store.start_recording(event["id"], "b", "chloe") is None  # one at a time, whichever process asks
    assert (await store.event(event["id"]))["recording"] == 1
    data = bytes(range(256)) * 5
    for position in range(3):
        await store.add_recording_chunk(row["id"], position, data[position * 500:(position + 1) * 500])
    finished = await store.finish_recording(row["id"], 1.5, 75, len(data), True)
    assert finished is not None and finished["stored"] and finished["bytes"] == len(data)
    assert await store.finish_recording(row["id"], 1.5, 75, len(data), True) is None
    assert (await store.event(event["id"]))["recording"] == 0
    assert b"".join([await store.recording_chunk(row["id"], p) or b"" for p in range(3)]) == data
    assert await store.expired_recordings(2**40) == []  # the meeting has not ended
    await store.set_event_live(event["id"], {"state": "ended"}, "chloe", "event.end")
    assert [r["id"] for r in await store.expired_recordings(2**40)] == [row["id"]]
    assert await store.expired_recordings(0) == []
    assert await store.delete_recording(row["id"], "system", "kept 0 days") is True
    assert await store.delete_recording(row["id"], "system", "kept 0 days") is False
    assert await store.recording_chunk(row["id"], 0) is None and await store.recordings(event["id"]) == []


async def test_store_copy_moves_recordings_to_postgresql_byte_for_byte(tmp_path, postgres_url):  # noqa: F811
    source = SQLiteStore(tmp_path / "civic.sqlite3")
    await source.open()
    target = store_from_url(postgres_url)
    await target.open()
    try:
        event = await source.create_event({"scene": "tiny", "title": {"en": "Council"}, "starts_at": 1.0}, "hana")
        await source.set_event_live(event["id"], {"state": "live"}, "chloe", "event.start")
        row = await source.start_recording(event["id"], "a", "chloe")
        assert row is not None
        await source.add_recording_chunk(row["id"], 0, bytes(range(256)))
        await source.finish_recording(row["id"], 0.02, 1, 256, True)
        counts = await copy_store(source, target)
        assert counts["event_recordings"] == 1 and counts["event_recording_chunks"] == 1
        assert await target.recording_chunk(row["id"], 0) == bytes(range(256))
        assert (await target.recordings(event["id"]))[0]["stored"] is True
    finally:
        await source.close()
        await target.close()


async def test_a_recording_on_one_process_hears_a_speaker_on_another_and_stops_from_there(
        people, tiny_config, aiohttp_client, monkeypatch):  # noqa: F811
    """Two apps on one bus (the in-process hub standing for Redis) and one store: the chair turns recording on
    through process A, speaks into process B, and turns it off through B; A's writer has every packet and
    stores the file, which B serves."""
    import aiohttp

    from server import app as app_module
    from server.bus import InProcessBus, InProcessHub

    from .test_events_api import PASSWORD

    shared = InProcessHub()
    names = iter(["a", "b"])
    monkeypatch.setattr(app_module, "make_bus", lambda config: InProcessBus(shared, next(names)))
    apps = []
    for _ in range(2):
        app = create_app(tiny_config)
        if RECORDER not in app:
            install_recording(app)
        apps.append(app)
    a, b = [await aiohttp_client(app) for app in apps]
    base_b = str(b.make_url("")).rstrip("/")
    event_id, _ = await new_event(people, "live")  # `people` talk to the first app's own test server
    chair_a = await people("chloe")  # through A (the fixture's own app is a third process on its own bus: unused)
    chair_a.base = str(a.make_url("")).rstrip("/")
    status, body = await chair_a.call("POST", "/api/auth/login", {"username": "chloe", "password": PASSWORD})
    assert status == 200, body
    chair_a.csrf = body["csrf"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        chair_b = Person(session, base_b)
        status, body = await chair_b.call("POST", "/api/auth/login", {"username": "chloe", "password": PASSWORD})
        assert status == 200, body
        chair_b.csrf = body["csrf"]
        listener_person = Person(aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)), base_b)
        try:
            assert (await turn(chair_a, event_id, True))[0] == 200
            session_a = apps[0][RECORDER].sessions[event_id]
            speaker, welcome = await joined(chair_b, event_id)
            listener, _ = await joined(listener_person, event_id)
            if not welcome["recording"]:  # B's stage asked A over the bus and is told just after the welcome
                assert (await speaker.json("recording"))["recording"] is True
            sent = tone_packets(550, 0.3)
            for seq, opus in enumerate(sent):
                await speaker.send(packet(seq, opus))
            for _ in sent:
                await listener.binary()
            assert (await turn(chair_b, event_id, False))[0] == 200
            await asyncio.wait_for(session_a.finished, 10)  # A heard "off" from B and stored the file
            assert not apps[1][RECORDER].sessions
            assert (await chair_b.post(f"/api/events/{event_id}/state", {"to": "ended"}))[0] == 200
            status, data, _ = await fetch(chair_b, f"/events/{event_id}/recording.ogg")
            assert status == 200
            assert [p for p in check_ogg(data) if p != SILENCE] == sent
            await speaker.ws.close()
            await listener.ws.close()
        finally:
            await listener_person.session.close()


async def test_a_recording_whose_writer_crashed_is_closed_unpublished_an_hour_after_the_end(people, tiny_client):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    await turn(chair, event_id, True)
    recorder = tiny_client.server.app[RECORDER]
    session = recorder.sessions.pop(event_id)  # the writer "crashes": it never hears of the end
    await recorder.bus.pubsub.unsubscribe(session.subscription)
    session.ticker.cancel()
    await chair.post(f"/api/events/{event_id}/state", {"to": "ended"})
    assert (await chair.get(f"/api/events/{event_id}"))[1]["recording"] is True
    ended = (await tiny_client.server.app[STORE].event(event_id))["ended_at"]
    recorder.clock = lambda: ended + 1800
    await recorder.apply_retention()
    assert (await people.store.recordings(event_id))[0]["ended_at"] is None  # within the hour: left alone
    recorder.clock = lambda: ended + 3700
    assert await recorder.apply_retention() == 0
    [row] = await people.store.recordings(event_id)
    assert row["ended_at"] is not None and not row["stored"] and not session.path.exists()
    assert (await chair.get(f"/api/events/{event_id}"))[1]["recording"] is False
    assert (await fetch(chair, f"/events/{event_id}/recording.ogg"))[0] == 404
    await recorder.hub.untap(session.tap)
    session.file.close()
