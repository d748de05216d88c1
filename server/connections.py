"""The listening socket's own defences: deadlines for slow clients and a cap on connections per address.

An internet client can open a connection and never finish it. Without limits, 300 half-open connections were
held for over a minute and a thousand exhausted the process's file descriptors (issue 9 item 4). Invariants:
- Headers: a connection that has not sent a complete request head within `header_timeout` seconds of opening,
  or of the end of its previous response, is closed. This is aiohttp's keep-alive timer (armed at connection
  start, not reset by incoming bytes, so a byte-at-a-time client gains nothing); it also closes keep-alive
  connections idle for as long.
- Body: a handler waiting for a request body gets a 408 `request_timeout` once `body_timeout` seconds passed
  since the handler started and the body is still incomplete.
- Per address: at most `max_connections_per_address` open connections (WebSockets included) from one client
  address; the next is answered 503 `too_many_connections` and closed before any request is read. Trusted
  proxies (`--trusted-proxies`) and this machine (loopback: a reverse proxy on the same host, the benchmarks)
  are exempt, as for WebSocket joins in `server/realtime.py`: all their clients share one address.
- Request heads are bounded: request line 8 KiB, each header field 8 KiB, at most 64 header fields.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, cast

from aiohttp import web

from .addresses import LOOPBACK, Network, in_networks, networks
from .config import Config
from .errors import ApiError, Handler, error_body
from .keys import METRICS

log = logging.getLogger("civic.connections")

MAX_LINE = 8190
MAX_FIELD = 8190
MAX_HEADERS = 64


def _refusal() -> bytes:
    body = json.dumps(error_body("too_many_connections",
                                 "Too many connections from your address; close some and try again.")).encode()
    head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 10\r\nConnection: close\r\n\r\n")
    return head.encode() + body


class AddressCap:
    """Open connections per client address; `exempt` networks (trusted proxies) are not capped. `on_refuse` is
    called for each connection refused (a metric)."""

    def __init__(self, limit: int, exempt: Iterable[str] = (), on_refuse: Callable[[], object] = lambda: None) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()
        self.on_refuse = on_refuse
        self.exempt: list[Network] = []
        for item in exempt:
            try:
                self.exempt.extend(networks(frozenset({item})))
            except ValueError:
                log.warning("ignoring a trusted proxy that is not an address or network", extra={"proxy": item})

    def admit(self, address: str) -> bool:
        if self.open[address] >= self.limit and not in_networks(address, self.exempt):
            self.on_refuse()
            return False
        self.open[address] += 1
        return True

    def release(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


class GuardedProtocol(asyncio.Protocol):
    """Stands between the transport and aiohttp's protocol: admits the connection under the address cap (or
    answers 503 and closes), then hands every event through unchanged."""

    def __init__(self, inner: asyncio.Protocol, cap: AddressCap) -> None:
        self.inner = inner
        self.cap = cap
        self.address: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if not self.cap.admit(address):
            transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio.Transport subclasses
            transport.write(_refusal())
            transport.close()
            return
        self.address = address
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.address is None:
            return
        self.cap.release(self.address)
        self.address = None
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.address is not None:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.address is not None else None

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through `GuardedProtocol`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, cap: AddressCap) -> None:
        super().__init__(runner)
        self.app_runner = runner
        self.host, self.port, self.cap = host, port, cap
        self.bound_port = port

    @property
    def name(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.bound_port}"

    async def start(self) -> None:
        await super().start()
        server = self.app_runner.server
        assert server is not None
        cap = self.cap
        self._server = await asyncio.get_running_loop().create_server(
            lambda: GuardedProtocol(server(), cap), self.host, self.port, reuse_address=True)
        if self._server.sockets:
            self.bound_port = int(self._server.sockets[0].getsockname()[1])


def body_deadline(timeout: float) -> Any:
    """Middleware: a request body still incomplete `timeout` seconds after its handler started fails the
    handler's read with a 408; the connection is then closed after the answer (no lingering, see below)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        content = request.content
        if content.is_eof():
            return await handler(request)

        def expire() -> None:
            if not content.is_eof():
                content.set_exception(ApiError(408, "request_timeout", "The request body arrived too slowly."))

        route = getattr(request.match_info.handler, "__self__", None)  # a Route's bound endpoint
        limit = getattr(route, "body_timeout", None) or timeout  # a large upload may declare a longer deadline
        timer = asyncio.get_running_loop().call_later(limit, expire)
        try:
            return await handler(request)
        finally:
            timer.cancel()

    return middleware


def make_runner(app: web.Application, config: Config, **runner_args: Any) -> web.AppRunner:
    """A runner for `app` with the header deadline, bounded request heads and the body deadline (call its
    `setup()`, then `listen`)."""
    app.middlewares.insert(0, body_deadline(config.body_timeout))
    # lingering_time=0: a body the handler did not read to its end is not drained (that is what a slow client
    # would exploit); the connection is closed after the answer instead.
    return web.AppRunner(app, handle_signals=False, keepalive_timeout=config.header_timeout, lingering_time=0,
                         max_line_size=MAX_LINE, max_field_size=MAX_FIELD, max_headers=MAX_HEADERS, **runner_args)


async def listen(runner: web.AppRunner, config: Config, exempt: Iterable[str] = LOOPBACK) -> int:
    """Listen on config.host:config.port behind the per-address cap (not applied to `exempt` networks nor to
    trusted proxies); returns the bound port. Raises OSError when the address cannot be bound."""
    refused = runner.app[METRICS].connections_refused
    cap = AddressCap(config.max_connections_per_address, [*exempt, *config.trusted_proxies], refused.inc)
    site = GuardedSite(runner, config.host, config.port, cap)
    await site.start()
    return site.bound_port
