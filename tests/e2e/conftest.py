"""Browser fixtures: a real server process on a free port and headless Chromium (Debian's) with SwiftShader WebGL.

A missing Chromium fails the run: browser tests are part of the suite, never silently skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tests.support import CHROMIUM_ARGS, ServerProcess, chromium_path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("server-data"))
    yield process
    assert process.stop() == 0, "the server did not shut down cleanly on SIGTERM"


# Module scope: Playwright's sync API keeps an event loop running in this thread while it is alive, and
# pytest-asyncio tests in later modules cannot start theirs beside it.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    try:
        executable = chromium_path()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    browser = playwright_instance.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class PageWatch:
    """What a page did: console errors and every URL it requested."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("request", lambda request: self.requests.append(request.url))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 640})
    page = context.new_page()
    page.watch = PageWatch(page)  # type: ignore[attr-defined]
    yield page
    context.close()
