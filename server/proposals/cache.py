"""Server-side cache in front of the proposal sources: what rooms read, and what pushes changes to them.

Invariants:
- single-flight: at any moment at most ONE upstream fetch per ref is in progress; concurrent `get`s share its result;
- a value (or a "does not exist" answer) is served without asking upstream for `refresh` seconds after it was read;
- stale-while-error: once a ref has a good value, a failed refresh never turns it into an error or None — the last
  good value is served with `stale=True` until a refresh succeeds (one retry per `refresh` period);
- gone is not an outage: when the platform says a proposal it had is missing (deleted, hidden, no longer public),
  the ref's value becomes the last one with `status="gone"` (pushed like any change), not None and not stale;
- a ref that never loaded is retried with exponential backoff (BACKOFF_FIRST doubling up to BACKOFF_MAX); meanwhile
  `get` raises the last error without sending anything, so a broken ref cannot spend its host's budget;
- bounded: at most `max_entries` refs are kept (least recently used forgotten first; watched refs and refs being
  fetched are never forgotten), so any number of distinct refs costs bounded memory;
- `run()` refreshes watched refs with one worker per host: a slow or hanging host delays only its own refs; a
  `watch`ed ref reaches `subscribe`rs within about one `refresh` interval after it changed upstream; subscribers hear
  of a ref only when what residents see (`Proposal.visible()`) changed; `unwatch(ref)` stops its polling;
- logs: the first failure of a ref is logged (with its reason), at most FIRST_FAILURES_LOGGED of them per summary
  period; everything else is counted and summarised in one line at most once per SUMMARY_EVERY seconds; the
  recovery of a ref is logged once. So N failures cost O(time), never O(N), log lines.
Request budgets and Retry-After live in `budget.Budget`, applied by `PlatformHttp` to every request it sends (dialect
probes included); a request they hold back raises `NotSent`, which is neither a failure of the ref nor logged as one.
Local refs have no host and are read from the store, not from here. Time comes from `clock` (monotonic) so tests
drive it by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from server.proposals.model import AddressRefused, NotSent, Proposal, ProposalSource, SourceError
from server.proposals.urls import parse_ref

log = logging.getLogger("civic.proposals.cache")

ChangeCallback = Callable[[str, Proposal | None], Awaitable[None] | None]
BACKOFF_FIRST = 60.0
BACKOFF_MAX = 3600.0
SUMMARY_EVERY = 300.0
FIRST_FAILURES_LOGGED = 10
MAX_ENTRIES = 10_000


@dataclass
class _Entry:
    value: Proposal | None = None
    known: bool = False  # a fetch succeeded at least once (value None then means "does not exist")
    checked: float | None = None  # clock time of the last attempt that settled the entry until checked + refresh
    inflight: asyncio.Task[Proposal | None] | None = None
    failures: int = 0  # consecutive failed attempts (requests sent, or refused by the address policy)
    retry_at: float = float("-inf")  # never-loaded refs: no attempt before this time
    error: SourceError | None = None  # the last failure of a never-loaded ref, raised again during its backoff


class ProposalCache:
    def __init__(
        self,
        sources: Mapping[str, ProposalSource],
        refresh: float = 60,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.sources = dict(sources)
        self.refresh = float(refresh)
        self.clock = clock
        self.wall_clock = wall_clock
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._watched: set[str] = set()
        self._subscribers: list[ChangeCallback] = []
        self._unsummarised = 0  # failures not logged one by one since the last summary
        self._unsummarised_refs: set[str] = set()  # at most max_entries refs
        self._held_back = 0  # requests our own budgets kept from being sent since the last summary
        self._first_failures_logged = 0  # since the last summary
        self._summarised_at = clock()

    # --- reading ---------------------------------------------------------------------------------------------------

    async def get(self, ref: str) -> Proposal | None:
        """The proposal behind `ref` (cached while fresh), None when the platform says it does not exist.

        Raises ValueError for a malformed ref or unknown source; AddressRefused when the host may not be read;
        RateLimited/SourceError only when there is no earlier good value to fall back on.
        """
        entry = self._entry(ref)
        now = self.clock()
        if entry.checked is not None and now - entry.checked < self.refresh:
            return entry.value
        if not entry.known and entry.error is not None and now < entry.retry_at:
            raise entry.error.with_traceback(None)  # one instance raised again and again must not grow a traceback
        if entry.inflight is None:
            entry.inflight = asyncio.ensure_future(self._refresh(ref, entry))
            entry.inflight.add_done_callback(_consume_exception)
        return await asyncio.shield(entry.inflight)

    def peek(self, ref: str) -> Proposal | None:
        """The cached value, however old, without any upstream call."""
        entry = self._entries.get(ref)
        return entry.value if entry else None

    async def check_link(self, ref: str) -> str | None:
        """Read `ref` for staff about to link a hotspot to it: None when it is there, else a warning they can act on.

        Raises ValueError (malformed ref) and AddressRefused (host not allowed): those are refusals, not warnings.
        """
        try:
            proposal = await self.get(ref)
        except AddressRefused:
            raise
        except NotSent:
            return "The platform could not be asked now (request limit); the proposal will be read later."
        except SourceError:
            return "The platform could not be reached now; the link is kept and read again later."
        if proposal is None:
            return "The platform has no such proposal, or it is not public."
        if proposal.status == "gone":
            return "The platform no longer shows this proposal (deleted, hidden or no longer public)."
        return None

    def _entry(self, ref: str) -> _Entry:
        entry = self._entries.get(ref)
        if entry is not None:
            self._entries.move_to_end(ref)
            return entry
        source = parse_ref(ref).source
        if source not in self.sources:
            raise ValueError(f"No proposal source configured for {source!r}.")
        entry = self._entries[ref] = _Entry()
        self._evict()
        return entry

    def _evict(self) -> None:
        """Forget least recently used refs beyond max_entries, skipping watched refs and fetches in flight."""
        for _ in range(len(self._entries)):
            if len(self._entries) <= self.max_entries:
                return
            ref, entry = next(iter(self._entries.items()))
            if ref in self._watched or entry.inflight is not None:
                self._entries.move_to_end(ref)
            else:
                del self._entries[ref]

    def __len__(self) -> int:
        return len(self._entries)

    async def _refresh(self, ref: str, entry: _Entry) -> Proposal | None:
        previous = entry.value if entry.known else None
        had_value = entry.known
        try:
            target = parse_ref(ref)
            value = await self.sources[target.source].fetch(ref)
        except NotSent as exc:
            return self._held(ref, entry, exc)
        except (SourceError, OSError, TimeoutError) as exc:
            return self._failed(ref, entry, exc if isinstance(exc, SourceError) else SourceError(str(exc)))
        except Exception as exc:  # a bug in an adapter must not take the stale value down with it
            if entry.failures == 0:
                log.exception("proposal source crashed on %s", ref)
            return self._failed(ref, entry, SourceError(f"source crashed: {type(exc).__name__}"))
        finally:
            entry.inflight = None
        if entry.failures:
            log.info("proposal %s: readable again after %d failed attempt(s)", ref, entry.failures)
        if value is None and previous is not None:
            value = previous if previous.status == "gone" else dataclasses.replace(
                previous, status="gone", status_label={}, supports=None, comments=None, deadline=None,
                stale=False, fetched_at=self.wall_clock(),
            )
        entry.value, entry.known, entry.checked = value, True, self.clock()
        entry.failures, entry.retry_at, entry.error = 0, float("-inf"), None
        if had_value and ref in self._watched and _visible(previous) != _visible(value):
            await self._notify(ref, value)
        return value

    def _held(self, ref: str, entry: _Entry, exc: NotSent) -> Proposal | None:
        """Our own budget kept the request back: serve what we have; the next get re-checks (which costs nothing)."""
        self._held_back += 1
        self._summarise_if_due()
        if not entry.known:
            raise exc
        if entry.value is not None and not entry.value.stale:
            entry.value = dataclasses.replace(entry.value, stale=True)
        return entry.value

    def _failed(self, ref: str, entry: _Entry, exc: SourceError) -> Proposal | None:
        entry.failures += 1
        now = self.clock()
        if entry.failures == 1 and self._first_failures_logged < FIRST_FAILURES_LOGGED:
            self._first_failures_logged += 1
            what = "serving the last good value" if entry.known else "nothing to show yet"
            log.warning("proposal %s: read failed (%s); %s — later failures are summarised", ref, exc, what)
        else:
            self._unsummarised += 1
            if len(self._unsummarised_refs) < self.max_entries:
                self._unsummarised_refs.add(ref)
        self._summarise_if_due()
        if not entry.known:
            entry.error = exc
            entry.retry_at = now + min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (entry.failures - 1))
            raise exc
        if entry.value is not None and not entry.value.stale:
            entry.value = dataclasses.replace(entry.value, stale=True)
        entry.checked = now  # settle for one period rather than hammer a failing host
        return entry.value

    def _summarise_if_due(self) -> None:
        now = self.clock()
        if now - self._summarised_at < SUMMARY_EVERY:
            return
        if self._unsummarised or self._held_back:
            log.warning(
                "proposals: %d more failed read(s) of %d proposal(s), %d request(s) held back by the budgets, "
                "in the last %.0f s", self._unsummarised, len(self._unsummarised_refs), self._held_back,
                now - self._summarised_at,
            )
        self._unsummarised, self._held_back, self._first_failures_logged = 0, 0, 0
        self._unsummarised_refs.clear()
        self._summarised_at = now

    # --- watching and pushing changes ------------------------------------------------------------------------------

    def watch(self, ref: str) -> None:
        """Keep `ref` refreshed by `run()` until `unwatch(ref)`."""
        self._entry(ref)
        self._watched.add(ref)

    def unwatch(self, ref: str) -> None:
        """Stop refreshing `ref` (its cached value stays until forgotten; a fetch in flight still completes)."""
        self._watched.discard(ref)

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

    def _due_by_host(self) -> dict[str, list[str]]:
        """Watched refs to read now (fresh ones, ones in backoff and ones being read are not), grouped by host."""
        now = self.clock()
        due: dict[str, list[str]] = {}
        for ref in self._watched:
            entry = self._entries.get(ref)
            if entry is not None:
                if entry.inflight is not None or (not entry.known and now < entry.retry_at):
                    continue
                if entry.checked is not None and now - entry.checked < self.refresh:
                    continue
            due.setdefault(parse_ref(ref).host, []).append(ref)
        return due

    async def _refresh_refs(self, refs: list[str]) -> None:
        """Read `refs` (one host's) one after another; failures are logged by `_failed`, not here."""
        for ref in refs:
            if ref not in self._watched:
                continue  # unwatched meanwhile
            try:
                await self.get(ref)
            except (SourceError, ValueError):
                pass
            except Exception:
                log.exception("proposal refresh of %s failed", ref)

    async def refresh_watched(self) -> None:
        """One pass: read every watched ref that is due, hosts concurrently, and wait for all of them."""
        await asyncio.gather(*(self._refresh_refs(refs) for refs in self._due_by_host().values()))

    async def run(self) -> None:
        """Refresh watched refs forever, one worker per host; a due ref is picked up within `tick`."""
        tick = max(0.05, min(1.0, self.refresh / 10))
        workers: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                for host in [h for h, task in workers.items() if task.done()]:
                    del workers[host]
                for host, refs in self._due_by_host().items():
                    if host not in workers:
                        workers[host] = asyncio.create_task(self._refresh_refs(refs))
                self._summarise_if_due()
                await asyncio.sleep(tick)
        finally:
            for task in workers.values():
                task.cancel()
            await asyncio.gather(*workers.values(), return_exceptions=True)


def _visible(value: Proposal | None) -> tuple[object, ...] | None:
    return None if value is None else value.visible()


def _consume_exception(task: asyncio.Task[Proposal | None]) -> None:
    # Every waiter may have been cancelled; reading the exception keeps asyncio from logging it as never retrieved.
    if not task.cancelled():
        task.exception()
