"""How many requests the server sends to participation platforms: per host, in all, and after a 429.

Invariants (every request `PlatformHttp` sends — a proposal read, a Decidim dialect probe, a retry — is counted here
first; a request over any limit is not sent, `NotSent` is raised instead):
- per host (scheme://host:port), at most `per_host` requests in ANY 60 s window (a sliding-window log, stricter than
  a token bucket, which would let 2× through across a window edge);
- across ALL hosts, at most `total` requests in any 60 s window, so many hosts cannot add up to unlimited traffic;
- after a 429, nothing goes to that host before its Retry-After has passed;
- memory is bounded: at most `max_hosts` hosts are remembered (least recently used forgotten first; the global
  window still bounds what a forgotten host can send), each host's log holds at most `per_host` times.
Time comes from `clock` (monotonic) so tests drive it by hand.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from server.proposals.model import NotSent

WINDOW = 60.0


@dataclass
class _Host:
    sent: deque[float] = field(default_factory=deque)
    blocked_until: float = float("-inf")


class Budget:
    def __init__(
        self,
        per_host: int = 20,
        total: int = 120,
        clock: Callable[[], float] = time.monotonic,
        max_hosts: int = 1000,
    ) -> None:
        self.per_host, self.total, self.clock, self.max_hosts = per_host, total, clock, max_hosts
        self._hosts: OrderedDict[str, _Host] = OrderedDict()
        self._sent: deque[float] = deque()

    def take(self, host_key: str) -> None:
        """Spend one request on `host_key`, or raise NotSent without spending anything."""
        now = self.clock()
        host = self._host(host_key)
        if now < host.blocked_until:
            raise NotSent(host.blocked_until - now, f"{host_key}: waiting for its Retry-After")
        _expire(host.sent, now)
        _expire(self._sent, now)
        if len(host.sent) >= self.per_host:
            raise NotSent(host.sent[0] + WINDOW - now, f"{host_key}: {self.per_host} requests/min used")
        if len(self._sent) >= self.total:
            raise NotSent(self._sent[0] + WINDOW - now, f"all platforms: {self.total} requests/min used")
        host.sent.append(now)
        self._sent.append(now)

    def block(self, host_key: str, seconds: float) -> None:
        """The host answered 429: send it nothing for `seconds`."""
        host = self._host(host_key)
        host.blocked_until = max(host.blocked_until, self.clock() + seconds)

    def hosts(self) -> int:
        return len(self._hosts)

    def _host(self, key: str) -> _Host:
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host()
            while len(self._hosts) > self.max_hosts:
                self._hosts.popitem(last=False)
        else:
            self._hosts.move_to_end(key)
        return host


def _expire(log: deque[float], now: float) -> None:
    while log and log[0] <= now - WINDOW:
        log.popleft()
