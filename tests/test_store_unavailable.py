"""A store that cannot be reached (PostgreSQL restarting, a network cut) is a passing outage, not a fault: every
route answers 503 with code `store_unavailable` and a Retry-After, never a 500 and never the store's message."""

from __future__ import annotations

from server.keys import STORE
from server.store import StoreUnavailable

from .test_hotspots_api import place, staff_session


def unreachable(*args: object, **kwargs: object) -> None:
    raise StoreUnavailable("postgresql://civic:***@db.internal:5432/civic is unreachable")


async def test_a_read_while_the_store_is_unreachable_is_503_with_retry_after(tiny_client, monkeypatch):
    monkeypatch.setattr(tiny_client.server.app[STORE], "hotspots", unreachable)
    response = await tiny_client.get("/api/scenes/tiny/hotspots")
    assert response.status == 503
    assert int(response.headers["Retry-After"]) > 0
    body = await response.json()
    assert body["error"]["code"] == "store_unavailable"
    assert "db.internal" not in await response.text()


async def test_a_write_while_the_store_is_unreachable_is_503_and_works_once_it_returns(tiny_client, monkeypatch):
    csrf = await staff_session(tiny_client)
    store = tiny_client.server.app[STORE]
    with monkeypatch.context() as patch:
        patch.setattr(store, "create_hotspot", unreachable)
        refused = await place(tiny_client, csrf)
        assert refused.status == 503 and "Retry-After" in refused.headers
        assert (await refused.json())["error"]["code"] == "store_unavailable"
    assert (await place(tiny_client, csrf)).status == 201
