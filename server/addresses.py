"""Client addresses against networks: the one rule for "is this address one of those" (trusted proxies, the
loopback exemption of the per-address caps).

Invariants: an IPv6 scope id (`fe80::1%eth0`) is ignored and an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is
judged as the IPv4 address it carries, so no spelling of an address escapes its network; anything that is not an
address belongs to no network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = ("127.0.0.0/8", "::1/128")  # this machine: a reverse proxy on the same host, the benchmarks


@lru_cache(maxsize=64)
def networks(items: frozenset[str]) -> tuple[Network, ...]:
    """Parsed networks (an address is a network of one). Raises ValueError for an item that is neither."""
    return tuple(ipaddress.ip_network(item, strict=False) for item in sorted(items))


def in_networks(address: str | None, nets: Iterable[Network]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in nets)
