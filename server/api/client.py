"""Who is asking, and how: the client address and the scheme, believing a reverse proxy only when it is trusted.

Invariants: `X-Forwarded-For` and `X-Forwarded-Proto` are read only when the connection comes from an address in
`Config.trusted_proxies`; otherwise the socket's peer is the client. The header is walked from the right (the
hop closest to us) past trusted proxies, so a client cannot choose its own address by prepending entries.
`forwarded_middleware` applies this once per request, so `request.remote` and `request.secure` are right
everywhere downstream (rate limits, the session cookie's Secure flag, HSTS).
"""

from __future__ import annotations

import ipaddress

from aiohttp import web

from .. import errors
from ..addresses import in_networks, networks
from ..keys import CONFIG

MAX_HOPS = 16  # X-Forwarded-For entries looked at, from the right


def _peer(request: web.Request) -> str | None:
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    if isinstance(peer, (list, tuple)) and peer:
        return str(peer[0])
    return request.remote


def client_address(request: web.Request) -> str:
    """The address of the client this request is for (for per-client limits; never stored or logged)."""
    peer = _peer(request) or "?"
    trusted = networks(request.app[CONFIG].trusted_proxies)
    if not in_networks(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "")[:2048].split(",")][-MAX_HOPS:]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # a malformed entry: keep the last address we could believe
        client = hop
        if not in_networks(hop, trusted):
            break
    return client


def is_https(request: web.Request) -> bool:
    """True when the client reached us over HTTPS: directly, or as a trusted proxy says."""
    if request.transport is not None and request.transport.get_extra_info("sslcontext") is not None:
        return True
    if in_networks(_peer(request), networks(request.app[CONFIG].trusted_proxies)):
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
        return proto == "https"
    return request.scheme == "https"


@web.middleware
async def forwarded_middleware(request: web.Request, handler: errors.Handler) -> web.StreamResponse:
    if not request.app[CONFIG].trusted_proxies:
        return await handler(request)
    return await handler(request.clone(remote=client_address(request),
                                       scheme="https" if is_https(request) else "http"))
