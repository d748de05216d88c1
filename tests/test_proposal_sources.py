"""Proposal sources: URL parsing, the Decidim and CONSUL adapters against faithful fakes, and the cache.

The fakes (tests/fake_platforms.py) execute the adapters' real GraphQL against SDL copies of the platforms' schemas,
so a wrong field name fails here as it would in production.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from server.proposals import (
    Budget,
    ConsulSource,
    DecidimSource,
    PlatformHttp,
    Proposal,
    ProposalCache,
    RateLimited,
    SourceError,
    parse_proposal_url,
    parse_ref,
)
from server.proposals._http import MAX_BODY, read_body
from server.proposals.model import SUMMARY_MAX, plain_text
from tests.fake_platforms import FakeConsul, FakeDecidim
from tests.proposal_helpers import FakeClock, decidim_ref, local_platform_http, serve_consul, serve_decidim


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def http(clock: FakeClock) -> AsyncIterator[PlatformHttp]:
    async with local_platform_http(Budget(per_host=20, total=120, clock=clock)) as h:
        yield h


StartDecidim = Callable[..., Any]


@pytest.fixture
def start_decidim(aiohttp_server: Any) -> StartDecidim:
    async def start(version: str = "0.30") -> tuple[FakeDecidim, str]:
        return await serve_decidim(aiohttp_server, version)
    return start


@pytest.fixture
async def consul(aiohttp_server: Any) -> tuple[FakeConsul, str]:
    return await serve_consul(aiohttp_server)


# --- URLs ----------------------------------------------------------------------------------------------------------

def test_decidim_process_url_becomes_a_canonical_ref() -> None:
    ref = parse_proposal_url("HTTPS://Decidim.Example.ORG:443/processes/budgets-2025/f/7/proposals/42?order=random#top")
    assert ref.source == "decidim"
    assert (ref.space_kind, ref.space_slug) == ("processes", "budgets-2025")
    assert (ref.component_id, ref.proposal_id) == ("7", "42")
    assert ref.ref == "decidim:https://decidim.example.org/processes/budgets-2025/f/7/proposals/42"
    assert parse_ref(ref.ref) == ref


def test_decidim_assembly_url_is_recognised_and_keeps_a_non_default_port() -> None:
    ref = parse_proposal_url("http://example.org:8080/assemblies/council/f/3/proposals/9/")
    assert ref.url == "http://example.org:8080/assemblies/council/f/3/proposals/9"
    assert ref.host == "http://example.org:8080"


@pytest.mark.parametrize("url", [
    "https://consul.example.org/proposals/12",
    "https://consul.example.org/proposals/12-more-trees-in-the-square",
    "https://CONSUL.example.org:443/proposals/12-more-trees?locale=es",
])
def test_consul_urls_with_or_without_slug_give_one_ref(url: str) -> None:
    assert parse_proposal_url(url).ref == "consul:https://consul.example.org/proposals/12"


def test_local_refs_parse_and_malformed_refs_are_refused() -> None:
    assert parse_ref("local:5").source == "local"
    for bad in ("local:five", "decidim:https://x.org/proposals/1", "nope:https://x.org/proposals/1", "local"):
        with pytest.raises(ValueError):
            parse_ref(bad)


@pytest.mark.parametrize(("url", "words"), [
    ("ftp://example.org/proposals/1", "http"),
    ("javascript:alert(1)//example.org/proposals/1", "http"),
    ("https://user:secret@example.org/proposals/1", "password"),
    ("https://user@example.org/proposals/1", "user"),
    ("https://example.org/processes/budgets/f/7/debates/3", "not a proposal page"),
    ("https://example.org/proposals/abc", "not a proposal page"),
    ("https://example.org/proposals/", "not a proposal page"),
    ("https://example.org/processes/budgets/f/x/proposals/3", "not a proposal page"),
    ("https://example.org/admin/proposals/3", "not a proposal page"),
    ("https:///proposals/3", "host"),
    ("https://exa mple.org/proposals/3", "spaces"),
    ("/proposals/3", "http"),
    ("", "full address"),
])
def test_bad_proposal_urls_are_refused_with_a_message(url: str, words: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_proposal_url(url)
    assert words.lower() in str(info.value).lower()


# --- plain text ----------------------------------------------------------------------------------------------------

def test_plain_text_strips_tags_drops_scripts_and_decodes_entities() -> None:
    html = "<p>Plant <b>trees</b> &amp; benches</p><script>alert('x')</script><p>in&nbsp;the&#32;square</p>"
    assert plain_text(html) == "Plant trees & benches in the square"


# --- Decidim -------------------------------------------------------------------------------------------------------

async def test_decidim_proposal_reads_title_in_asked_locale_as_plain_text(start_decidim: StartDecidim,
                                                                           http: PlatformHttp) -> None:
    fake, origin = await start_decidim("0.28")
    fake.add_process("budgets-2025", end_date="2025-12-31",
                     steps=[{"endDate": "2025-03-01T00:00:00Z"}, {"active": True, "endDate": "2025-06-30T23:59:00Z"}])
    fake.add_proposal(7, 42, title={"ca": "Més arbres", "en": "<b>More</b> trees &amp; shade"},
                      body={"en": "<p>Plant <em>200</em> trees.</p><script>x()</script>" + "<p>word </p>" * 200},
                      state="accepted", votes=120, likes=5, comments=9)
    proposal = await DecidimSource(http, locale="en").fetch(decidim_ref(origin, 42))
    assert proposal is not None
    assert list(proposal.title.items())[0] == ("en", "More trees & shade")
    assert proposal.title["ca"] == "Més arbres"
    assert proposal.summary["en"].startswith("Plant 200 trees. word word")
    assert len(proposal.summary["en"]) <= SUMMARY_MAX and "<" not in proposal.summary["en"]
    assert (proposal.status, proposal.supports, proposal.comments) == ("accepted", 120, 9)
    assert proposal.deadline == "2025-06-30"
    assert proposal.url == f"{origin}/processes/budgets-2025/f/7/proposals/42"
    assert proposal.source == "decidim" and proposal.stale is False


async def test_decidim_missing_locale_falls_back_to_the_listed_translations(start_decidim: StartDecidim,
                                                                             http: PlatformHttp) -> None:
    fake, origin = await start_decidim()
    fake.add_proposal(7, 1, title={"ca": "Més arbres", "es": "Más árboles", "fr": ""}, body={"ca": "<p>Cos</p>"})
    proposal = await DecidimSource(http, locale="fr").fetch(decidim_ref(origin, 1))
    assert proposal is not None
    assert proposal.title == {"ca": "Més arbres", "es": "Más árboles"}  # empty "fr" is not a translation
    assert list(proposal.title)[0] == "ca"  # first entry = what a client without French shows
    assert proposal.summary == {"ca": "Cos"}


async def test_decidim_hidden_votes_fall_back_to_the_endorsement_count(start_decidim: StartDecidim,
                                                                        http: PlatformHttp) -> None:
    fake, origin = await start_decidim()
    fake.add_component(8, votes_hidden=True)
    fake.add_proposal(8, 2, title={"en": "Hidden"}, votes=300, likes=7)
    proposal = await DecidimSource(http).fetch(decidim_ref(origin, 2, component=8))
    assert proposal is not None and proposal.supports == 7


@pytest.mark.parametrize(("state", "expected"), [
    (None, "open"), ("not_answered", "open"), ("evaluating", "evaluating"), ("accepted", "accepted"),
    ("rejected", "rejected"), ("custom_token_of_0_28", None),
])
async def test_decidim_states_are_normalised(start_decidim: StartDecidim, http: PlatformHttp,
                                             state: str | None, expected: str | None) -> None:
    fake, origin = await start_decidim()
    fake.add_proposal(7, 3, title={"en": "S"}, state=state)
    proposal = await DecidimSource(http).fetch(decidim_ref(origin, 3))
    assert proposal is not None and proposal.status == expected


async def test_decidim_missing_or_unpublished_proposal_or_component_is_none(start_decidim: StartDecidim,
                                                                             http: PlatformHttp) -> None:
    fake, origin = await start_decidim()
    fake.add_proposal(7, 5, title={"en": "Draft"}, published=False)
    fake.add_component(9, kind="Meetings")
    source = DecidimSource(http)
    assert await source.fetch(decidim_ref(origin, 404)) is None
    assert await source.fetch(decidim_ref(origin, 5)) is None
    assert await source.fetch(decidim_ref(origin, 1, component=999)) is None
    assert await source.fetch(decidim_ref(origin, 1, component=9)) is None


async def test_decidim_errors_beside_data_keep_the_data_and_are_logged(start_decidim: StartDecidim,
                                                                        http: PlatformHttp,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    fake, origin = await start_decidim()
    fake.add_proposal(7, 6, title={"en": "Partial"}, votes=11)
    fake.broken_fields = {"endorsementsCount"}
    with caplog.at_level(logging.WARNING, logger="civic.proposals.decidim"):
        proposal = await DecidimSource(http).fetch(decidim_ref(origin, 6))
    assert proposal is not None and proposal.title == {"en": "Partial"} and proposal.supports == 11
    assert "partial answer" in caplog.text


async def test_decidim_error_nulling_the_proposal_is_an_error_not_a_missing_proposal(
        start_decidim: StartDecidim, http: PlatformHttp) -> None:
    fake, origin = await start_decidim()
    fake.add_proposal(7, 6, title={"en": "Broken"})
    fake.broken_fields = {"totalCommentsCount"}  # non-null field failing nulls the whole proposal
    with pytest.raises(SourceError):
        await DecidimSource(http).fetch(decidim_ref(origin, 6))


async def test_decidim_likes_or_endorsements_field_is_detected_once_per_host(start_decidim: StartDecidim,
                                                                              http: PlatformHttp) -> None:
    new, new_origin = await start_decidim("0.31")
    old, old_origin = await start_decidim("0.27")
    for fake in (new, old):
        fake.add_proposal(7, 1, title={"en": "T"}, likes=4, votes=0)
        fake.add_component(8, votes_hidden=True)
        fake.add_proposal(8, 2, title={"en": "T"}, likes=4)
    source = DecidimSource(http)
    first = await source.fetch(decidim_ref(new_origin, 2, component=8))
    assert first is not None and first.supports == 4
    assert new.requests == 2  # endorsementsCount refused, likesCount worked
    await source.fetch(decidim_ref(new_origin, 1))
    assert new.requests == 3  # remembered: one request per fetch from now on
    assert "likesCount" in new.queries[-1] and "endorsementsCount" not in new.queries[-1]
    await source.fetch(decidim_ref(old_origin, 2, component=8))
    await source.fetch(decidim_ref(old_origin, 1))
    assert old.requests == 3  # 0.27 has no `withdrawn`: one retry without it, then remembered
    assert " withdrawn" not in old.queries[-1]


async def test_decidim_429_raises_rate_limited_with_retry_after(start_decidim: StartDecidim,
                                                                 http: PlatformHttp) -> None:
    fake, origin = await start_decidim()
    fake.trouble.status, fake.trouble.retry_after = 429, "30"
    with pytest.raises(RateLimited) as info:
        await DecidimSource(http).fetch(decidim_ref(origin, 1))
    assert info.value.retry_after == 30


async def test_decidim_server_error_is_a_source_error(start_decidim: StartDecidim,
                                                      http: PlatformHttp) -> None:
    fake, origin = await start_decidim()
    fake.trouble.status = 502
    with pytest.raises(SourceError) as info:
        await DecidimSource(http).fetch(decidim_ref(origin, 1))
    assert not isinstance(info.value, RateLimited)


# --- CONSUL --------------------------------------------------------------------------------------------------------

async def test_consul_proposal_maps_votes_comments_and_strips_html(consul: tuple[FakeConsul, str],
                                                                   http: PlatformHttp) -> None:
    fake, origin = consul
    fake.add_proposal(12, title="Más <i>árboles</i>", summary="<p>Plantar &quot;200&quot; árboles</p>",
                      votes=1500, comments=33)
    proposal = await ConsulSource(http, locale="es").fetch(f"consul:{origin}/proposals/12")
    assert proposal is not None
    assert proposal.title == {"es": "Más árboles"} and proposal.summary == {"es": 'Plantar "200" árboles'}
    assert (proposal.status, proposal.supports, proposal.comments, proposal.deadline) == ("open", 1500, 33, None)
    assert proposal.url == f"{origin}/proposals/12"
    assert fake.user_agents[-1].startswith("Mozilla/")  # the fake refuses (403) anything else


async def test_consul_missing_id_is_none(consul: tuple[FakeConsul, str], http: PlatformHttp) -> None:
    fake, origin = consul
    assert await ConsulSource(http).fetch(f"consul:{origin}/proposals/999") is None
    assert fake.requests == 1


async def test_consul_retired_proposal_is_withdrawn(consul: tuple[FakeConsul, str],
                                                    http: PlatformHttp) -> None:
    fake, origin = consul
    fake.add_proposal(13, title="Old", retired_at="2025-02-01T10:00:00Z")
    proposal = await ConsulSource(http).fetch(f"consul:{origin}/proposals/13")
    assert proposal is not None and proposal.status == "withdrawn"


async def test_consul_429_raises_rate_limited(consul: tuple[FakeConsul, str], http: PlatformHttp) -> None:
    fake, origin = consul
    fake.trouble.status, fake.trouble.retry_after = 429, "120"
    with pytest.raises(RateLimited) as info:
        await ConsulSource(http).fetch(f"consul:{origin}/proposals/12")
    assert info.value.retry_after == 120


# --- cache ---------------------------------------------------------------------------------------------------------

async def test_twenty_concurrent_gets_make_one_upstream_request(start_decidim: StartDecidim,
                                                                 http: PlatformHttp, clock: FakeClock) -> None:
    fake, origin = await start_decidim()
    fake.add_proposal(7, 1, title={"en": "T"}, votes=3)
    fake.trouble.delay = 0.05
    cache = ProposalCache({"decidim": DecidimSource(http)}, clock=clock)
    results = await asyncio.gather(*(cache.get(decidim_ref(origin, 1)) for _ in range(20)))
    assert fake.requests == 1
    assert all(r is not None and r.supports == 3 for r in results)


async def test_fresh_value_is_served_without_upstream_until_refresh_elapses(
        start_decidim: StartDecidim, http: PlatformHttp, clock: FakeClock) -> None:
    fake, origin = await start_decidim()
    fake.add_proposal(7, 1, title={"en": "T"})
    cache = ProposalCache({"decidim": DecidimSource(http)}, refresh=60, clock=clock)
    await cache.get(decidim_ref(origin, 1))
    clock.advance(59)
    await cache.get(decidim_ref(origin, 1))
    assert fake.requests == 1
    clock.advance(1)
    await cache.get(decidim_ref(origin, 1))
    assert fake.requests == 2


async def test_missing_proposal_is_cached_as_none(consul: tuple[FakeConsul, str],
                                                  http: PlatformHttp, clock: FakeClock) -> None:
    fake, origin = consul
    cache = ProposalCache({"consul": ConsulSource(http)}, clock=clock)
    assert await cache.get(f"consul:{origin}/proposals/77") is None
    assert await cache.get(f"consul:{origin}/proposals/77") is None
    assert fake.requests == 1


async def test_failed_refresh_serves_last_good_value_marked_stale(start_decidim: StartDecidim,
                                                                  http: PlatformHttp, clock: FakeClock) -> None:
    fake, origin = await start_decidim()
    fake.add_proposal(7, 1, title={"en": "T"}, votes=10)
    cache = ProposalCache({"decidim": DecidimSource(http)}, refresh=60, clock=clock)
    good = await cache.get(decidim_ref(origin, 1))
    fake.trouble.status = 500
    clock.advance(61)
    stale = await cache.get(decidim_ref(origin, 1))
    assert stale is not None and good is not None
    assert stale.stale is True and stale.supports == 10 and stale.fetched_at == good.fetched_at
    assert stale.to_json()["stale"] is True
    fake.trouble.status = None
    clock.advance(61)
    fresh = await cache.get(decidim_ref(origin, 1))
    assert fresh is not None and fresh.stale is False


async def test_first_fetch_failing_raises_instead_of_inventing_a_value(start_decidim: StartDecidim,
                                                                       http: PlatformHttp, clock: FakeClock) -> None:
    fake, origin = await start_decidim()
    fake.trouble.status = 503
    cache = ProposalCache({"decidim": DecidimSource(http)}, clock=clock)
    with pytest.raises(SourceError):
        await cache.get(decidim_ref(origin, 1))


async def test_retry_after_is_honoured_no_request_before_it_passes(start_decidim: StartDecidim,
                                                                   http: PlatformHttp, clock: FakeClock) -> None:
    fake, origin = await start_decidim()
    fake.add_proposal(7, 1, title={"en": "T"}, votes=1)
    fake.add_proposal(7, 2, title={"en": "U"}, votes=2)
    cache = ProposalCache({"decidim": DecidimSource(http)}, refresh=10, clock=clock)
    await cache.get(decidim_ref(origin, 1))
    fake.trouble.status, fake.trouble.retry_after = 429, "30"
    clock.advance(11)
    first = await cache.get(decidim_ref(origin, 1))  # 429: stale value served
    assert first is not None and first.stale is True
    assert fake.requests == 2
    fake.trouble.status = None
    for _ in range(5):
        clock.advance(5)  # up to 25 s after the 429
        assert (await cache.get(decidim_ref(origin, 1))) is not None
        with pytest.raises(RateLimited):
            await cache.get(decidim_ref(origin, 2))  # no value to fall back on
    assert fake.requests == 2  # nothing sent to the host meanwhile
    clock.advance(6)  # 31 s
    again = await cache.get(decidim_ref(origin, 1))
    assert again is not None and again.stale is False
    assert fake.requests == 3


async def test_per_host_limit_sends_at_most_twenty_requests_a_minute(start_decidim: StartDecidim,
                                                                      http: PlatformHttp, clock: FakeClock) -> None:
    fake, origin = await start_decidim()
    other, other_origin = await start_decidim()
    for i in range(1, 23):
        fake.add_proposal(7, i, title={"en": f"P{i}"})
    other.add_proposal(7, 1, title={"en": "elsewhere"})
    cache = ProposalCache({"decidim": DecidimSource(http)}, clock=clock)
    for i in range(1, 21):
        clock.advance(1)
        await cache.get(decidim_ref(origin, i))
    assert fake.requests == 20
    with pytest.raises(RateLimited) as info:
        await cache.get(decidim_ref(origin, 21))
    assert fake.requests == 20 and 0 < info.value.retry_after <= 60
    assert await cache.get(decidim_ref(other_origin, 1)) is not None  # another host has its own budget
    clock.advance(41)  # the first request of the window is now 60 s old
    assert await cache.get(decidim_ref(origin, 21)) is not None
    assert fake.requests == 21


async def test_watched_proposal_change_is_pushed_to_subscribers(start_decidim: StartDecidim,
                                                                 http: PlatformHttp, clock: FakeClock) -> None:
    fake, origin = await start_decidim()
    record = fake.add_proposal(7, 1, title={"en": "T"}, votes=10)
    fake.add_proposal(7, 2, title={"en": "Unwatched"}, votes=1)
    cache = ProposalCache({"decidim": DecidimSource(http)}, refresh=60, clock=clock)
    seen: list[tuple[str, Proposal | None]] = []

    async def on_change(ref: str, proposal: Proposal | None) -> None:
        seen.append((ref, proposal))

    cache.subscribe(on_change)
    ref = decidim_ref(origin, 1)
    cache.watch(ref)
    await cache.get(decidim_ref(origin, 2))
    await cache.refresh_watched()
    assert seen == []  # first value is not a change
    clock.advance(60)
    await cache.refresh_watched()
    assert seen == []  # nothing visible changed
    record["votes"] = 11
    fake.components["7"]["proposals"]["2"]["votes"] = 2
    clock.advance(60)
    await cache.refresh_watched()
    assert [(r, p.supports if p else None) for r, p in seen] == [(ref, 11)]
    cache.unwatch(ref)
    record["votes"] = 12
    clock.advance(60)
    await cache.refresh_watched()
    assert len(seen) == 1  # no longer watched: no refresh, no push


async def test_run_loop_refreshes_watched_refs_on_its_own(consul: tuple[FakeConsul, str],
                                                           http: PlatformHttp) -> None:
    fake, origin = consul
    record = fake.add_proposal(12, title="T", votes=1)
    cache = ProposalCache({"consul": ConsulSource(http)}, refresh=0.1)
    changed = asyncio.Event()
    cache.subscribe(lambda ref, p: changed.set() if p is not None and p.supports == 2 else None)
    cache.watch(f"consul:{origin}/proposals/12")
    task = asyncio.create_task(cache.run())
    try:
        await asyncio.sleep(0.15)
        record["cached_votes_up"] = 2
        await asyncio.wait_for(changed.wait(), timeout=2)
    finally:
        task.cancel()


async def test_unknown_source_is_refused(http: PlatformHttp) -> None:
    cache = ProposalCache({"consul": ConsulSource(http)})
    with pytest.raises(ValueError):
        await cache.get("decidim:https://x.org/processes/a/f/1/proposals/1")


def test_to_json_uses_camel_case_keys() -> None:
    proposal = Proposal(ref="local:1", source="local", title={"en": "T"}, summary={}, status="open", supports=None,
                        comments=0, deadline=None, url="https://x.org/p/1", fetched_at=1.5)
    assert proposal.to_json() == {
        "ref": "local:1", "source": "local", "title": {"en": "T"}, "summary": {}, "status": "open",
        "supports": None, "comments": 0, "deadline": None, "url": "https://x.org/p/1", "fetchedAt": 1.5,
        "stale": False, "statusLabel": {}, "machineTranslated": False, "machineTranslatedLocales": [],
    }


async def test_a_large_answer_arriving_in_pieces_is_read_whole(aiohttp_server):  # type: ignore[no-untyped-def]
    """`read_body` reads up to its bound however the answer is cut on the wire (it used to return the first piece)."""
    document = json.dumps({"data": ["x" * 1000] * 600}).encode()  # ~600 kB, under the bound

    async def slow(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for start in range(0, len(document), 50_000):
            await response.write(document[start:start + 50_000])
            await asyncio.sleep(0.01)
        return response

    app = web.Application()
    app.router.add_get("/", slow)
    server = await aiohttp_server(app)
    assert len(document) < MAX_BODY
    async with aiohttp.ClientSession() as session, session.get(server.make_url("/")) as resp:
        assert json.loads(await read_body(resp)) == json.loads(document)
