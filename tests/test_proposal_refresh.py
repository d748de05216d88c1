"""Refreshing proposals politely: broken refs back off, probes are budgeted, hosts do not wait for each other,
unwatched refs stop, and failures do not flood the log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.proposals import (
    Budget,
    DecidimSource,
    PlatformHttp,
    Proposal,
    ProposalCache,
    RateLimited,
    SourceError,
)
from server.proposals.cache import BACKOFF_MAX, SUMMARY_EVERY
from tests.proposal_helpers import FakeClock, decidim_ref, local_platform_http, serve_decidim


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def http(clock: FakeClock) -> AsyncIterator[PlatformHttp]:
    async with local_platform_http(Budget(per_host=20, total=120, clock=clock)) as h:
        yield h


async def test_a_ref_that_never_loaded_backs_off_and_leaves_its_host_budget_to_the_others(
        aiohttp_server: Any, http: PlatformHttp, clock: FakeClock) -> None:
    fake, origin = await serve_decidim(aiohttp_server)
    fake.add_proposal(7, 1, title={"en": "Healthy"}, votes=1)
    fake.add_proposal(7, 2, title={"en": "Broken"})
    fake.broken_proposals = {"2"}
    cache = ProposalCache({"decidim": DecidimSource(http)}, refresh=60, clock=clock)
    healthy, broken = decidim_ref(origin, 1), decidim_ref(origin, 2)
    cache.watch(healthy)
    cache.watch(broken)
    for _ in range(600):  # ten minutes of one refresh pass a second
        await cache.refresh_watched()
        clock.now += 1
    value = await cache.get(healthy)
    assert value is not None and value.stale is False
    with pytest.raises(SourceError):
        await cache.get(broken)  # during its backoff: the last error, nothing sent
    # healthy: once a minute (t = 0, 60, …, 600 s: 11); broken: t = 0, 60, 180, 420 s (exponential: 4), not 600
    assert fake.requests == 11 + 4


async def test_backoff_doubles_up_to_its_cap(clock: FakeClock) -> None:
    attempts: list[float] = []

    class Down:
        async def fetch(self, ref: str) -> Proposal | None:
            attempts.append(clock.now)
            raise SourceError("HTTP 502")

    cache = ProposalCache({"consul": Down()}, clock=clock)
    ref = "consul:https://consul.example.org/proposals/1"
    for _ in range(20_000):
        with contextlib.suppress(SourceError):
            await cache.get(ref)
        clock.now += 1
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps[:4] == [60, 120, 240, 480] and max(gaps) == BACKOFF_MAX


async def test_dialect_probes_spend_the_budget_and_are_remembered(aiohttp_server: Any, clock: FakeClock) -> None:
    fake, origin = await serve_decidim(aiohttp_server, version="0.31")  # likesCount: one probe from the default
    fake.add_component(7, votes_hidden=True)
    fake.add_proposal(7, 1, title={"en": "T"}, likes=3)
    async with local_platform_http(Budget(per_host=1, clock=clock)) as http:
        cache = ProposalCache({"decidim": DecidimSource(http)}, clock=clock)
        with pytest.raises(RateLimited):
            await cache.get(decidim_ref(origin, 1))  # the probe used the host's only request this minute
        assert fake.requests == 1
        clock.now += 60
        value = await cache.get(decidim_ref(origin, 1))
    assert value is not None and value.supports == 3
    assert fake.requests == 2  # the dialect was remembered: one request, no second probe


async def test_a_hanging_host_does_not_delay_another_hosts_refresh(aiohttp_server: Any) -> None:
    slow, slow_origin = await serve_decidim(aiohttp_server)
    fast, fast_origin = await serve_decidim(aiohttp_server)
    slow.add_proposal(7, 1, title={"en": "Slow"})
    record = fast.add_proposal(7, 1, title={"en": "Fast"}, votes=1)
    async with local_platform_http(Budget(per_host=10_000, total=10_000)) as http:
        cache = ProposalCache({"decidim": DecidimSource(http)}, refresh=0.1)
        for ref in (decidim_ref(slow_origin, 1), decidim_ref(fast_origin, 1)):
            await cache.get(ref)
            cache.watch(ref)
        slow.trouble.gate = asyncio.Event()  # from now on the slow host holds every request
        changed = asyncio.Event()
        cache.subscribe(lambda ref, p: changed.set() if p is not None and p.supports == 2 else None)
        runner = asyncio.create_task(cache.run())
        try:
            await asyncio.sleep(0.3)  # the slow host's worker is now stuck in a request
            held = slow.requests
            record["votes"] = 2
            await asyncio.wait_for(changed.wait(), timeout=5)
            assert slow.requests == held  # its worker is still waiting on its one request
        finally:
            slow.trouble.gate.set()
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)


async def test_unwatch_stops_the_polling(aiohttp_server: Any, http: PlatformHttp, clock: FakeClock) -> None:
    fake, origin = await serve_decidim(aiohttp_server)
    fake.add_proposal(7, 1, title={"en": "T"})
    cache = ProposalCache({"decidim": DecidimSource(http)}, refresh=60, clock=clock)
    ref = decidim_ref(origin, 1)
    cache.watch(ref)
    cache.watch(ref)  # a second hotspot showing it: still one watch, one unwatch ends it
    await cache.refresh_watched()
    assert fake.requests == 1
    cache.unwatch(ref)
    for _ in range(5):
        clock.now += 60
        await cache.refresh_watched()
    assert fake.requests == 1 and cache.watched() == set()


async def test_many_failures_log_a_bounded_number_of_lines(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    class Down:
        async def fetch(self, ref: str) -> Proposal | None:
            raise SourceError("HTTP 500")

    cache = ProposalCache({"consul": Down()}, refresh=60, clock=clock)
    for i in range(300):
        cache.watch(f"consul:https://consul{i % 3}.example.org/proposals/{i}")
    failures = 0
    with caplog.at_level(logging.INFO, logger="civic.proposals.cache"):
        for _ in range(9 * 60):  # nine minutes, a pass a second
            before = sum(e.failures for e in cache._entries.values())
            await cache.refresh_watched()
            failures += sum(e.failures for e in cache._entries.values()) - before
            clock.now += 1
    lines = [r for r in caplog.records if r.name == "civic.proposals.cache"]
    assert failures >= 1200  # 300 refs, each tried at 0, 60, 180 and 420 s
    assert len(lines) <= 10 + 9 * 60 / SUMMARY_EVERY + 1
    assert any("more failed read(s)" in r.getMessage() for r in lines)
