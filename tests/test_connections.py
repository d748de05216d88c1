"""Slow and greedy clients at the socket: half-open connections are closed, slow bodies answered 408, one address
cannot hold more than its share of connections, and repeated error logs are summarised (issue 9 item 4).

A real server on a free port (the same `make_runner` + `listen` as `python -m server serve`) with small
deadlines, and real sockets. The waits below are upper bounds for a broken server, never speed assertions.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from server.app import create_app
from server.config import Config
from server.connections import AddressCap, body_deadline, listen, make_runner
from server.errors import error_middleware
from server.logs import RepeatLimiter

from .test_realtime import next_json

GIVE_UP = 20  # seconds: only reached if the server never closes


@pytest.fixture
async def server(tiny_config: Config) -> AsyncIterator[int]:
    config = dataclasses.replace(tiny_config, port=0, header_timeout=0.5, body_timeout=0.5,
                                 max_connections_per_address=5)
    runner = make_runner(create_app(config), config)
    await runner.setup()
    try:
        yield await listen(runner, config, exempt=())  # loopback is exempt in production, not here
    finally:
        await runner.cleanup()


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection (a reset counts as closed)."""
    try:
        return await asyncio.wait_for(reader.read(), GIVE_UP)
    except ConnectionError:
        return b""


async def metrics_of(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    answer = await closed_by_server(reader)
    writer.close()
    return answer


async def test_connections_that_never_finish_their_headers_are_closed(server):
    silent = [await asyncio.open_connection("127.0.0.1", server) for _ in range(3)]
    partial = []
    for _ in range(3):
        reader, writer = await asyncio.open_connection("127.0.0.1", server)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        partial.append((reader, writer))

    async def dribble(writer: asyncio.StreamWriter) -> None:  # a byte at a time does not buy more time
        for _ in range(GIVE_UP * 10):
            if writer.is_closing() or writer.transport.get_extra_info("socket") is None:
                return
            try:
                writer.write(b"X")
            except ConnectionError:  # closed by the server: what the test waits for
                return
            await asyncio.sleep(0.1)

    dribblers = [asyncio.ensure_future(dribble(w)) for _, w in partial]
    try:
        answers = await asyncio.gather(*[closed_by_server(r) for r, _ in silent + partial])
    finally:
        for task in dribblers:
            task.cancel()
        for _, writer in silent + partial:
            writer.close()
    assert answers == [b""] * 6  # closed without an answer


async def test_a_body_that_stops_arriving_is_answered_408_and_the_connection_closed(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1000\r\n\r\n{\"username\": ")
    try:
        answer = await closed_by_server(reader)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer[:200]
    assert json.loads(body)["error"]["code"] == "request_timeout"


async def test_a_complete_request_is_still_answered_and_kept_alive(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    try:
        for _ in range(2):
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), GIVE_UP)
            assert head.startswith(b"HTTP/1.1 200")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            await reader.readexactly(length)
        assert await closed_by_server(reader) == b""  # then idle: closed after the header deadline
    finally:
        writer.close()


async def test_a_resident_stays_connected_well_past_the_header_deadline(server):
    url = f"http://127.0.0.1:{server}"
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{url}/ws", origin=url)
        await ws.send_str(json.dumps({"type": "hello", "protocol": 1, "scene": "tiny"}))
        await next_json(ws, "welcome")
        await asyncio.sleep(2.0)  # four header deadlines
        assert not ws.closed
        frame = await asyncio.wait_for(ws.receive(), GIVE_UP)  # the tick still reaches it
        assert frame.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT)
        await ws.close()


async def test_one_address_cannot_hold_more_than_its_share_of_connections(server):
    held = [await asyncio.open_connection("127.0.0.1", server) for _ in range(5)]
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    refused = await closed_by_server(reader)
    writer.close()
    head, _, body = refused.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503") and json.loads(body)["error"]["code"] == "too_many_connections"

    held.pop()[1].close()  # one place freed
    await asyncio.sleep(0.05)
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert (await closed_by_server(reader)).startswith(b"HTTP/1.1 200")
    writer.close()
    for _, w in held:
        w.close()
    await asyncio.sleep(0.05)
    assert b"civic_http_connections_refused_total 1.0" in await metrics_of(server)


async def test_loopback_and_trusted_proxies_are_not_capped(tiny_config: Config):
    config = dataclasses.replace(tiny_config, port=0, max_connections_per_address=2)
    runner = make_runner(create_app(config), config)
    await runner.setup()
    try:
        port = await listen(runner, config)  # the default exemption: this machine
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(4)]
        reader, writer = held[-1]
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        assert (await closed_by_server(reader)).startswith(b"HTTP/1.1 200")
        for _, w in held:
            w.close()
    finally:
        await runner.cleanup()
    cap = AddressCap(1, ["10.0.0.0/8", "not a network"])
    assert cap.admit("10.1.2.3") and cap.admit("10.1.2.3")  # behind a trusted proxy
    assert cap.admit("192.0.2.7") and not cap.admit("192.0.2.7")
    cap.release("192.0.2.7")
    assert cap.admit("192.0.2.7")


def test_a_repeated_error_is_logged_a_few_times_a_minute_then_summarised():
    now = [0.0]
    written: list[logging.LogRecord] = []
    limiter = RepeatLimiter(written.append, per_window=3, window=60, clock=lambda: now[0])

    def log(level: int, message: str) -> None:
        record = logging.LogRecord("aiohttp.server", level, __file__, 1, message, None, None)
        if limiter.filter(record):
            written.append(record)

    for _ in range(1000):
        log(logging.ERROR, "Error handling request")
    log(logging.WARNING, "something else")
    log(logging.INFO, "request")  # information is never limited
    log(logging.INFO, "request")
    assert [r.getMessage() for r in written] == ["Error handling request"] * 3 + ["something else", "request",
                                                                                   "request"]
    now[0] = 61.0
    written.clear()
    log(logging.ERROR, "Error handling request")
    summary, again = written
    assert summary.getMessage() == "repeated log line suppressed"
    assert (summary.repeated, summary.suppressed) == ("Error handling request", 997)  # type: ignore[attr-defined]
    assert again.getMessage() == "Error handling request"


def test_a_refusal_is_written_on_any_transport_uvloop_included():
    """uvloop's transports are not asyncio.Transport subclasses: the cap must still answer 503, not fail."""
    from server.connections import GuardedProtocol

    class DuckTransport:  # what uvloop hands over: the Transport methods, another class
        def __init__(self) -> None:
            self.sent, self.closed = b"", False

        def get_extra_info(self, name: str) -> object:
            return ("203.0.113.9", 50000) if name == "peername" else None

        def write(self, data: bytes) -> None:
            self.sent += data

        def close(self) -> None:
            self.closed = True

    cap = AddressCap(1, exempt=())
    assert cap.admit("203.0.113.9")  # the one place is taken
    transport = DuckTransport()
    GuardedProtocol(asyncio.Protocol(), cap).connection_made(transport)  # type: ignore[arg-type]
    assert transport.sent.startswith(b"HTTP/1.1 503") and transport.closed


class LongUpload:
    """A route object like server/api/route.Route: its bound endpoint is the handler, `body_timeout` its deadline."""

    body_timeout = 5.0

    async def endpoint(self, request: web.Request) -> web.Response:
        return web.json_response({"bytes": len(await request.read())})


async def test_a_route_that_declares_a_longer_body_deadline_gets_it_and_no_other_route_does(aiohttp_client):
    async def plain(request: web.Request) -> web.Response:
        return web.json_response({"bytes": len(await request.read())})

    app = web.Application(middlewares=[error_middleware, body_deadline(0.5)])  # the errors as JSON, as served
    app.router.add_post("/upload", LongUpload().endpoint)
    app.router.add_post("/plain", plain)
    client = await aiohttp_client(app)

    async def dribbled(path: str) -> bytes:  # 10 bytes over 1.5 s: three times the server's deadline
        reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
        writer.write(f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"
                     .encode())
        try:
            for _ in range(10):
                try:  # wait 0.15 s before the next byte, unless the server answers meanwhile
                    first = await asyncio.wait_for(reader.read(1), 0.15)
                    return first + await closed_by_server(reader)
                except TimeoutError:
                    writer.write(b"x")
            return await closed_by_server(reader)
        finally:
            writer.close()

    upload, other = await asyncio.gather(dribbled("/upload"), dribbled("/plain"))
    assert upload.startswith(b"HTTP/1.1 200") and upload.endswith(b'{"bytes": 10}'), upload[:200]
    assert other.startswith(b"HTTP/1.1 408"), other[:200]
