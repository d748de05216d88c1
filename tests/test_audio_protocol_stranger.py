"""Stage audio (docs/protocol.md, "Stage audio (audio: 1)") implemented from the documentation alone, as an
outside client would: the `websockets` library, packets built from the documented byte tables, identities from
the documented cookies. No server audio module or browser audio code was read to write these tests; where the doc
left something open, the assumption is written next to the assertion ("DOC:").

Every person is their own HTTP client (aiohttp, own cookie jar) against one real app on a real SQLite file; the
audio sockets are `websockets` connections carrying that person's cookies and this site's Origin."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus
from yarl import URL

from server.auth import hash_password

PASSWORD = "a long enough password"
HASH = hash_password(PASSWORD)
START = 1_790_000_000.0
WAIT = 5.0  # seconds to wait for something the server must send; a test fails rather than hangs


# --- the wire, from the doc's tables ------------------------------------------------------------------------------


def speaker_packet(seq: int, timestamp: int, opus: bytes, kind: int = 1) -> bytes:
    """Client -> server: kind u8, seq u16, timestamp u32, then the Opus packet; big-endian."""
    return struct.pack(">BHI", kind, seq & 0xFFFF, timestamp & 0xFFFFFFFF) + opus


def parse_listener_packet(data: bytes) -> tuple[int, int, int, int, bytes]:
    """Server -> listener: kind u8, slot u8, seq u16, timestamp u32, then the speaker's Opus bytes."""
    kind, slot, seq, timestamp = struct.unpack(">BBHI", data[:8])
    return kind, slot, seq, timestamp, data[8:]


def opus_like(index: int, size: int = 60) -> bytes:
    """Bytes standing for an Opus packet: the server relays them as they are (it never decodes), so any bytes do;
    each one distinct so a listener can tell them apart."""
    return bytes((index * 7 + i) % 256 for i in range(size))


# --- people and their sockets ------------------------------------------------------------------------------------


class Person:
    """One browser: its own cookie jar (staff session or resident cookie), same-origin writes."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base, self.csrf = session, base, ""

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Origin": self.base}
        if self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        async with self.session.request(method, self.base + path, json=body, headers=headers) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    async def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return await self.call("POST", path, {} if body is None else body)

    def cookie_header(self) -> str:
        cookies = self.session.cookie_jar.filter_cookies(URL(self.base))
        return "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())

    def keep_cookies_from(self, response_headers: Any) -> None:
        """A cookie set on the upgrade's answer (the doc: a fresh resident identity) goes into this jar."""
        for value in response_headers.get_all("Set-Cookie"):
            name, _, rest = value.partition("=")
            self.session.cookie_jar.update_cookies({name: rest.split(";", 1)[0]}, URL(self.base))

    async def audio(self, event_id: int | str, origin: str | None = "same") -> ClientConnection:
        url = self.base.replace("http://", "ws://") + f"/api/events/{event_id}/audio"
        headers = {"Cookie": self.cookie_header()} if self.cookie_header() else {}
        socket = await websockets.connect(
            url, origin=self.base if origin == "same" else origin,  # type: ignore[arg-type]
            additional_headers=headers, compression=None, open_timeout=WAIT, close_timeout=WAIT)
        assert socket.response is not None
        self.keep_cookies_from(socket.response.headers)
        return socket


async def next_json(socket: ClientConnection, wanted: str | None = None) -> dict[str, Any]:
    """The next JSON message (of type `wanted`, skipping audio packets and other types when given)."""
    while True:
        message = await asyncio.wait_for(socket.recv(), WAIT)
        if isinstance(message, str):
            data = json.loads(message)
            if wanted is None or data["type"] == wanted:
                return data  # type: ignore[no-any-return]


async def next_packet(socket: ClientConnection) -> bytes:
    while True:
        message = await asyncio.wait_for(socket.recv(), WAIT)
        if isinstance(message, bytes):
            return message


async def closed_with(socket: ClientConnection) -> tuple[int | None, str | None]:
    """Reads until the server closes; (code, reason) of its close frame."""
    return (await closing(socket))[1:]


async def closing(socket: ClientConnection) -> tuple[list[str | bytes], int | None, str | None]:
    """Reads until the server closes: (what came before the close, its code, its reason)."""
    before: list[str | bytes] = []
    try:
        while True:
            before.append(await asyncio.wait_for(socket.recv(), WAIT))
    except ConnectionClosed as closed:
        frame = closed.rcvd
        return (before, frame.code, frame.reason) if frame else (before, None, None)


@pytest.fixture
async def people(tiny_client) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    from server.keys import STORE

    base = str(tiny_client.make_url("")).rstrip("/")
    store = tiny_client.server.app[STORE]
    sessions: list[aiohttp.ClientSession] = []
    sockets: list[ClientConnection] = []

    async def make(username: str | None = None, role: str = "editor") -> Person:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        person = Person(session, base)
        original = person.audio

        async def audio(*args: Any, **kwargs: Any) -> ClientConnection:
            socket = await original(*args, **kwargs)
            sockets.append(socket)
            return socket

        person.audio = audio  # type: ignore[method-assign]
        if username is not None:
            if await store.get_staff(username) is None:
                await store.add_staff(username, HASH, role)
            status, body = await person.post("/api/auth/login", {"username": username, "password": PASSWORD})
            assert status == 200, body
            person.csrf = body["csrf"]
        return person

    make.store = store  # type: ignore[attr-defined]
    make.base = base  # type: ignore[attr-defined]
    yield make
    for socket in sockets:
        await socket.close()
    for session in sessions:
        await session.close()


async def new_meeting(people: Any, state: str | None = "live") -> tuple[int, Person]:
    """A meeting of the tiny scene chaired by chloe, moved to `state`; returns (id, chloe)."""
    for username, role in (("chloe", "editor"), ("mo", "moderator")):
        if await people.store.get_staff(username) is None:
            await people.store.add_staff(username, HASH, role)
    host = await people("hana", "host")
    status, event = await host.post("/api/events", {
        "scene": "tiny", "zone": "hall", "title": {"en": "Council"}, "description": {"en": "Monthly."},
        "startsAt": START, "endsAt": START + 7200, "timezone": "Europe/Amsterdam", "capacity": 50,
        "agenda": [{"title": {"en": "Opening"}}], "staff": {"chair": ["chloe"], "moderator": ["mo"]}})
    assert status == 201, event
    chair = await people("chloe")
    steps = {None: [], "scheduled": [], "open": ["open"], "live": ["live"], "ended": ["live", "ended"],
             "archived": ["live", "ended", "archived"]}[state]
    for step in steps:
        moved, answer = await chair.post(f"/api/events/{event['id']}/state", {"to": step})
        assert moved == 200, answer
    return event["id"], chair


async def resident(people: Any, event_id: int) -> tuple[Person, str]:
    """A resident with the cookie and handle a read of /me gives."""
    person = await people()
    status, me = await person.call("GET", f"/api/events/{event_id}/me")
    assert status == 200, me
    return person, me["handle"]



async def until(socket: ClientConnection, last: dict[str, Any]) -> list[bytes | dict[str, Any]]:
    """Everything the socket receives up to and including the JSON message equal to `last` (JSON decoded)."""
    seen: list[bytes | dict[str, Any]] = []
    while True:
        message = await asyncio.wait_for(socket.recv(), WAIT)
        seen.append(json.loads(message) if isinstance(message, str) else message)
        if seen[-1] == last:
            return seen


def packets(messages: list[bytes | dict[str, Any]]) -> list[bytes]:
    return [m for m in messages if isinstance(m, bytes)]


MIC_ON = json.dumps({"type": "mic", "on": True})
MIC_OFF = json.dumps({"type": "mic", "on": False})
NOBODY = {"type": "speaker", "speaker": None}
CHAIR_SPEAKS = {"type": "speaker", "speaker": {"handle": None, "name": "", "role": "chair"}}
NOT_ALLOWED = "not_allowed"
WELCOME = {"type": "audio_welcome", "audio": 1, "codec": "opus", "sampleRate": 48000, "channels": 1, "frameMs": 20,
           "maxPacketBytes": 400, "maxPacketsPerSecond": 60}


async def welcome(socket: ClientConnection) -> dict[str, Any]:
    """The first message, always the welcome (checked against the doc's example, field for field)."""
    first = json.loads(await asyncio.wait_for(socket.recv(), WAIT))
    assert {k: first[k] for k in WELCOME} == WELCOME, first
    assert set(first) == set(WELCOME) | {"canSpeak", "speaker", "recording"}, first
    return first  # type: ignore[no-any-return]


# --- connecting ----------------------------------------------------------------------------------------------------


async def test_the_upgrade_needs_this_sites_origin_and_refusals_are_json_errors(people):
    event_id, _ = await new_meeting(people)
    base = people.base
    url = base.replace("http://", "ws://") + f"/api/events/{event_id}/audio"
    for origin, code in ((None, "origin_required"), ("http://elsewhere.example", "origin_not_allowed")):
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(url, origin=origin, open_timeout=WAIT)  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
        assert json.loads(refused.value.response.body)["error"]["code"] == code
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(base.replace("http://", "ws://") + "/api/events/abc/audio", origin=base,  # type: ignore[arg-type]
                                 open_timeout=WAIT)
    assert refused.value.response.status_code == 404
    assert json.loads(refused.value.response.body)["error"]["code"] == "event_not_found"
    async with aiohttp.ClientSession() as plain:
        async with plain.get(f"{base}/api/events/{event_id}/audio", headers={"Origin": base}) as answer:
            assert answer.status == 400 and "error" in await answer.json()
        # DOC: "A plain GET (no upgrade) is HTTP 400" -- only with an Origin: the Origin check comes first.
        async with plain.get(f"{base}/api/events/{event_id}/audio") as answer:
            assert answer.status == 403 and (await answer.json())["error"]["code"] == "origin_required"


async def test_a_first_visit_gets_its_resident_cookie_on_the_upgrade_and_the_documented_welcome(people):
    event_id, _ = await new_meeting(people)
    newcomer = await people()
    socket = await newcomer.audio(event_id)
    set_cookie = socket.response.headers["Set-Cookie"]  # type: ignore[union-attr]
    assert set_cookie.startswith("civic_resident=") and "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie
    assert await welcome(socket) == {**WELCOME, "canSpeak": False, "speaker": None, "recording": False}
    # the identity the socket gave is the one the event pages know (its handle, from /me with the same cookie)
    status, me = await newcomer.call("GET", f"/api/events/{event_id}/me")
    assert status == 200 and len(me["handle"]) == 12
    again = await newcomer.audio(event_id)
    assert "Set-Cookie" not in again.response.headers  # type: ignore[union-attr]
    await welcome(again)


async def test_the_welcome_says_who_may_speak(people):
    event_id, chair = await new_meeting(people)
    host, moderator = await people("hana", "host"), await people("mo", "moderator")
    ann, _ = await resident(people, event_id)
    for person, can_speak in ((chair, True), (host, True), (moderator, False), (ann, False)):
        socket = await person.audio(event_id)
        assert (await welcome(socket))["canSpeak"] is can_speak
    # DOC: staff without a resident cookie also get a fresh resident cookie on the upgrade (the doc says so for
    # "without a resident cookie", not whether staff count).
    assert "civic_resident=" in moderator.cookie_header()


# --- speaking and hearing -------------------------------------------------------------------------------------------


async def test_the_chair_is_heard_byte_exact_by_every_listener_and_not_by_itself(people):
    event_id, chair = await new_meeting(people)
    listeners = [await (await resident(people, event_id))[0].audio(event_id) for _ in range(2)]
    for socket in listeners:
        await welcome(socket)
    speaking = await chair.audio(event_id)
    assert (await welcome(speaking))["canSpeak"] is True
    await speaking.send(MIC_ON)
    for socket in listeners:  # the indicator shows before the first packet
        assert await next_json(socket) == CHAIR_SPEAKS
    # 20 packets (under the burst of 25), seq and timestamp wrapping, Opus of 1, 60 and 400 bytes
    sent = [(65530 + i, 2**32 - 3 * 960 + i * 960, opus_like(i, (1, 60, 400)[i % 3])) for i in range(20)]
    for seq, timestamp, opus in sent:
        wire = speaker_packet(seq, timestamp, opus)
        assert len(wire) == 7 + len(opus)
        await speaking.send(wire)
    await speaking.send(MIC_OFF)
    expected = [struct.pack(">BBHI", 1, 0, seq & 0xFFFF, timestamp & 0xFFFFFFFF) + opus
                for seq, timestamp, opus in sent]
    for socket in listeners:
        heard = packets(await until(socket, NOBODY))
        assert heard == expected
        assert [parse_listener_packet(p)[2] for p in heard][5:7] == [65535, 0]
    # the speaker hears nothing of its own: only the speaker messages (DOC: it gets them too)
    assert packets(await until(speaking, NOBODY)) == []


async def test_a_listener_may_not_speak_and_nothing_of_it_is_relayed(people):
    event_id, chair = await new_meeting(people)
    ann, _ = await resident(people, event_id)
    bea, _ = await resident(people, event_id)
    ann_socket, bea_socket = await ann.audio(event_id), await bea.audio(event_id)
    chair_socket = await chair.audio(event_id)
    for socket in (ann_socket, bea_socket, chair_socket):
        await welcome(socket)
    await ann_socket.send(speaker_packet(1, 960, opus_like(1)))
    answer = await next_json(ann_socket)
    assert answer["type"] == "error" and answer["code"] == NOT_ALLOWED and answer["message"]
    await chair_socket.send(speaker_packet(9, 9 * 960, opus_like(9)))
    assert parse_listener_packet(await next_packet(bea_socket))[1:] == (0, 9, 9 * 960, opus_like(9))
    # a `mic` on from a listener is refused the same way, every time (DOC: the once-a-second limit on
    # `not_allowed` is for packets only), and the connection stays open
    for _ in range(3):
        await ann_socket.send(MIC_ON)
        assert (await next_json(ann_socket, "error"))["code"] == NOT_ALLOWED
    await ann_socket.send(MIC_OFF)  # harmless
    await chair_socket.send(MIC_OFF)
    assert (await next_json(ann_socket, "speaker")) == NOBODY
    assert packets(await until(bea_socket, NOBODY)) == []  # nothing of ann's came after the chair's packet


async def test_the_floor_holder_speaks_on_slot_1_until_the_floor_is_taken_back(people):
    event_id, chair = await new_meeting(people)
    ann, handle = await resident(people, event_id)
    listener = await (await resident(people, event_id))[0].audio(event_id)
    ann_socket = await ann.audio(event_id)
    await welcome(listener)
    assert (await welcome(ann_socket))["canSpeak"] is False
    status, _ = await chair.post(f"/api/events/{event_id}/floor", {"handle": handle, "seconds": 60, "name": "Ann"})
    assert status == 200
    assert await next_json(ann_socket) == {"type": "can_speak", "canSpeak": True, "reason": "floor_granted"}
    floor_speaks = {"type": "speaker", "speaker": {"handle": handle, "name": "Ann", "role": "floor"}}
    await ann_socket.send(speaker_packet(100, 4800, opus_like(3)))  # no `mic` on: the first packet announces it
    heard = await until(listener, floor_speaks)
    # DOC: the order of the packet and the speaker message it causes is not said; here the packet came first
    assert packets(heard) == [struct.pack(">BBHI", 1, 1, 100, 4800) + opus_like(3)]
    status, _ = await chair.call("DELETE", f"/api/events/{event_id}/floor")
    assert status == 200
    assert await next_json(ann_socket, "can_speak") == {"type": "can_speak", "canSpeak": False,
                                                        "reason": "floor_taken"}
    await ann_socket.send(speaker_packet(101, 5760, opus_like(4)))
    assert (await next_json(ann_socket, "error"))["code"] == NOT_ALLOWED
    # taken back: its voice ends for the listeners, and the refused packet never reached them
    assert packets(await until(listener, NOBODY)) == []


async def test_the_voice_heard_is_the_one_that_started_last(people):
    event_id, chair = await new_meeting(people)
    ann, handle = await resident(people, event_id)
    host = await people("hana", "host")
    listener = await (await resident(people, event_id))[0].audio(event_id)
    host_socket, ann_socket = await host.audio(event_id), await ann.audio(event_id)
    for socket in (listener, host_socket, ann_socket):
        await welcome(socket)
    await chair.post(f"/api/events/{event_id}/floor", {"handle": handle, "seconds": 60, "name": "Ann"})
    await next_json(ann_socket, "can_speak")
    host_speaks = {"type": "speaker", "speaker": {"handle": None, "name": "", "role": "host"}}
    ann_speaks = {"type": "speaker", "speaker": {"handle": handle, "name": "Ann", "role": "floor"}}
    await host_socket.send(MIC_ON)
    assert await next_json(listener) == host_speaks
    await host_socket.send(speaker_packet(1, 960, b"h"))
    assert parse_listener_packet(await next_packet(listener))[1] == 0  # a host is slot 0, like the chair
    await ann_socket.send(MIC_ON)
    assert await next_json(listener) == ann_speaks
    await ann_socket.send(MIC_OFF)
    assert await next_json(listener) == host_speaks  # back to the voice still speaking
    await host_socket.send(MIC_OFF)
    assert await next_json(listener) == NOBODY


async def test_an_admin_and_a_staff_member_holding_the_floor_speak_as_documented_roles(people):
    """DOC: SPEAKER's role lists chair, host and floor; an admin who is not the meeting's chair speaks as
    "chair" (slot 0). A staff member without a speaking duty who holds the floor through their resident cookie
    speaks as the floor holder (slot 1)."""
    event_id, chair = await new_meeting(people)
    listener = await (await resident(people, event_id))[0].audio(event_id)
    await welcome(listener)
    admin = await people("ada", "admin")
    admin_socket = await admin.audio(event_id)
    assert (await welcome(admin_socket))["canSpeak"] is True
    await admin_socket.send(MIC_ON)
    assert await next_json(listener) == CHAIR_SPEAKS
    await admin_socket.send(MIC_OFF)
    assert await next_json(listener) == NOBODY
    moderator = await people("mo", "moderator")
    handle = (await moderator.call("GET", f"/api/events/{event_id}/me"))[1]["handle"]
    await chair.post(f"/api/events/{event_id}/floor", {"handle": handle, "seconds": 60, "name": "Mo"})
    moderator_socket = await moderator.audio(event_id)
    assert (await welcome(moderator_socket))["canSpeak"] is True
    await moderator_socket.send(speaker_packet(1, 960, b"m"))
    assert parse_listener_packet(await next_packet(listener))[1] == 1
    assert await next_json(listener) == {"type": "speaker",
                                         "speaker": {"handle": handle, "name": "Mo", "role": "floor"}}


async def test_two_seconds_without_a_packet_end_speaking(people):
    event_id, chair = await new_meeting(people)
    listener = await (await resident(people, event_id))[0].audio(event_id)
    chair_socket = await chair.audio(event_id)
    await welcome(listener)
    await welcome(chair_socket)
    await chair_socket.send(speaker_packet(1, 960, b"x"))
    assert await next_json(listener) == CHAIR_SPEAKS
    assert await next_json(listener) == NOBODY  # no `mic` off: silence ended it (WAIT is 5 s > 2 s)


async def test_the_chair_can_speak_only_once_the_meeting_is_live(people):
    event_id, chair = await new_meeting(people, "scheduled")
    chair_socket = await chair.audio(event_id)
    assert (await welcome(chair_socket))["canSpeak"] is False
    await chair_socket.send(speaker_packet(1, 960, b"x"))
    assert (await next_json(chair_socket, "error"))["code"] == NOT_ALLOWED
    # DOC: a `mic` on is answered every time; a packet's `not_allowed` within a second of any other one is not
    # (so this order: a packet right after the `mic` on's error would be dropped silently)
    await chair_socket.send(MIC_ON)
    assert (await next_json(chair_socket, "error"))["code"] == NOT_ALLOWED
    await chair.post(f"/api/events/{event_id}/state", {"to": "live"})
    assert await next_json(chair_socket) == {"type": "can_speak", "canSpeak": True, "reason": "chair"}


async def test_every_attendee_is_told_when_recording_starts(people):
    event_id, chair = await new_meeting(people)
    listener = await (await resident(people, event_id))[0].audio(event_id)
    assert (await welcome(listener))["recording"] is False
    status, _ = await chair.post(f"/api/events/{event_id}/recording", {"on": True})
    assert status == 200
    assert await next_json(listener) == {"type": "recording", "recording": True}
    late = await (await resident(people, event_id))[0].audio(event_id)
    assert (await welcome(late))["recording"] is True
    await chair.post(f"/api/events/{event_id}/recording", {"on": False})
    assert await next_json(listener) == {"type": "recording", "recording": False}


async def test_the_floor_that_ran_out_stops_the_next_packet(people, tiny_client):
    from server.keys import EVENTS

    event_id, chair = await new_meeting(people)
    ann, handle = await resident(people, event_id)
    listener = await (await resident(people, event_id))[0].audio(event_id)
    await welcome(listener)
    status, _ = await chair.post(f"/api/events/{event_id}/floor", {"handle": handle, "seconds": 30, "name": "Ann"})
    assert status == 200
    ann_socket = await ann.audio(event_id)  # connecting while holding the floor: the welcome says so
    assert (await welcome(ann_socket))["canSpeak"] is True
    await ann_socket.send(speaker_packet(1, 960, b"a"))
    assert parse_listener_packet(await next_packet(listener))[1:3] == (1, 1)
    service = tiny_client.server.app[EVENTS]  # the service's clock decides `until` (as tests/test_events_api.py)
    real_clock = service.clock
    service.clock = lambda: real_clock() + 31
    await ann_socket.send(speaker_packet(2, 1920, b"b"))
    said = await until(ann_socket, {"type": "error", "code": NOT_ALLOWED, "message": "You may not speak now."})
    assert {"type": "can_speak", "canSpeak": False, "reason": "floor_expired"} in said
    assert packets(said) == []
    assert packets(await until(listener, NOBODY)) == []  # its voice ended; the late packet was not relayed


async def test_a_second_socket_of_the_same_resident_is_also_served(people):
    """DOC: "one connection per attendee per meeting" describes the design; a second one (another tab) is not
    refused and does not close the first: both are told their right."""
    event_id, chair = await new_meeting(people)
    ann, handle = await resident(people, event_id)
    first, second = await ann.audio(event_id), await ann.audio(event_id)
    await welcome(first)
    await welcome(second)
    await chair.post(f"/api/events/{event_id}/floor", {"handle": handle, "seconds": 60, "name": "Ann"})
    granted = {"type": "can_speak", "canSpeak": True, "reason": "floor_granted"}
    assert await next_json(first) == granted and await next_json(second) == granted


async def test_a_tampered_resident_cookie_gets_a_fresh_identity(people):
    event_id, _ = await new_meeting(people)
    mallory = await people()
    mallory.session.cookie_jar.update_cookies({"civic_resident": "forged.0000"}, URL(mallory.base))
    socket = await mallory.audio(event_id)
    assert socket.response.headers["Set-Cookie"].startswith("civic_resident=")  # type: ignore[union-attr]
    assert "forged" not in mallory.cookie_header()
    assert (await welcome(socket))["canSpeak"] is False


async def test_packets_are_relayed_as_sent_and_a_speaker_who_leaves_stops_speaking(people):
    """The server relays, it does not check or reorder seq (the doc's "+1 per packet" is the sender's rule)."""
    event_id, chair = await new_meeting(people)
    listener = await (await resident(people, event_id))[0].audio(event_id)
    speaking = await chair.audio(event_id)
    await welcome(listener)
    await welcome(speaking)
    await speaking.send(MIC_ON)
    assert await next_json(listener) == CHAIR_SPEAKS
    late = await (await resident(people, event_id))[0].audio(event_id)
    assert (await welcome(late))["speaker"] == CHAIR_SPEAKS["speaker"]  # a newcomer hears who speaks now
    for seq in (5, 3, 9, 9):
        await speaking.send(speaker_packet(seq, 0, b"z"))
    await speaking.send(b"\x01" + bytes(1023))  # 1024 bytes: allowed as a message, too big as Opus
    assert (await next_json(speaking, "error"))["code"] == "packet_too_big"
    await speaking.close()
    heard = packets(await until(listener, NOBODY))
    assert [parse_listener_packet(p)[2] for p in heard] == [5, 3, 9, 9]


# --- limits --------------------------------------------------------------------------------------------------------


async def test_bad_messages_are_answered_and_the_fifth_closes_with_4001(people):
    event_id, chair = await new_meeting(people)
    socket = await chair.audio(event_id)
    await welcome(socket)
    bad: list[tuple[str | bytes, str]] = [
        (json.dumps({"type": "mic", "on": True, "extra": 1}), "bad_message"),  # an unknown field
        (json.dumps({"type": "mic", "on": "yes"}), "bad_message"),  # not a boolean
        (b"\x01\x00\x01\x00\x00\x03\xc0", "bad_message"),  # 7 bytes: a header and no Opus
        (speaker_packet(1, 960, b"x", kind=2), "bad_message"),  # another kind
    ]
    for message, code in bad:
        await socket.send(message)
        answer = await next_json(socket, "error")
        assert answer["code"] == code and answer["message"], message
    # DOC: a too large Opus packet counts as a bad message: the fifth here is one, and it closes the connection
    # (the error `packet_too_big` still comes first, then the close's reason says `bad_message`)
    await socket.send(speaker_packet(2, 1920, bytes(401)))
    assert (await next_json(socket, "error"))["code"] == "packet_too_big"
    assert await closed_with(socket) == (4001, "bad_message")


async def test_an_opus_packet_over_400_bytes_is_dropped_and_told(people):
    event_id, chair = await new_meeting(people)
    listener = await (await resident(people, event_id))[0].audio(event_id)
    speaking = await chair.audio(event_id)
    await welcome(listener)
    await welcome(speaking)
    await speaking.send(speaker_packet(1, 960, bytes(401)))
    assert (await next_json(speaking, "error"))["code"] == "packet_too_big"
    await speaking.send(speaker_packet(2, 1920, bytes(400)))
    assert parse_listener_packet(await next_packet(listener))[2:] == (2, 1920, bytes(400))


async def test_a_message_over_1024_bytes_closes_with_1009(people):
    event_id, chair = await new_meeting(people)
    socket = await chair.audio(event_id)
    await welcome(socket)
    await socket.send("x" * 1024)  # 1024 itself is allowed: a bad message, answered, the connection stays
    assert (await next_json(socket, "error"))["code"] == "bad_message"
    await socket.send(speaker_packet(1, 960, bytes(1025 - 7)))
    # DOC: the table gives no reason for 1009 ("—"); the server sends an empty one
    assert await closed_with(socket) == (1009, "")


async def test_over_the_packet_rate_packets_are_dropped_and_told_once(people):
    event_id, chair = await new_meeting(people)
    listener = await (await resident(people, event_id))[0].audio(event_id)
    speaking = await chair.audio(event_id)
    await welcome(listener)
    await welcome(speaking)
    for i in range(40):  # at once: the burst is 25
        await speaking.send(speaker_packet(i, i * 960, opus_like(i)))
    await speaking.send(MIC_OFF)
    said = await until(speaking, NOBODY)
    errors = [m for m in said if isinstance(m, dict) and m["type"] == "error"]
    assert [e["code"] for e in errors] == ["rate_limited"]  # at most one a second
    heard = packets(await until(listener, NOBODY))
    # the first 25 pass (a few more may, refilled at 60 a second while the 40 were being read), in order
    assert 25 <= len(heard) < 40
    assert [parse_listener_packet(p)[2] for p in heard] == list(range(len(heard)))


# --- closing -------------------------------------------------------------------------------------------------------


async def test_an_unknown_event_is_closed_4004_without_a_welcome(people):
    nobody = await people()
    assert await closing(await nobody.audio(987654)) == ([], 4004, "event_not_found")


async def test_a_meeting_that_ended_or_was_archived_is_closed_4409_without_a_welcome(people):
    for state in ("ended", "archived"):
        event_id, _ = await new_meeting(people, state)
        ann = await people()
        assert await closing(await ann.audio(event_id)) == ([], 4409, "ended"), state


async def test_ending_the_meeting_tells_the_speaker_then_closes_everyone_4409(people):
    event_id, chair = await new_meeting(people)
    listener = await (await resident(people, event_id))[0].audio(event_id)
    speaking = await chair.audio(event_id)
    await welcome(listener)
    await welcome(speaking)
    status, _ = await chair.post(f"/api/events/{event_id}/state", {"to": "ended"})
    assert status == 200
    assert await next_json(speaking) == {"type": "can_speak", "canSpeak": False, "reason": "not_live"}
    assert await closed_with(speaking) == (4409, "ended")
    # a listener, whose right did not change, gets no `can_speak`: only the close
    assert await closing(listener) == ([], 4409, "ended")


async def test_a_deleted_meeting_closes_4409_and_then_is_unknown_4004(people):
    event_id, chair = await new_meeting(people)
    host = await people("hana", "host")
    listener = await (await resident(people, event_id))[0].audio(event_id)
    await welcome(listener)
    version = (await host.call("GET", f"/api/events/{event_id}"))[1]["version"]
    status, _ = await host.call("DELETE", f"/api/events/{event_id}?version={version}")
    assert status == 200
    assert await closed_with(listener) == (4409, "ended")
    # DOC: the table puts "deleted (on connect ...)" under 4409; on connect a deleted meeting is 4004
    assert await closed_with(await (await people()).audio(event_id)) == (4004, "event_not_found")


async def test_a_removed_handle_is_closed_4403_removed_and_may_come_back(people):
    event_id, _ = await new_meeting(people)
    ann, handle = await resident(people, event_id)
    socket = await ann.audio(event_id)
    await welcome(socket)
    moderator = await people("mo", "moderator")
    status, _ = await moderator.post(f"/api/events/{event_id}/moderation", {"action": "remove", "handle": handle})
    assert status == 200
    assert await closed_with(socket) == (4403, "removed")
    await welcome(await ann.audio(event_id))


async def test_a_banned_handle_is_closed_4403_banned_and_refused_on_connect(people):
    event_id, _ = await new_meeting(people)
    ann, handle = await resident(people, event_id)
    socket = await ann.audio(event_id)
    await welcome(socket)
    moderator = await people("mo", "moderator")
    status, _ = await moderator.post(f"/api/events/{event_id}/moderation", {"action": "ban", "handle": handle})
    assert status == 200
    assert await closed_with(socket) == (4403, "banned")
    assert await closing(await ann.audio(event_id)) == ([], 4403, "banned")


async def test_the_server_answers_the_clients_close_with_1000(people):
    event_id, _ = await new_meeting(people)
    socket = await (await people()).audio(event_id)
    await welcome(socket)
    await socket.close()
    assert socket.close_code == 1000
    assert socket.protocol.close_rcvd is not None and socket.protocol.close_rcvd.code == 1000
