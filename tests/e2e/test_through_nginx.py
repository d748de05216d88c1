"""A browser session through the documented nginx (docs/deploy.md) in front of two server processes on one
PostgreSQL and one Redis: two residents open the town hall over HTTPS (nginx's self-signed certificate), their
pages load whole through the proxy, both connect over wss:///ws, and each sees the other in the people list, in
whichever process nginx placed them. The deployment itself (nginx, certificates, servers) is the fixture of
tests/test_nginx.py, imported, so both tests run the same sample."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.postgres_server import postgres  # noqa: F401  (fixture)
from tests.test_nginx import behind_nginx  # noqa: F401  (fixture)

from .conftest import PageWatch

LOAD_TIMEOUT = 120_000
SEEN_TIMEOUT = 15_000


def record_sockets(page: Page) -> list[str]:
    """The URLs of the WebSockets the page opens, as it opens them."""
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    return sockets


@pytest.fixture
def residents(browser: Browser, behind_nginx: tuple[str, str]) -> Iterator[tuple[str, list[Page]]]:  # noqa: F811
    https, _ = behind_nginx
    site = f"https://{https}"
    contexts, pages = [], []
    for name in ("Ann", "Bea"):
        context = browser.new_context(viewport={"width": 1024, "height": 640}, ignore_https_errors=True)
        context.add_init_script(f"localStorage.setItem('civicSpace.name', {name!r})")
        contexts.append(context)
        page = context.new_page()
        page.watch = PageWatch(page)  # type: ignore[attr-defined]
        page.sockets = record_sockets(page)  # type: ignore[attr-defined]
        pages.append(page)
    try:
        yield site, pages
    finally:
        for context in contexts:
            context.close()


def test_two_residents_through_nginx_see_each_other_in_the_people_list(
        residents: tuple[str, list[Page]]) -> None:
    site, (ann, bea) = residents
    for page in (ann, bea):
        page.goto(f"{site}/scenes/town-hall?instance=5")
        page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=LOAD_TIMEOUT)
        page.wait_for_function("() => window.civicSpace.presence?.connected", timeout=SEEN_TIMEOUT)
    for page in (ann, bea):
        page.wait_for_function(
            "() => JSON.stringify(civicSpace.presence.members().map((m) => m.name).sort()) === '[\"Ann\",\"Bea\"]'",
            timeout=SEEN_TIMEOUT)
        people = sorted(t.replace("(you)", "").strip() for t in page.locator("#roster li").all_inner_texts())
        assert people == ["Ann", "Bea"]
        assert "People here (2)" in page.inner_text("#people-title")
        assert page.sockets == [f"{site.replace('https', 'wss')}/ws"]  # type: ignore[attr-defined]
        watch = page.watch  # type: ignore[attr-defined]
        assert watch.errors == [], watch.errors
        own = (site + "/", f"blob:{site}/", "data:")  # blob: the GLB's textures, made by the page itself
        foreign = [url for url in watch.requests if not url.startswith(own)]
        assert foreign == [], foreign
    assert ann.evaluate("civicSpace.presence.id") != bea.evaluate("civicSpace.presence.id")
