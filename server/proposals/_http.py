"""What both adapters do on the wire: one guarded, budgeted HTTP client, bounded reads, Retry-After.

`PlatformHttp` is the only way the adapters reach a platform. Every request it sends has passed, in this order: the
address policy (`guard.check_host`: allow-list, IP literals; names are checked after resolution by the connector's
`GuardedResolver`, which is also what the connection uses), then the request budget (`budget.Budget.take`). It never
follows redirects (a redirect could point anywhere) and never reads proxy settings from the environment.

A platform answer is read into memory only up to MAX_BODY bytes; a network failure, a timeout or an unexpected status
becomes SourceError, a 429 becomes RateLimited with the wait the platform asked for (DEFAULT_RETRY_AFTER when it gave
none or an unreadable one, capped at MAX_RETRY_AFTER so a typo on their side cannot silence a host for a week).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterable
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from server.proposals.budget import Budget
from server.proposals.guard import AllowList, check_host, guarded_connector
from server.proposals.model import AddressRefused, RateLimited, SourceError

MAX_BODY = 1 << 20
TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
DEFAULT_RETRY_AFTER = 60.0
MAX_RETRY_AFTER = 3600.0
# Some CONSUL hosts sit behind filters that refuse non-browser agents; Decidim does not care either way.
USER_AGENT = "Mozilla/5.0 (compatible; CivicSpace/0.1) AppleWebKit/537.36 (KHTML, like Gecko)"


def retry_after_seconds(header: str | None, now: float | None = None) -> float:
    """Retry-After as delta-seconds or an HTTP date → seconds to wait."""
    if not header:
        return DEFAULT_RETRY_AFTER
    header = header.strip()
    if header.isdigit():
        return min(float(header), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return DEFAULT_RETRY_AFTER
    return min(max(0.0, when - (time.time() if now is None else now)), MAX_RETRY_AFTER)


async def read_body(resp: aiohttp.ClientResponse) -> bytes:
    """The whole answer, up to MAX_BODY bytes. (`content.read(n)` returns only what has arrived so far: a large
    answer would come back cut and be misread as bad JSON.)"""
    chunks, size = [], 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            raise SourceError(f"answer from {resp.url.host} larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class PlatformHttp:
    """The guarded HTTP client of the proposal adapters. Use as `async with PlatformHttp(hosts) as http:`."""

    def __init__(
        self,
        platform_hosts: Iterable[str] = (),
        budget: Budget | None = None,
        resolver: AbstractResolver | None = None,  # the name resolver the guard filters (tests give a fake one)
    ) -> None:
        self.allow = AllowList(platform_hosts)
        self.budget = budget if budget is not None else Budget()
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> PlatformHttp:
        self._session = aiohttp.ClientSession(
            connector=guarded_connector(self.allow, self._resolver, limit=32, ttl_dns_cache=60),
            timeout=TIMEOUT,
            trust_env=False,
        )
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def check(self, url: str) -> None:
        """AddressRefused unless `url`'s host may be read (the part of the policy that needs no resolution)."""
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host or parsed.port is None:
            raise AddressRefused(f"{url!r} is not an http(s) address.")
        check_host(self.allow, parsed.host, parsed.port)

    @contextlib.asynccontextmanager
    async def request(self, method: str, url: str, *, host_key: str, **kwargs: Any) -> AsyncIterator[
        aiohttp.ClientResponse
    ]:
        """Send one request to a platform (policy, then budget), 429 → RateLimited and the host blocked.

        Network trouble becomes SourceError; AddressRefused and NotSent mean nothing was sent.
        """
        if self._session is None:
            raise RuntimeError("PlatformHttp used outside `async with`")
        self.check(url)
        self.budget.take(host_key)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        try:
            async with self._session.request(
                method, url, headers=headers, allow_redirects=False, timeout=TIMEOUT, **kwargs
            ) as resp:
                if resp.status == 429:
                    wait = retry_after_seconds(resp.headers.get("Retry-After"))
                    self.budget.block(host_key, wait)
                    raise RateLimited(wait, f"{host_key} answered 429")
                yield resp
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SourceError(f"{host_key} unreachable: {type(exc).__name__}") from exc


def decode_json(body: bytes, host: str | None) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise SourceError(f"{host} answered something that is not JSON") from None
    if not isinstance(payload, dict):
        raise SourceError(f"{host} answered JSON that is not an object")
    return payload
