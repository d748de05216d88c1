"""What the proposal tests share: a clock they move by hand, the fake platforms (tests/fake_platforms.py) served on
127.0.0.1, Decidim proposal addresses, and a platform client that allows 127.0.0.1 (as a deployment would list a
local test platform).
"""

from __future__ import annotations

from typing import Any

from server.proposals import Budget, PlatformHttp
from tests.fake_platforms import FakeConsul, FakeDecidim


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def serve_decidim(aiohttp_server: Any, version: str = "0.30") -> tuple[FakeDecidim, str]:
    """A fake Decidim of `version` listening on 127.0.0.1, and its origin."""
    fake = FakeDecidim(version=version)
    server = await aiohttp_server(fake.app(), host="127.0.0.1")
    return fake, f"http://127.0.0.1:{server.port}"


async def serve_consul(aiohttp_server: Any) -> tuple[FakeConsul, str]:
    """A fake CONSUL listening on 127.0.0.1, and its origin."""
    fake = FakeConsul()
    server = await aiohttp_server(fake.app(), host="127.0.0.1")
    return fake, f"http://127.0.0.1:{server.port}"


def decidim_page(origin: str, proposal_id: int, space: str = "processes/budgets-2025", component: int = 7) -> str:
    """The address of a proposal's page on a Decidim at `origin` (what staff paste)."""
    return f"{origin}/{space}/f/{component}/proposals/{proposal_id}"


def decidim_ref(origin: str, proposal_id: int, space: str = "processes/budgets-2025", component: int = 7) -> str:
    """The canonical reference of that proposal (what a hotspot stores)."""
    return f"decidim:{decidim_page(origin, proposal_id, space, component)}"


def local_platform_http(budget: Budget) -> PlatformHttp:
    """A platform client (use with `async with`) whose allow-list holds 127.0.0.1, where the fakes listen."""
    return PlatformHttp(frozenset({"127.0.0.1"}), budget=budget)
