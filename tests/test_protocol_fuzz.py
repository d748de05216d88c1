"""Keep trying, the server: random and mutated client messages (JSON and binary, before and after hello) never
crash the server or disturb another resident, who stays connected and keeps receiving pose frames and
well-formed messages.

Hypothesis drives the attacker from a worker thread while the app and both sockets live on the test's event
loop (coroutines are handed over with run_coroutine_threadsafe), so shrinking works as usual. Bounded: a few
dozen connections, each a handful of messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import protocol
from server.codec import decode_frame, encode_pose

EXAMPLES = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

KNOWN_TYPES = set(protocol.SERVER_MESSAGES)
EVENT_TYPES = set(protocol.PRESENCE_EVENTS) | set(protocol.CONTENT_EVENTS)
# How a connection may end: any protocol close, or cut without a close frame. Never 1011 (a server fault).
ALLOWED_CLOSES = (set(protocol.CLOSE_CODES) - {protocol.CLOSE_INTERNAL_ERROR}) | {1006, None}  # None: still open

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
odd_text = st.text(max_size=60) | st.sampled_from([
    "", " ", "Ann\n", "\u202eevil", "\u2028", "\x00", "<script>", "x" * 33, "y" * 501, "😀" * 20, "Zoë (chair)"])


def templates() -> dict[str, dict[str, Any]]:
    return {
        "hello": {"type": "hello", "protocol": protocol.PROTOCOL_VERSION, "scene": "tiny", "instance": 1,
                  "name": "Ann"},
        "chat": {"type": "chat", "text": "hello"},
        "rename": {"type": "rename", "name": "Bea"},
    }


@st.composite
def json_message(draw: st.DrawFn) -> str:
    """A client message, often valid, often with one field replaced, dropped, added, or of another type."""
    message = dict(templates()[draw(st.sampled_from(protocol.CLIENT_MESSAGES))])
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from([*message, "extra"]))
        action = draw(st.sampled_from(["value", "text", "drop", "type"]))
        if action == "value":
            message[key] = draw(json_values)
        elif action == "text":
            message[key] = draw(odd_text)
        elif action == "drop":
            message.pop(key, None)
        else:
            message["type"] = draw(st.sampled_from([*KNOWN_TYPES, *EVENT_TYPES, "", "HELLO"]) | st.text(max_size=10))
    return json.dumps(message, ensure_ascii=draw(st.booleans()))


@st.composite
def binary_message(draw: st.DrawFn) -> bytes:
    u16 = st.integers(0, 0xFFFF)
    pose = encode_pose(draw(u16), draw(u16), draw(u16), draw(u16), draw(st.integers(0, 255)))
    kind = draw(st.sampled_from(["pose", "cut", "longer", "random"]))
    if kind == "pose":
        return pose
    if kind == "cut":
        return pose[: draw(st.integers(0, len(pose) - 1))]
    if kind == "longer":
        return pose + draw(st.binary(min_size=1, max_size=8))
    return draw(st.binary(max_size=40))


raw_text = st.text(max_size=80) | st.sampled_from([
    "[" * 5000, '{"type": "chat", "text": ' + "[" * 3000, "null", "[]", '"hello"', '{"type": 1}',
    "{" + '"a":1,' * 100 + '"type":"chat"}', "1" * 4500, "x" * protocol.MAX_MESSAGE_BYTES])
message = st.one_of(json_message().map(lambda t: ("text", t)), binary_message().map(lambda b: ("binary", b)),
                    raw_text.map(lambda t: ("text", t)))
sessions = st.tuples(st.booleans(), st.lists(message, max_size=6))  # (say a valid hello first?, messages)


class Errors(logging.Handler):
    """Error log lines from the server while the attacker is at work (a crash logs one)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("civic"):
            self.lines.append(record.getMessage())


def origin(client: Any) -> dict[str, str]:
    return {"Origin": str(client.make_url("/")).rstrip("/")}


async def expect_welcome(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    async with asyncio.timeout(3):
        while True:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            data = json.loads(msg.data)
            if data["type"] == "welcome":
                return data


async def observer_still_served(ws: aiohttp.ClientWebSocketResponse) -> None:
    """The observer receives a fresh pose frame within a second, and every text message on the way is a
    well-formed server message."""
    async with asyncio.timeout(2):
        while True:
            msg = await ws.receive()
            if msg.type == aiohttp.WSMsgType.BINARY:
                decode_frame(msg.data)
                return
            assert msg.type == aiohttp.WSMsgType.TEXT, f"the observer's connection ended: {msg}"
            data = json.loads(msg.data)
            assert data["type"] in KNOWN_TYPES, data
            if data["type"] == "batch":
                assert all(event["type"] in EVENT_TYPES for event in data["events"]), data
            assert data["type"] != "error", data


async def attack(client: Any, say_hello: bool, messages: list[tuple[str, Any]]) -> int | None:
    ws = await client.ws_connect("/ws", headers=origin(client), max_msg_size=0)
    try:
        if say_hello:
            await ws.send_str(json.dumps(templates()["hello"]))
        for kind, payload in messages:
            if ws.closed:
                break
            try:
                await (ws.send_str(payload) if kind == "text" else ws.send_bytes(payload))
            except (ConnectionResetError, aiohttp.ClientConnectionError):
                break
        # Read what comes back until the server closes or has had time to answer everything.
        try:
            async with asyncio.timeout(0.3):
                while not ws.closed:
                    msg = await ws.receive()
                    if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        break
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        assert json.loads(msg.data)["type"] in KNOWN_TYPES
        except TimeoutError:
            return None  # still open: the server had nothing against these messages
        return ws.close_code
    finally:
        await ws.close()


async def test_random_and_mutated_messages_never_crash_the_server_or_disturb_another_resident(tiny_client):
    loop = asyncio.get_running_loop()
    errors = Errors()
    logging.getLogger().addHandler(errors)
    observer = await tiny_client.ws_connect("/ws", headers=origin(tiny_client))
    await observer.send_str(json.dumps({**templates()["hello"], "name": "Observer"}))
    await expect_welcome(observer)
    await observer.send_bytes(encode_pose(100, 200, 300, 0, 128))  # visible: a frame every tick

    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)

    @EXAMPLES
    @given(sessions)
    def attacker_session(session: tuple[bool, list[tuple[str, Any]]]) -> None:
        errors.lines.clear()
        close_code = run(attack(tiny_client, *session))
        assert close_code in ALLOWED_CLOSES, f"closed with {close_code}"
        run(observer_still_served(observer))
        assert errors.lines == [], errors.lines

    try:
        await asyncio.to_thread(attacker_session)
        health = await tiny_client.get("/healthz")
        assert health.status == 200
    finally:
        logging.getLogger().removeHandler(errors)
        await observer.close()
