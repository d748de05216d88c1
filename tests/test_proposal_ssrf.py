"""Proposal platforms cannot be used to reach the server's own machine or network (server-side request forgery).

Every refusal is tried against a real local HTTP server that counts its requests: it must not be reached. The
allow-list (`platform_hosts`, from --platform-hosts) is the documented way to reach a local platform on purpose.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from server.proposals import AddressRefused, Budget, DecidimSource, NotSent, PlatformHttp, ProposalCache
from server.proposals.guard import AllowList, GuardedResolver, refusal
from tests.fake_platforms import FakeDecidim

PATH = "/processes/budgets/f/7/proposals/1"


class Counter:
    def __init__(self) -> None:
        self.hits = 0

    async def handle(self, _request: web.Request) -> web.Response:
        self.hits += 1
        return web.json_response({"data": {"component": None}})


@pytest.fixture
async def local_server(aiohttp_server: Any) -> tuple[Counter, int]:
    counter = Counter()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", counter.handle)
    server = await aiohttp_server(app, host="127.0.0.1")
    return counter, server.port


async def read(url: str, hosts: frozenset[str] = frozenset(), resolver: AbstractResolver | None = None) -> Any:
    async with PlatformHttp(hosts, resolver=resolver) as http:
        return await DecidimSource(http).fetch(f"decidim:{url}")


@pytest.mark.parametrize("host", [
    "127.0.0.1", "localhost", "0x7f.1", "127.1", "0.0.0.0", "[::1]", "[::ffff:127.0.0.1]", "[::]",
    "[::ffff:7f00:1]", "2130706433",
])
async def test_loopback_in_any_spelling_is_refused_and_never_reached(local_server: tuple[Counter, int],
                                                                    host: str) -> None:
    counter, port = local_server
    with pytest.raises(AddressRefused):
        await read(f"http://{host}:{port}{PATH}")
    assert counter.hits == 0


@pytest.mark.parametrize("host", [
    "169.254.169.254", "10.0.0.1", "192.168.1.1", "172.16.0.1", "100.64.0.1", "224.0.0.1", "240.0.0.1",
    "255.255.255.255", "[fe80::1]", "[fc00::1]", "[ff02::1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]",
])
async def test_private_link_local_multicast_and_reserved_addresses_are_refused(host: str) -> None:
    with pytest.raises(AddressRefused) as info:
        await read(f"http://{host}{PATH}")
    assert "public" in str(info.value)


def test_public_addresses_pass_the_address_policy() -> None:
    for ip in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34"):
        assert refusal(ipaddress.ip_address(ip)) is None


class FakeResolver(AbstractResolver):
    """A DNS stand-in: each name answers the addresses given, in order, one list per lookup."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        self.lookups.append(host)
        addresses = self.answers[host].pop(0) if len(self.answers[host]) > 1 else self.answers[host][0]
        return [ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST) for a in addresses]

    async def close(self) -> None:
        pass


async def test_a_name_resolving_to_a_local_address_is_refused_after_resolution(
        local_server: tuple[Counter, int]) -> None:
    counter, port = local_server
    dns = FakeResolver({"platform.example.org": [["127.0.0.1"]]})
    with pytest.raises(AddressRefused) as info:
        await read(f"http://platform.example.org:{port}{PATH}", resolver=dns)
    assert "loopback" in str(info.value)
    assert counter.hits == 0 and dns.lookups == ["platform.example.org"]


async def test_the_connection_uses_the_checked_answer_not_a_second_lookup() -> None:
    # DNS rebinding: a public answer to the check, a local one to the connection. The guard resolves once, keeps
    # the checked addresses and returns them as the connection's addresses, so there is no second answer to use.
    dns = FakeResolver({"rebind.example.org": [["93.184.216.34", "127.0.0.1"], ["127.0.0.1"]]})
    guarded = GuardedResolver(AllowList(()), dns)
    answers = await guarded.resolve("rebind.example.org", 80)
    assert [a["host"] for a in answers] == ["93.184.216.34"] and dns.lookups == ["rebind.example.org"]
    with pytest.raises(AddressRefused):
        await guarded.resolve("rebind.example.org", 80)  # a later connection resolves (and is checked) again


async def test_an_allow_listed_local_platform_is_reached(aiohttp_server: Any) -> None:
    fake = FakeDecidim()
    fake.add_proposal(7, 1, title={"en": "Benches"})
    server = await aiohttp_server(fake.app(), host="127.0.0.1")
    proposal = await read(f"http://127.0.0.1:{server.port}{PATH}", frozenset({f"127.0.0.1:{server.port}"}))
    assert proposal is not None and proposal.title == {"en": "Benches"} and fake.requests >= 1


async def test_an_allow_listed_name_connects_to_the_address_its_lookup_gave(aiohttp_server: Any) -> None:
    fake = FakeDecidim()
    fake.add_proposal(7, 1, title={"en": "Benches"})
    server = await aiohttp_server(fake.app(), host="127.0.0.1")
    dns = FakeResolver({"intranet.city.example": [["127.0.0.1"]]})
    proposal = await read(f"http://intranet.city.example:{server.port}{PATH}",
                          frozenset({"intranet.city.example"}), resolver=dns)
    assert proposal is not None and fake.requests >= 1


async def test_with_an_allow_list_other_hosts_and_ports_are_refused_without_a_lookup(
        local_server: tuple[Counter, int]) -> None:
    counter, port = local_server
    dns = FakeResolver({"decidim.example.org": [["93.184.216.34"]]})
    listed = frozenset({f"127.0.0.1:{port + 1 if port < 65535 else port - 1}"})
    for url in (f"http://127.0.0.1:{port}{PATH}", f"https://decidim.example.org{PATH}"):
        with pytest.raises(AddressRefused) as info:
            await read(url, listed, resolver=dns)
        assert "not one of the platform hosts" in str(info.value)
    assert counter.hits == 0 and dns.lookups == []


def test_allow_list_entries_accept_hosts_ports_and_ipv6() -> None:
    allow = AllowList(["Decidim.Example.org", "127.0.0.1:8080", "[::1]:9000", "[::FFFF:127.0.0.1]"])
    assert allow.listed("decidim.example.org", 443) and allow.listed("127.0.0.1", 8080)
    assert not allow.listed("127.0.0.1", 8081)
    assert allow.listed("::1", 9000) and allow.listed("::ffff:7f00:1", 1)
    with pytest.raises(ValueError):
        AllowList(["example.org:http"])


# --- budgets and bounds: probing cannot be unlimited, distinct refs cannot grow memory --------------------------------

def test_the_global_budget_caps_requests_across_all_hosts() -> None:
    clock = Clock()
    budget = Budget(per_host=20, total=30, clock=clock)
    for i in range(30):
        budget.take(f"http://host{i}.example.org")
    with pytest.raises(NotSent) as info:
        budget.take("http://yet-another.example.org")
    assert "all platforms" in str(info.value) and 0 < info.value.retry_after <= 60
    clock.now += 60
    budget.take("http://yet-another.example.org")


def test_the_budget_remembers_a_bounded_number_of_hosts() -> None:
    budget = Budget(per_host=1, total=10**9, clock=Clock(), max_hosts=100)
    for i in range(10_000):
        budget.take(f"http://host{i}.example.org")
    assert budget.hosts() == 100


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class NothingThere:
    async def fetch(self, ref: str) -> None:
        return None


async def test_a_hundred_thousand_distinct_refs_keep_the_cache_bounded() -> None:
    cache = ProposalCache({"consul": NothingThere()}, clock=Clock(), max_entries=1000)
    watched = "consul:https://consul.example.org/proposals/1"
    cache.watch(watched)
    ref: Callable[[int], str] = lambda i: f"consul:https://h{i % 5000}.example.org/proposals/{i}"  # noqa: E731
    for i in range(100_000):
        await cache.get(ref(i))
    assert len(cache) == 1000
    assert watched in cache.watched() and cache.peek(ref(99_999)) is None
    assert await cache.get(watched) is None  # the watched ref was never forgotten
