"""What both adapters do on the wire: bounded reads, Retry-After, one mapping from HTTP trouble to our errors.

A platform answer is read into memory only up to MAX_BODY bytes; a network failure, a timeout or an unexpected status
becomes SourceError, a 429 becomes RateLimited with the wait the platform asked for (DEFAULT_RETRY_AFTER when it gave
none or an unreadable one, capped at MAX_RETRY_AFTER so a typo on their side cannot silence a host for a week).
"""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from server.proposals.model import RateLimited, SourceError

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
    body = await resp.content.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise SourceError(f"answer from {resp.url.host} larger than {MAX_BODY} bytes")
    return body


def raise_for_rate_limit(resp: aiohttp.ClientResponse) -> None:
    if resp.status == 429:
        raise RateLimited(retry_after_seconds(resp.headers.get("Retry-After")), f"{resp.url.host} answered 429")


def decode_json(body: bytes, host: str | None) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise SourceError(f"{host} answered something that is not JSON") from None
    if not isinstance(payload, dict):
        raise SourceError(f"{host} answered JSON that is not an object")
    return payload
