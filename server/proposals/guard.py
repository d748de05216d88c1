"""Which platform addresses the server may connect to: the defence against server-side request forgery.

A proposal reference names a host chosen by staff (or, before the API was locked down, by anyone), so reading it must
never reach the server's own machine or network. Invariants:
- an address is refused when it is loopback, private, link-local, multicast, reserved, unspecified or otherwise not
  globally routable; an IPv6 address that embeds an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`,
  6to4, Teredo) is judged by the IPv4 address it carries as well;
- the check runs AFTER name resolution, on every address a name resolves to, and the connection is made to a checked
  address only: `GuardedResolver` resolves once, drops refused addresses and hands aiohttp what is left, so a name
  that answers differently the second time (DNS rebinding) cannot slip through — there is no second time;
- IP literals never reach a resolver (aiohttp connects to them directly), so `PlatformHttp` checks them before asking;
- a host on the allow-list (`host` or `host:port`, from `--platform-hosts`) is allowed even when local: that is how a
  test or a city's intranet platform is reached on purpose. A non-empty allow-list also means ONLY listed hosts.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from server.proposals.model import AddressRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_LEGACY_IPV4 = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def refusal(ip: IPAddress) -> str | None:
    """Why the server must not connect to `ip` (a short phrase for staff), or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = refusal(inner)
            if reason is not None or ip.ipv4_mapped is not None:
                return reason
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    return next((reason for hit, reason in checks if hit), None)


def literal(host: str) -> IPAddress | None:
    """`host` (as in a URL, IPv6 maybe bracketed) as an IP address when it is a literal, else None.

    Legacy IPv4 spellings that C resolvers accept (`127.1`, `0x7f.1`, `2130706433`, octal `0177.0.0.1`) count as
    literals of the address they mean, so they are judged as that address.
    """
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


class AllowList:
    """The `platform_hosts` setting: entries `host` (any port) or `host:port`; IPv6 as `[addr]` or `[addr]:port`."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.hosts: set[str] = set()
        self.host_ports: set[tuple[str, int]] = set()
        for raw in entries:
            host, port = _split(raw.strip().lower())
            if not host:
                continue
            if port is None:
                self.hosts.add(_key(host))
            else:
                self.host_ports.add((_key(host), port))

    @property
    def exclusive(self) -> bool:
        """A non-empty allow-list: hosts not on it are never read."""
        return bool(self.hosts or self.host_ports)

    def listed(self, host: str, port: int) -> bool:
        key = _key(host)
        return key in self.hosts or (key, port) in self.host_ports


def _split(entry: str) -> tuple[str, int | None]:
    """'host', 'host:port', '[v6]', '[v6]:port' or a bare IPv6 address → (host, port or None)."""
    if entry.startswith("[") and "]:" in entry:
        host, _, port = entry.rpartition(":")
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    else:
        return entry, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"platform host {entry!r}: the port must be a number from 1 to 65535")
    return host, int(port)


def _key(host: str) -> str:
    """One spelling per host: lower-case, no trailing dot, IPv6 literals compressed and bracketed."""
    host = host.strip().lower().rstrip(".")
    ip = literal(host)
    if isinstance(ip, ipaddress.IPv6Address):
        return f"[{ip.compressed}]"
    return str(ip) if ip is not None else host


def check_host(allow: AllowList, host: str, port: int) -> None:
    """Raise AddressRefused when `host:port` may not be read before any resolution (allow-list, IP literal)."""
    if allow.listed(host, port):
        return
    if allow.exclusive:
        raise AddressRefused(f"{_key(host)} is not one of the platform hosts this server may read.")
    ip = literal(host)
    if ip is not None:
        reason = refusal(ip)
        if reason is not None:
            raise AddressRefused(f"{_key(host)} is {reason}; proposals are read from public platforms only.")


class GuardedResolver(AbstractResolver):
    """Resolve once, keep only addresses `refusal` accepts (all of them for allow-listed hosts), connect to those."""

    def __init__(self, allow: AllowList, inner: AbstractResolver | None = None) -> None:
        self.allow = allow
        self.inner = inner or aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        check_host(self.allow, host, port)
        answers = await self.inner.resolve(host, port, family)
        if self.allow.listed(host, port):
            return answers
        kept: list[ResolveResult] = []
        reasons: list[str] = []
        for answer in answers:
            ip = literal(str(answer["host"]))
            reason = "not an IP address" if ip is None else refusal(ip)
            if reason is None:
                kept.append(answer)
            else:
                reasons.append(reason)
        if not kept:
            raise AddressRefused(
                f"{_key(host)} resolves to {reasons[0] if reasons else 'no address'}; "
                "proposals are read from public platforms only."
            )
        return kept

    async def close(self) -> None:
        await self.inner.close()


def guarded_connector(allow: AllowList, inner: AbstractResolver | None = None, **kwargs: Any) -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(resolver=GuardedResolver(allow, inner), **kwargs)
