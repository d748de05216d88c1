"""Stage audio (issue 11; docs/protocol.md "Stage audio"): the audio WebSocket of a meeting relays the Opus packets of
whoever may speak — the chair, a host, the resident holding the floor — byte for byte with the speaker slot
inserted, to every other attendee; everyone else's packets are dropped (`not_allowed`), a floor taken back or run
out cuts its holder off, bad input gets its error or close code without touching other connections, a cross-origin
upgrade and a banned handle are refused, and a speaker on one process is heard on another through a real
redis-server. The packet parser is checked with arbitrary bytes (Hypothesis).

Every person is their own HTTP client with their own cookie jar, against one real app on a real SQLite file."""

from __future__ import annotations

import asyncio
import json
import struct
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.events import audio
from server.events.audio import BadPacket, parse_packet, parse_relayed, relayed
from server.keys import BUS, EVENT_AUDIO, EVENTS

from .test_events_api import Person, new_event, people, resident  # noqa: F401  (people: a fixture)
from .test_events_scale_out import (
    meeting_cluster,  # noqa: F401  (a fixture: two processes, Redis, PostgreSQL)
    postgres,  # noqa: F401  (the fixture meeting_cluster needs)
)


def packet(seq: int, opus: bytes = b"\xfc\x01\x02", timestamp: int | None = None, kind: int = 1) -> bytes:
    return struct.pack(">BHI", kind, seq, 960 * seq if timestamp is None else timestamp) + opus


def heard(slot: int, sent: bytes) -> bytes:
    return sent[:1] + bytes((slot,)) + sent[1:]


class AudioClient:
    """One audio WebSocket: JSON messages and binary packets as they come, each awaited (never slept for). `json`
    and `binary` return the first unread message of their sort, keeping the others unread."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any] | bytes] = []  # everything received, in order
        self.unread: list[dict[str, Any] | bytes] = []
        self.close_code: int | None = None  # as the server's close frame said
        self.close_reason = ""

    async def receive(self, timeout: float = 5.0) -> dict[str, Any] | bytes | None:
        """The next message (None once closed)."""
        message = await self.ws.receive(timeout=timeout)
        if message.type == aiohttp.WSMsgType.TEXT:
            decoded: dict[str, Any] | bytes = json.loads(message.data)
        elif message.type == aiohttp.WSMsgType.BINARY:
            decoded = message.data
        else:
            if message.type == aiohttp.WSMsgType.CLOSE:
                self.close_code, self.close_reason = message.data, message.extra or ""
            return None
        self.messages.append(decoded)
        self.unread.append(decoded)
        return decoded

    async def _first(self, wanted: Any, what: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.unread:
                if wanted(message):
                    self.unread.remove(message)
                    return message
            received = await self.receive(max(0.01, deadline - time.monotonic()))
            assert received is not None, f"closed before {what}"

    async def json(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        """The first unread JSON message of this type."""
        found: dict[str, Any] = await self._first(lambda m: isinstance(m, dict) and m["type"] == kind,
                                                  f"a {kind}", timeout)
        return found

    async def binary(self, timeout: float = 5.0) -> bytes:
        """The first unread packet."""
        found: bytes = await self._first(lambda m: isinstance(m, bytes), "a packet", timeout)
        return found

    async def closed(self, timeout: float = 5.0) -> int | None:
        """Read until the server closes; its close code."""
        deadline = time.monotonic() + timeout
        while await self.receive(max(0.01, deadline - time.monotonic())) is not None:
            pass
        return self.close_code

    async def send(self, data: bytes | dict[str, Any] | str) -> None:
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data if isinstance(data, str) else json.dumps(data))


async def connect(person: Person, event_id: int, origin: str | None = None) -> AudioClient:
    ws = await person.session.ws_connect(f"{person.base}/api/events/{event_id}/audio",
                                         headers={"Origin": origin or person.base})
    return AudioClient(ws)


async def joined(person: Person, event_id: int) -> tuple[AudioClient, dict[str, Any]]:
    client = await connect(person, event_id)
    return client, await client.json("audio_welcome")


async def grant(chair: Person, event_id: int, handle: str, seconds: int = 60) -> None:
    status, body = await chair.post(f"/api/events/{event_id}/floor", {"handle": handle, "name": "Ann",
                                                                      "seconds": seconds})
    assert status == 200, body


async def test_a_listener_hears_exactly_the_chairs_packets_with_the_slot_byte(people):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    speaker, hello = await joined(chair, event_id)
    assert hello == {"type": "audio_welcome", "audio": 1, "codec": "opus", "sampleRate": 48000, "channels": 1,
                     "frameMs": 20, "maxPacketBytes": 400, "maxPacketsPerSecond": 60, "canSpeak": True,
                     "speaker": None, "recording": False}
    ann, _ = await resident(people, event_id)
    listener, welcome = await joined(ann, event_id)
    assert welcome["canSpeak"] is False
    sent = [packet(seq, bytes([seq]) * (seq * 40)) for seq in range(1, 8)] + [packet(65535, b"\x00" * 400)]
    for data in sent:
        await speaker.send(data)
    assert [await listener.binary() for _ in sent] == [heard(0, data) for data in sent]
    assert await listener.json("speaker") == {"type": "speaker", "speaker": {"handle": None, "name": "",
                                                                               "role": "chair"}}
    await speaker.send({"type": "mic", "on": False})
    assert (await listener.json("speaker"))["speaker"] is None
    # The speaker never got its own packets back: only the two speaker messages reached it.
    await speaker.json("speaker")
    assert (await speaker.json("speaker"))["speaker"] is None
    assert not [m for m in speaker.messages if isinstance(m, bytes)]
    await speaker.ws.close()
    await listener.ws.close()


async def test_a_resident_without_the_floor_cannot_send(people):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    speaker, _ = await joined(chair, event_id)
    ann, _ = await resident(people, event_id)
    intruder, _ = await joined(ann, event_id)
    bea, _ = await resident(people, event_id)
    listener, _ = await joined(bea, event_id)
    for seq in range(1, 4):
        await intruder.send(packet(seq, b"intruder"))
    error = await intruder.json("error")
    assert error["code"] == "not_allowed"
    await intruder.send({"type": "mic", "on": True})
    assert (await intruder.json("error"))["code"] == "not_allowed"
    chair_packet = packet(9, b"chair")
    await speaker.send(chair_packet)
    assert await listener.binary() == heard(0, chair_packet)  # the first packet it hears is the chair's
    errors = [m for m in intruder.messages if isinstance(m, dict) and m["type"] == "error"]
    assert len(errors) == 2  # three packets in one second: one `not_allowed`, plus the refused mic
    for client in (speaker, intruder, listener):
        await client.ws.close()


async def test_a_granted_resident_speaks_until_the_chair_takes_the_floor_back(people):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    ann, handle = await resident(people, event_id)
    floor_holder, welcome = await joined(ann, event_id)
    assert welcome["canSpeak"] is False
    bea, _ = await resident(people, event_id)
    listener, _ = await joined(bea, event_id)
    await grant(chair, event_id, handle)
    assert await floor_holder.json("can_speak") == {"type": "can_speak", "canSpeak": True,
                                                    "reason": "floor_granted"}
    first = packet(1, b"ann speaks")
    await floor_holder.send(first)
    assert await listener.binary() == heard(1, first)
    assert (await listener.json("speaker"))["speaker"] == {"handle": handle, "name": "Ann", "role": "floor"}
    status, _ = await chair.call("DELETE", f"/api/events/{event_id}/floor")
    assert status == 200
    assert await floor_holder.json("can_speak") == {"type": "can_speak", "canSpeak": False,
                                                    "reason": "floor_taken"}
    assert (await listener.json("speaker"))["speaker"] is None  # cut off: no longer speaking
    await floor_holder.send(packet(2, b"after the floor"))
    assert (await floor_holder.json("error"))["code"] == "not_allowed"
    # The listener hears nothing of it: the next packet it gets is the chair's.
    speaker, _ = await joined(chair, event_id)
    chair_packet = packet(3, b"chair")
    await speaker.send(chair_packet)
    assert await listener.binary() == heard(0, chair_packet)
    assert [m for m in listener.messages if isinstance(m, bytes)] == [heard(1, first), heard(0, chair_packet)]
    for client in (speaker, floor_holder, listener):
        await client.ws.close()


async def test_a_floor_that_runs_out_cuts_its_holder_off(people, tiny_client):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    ann, handle = await resident(people, event_id)
    floor_holder, _ = await joined(ann, event_id)
    await grant(chair, event_id, handle, seconds=30)
    await floor_holder.json("can_speak")
    service = tiny_client.server.app[EVENTS]
    service.clock = lambda: time.time() + 29.6  # 0.4 s before its end
    bea, _ = await resident(people, event_id)
    status, _ = await bea.post(f"/api/events/{event_id}/hand", {"raised": True, "name": "Bea"})  # a new `state`
    assert status == 200
    assert await floor_holder.json("can_speak") == {"type": "can_speak", "canSpeak": False,
                                                    "reason": "floor_expired"}
    await floor_holder.send(packet(1))
    assert (await floor_holder.json("error"))["code"] == "not_allowed"
    await floor_holder.ws.close()


async def test_a_packet_after_the_floors_end_is_dropped_even_before_any_message_says_so(people, tiny_client):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    ann, handle = await resident(people, event_id)
    floor_holder, _ = await joined(ann, event_id)
    bea, _ = await resident(people, event_id)
    listener, _ = await joined(bea, event_id)
    await grant(chair, event_id, handle, seconds=30)
    await floor_holder.json("can_speak")
    tiny_client.server.app[EVENTS].clock = lambda: time.time() + 31  # past `until`; no timer fired yet
    await floor_holder.send(packet(1))
    assert await floor_holder.json("can_speak") == {"type": "can_speak", "canSpeak": False,
                                                    "reason": "floor_expired"}
    assert (await floor_holder.json("error"))["code"] == "not_allowed"
    assert not [m for m in listener.messages if isinstance(m, bytes)]
    for client in (floor_holder, listener):
        await client.ws.close()


@pytest.mark.parametrize(("data", "code"), [
    (b"\x01\x00\x01", "bad_message"),  # shorter than its header
    (struct.pack(">BHI", 1, 1, 960), "bad_message"),  # no Opus bytes
    (packet(1, kind=2), "bad_message"),  # unknown kind
    (packet(1, b"\x00" * 401), "packet_too_big"),
    ("not json", "bad_message"),
    (json.dumps({"type": "hello"}), "bad_message"),
    (json.dumps({"type": "mic", "on": "yes"}), "bad_message"),
    (json.dumps({"type": "mic", "on": True, "extra": 1}), "bad_message"),
    (json.dumps([1, 2]), "bad_message"),
])
async def test_bad_input_gets_its_error_and_other_connections_go_on(people, data, code):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    speaker, _ = await joined(chair, event_id)
    ann, _ = await resident(people, event_id)
    listener, _ = await joined(ann, event_id)
    await speaker.send(data)
    assert (await speaker.json("error"))["code"] == code
    good = packet(7)
    await speaker.send(good)
    assert await listener.binary() == heard(0, good)  # neither it nor the sender's connection was harmed
    assert not [m for m in listener.messages if isinstance(m, dict) and m["type"] == "error"]
    await speaker.ws.close()
    await listener.ws.close()


async def test_five_bad_messages_close_4001_and_a_message_over_1024_bytes_closes_1009(people):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    ann, _ = await resident(people, event_id)
    listener, _ = await joined(ann, event_id)
    rude, _ = await joined(await people(), event_id)
    for _ in range(5):
        await rude.send("{")
    assert await rude.closed() == 4001
    rude_binary, _ = await joined(await people(), event_id)
    for _ in range(4):
        await rude_binary.send(b"\x02")
    await rude_binary.send(packet(1, b"\x00" * 401))  # the fifth bad message
    assert await rude_binary.closed() == 4001
    assert [m["code"] for m in rude_binary.messages if isinstance(m, dict) and m["type"] == "error"] == [
        "bad_message"] * 4 + ["packet_too_big"]
    huge, _ = await joined(await people(), event_id)
    await huge.send(b"\x01" + b"\x00" * 1024)  # 1025 bytes
    assert await huge.closed() == 1009
    exact, _ = await joined(await people(), event_id)
    await exact.send(b"\x01" + b"\x00" * 1023)  # 1024 bytes: allowed, but the Opus packet is too big
    assert (await exact.json("error"))["code"] == "packet_too_big"
    chair = await people("chloe")
    speaker, _ = await joined(chair, event_id)
    good = packet(1)
    await speaker.send(good)
    assert await listener.binary() == heard(0, good)
    for client in (listener, exact, speaker):
        await client.ws.close()


async def test_more_than_the_rate_is_dropped_with_rate_limited(people):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    speaker, _ = await joined(chair, event_id)
    ann, _ = await resident(people, event_id)
    listener, _ = await joined(ann, event_id)
    sent = [packet(seq) for seq in range(1, 41)]  # at once: over the burst of 25
    for data in sent:
        await speaker.send(data)
    assert (await speaker.json("error"))["code"] == "rate_limited"
    await speaker.send({"type": "mic", "on": False})  # after every packet: the listener's marker
    await listener.json("speaker")  # started speaking
    assert (await listener.json("speaker"))["speaker"] is None
    got = [m for m in listener.messages if isinstance(m, bytes)]
    assert 25 <= len(got) < 40 and got == [heard(0, data) for data in sent[:len(got)]]
    await speaker.ws.close()
    await listener.ws.close()


async def test_more_mic_messages_than_their_rate_are_dropped_with_rate_limited(people, tiny_client):  # noqa: F811
    """Each accepted `mic` can reach every listener as a `speaker` message: over 10 a second (burst 20) they are
    dropped, answered `rate_limited` at most once a second, and the connection stays open."""
    event_id, _ = await new_event(people, "live")
    speaker, _ = await joined(await people("chloe"), event_id)
    ann, _ = await resident(people, event_id)
    listener, _ = await joined(ann, event_id)
    flips = [{"type": "mic", "on": on} for _ in range(15) for on in (True, False)]  # 30 at once
    for flip in flips:
        await speaker.send(flip)
    await speaker.send("{")  # answered after every flip was handled: the marker on the speaker's side
    assert (await speaker.json("error"))["code"] == "rate_limited"
    assert (await speaker.json("error"))["code"] == "bad_message"
    await tiny_client.server.app[EVENT_AUDIO].recording(event_id, True)  # the bus's marker, after every `speaker`
    await listener.json("recording")
    told = [m for m in listener.messages if isinstance(m, dict) and m["type"] == "speaker"]
    dropped = len(flips) - len(told)
    assert audio.MIC_BURST <= len(told) < len(flips)  # the burst passed; the flips after it were dropped
    assert [m["speaker"] is not None for m in told] == [i % 2 == 0 for i in range(len(told))]
    rate_errors = [m for m in speaker.messages if isinstance(m, dict) and m.get("code") == "rate_limited"]
    assert len(rate_errors) < dropped  # not one error per dropped message
    # A listener's refused `mic` on is answered `not_allowed` within the rate, `rate_limited` over it.
    for _ in range(25):
        await listener.send({"type": "mic", "on": True})
    await listener.send("{")
    codes: list[str] = []
    while not codes or codes[-1] != "bad_message":
        codes.append((await listener.json("error"))["code"])
    refused = codes.count("not_allowed")
    assert audio.MIC_BURST <= refused < audio.MIC_BURST + 5 and 1 <= codes.count("rate_limited") < 25 - refused
    assert set(codes) == {"not_allowed", "rate_limited", "bad_message"}
    # Both connections are still served: the chair is heard.
    good = packet(1)
    await speaker.send(good)
    assert await listener.binary() == heard(0, good)
    await speaker.ws.close()
    await listener.ws.close()


async def test_a_cross_origin_upgrade_and_a_plain_get_are_refused_with_json_errors(people):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    ann, _ = await resident(people, event_id)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(ann, event_id, origin="https://elsewhere.example")
    assert refused.value.status == 403
    response = await ann.session.get(f"{ann.base}/api/events/{event_id}/audio",
                                     headers={"Origin": "https://elsewhere.example", "Connection": "Upgrade",
                                              "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                                              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "origin_not_allowed"
    plain = await ann.session.get(f"{ann.base}/api/events/{event_id}/audio", headers={"Origin": ann.base})
    assert plain.status == 400 and (await plain.json())["error"]["code"] == "bad_request"  # not an upgrade
    not_an_id = await ann.session.get(f"{ann.base}/api/events/abc/audio", headers={"Origin": ann.base})
    assert not_an_id.status == 404 and (await not_an_id.json())["error"]["code"] == "event_not_found"


async def test_a_banned_handle_is_refused_and_a_removed_one_is_closed(people):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    mo = await people("mo", "moderator")
    ann, ann_handle = await resident(people, event_id)
    bea, bea_handle = await resident(people, event_id)
    ann_audio, _ = await joined(ann, event_id)
    bea_audio, _ = await joined(bea, event_id)
    status, _ = await mo.post(f"/api/events/{event_id}/moderation", {"action": "remove", "handle": ann_handle})
    assert status == 200
    assert await ann_audio.closed() == 4403
    status, _ = await mo.post(f"/api/events/{event_id}/moderation", {"action": "ban", "handle": bea_handle})
    assert status == 200
    assert await bea_audio.closed() == 4403
    assert (ann_audio.close_reason, bea_audio.close_reason) == ("removed", "banned")
    again = await connect(bea, event_id)
    assert await again.closed() == 4403
    assert not [m for m in again.messages if isinstance(m, dict) and m["type"] == "audio_welcome"]


async def test_the_meetings_end_closes_4409_and_an_unknown_event_4004(people):  # noqa: F811
    event_id, _ = await new_event(people, "open")
    chair = await people("chloe")
    early, welcome = await joined(chair, event_id)  # doors open: listen early, speak once live
    assert welcome["canSpeak"] is False
    status, _ = await chair.post(f"/api/events/{event_id}/state", {"to": "live"})
    assert status == 200
    assert await early.json("can_speak") == {"type": "can_speak", "canSpeak": True, "reason": "chair"}
    status, _ = await chair.post(f"/api/events/{event_id}/state", {"to": "ended"})
    assert status == 200
    assert await early.json("can_speak") == {"type": "can_speak", "canSpeak": False, "reason": "not_live"}
    assert await early.closed() == 4409
    assert await (await connect(chair, event_id)).closed() == 4409
    assert await (await connect(chair, 999_999)).closed() == 4004


async def test_taps_get_every_packet_and_recording_reaches_every_listener(people, tiny_client):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    hub = tiny_client.server.app[EVENT_AUDIO]
    seen: list[tuple[int, int, int, bytes]] = []
    tapped = await hub.tap(event_id, lambda *got: seen.append(got))
    ann, _ = await resident(people, event_id)
    listener, _ = await joined(ann, event_id)
    await hub.recording(event_id, True)
    assert await listener.json("recording") == {"type": "recording", "recording": True}
    late, welcome = await joined(await people(), event_id)
    assert welcome["recording"] is True
    speaker, _ = await joined(await people("chloe"), event_id)
    await speaker.send(packet(5, b"opus!", timestamp=123456))
    await listener.binary()
    assert seen == [(0, 5, 123456, b"opus!")]
    await hub.untap(tapped)
    await hub.recording(event_id, False)
    assert await late.json("recording") == {"type": "recording", "recording": False}
    for client in (listener, late, speaker):
        await client.ws.close()


async def test_a_speaker_on_one_process_is_heard_on_the_other_through_redis(meeting_cluster):  # noqa: F811
    from tests.test_store import PASSWORD

    a, b = meeting_cluster
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as staff, \
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as resident_session:
        login = await staff.post(f"{a.url}/api/auth/login", json={"username": "ada", "password": PASSWORD})
        headers = {"X-CSRF-Token": (await login.json())["csrf"], "Origin": a.url}
        created = await staff.post(f"{a.url}/api/events", headers=headers, json={
            "scene": "town-hall", "title": {"en": "Council"}, "startsAt": 1_790_000_000, "timezone": "UTC"})
        assert created.status == 201, await created.text()
        event_id = (await created.json())["id"]
        assert (await staff.post(f"{a.url}/api/events/{event_id}/state", headers=headers,
                                 json={"to": "live"})).status == 200
        handle = (await (await resident_session.get(f"{b.url}/api/events/{event_id}/me")).json())["handle"]

        chair_person, bea_person = Person(staff, a.url), Person(resident_session, b.url)
        listener, welcome = await joined(bea_person, event_id)  # on B
        assert welcome["canSpeak"] is False
        chair, welcome = await joined(chair_person, event_id)  # on A: an admin may chair
        assert welcome["canSpeak"] is True
        sent = [packet(seq, bytes([seq]) * 60) for seq in range(1, 11)]
        for data in sent:
            await chair.send(data)
        assert [await listener.binary(timeout=10) for _ in sent] == [heard(0, data) for data in sent]
        assert (await listener.json("speaker", timeout=10))["speaker"]["role"] == "chair"

        # The floor given through A reaches the resident listening on B, who is then heard on A.
        granted = await staff.post(f"{a.url}/api/events/{event_id}/floor", headers=headers,
                                   json={"handle": handle, "seconds": 60, "name": "Bea"})
        assert granted.status == 200
        assert (await listener.json("can_speak", timeout=10))["reason"] == "floor_granted"
        spoken = packet(100, b"from the floor")
        await listener.send(spoken)
        assert await chair.binary(timeout=10) == heard(1, spoken)
        # A process that shuts down closes its audio sockets 1001: the client reconnects to another one.
        stopping = asyncio.ensure_future(asyncio.to_thread(b.stop))
        assert await listener.closed(timeout=20) == 1001
        assert await stopping == 0
        await chair.ws.close()


async def test_a_stuck_bus_delays_no_local_listener_and_holds_a_bounded_number_of_packets(people, tiny_client,  # noqa: F811
                                                                                           monkeypatch):
    monkeypatch.setattr(audio, "BUS_IN_FLIGHT", 5)
    pubsub = tiny_client.server.app[BUS].pubsub
    stuck = asyncio.Event()
    waiting: list[bytes] = []

    async def stuck_publish(topic: str, payload: bytes) -> None:
        waiting.append(payload)
        await stuck.wait()

    event_id, _ = await new_event(people, "live")
    speaker, _ = await joined(await people("chloe"), event_id)
    ann, _ = await resident(people, event_id)
    listener, _ = await joined(ann, event_id)
    pubsub.publish_poses = stuck_publish  # the bus (Redis) stops answering
    try:
        sent = [packet(seq) for seq in range(1, 21)]
        for data in sent:
            await speaker.send(data)
        assert [await listener.binary() for _ in sent] == [heard(0, data) for data in sent]
        # One is being published, four wait; the rest are dropped for the bus only.
        assert waiting == [heard(0, sent[0])]
        stage = tiny_client.server.app[EVENT_AUDIO].stages[event_id]
        assert (stage.publishing, stage.bus_dropped) == (5, 15)
        stuck.set()  # the bus is back: what waited goes out, in order
        assert stage.publisher is not None
        await stage.publisher
        assert waiting == [heard(0, data) for data in sent[:5]] and stage.publishing == 0
        assert (await audio_metrics(tiny_client))["civic_audio_bus_drops_total"] == 15
    finally:
        stuck.set()
        del pubsub.publish_poses
    for client in (speaker, listener):
        await client.ws.close()


async def audio_metrics(client: Any) -> dict[str, float]:
    text = await (await client.get("/metrics")).text()
    return {name: float(value) for name, value in (line.split() for line in text.splitlines()
                                                   if line.startswith("civic_audio_"))}


async def test_metrics_count_listeners_relayed_packets_and_a_slow_listeners_drops(people, tiny_client,  # noqa: F811
                                                                                  monkeypatch):
    monkeypatch.setattr(audio, "QUEUE_PACKETS", 5)  # so that a burst under the packet rate overflows it
    event_id, _ = await new_event(people, "live")
    hub = tiny_client.server.app[EVENT_AUDIO]
    speaker, _ = await joined(await people("chloe"), event_id)
    ann, _ = await resident(people, event_id)
    listener, _ = await joined(ann, event_id)
    slow_transport = FakeTransport()  # a listener that stopped reading: every packet waits in its queue
    slow_transport.backlog = audio.HIGH_WATER + 1
    slow = audio.Peer(ws=None, transport=slow_transport, handle="b" * 12)  # type: ignore[arg-type]
    stage = await hub.join(event_id, slow)
    assert await audio_metrics(tiny_client) == {
        "civic_audio_listeners": 3, "civic_audio_packets_relayed_total": 0, "civic_audio_listener_drops_total": 0,
        "civic_audio_bus_drops_total": 0}
    sent = [packet(seq) for seq in range(1, 11)]
    for data in sent:
        await speaker.send(data)
    assert [await listener.binary() for _ in sent] == [heard(0, data) for data in sent]
    await hub.leave(stage, slow)  # its drops still count once it left
    assert await audio_metrics(tiny_client) == {
        "civic_audio_listeners": 2, "civic_audio_packets_relayed_total": len(sent),
        "civic_audio_listener_drops_total": 5, "civic_audio_bus_drops_total": 0}
    for client in (speaker, listener):
        await client.ws.close()


def test_the_audio_benchmark_delivers_every_packet_to_every_listener_across_two_processes() -> None:
    """Smoke run of bench/audio_fanout.py (what it counts, never how fast): 20 listeners on two processes, 10
    residents walking meanwhile."""
    from bench.audio_fanout import markdown
    from bench.audio_fanout import parse as bench_options
    from bench.audio_fanout import run as run_bench

    result = run_bench(bench_options(["--listeners", "20", "--servers", "2", "--seconds", "1", "--observe-every",
                                      "2", "--walkers", "10", "--pose-observers", "2"]))
    assert result["packets_sent"] == 50 and result["observers"] == 10
    assert result["latency"]["missed"] == 0 and result["packets_dropped"] == 0 and result["listeners_closed"] == 0
    assert result["bytes_per_listener_per_s"]["min"] >= 50 * (2 + 8 + 60)  # every packet, whole
    assert len(result["cpu"]["servers_percent"]) == 2
    poses = result["poses"]  # walkers' moves were seen in both windows, without and with audio
    assert poses["without_audio"]["moves_seen"] > 0 and poses["with_audio"]["moves_seen"] > 0
    assert "bytes per listener per s" in markdown(result) and "with audio" in markdown(result)


class FakeTransport:
    """A socket whose backlog the test sets: what a listener that stopped reading looks like to the server."""

    def __init__(self) -> None:
        self.backlog, self.written, self.aborted = 0, bytearray(), False

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        self.written += data

    def abort(self) -> None:
        self.aborted = True


def test_a_listener_that_does_not_read_loses_its_oldest_packets_and_gets_the_rest_in_order() -> None:
    transport = FakeTransport()
    peer = audio.Peer(ws=None, transport=transport, handle="a" * 12)  # type: ignore[arg-type]
    frames = [audio.ws_frame(relayed(0, packet(seq))) for seq in range(1, 31)]
    assert peer.offer_audio(frames[0]) is False and bytes(transport.written) == frames[0]  # keeping up: written
    transport.backlog = audio.HIGH_WATER + 1
    assert all(peer.offer_audio(frame) for frame in frames[1:])  # backed up: queued, never written
    assert peer.dropped == 29 - audio.QUEUE_PACKETS and bytes(transport.written) == frames[0]
    assert peer.flush() is True  # still backed up: still waiting
    transport.backlog = 0
    assert peer.flush() is False
    # The oldest were dropped; the newest 0.5 s arrive whole and in order.
    assert bytes(transport.written) == b"".join([frames[0], *frames[30 - audio.QUEUE_PACKETS:]])


def test_control_messages_are_never_dropped_but_a_socket_holding_a_megabyte_is_cut() -> None:
    transport = FakeTransport()
    peer = audio.Peer(ws=None, transport=transport, handle="a" * 12)  # type: ignore[arg-type]
    transport.backlog = audio.HIGH_WATER + 1  # too full for audio, not for a control message
    peer.send({"type": "recording", "recording": True})
    assert json.loads(bytes(transport.written)[2:]) == {"type": "recording", "recording": True}
    transport.backlog = audio.STUCK_BYTES + 1  # the client stopped reading long ago
    peer.send({"type": "recording", "recording": False})
    assert transport.aborted and peer.transport is None
    assert peer.offer_audio(b"frame") is False  # nothing more is written nor queued


# --- the wire format, whatever bytes arrive --------------------------------------------------------------------

VECTORS = json.loads((Path(__file__).parent / "fixtures" / "audio-vectors.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: f"seq{v['seq']}")
def test_the_shared_wire_vectors_parse_and_relay_byte_for_byte(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["speaker"])
    assert parse_packet(data) == (vector["seq"], vector["timestamp"], bytes.fromhex(vector["opus"]))
    assert relayed(vector["slot"], data) == bytes.fromhex(vector["listener"])
    assert parse_relayed(bytes.fromhex(vector["listener"])) == (
        vector["slot"], vector["seq"], vector["timestamp"], bytes.fromhex(vector["opus"]))


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["why"])
def test_the_shared_bad_vectors_get_their_error(vector: dict[str, Any]) -> None:
    with pytest.raises(BadPacket) as bad:
        parse_packet(bytes.fromhex(vector["speaker"]))
    assert bad.value.code == vector["error"]



@given(st.binary(max_size=1100))
def test_the_packet_parser_accepts_exactly_the_valid_packets(data: bytes) -> None:
    valid = len(data) > 7 and data[0] == 1 and len(data) - 7 <= 400
    try:
        seq, timestamp, opus = parse_packet(data)
    except BadPacket as bad:
        assert not valid
        assert bad.code in ("bad_message", "packet_too_big")
        assert bad.code != "packet_too_big" or (data[0] == 1 and len(data) > 407)
        return
    assert valid
    assert (seq, timestamp, opus) == (int.from_bytes(data[1:3], "big"), int.from_bytes(data[3:7], "big"), data[7:])
    for slot in (0, 1):
        assert parse_relayed(relayed(slot, data)) == (slot, seq, timestamp, opus)


@given(st.binary(max_size=1100))
def test_the_relayed_parser_never_fails_on_bus_bytes(data: bytes) -> None:
    parsed = parse_relayed(data)
    if parsed is not None:
        slot, seq, timestamp, opus = parsed
        assert data == bytes((1, slot)) + struct.pack(">HI", seq, timestamp) + opus and 1 <= len(opus) <= 400
