"""Decidim as it really is, version by version: what the adapter asks, and what residents are shown.

The fakes (tests/fake_platforms.py) follow Decidim's own type definitions per version (docs/proposals.md cites them),
so a field a version lacks fails the query here as it does there.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import graphql

from server.proposals import AddressRefused, Budget, DecidimSource, PlatformHttp, Proposal, ProposalCache
from tests.fake_platforms import DECIDIM_VERSIONS
from tests.proposal_helpers import FakeClock, decidim_ref, local_platform_http, serve_decidim


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def http(clock: FakeClock) -> AsyncIterator[PlatformHttp]:
    async with local_platform_http(Budget(per_host=100, clock=clock)) as h:
        yield h


@pytest.mark.parametrize("version", DECIDIM_VERSIONS)
async def test_withdrawn_is_read_from_the_field_from_0_29_and_from_the_state_before(
        aiohttp_server: Any, http: PlatformHttp, version: str) -> None:
    fake, origin = await serve_decidim(aiohttp_server, version)
    fake.add_proposal(7, 1, title={"en": "W"}, state="accepted", withdrawn=True)
    proposal = await DecidimSource(http).fetch(decidim_ref(origin, 1))
    assert proposal is not None and proposal.status == "withdrawn"
    asks_field = " withdrawn" in fake.queries[-1]
    assert asks_field == (version >= "0.29")


async def test_coordinates_are_not_asked_so_a_proposal_without_location_reads_cleanly(
        aiohttp_server: Any, http: PlatformHttp, caplog: pytest.LogCaptureFixture) -> None:
    fake, origin = await serve_decidim(aiohttp_server, "0.30")
    fake.add_proposal(7, 1, title={"en": "No place"})
    # The fake is faithful: asking for coordinates of a proposal without a location is an error beside the data.
    probe = await graphql(fake.schema, '{ component(id: "7") { ... on Proposals { proposal(id: "1") {'
                          " coordinates { latitude longitude } } } } }",
                          root_value={"component": fake._component})
    assert probe.errors and "non-nullable field Coordinates.latitude" in str(probe.errors[0])
    with caplog.at_level(logging.WARNING, logger="civic.proposals.decidim"):
        proposal = await DecidimSource(http).fetch(decidim_ref(origin, 1))
    assert proposal is not None and "partial answer" not in caplog.text
    assert "coordinates" not in fake.queries[-1]


@pytest.mark.parametrize("version", ["0.30", "0.31"])
async def test_a_non_public_proposal_is_none_on_old_and_new_decidim_not_an_outage(
        aiohttp_server: Any, http: PlatformHttp, version: str) -> None:
    fake, origin = await serve_decidim(aiohttp_server, version)
    fake.add_proposal(7, 1, title={"en": "Draft"}, published=False)
    assert await DecidimSource(http).fetch(decidim_ref(origin, 1)) is None


@pytest.mark.parametrize("space", ["conferences/civic-tech-2025", "initiatives/i-12", "assemblies/council"])
async def test_proposals_in_conferences_initiatives_and_assemblies_are_read(
        aiohttp_server: Any, http: PlatformHttp, space: str) -> None:
    fake, origin = await serve_decidim(aiohttp_server, "0.30")
    fake.add_proposal(7, 1, title={"en": "Elsewhere"}, votes=4)
    proposal = await DecidimSource(http).fetch(decidim_ref(origin, 1, space))
    assert proposal is not None and proposal.supports == 4 and proposal.deadline is None
    assert proposal.url == f"{origin}/{space}/f/7/proposals/1"
    assert "participatoryProcess" not in fake.queries[-1]


async def test_a_machine_translated_title_is_marked_as_such(aiohttp_server: Any, http: PlatformHttp) -> None:
    fake, origin = await serve_decidim(aiohttp_server, "0.30")
    fake.add_proposal(7, 1, title={"ca": "Més arbres"}, machine_title={"en": "More trees"})
    proposal = await DecidimSource(http, locale="en").fetch(decidim_ref(origin, 1))
    assert proposal is not None
    assert proposal.title == {"en": "More trees", "ca": "Més arbres"}
    assert proposal.machine_translated == {"en"}
    shown = proposal.to_json()
    assert shown["machineTranslated"] is True and shown["machineTranslatedLocales"] == ["en"]
    original = await DecidimSource(http, locale="ca").fetch(decidim_ref(origin, 1))
    assert original is not None and original.to_json()["machineTranslated"] is False


async def test_decidim_0_27_never_passes_a_machine_translation_off_as_original(
        aiohttp_server: Any, http: PlatformHttp) -> None:
    fake, origin = await serve_decidim(aiohttp_server, "0.27")
    fake.add_proposal(7, 1, title={"ca": "Més arbres"}, machine_title={"en": "More trees"})
    proposal = await DecidimSource(http, locale="en").fetch(decidim_ref(origin, 1))
    assert proposal is not None and proposal.title == {"ca": "Més arbres"}  # raw "machine_translations" key skipped
    assert proposal.machine_translated == frozenset()


async def test_a_custom_state_shows_its_own_title(aiohttp_server: Any, http: PlatformHttp) -> None:
    fake, origin = await serve_decidim(aiohttp_server, "0.29")
    fake.add_proposal(7, 1, title={"en": "T"}, state="in_progress", state_title={"en": "In progress", "ca": "En curs"})
    fake.add_proposal(7, 2, title={"en": "T"}, state="accepted")
    custom = await DecidimSource(http).fetch(decidim_ref(origin, 1))
    assert custom is not None and custom.status is None
    assert custom.status_label == {"en": "In progress", "ca": "En curs"}
    assert custom.to_json()["statusLabel"] == {"en": "In progress", "ca": "En curs"}
    known = await DecidimSource(http).fetch(decidim_ref(origin, 2))
    assert known is not None and known.status == "accepted"


async def test_a_custom_state_on_0_28_has_no_label_to_show(aiohttp_server: Any, http: PlatformHttp) -> None:
    fake, origin = await serve_decidim(aiohttp_server, "0.28")
    fake.add_proposal(7, 1, title={"en": "T"}, state="in_progress", state_title={"en": "In progress"})
    proposal = await DecidimSource(http).fetch(decidim_ref(origin, 1))
    assert proposal is not None and proposal.status is None and proposal.status_label == {}


@pytest.mark.parametrize("version", ["0.30", "0.31"])
async def test_a_deleted_proposal_is_gone_and_pushed_not_shown_as_an_outage(
        aiohttp_server: Any, http: PlatformHttp, clock: FakeClock, version: str) -> None:
    fake, origin = await serve_decidim(aiohttp_server, version)
    record = fake.add_proposal(7, 1, title={"en": "Trees"}, votes=5)
    fake.add_proposal(7, 2, title={"en": "Benches"}, votes=1)
    cache = ProposalCache({"decidim": DecidimSource(http)}, refresh=60, clock=clock)
    pushed: list[Proposal | None] = []
    cache.subscribe(lambda ref, p: pushed.append(p))
    for i in (1, 2):
        cache.watch(decidim_ref(origin, i))
    await cache.refresh_watched()
    if version >= "0.31":
        record["published"] = False  # newest: hidden → permission error, older: null; both mean "not there"
    else:
        del fake.components["7"]["proposals"]["1"]
    fake.broken_proposals = {"2"}  # meanwhile the other one has an outage
    clock.now += 60
    await cache.refresh_watched()
    gone, outage = await cache.get(decidim_ref(origin, 1)), await cache.get(decidim_ref(origin, 2))
    assert gone is not None and gone.status == "gone" and gone.title == {"en": "Trees"} and gone.supports is None
    assert gone.stale is False
    assert outage is not None and outage.status == "open" and outage.stale is True
    assert [p.status for p in pushed if p is not None] == ["gone"]


async def test_linking_warns_about_a_missing_proposal_and_refuses_a_local_address(
        aiohttp_server: Any, http: PlatformHttp, clock: FakeClock) -> None:
    fake, origin = await serve_decidim(aiohttp_server, "0.30")
    fake.add_proposal(7, 1, title={"en": "There"})
    cache = ProposalCache({"decidim": DecidimSource(http)}, clock=clock)
    assert await cache.check_link(decidim_ref(origin, 1)) is None
    warning = await cache.check_link(decidim_ref(origin, 404))
    assert warning is not None and "no such proposal" in warning
    fake.trouble.status = 503
    unreachable = await cache.check_link(decidim_ref(origin, 2))
    assert unreachable is not None and "could not be reached" in unreachable
    with pytest.raises(AddressRefused):
        await cache.check_link(decidim_ref("http://127.0.0.2:8080", 1))  # not on the allow-list, and loopback
