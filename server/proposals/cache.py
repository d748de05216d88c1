"""Server-side cache in front of the proposal sources: what rooms read, and what pushes changes to them.

Invariants:
- single-flight: at any moment at most ONE upstream fetch per ref is in progress; concurrent `get`s share its result;
- a value (or a "does not exist" answer) is served without asking upstream for `refresh` seconds after it was read;
- stale-while-error: once a ref has a good value, a failed refresh never turns it into an error or None — the last
  good value is served with `stale=True` until a refresh succeeds;
- per host (scheme://host:port), at most `per_host_per_minute` requests are sent in ANY 60 s window (a sliding-window
  log, stricter than a token bucket, which would let 2× through across a window edge); over the limit, no request:
  the stale value, or RateLimited when there is none;
- after a 429, no request goes to that host before its Retry-After has passed;
- `watch`ed refs are refreshed by `run()` so that a change upstream reaches `subscribe`rs within about one `refresh`
  interval; subscribers hear of a ref only when what residents see (`Proposal.visible()`) changed, or it vanished.
Local refs have no host and are not rate-limited. Time comes from `clock` (monotonic) so tests drive it by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from server.proposals.model import Proposal, ProposalSource, RateLimited, SourceError
from server.proposals.urls import parse_ref

log = logging.getLogger("civic.proposals.cache")

ChangeCallback = Callable[[str, Proposal | None], Awaitable[None] | None]
WINDOW = 60.0


class _NotSent(RateLimited):
    """Our own limits (per-host budget, a pending Retry-After) kept the request from being sent."""


@dataclass
class _Entry:
    value: Proposal | None = None
    known: bool = False  # a fetch succeeded at least once (value None then means "does not exist")
    checked: float | None = None  # clock time of the last attempt that settled the entry until checked + refresh
    inflight: asyncio.Task[Proposal | None] | None = None


@dataclass
class _Host:
    sent: deque[float] = field(default_factory=deque)
    blocked_until: float = float("-inf")


class ProposalCache:
    def __init__(
        self,
        sources: Mapping[str, ProposalSource],
        refresh: float = 60,
        per_host_per_minute: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sources = dict(sources)
        self.refresh = float(refresh)
        self.per_host_per_minute = per_host_per_minute
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._hosts: dict[str, _Host] = {}
        self._watched: dict[str, int] = {}
        self._subscribers: list[ChangeCallback] = []

    # --- reading ---------------------------------------------------------------------------------------------------

    async def get(self, ref: str) -> Proposal | None:
        """The proposal behind `ref` (cached while fresh), None when the platform says it does not exist.

        Raises ValueError for a malformed ref or unknown source, RateLimited/SourceError only when there is no
        earlier good value to fall back on.
        """
        entry = self._entry(ref)
        if entry.checked is not None and self.clock() - entry.checked < self.refresh:
            return entry.value
        if entry.inflight is None:
            entry.inflight = asyncio.ensure_future(self._refresh(ref, entry))
            entry.inflight.add_done_callback(_consume_exception)
        return await asyncio.shield(entry.inflight)

    def peek(self, ref: str) -> Proposal | None:
        """The cached value, however old, without any upstream call."""
        entry = self._entries.get(ref)
        return entry.value if entry else None

    def _entry(self, ref: str) -> _Entry:
        entry = self._entries.get(ref)
        if entry is None:
            source = parse_ref(ref).source
            if source not in self.sources:
                raise ValueError(f"No proposal source configured for {source!r}.")
            entry = self._entries[ref] = _Entry()
        return entry

    async def _refresh(self, ref: str, entry: _Entry) -> Proposal | None:
        previous = entry.value if entry.known else None
        had_value = entry.known
        try:
            target = parse_ref(ref)
            self._take_budget(target.host)
            try:
                value = await self.sources[target.source].fetch(ref)
            except RateLimited as exc:
                if target.host:
                    host = self._hosts.setdefault(target.host, _Host())
                    host.blocked_until = max(host.blocked_until, self.clock() + exc.retry_after)
                raise
        except (SourceError, OSError, TimeoutError) as exc:
            return self._failed(ref, entry, exc)
        except Exception as exc:  # a bug in an adapter must not take the stale value down with it
            log.exception("proposal source crashed on %s", ref)
            return self._failed(ref, entry, SourceError(f"source crashed: {type(exc).__name__}"))
        finally:
            entry.inflight = None
        entry.value, entry.known, entry.checked = value, True, self.clock()
        if had_value and ref in self._watched and _visible(previous) != _visible(value):
            await self._notify(ref, value)
        return value

    def _failed(self, ref: str, entry: _Entry, exc: Exception) -> Proposal | None:
        if not entry.known:
            raise exc
        log.warning("proposal %s: refresh failed (%s), serving the last good value", ref, exc)
        if entry.value is not None and not entry.value.stale:
            entry.value = dataclasses.replace(entry.value, stale=True)
        if not isinstance(exc, _NotSent):
            # Upstream failed: settle the entry for one period rather than hammer a failing host. When we did not
            # even ask (budget spent, Retry-After pending), the next get re-checks locally, which costs nothing.
            entry.checked = self.clock()
        return entry.value

    def _take_budget(self, host_key: str) -> None:
        """Spend one request on `host_key`, or raise _NotSent (a RateLimited) without sending anything."""
        if not host_key:
            return
        now = self.clock()
        host = self._hosts.setdefault(host_key, _Host())
        if now < host.blocked_until:
            raise _NotSent(host.blocked_until - now, f"{host_key}: waiting for its Retry-After")
        while host.sent and host.sent[0] <= now - WINDOW:
            host.sent.popleft()
        if len(host.sent) >= self.per_host_per_minute:
            raise _NotSent(host.sent[0] + WINDOW - now, f"{host_key}: {self.per_host_per_minute} requests/min used")
        host.sent.append(now)

    # --- watching and pushing changes ------------------------------------------------------------------------------

    def watch(self, ref: str) -> None:
        """Keep `ref` refreshed by `run()` (counted: two hotspots showing one proposal watch it twice)."""
        self._entry(ref)
        self._watched[ref] = self._watched.get(ref, 0) + 1

    def unwatch(self, ref: str) -> None:
        left = self._watched.get(ref, 0) - 1
        if left > 0:
            self._watched[ref] = left
        else:
            self._watched.pop(ref, None)

    def watched(self) -> set[str]:
        return set(self._watched)

    def subscribe(self, callback: ChangeCallback) -> Callable[[], None]:
        """Run `callback(ref, proposal_or_None)` when a watched proposal changes visibly. Returns unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    async def _notify(self, ref: str, value: Proposal | None) -> None:
        for callback in list(self._subscribers):
            try:
                result = callback(ref, value)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("proposal change subscriber failed for %s", ref)

    async def refresh_watched(self) -> None:
        """One pass of `run()`: refresh every watched ref that is due, concurrently (single-flight still holds)."""
        now = self.clock()
        due = [
            ref for ref in self._watched
            if (entry := self._entries.get(ref)) is None or entry.checked is None or now - entry.checked >= self.refresh
        ]
        results = await asyncio.gather(*(self.get(ref) for ref in due), return_exceptions=True)
        for ref, result in zip(due, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.info("watched proposal %s not refreshed: %s", ref, result)

    async def run(self) -> None:
        """Refresh watched refs forever; a due ref is picked up within `tick` so changes arrive within ~1 `refresh`."""
        tick = max(0.05, min(1.0, self.refresh / 10))
        while True:
            try:
                await self.refresh_watched()
            except Exception:
                log.exception("proposal refresh pass failed")
            await asyncio.sleep(tick)


def _visible(value: Proposal | None) -> tuple[object, ...] | None:
    return None if value is None else value.visible()


def _consume_exception(task: asyncio.Task[Proposal | None]) -> None:
    # Every waiter may have been cancelled; reading the exception keeps asyncio from logging it as never retrieved.
    if not task.cancelled():
        task.exception()
