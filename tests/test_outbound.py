"""One resident's outbound side on its own (server/outbound.py): the bounded queue, frames written or dropped,
nothing after stop, pongs, and the watchdog's verdicts — with a fake socket, no server."""

from __future__ import annotations

import asyncio

import pytest

import server.outbound
from server.metrics import Metrics
from server.outbound import OUTBOX_LIMIT, SOCKET_BACKLOG, Outbound, control_frame
from server.protocol import CLOSE_TOO_SLOW


class FakeTransport(asyncio.WriteTransport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.backlog = 0
        self.closing = self.aborted = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.written.append(bytes(data))

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def is_closing(self) -> bool:
        return self.closing

    def abort(self) -> None:
        self.aborted = self.closing = True


class FakeSocket:
    """What the writer and the watchdog use of aiohttp's WebSocketResponse."""

    def __init__(self) -> None:
        self.closed = False
        self.close_code: int | None = None
        self.sent: list[str] = []

    async def send_str(self, text: str) -> None:
        self.sent.append(text)

    async def close(self, *, code: int, message: bytes) -> None:
        self.closed, self.close_code = True, code


def attached(**overrides: float) -> tuple[Outbound, FakeTransport, FakeSocket]:
    outbound, transport, ws = Outbound(), FakeTransport(), FakeSocket()
    for name, value in overrides.items():
        setattr(outbound, name, value)
    outbound.attach(ws, transport, Metrics())  # type: ignore[arg-type]
    return outbound, transport, ws


async def test_a_backlog_of_events_marks_a_client_too_slow():
    outbound = Outbound()
    for i in range(OUTBOX_LIMIT):
        outbound.offer({"type": "chat", "text": str(i)})
    assert not outbound.too_slow
    outbound.offer({"type": "chat", "text": "one too many"})
    assert outbound.too_slow and len(outbound.outbox) == OUTBOX_LIMIT


async def test_messages_offered_before_attach_are_sent_once_attached_in_order():
    outbound, ws = Outbound(), FakeSocket()
    outbound.offer({"type": "a"})
    outbound.offer('{"type": "b"}')
    await asyncio.sleep(0.01)
    assert ws.sent == []
    outbound.attach(ws, FakeTransport(), Metrics())  # type: ignore[arg-type]
    outbound.offer({"type": "c"})
    async with asyncio.timeout(2):
        while len(ws.sent) < 3:
            await asyncio.sleep(0.01)
    assert ws.sent == ['{"type": "a"}', '{"type": "b"}', '{"type": "c"}']
    await outbound.close()


async def test_a_frame_is_written_whole_or_dropped_when_the_socket_holds_a_backlog():
    outbound, transport, _ = attached()
    assert outbound.offer_frame(b"frame-1", now=1.0)
    transport.backlog = SOCKET_BACKLOG + 1
    assert not outbound.offer_frame(b"frame-2", now=2.0)
    transport.backlog = 0
    assert outbound.offer_frame(b"frame-3", now=3.0)
    assert transport.written == [b"frame-1", b"frame-3"]
    await outbound.close()


async def test_nothing_is_written_after_stop():
    outbound, transport, _ = attached()
    outbound.stop()
    assert not outbound.offer_frame(b"late frame", now=1.0)
    outbound.pong(b"late pong")
    assert transport.written == []
    await outbound.close()


async def test_a_ping_is_answered_with_a_pong_carrying_its_payload():
    outbound, transport, _ = attached()
    outbound.pong(b"hi")
    assert transport.written == [bytes((0x8A, 2)) + b"hi"]
    with pytest.raises(ValueError):
        control_frame(0x9, b"x" * 126)
    await outbound.close()


async def test_a_socket_refusing_frames_too_long_is_closed_as_too_slow(monkeypatch):
    monkeypatch.setattr(server.outbound, "SEND_TIMEOUT", 0.05)
    monkeypatch.setattr(server.outbound, "WATCH_EVERY", 0.02)
    outbound, transport, ws = attached()
    transport.backlog = SOCKET_BACKLOG + 1
    assert not outbound.offer_frame(b"frame", now=server.outbound.time.monotonic())
    async with asyncio.timeout(2):
        while not ws.closed:
            await asyncio.sleep(0.02)
    assert ws.close_code == CLOSE_TOO_SLOW and outbound.too_slow
    await outbound.close()


async def test_an_unanswered_ping_cuts_the_connection_and_answered_ones_do_not():
    outbound, transport, ws = attached(ping_every=0.05, pong_timeout=0.5)
    pings = 0
    async with asyncio.timeout(5):
        while pings < 3:  # answer three pings
            if transport.written.count(bytes((0x89, 0))) > pings:
                pings += 1
                outbound.pong_received()
            await asyncio.sleep(0.01)
    assert not transport.aborted
    async with asyncio.timeout(5):  # then stop answering
        while not transport.aborted:
            await asyncio.sleep(0.01)
    assert outbound.timed_out and not outbound.offer_frame(b"frame", now=0.0)
    await outbound.close()


async def test_events_queued_before_a_frame_go_out_in_the_same_write_ahead_of_it():
    outbound, transport, ws = attached()
    outbound.offer('{"type":"batch","events":[]}')
    outbound.offer({"type": "resync"})
    assert outbound.offer_frame(b"\x82\x01F", 0.0)
    assert transport.written == [b'\x81\x1c{"type":"batch","events":[]}' + b'\x81\x12{"type": "resync"}' + b"\x82\x01F"]
    await asyncio.sleep(0)  # the writer wakes up to an empty queue: nothing is sent twice
    assert ws.sent == [] and not outbound.outbox
    await outbound.close()


async def test_a_frame_does_not_overtake_a_send_of_the_writer_in_progress():
    outbound, transport, ws = attached()
    outbound._busy_since = 1.0  # the writer is half-way through a send (waiting for the socket to drain)
    outbound.offer("later")
    assert outbound.offer_frame(b"\x82\x01F", 0.0)
    assert transport.written == [b"\x82\x01F"] and list(outbound.outbox) == ["later"]
    await outbound.close()
