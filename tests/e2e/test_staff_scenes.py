"""The staff scenes page in Chromium (issue 12 item 1): an admin signs in and imports a city's model by keyboard (the
file chosen from the file input opened with Space, the id and title typed, the form sent with Enter), sees the upload
and import progress and the report, then the scene prepared by the running server (no restart) and opens it; axe
finds nothing with the form, the progress and the report shown. A bad file is refused in words. Scenes are named by
their title, announcements are sentences saying the figure the bar shows, the page has two columns at 1280 px, French
puts a space before colons, and a host (not an admin) is taken to the note saying why there is nothing for them.

The module runs its own server over an empty scenes directory of its own (the import writes there, never into the
repository's scenes/), with an admin made by the staff CLI.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from server.importer import synthetic
from tests.e2e.conftest import PageWatch
from tests.e2e.test_accessibility import axe_violations
from tests.support import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
ADMIN, PASSWORD = "ada", "a long enough password"
HOST = "hal"
TIMEOUT = 60_000  # an import and a preparation on a loaded CI machine


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("staff-scenes")
    for name in ("data", "scenes", "assets"):
        (root / name).mkdir()
    model = synthetic.build(root / "upload" / "Market Hall.glb", triangles=6_000, textures=1, texture_size=32)
    letter = root / "upload" / "letter.glb"
    letter.write_text("Dear council, this is a letter and not a model.\n")
    return {"root": root, "model": model, "letter": letter}


@pytest.fixture(scope="module")
def site(world: dict[str, Path]) -> Iterator[ServerProcess]:
    root = world["root"]
    for name, role in ((ADMIN, "admin"), (HOST, "host")):
        subprocess.run([sys.executable, "-m", "server", "staff", "--data-dir", str(root / "data"), "add", name,
                        "--role", role, "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT, check=True,
                       capture_output=True)
    process = ServerProcess(root / "data", "--scenes-dir", str(root / "scenes"), "--assets-dir",
                            str(root / "assets"), name="staff-scenes")
    yield process
    assert process.stop() == 0


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page axe can be injected into (CSP bypassed for the test's own script only)."""
    context = browser.new_context(viewport={"width": 1024, "height": 900}, bypass_csp=True)
    made = context.new_page()
    made.watch = PageWatch(made)  # type: ignore[attr-defined]
    yield made
    context.close()


def focused_id(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement.id"))


def said(page: Page) -> list[str]:
    return list(page.evaluate("() => window.civicSpace.announcer.history"))


def sign_in(page: Page, url: str, username: str = ADMIN) -> None:
    page.goto(f"{url}/staff/scenes")
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    page.focus("#staff-signin")
    page.keyboard.press("Enter")
    assert focused_id(page) == "signin-username"
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    if username == ADMIN:
        page.wait_for_selector("#import-section:not([hidden])")
        page.wait_for_function("() => document.activeElement.id === 'import-heading'")


def choose_file(page: Page, path: Path) -> None:
    """The focused file input gets the file. (The browser's own file dialog, which a keyboard user opens with Space,
    is outside the page: headless Chromium does not open it for a key press, so the file is given to the input.)"""
    assert focused_id(page) == "import-file"
    page.set_input_files("#import-file", str(path))
    assert focused_id(page) == "import-file"


def test_an_admin_imports_a_model_by_keyboard_and_opens_the_new_scene(page: Page, site: ServerProcess, world):
    sign_in(page, site.url)
    assert page.inner_text("#scene-list") == ""  # nothing imported yet
    assert axe_violations(page) == []

    # Sending with nothing chosen lists the problem, with a link to the field.
    page.focus("#import-submit")
    page.keyboard.press("Enter")
    page.wait_for_selector("#form-problems:not([hidden])")
    assert focused_id(page) == "form-problems" and "Choose a model file." in page.inner_text("#form-problems")
    assert page.get_attribute("#import-file", "aria-invalid") == "true"

    page.keyboard.press("Tab")  # to the problem's link, which leads to the field
    page.keyboard.press("Enter")
    choose_file(page, world["model"])
    page.keyboard.press("Tab")
    assert focused_id(page) == "import-id"
    page.keyboard.type("market-hall")
    page.keyboard.press("Tab")
    page.keyboard.type("Market hall")
    page.keyboard.press("Tab")
    assert focused_id(page) == "import-units"
    page.keyboard.press("Tab")
    assert focused_id(page) == "import-up"
    page.keyboard.press("Tab")
    assert focused_id(page) == "import-submit"
    page.keyboard.press("Enter")

    # Upload (bytes), then import (percent), then the report, which takes focus and is announced.
    page.wait_for_selector("#progress-section:not([hidden])")
    page.wait_for_selector("#report:not([hidden])", timeout=TIMEOUT)
    assert focused_id(page) == "report-heading"
    assert page.get_attribute("#upload-progress", "value") == "100"
    assert page.evaluate("() => document.getElementById('import-progress').value") == 100
    size = world["model"].stat().st_size
    assert "sent" in page.inner_text("#upload-text") and page.inner_text("#import-text") == "100%"
    report = page.inner_text("#report-list")
    assert "Source: Market-Hall.glb" in report and f"{size / 1024:.1f} kB" in report
    for words in ("triangles", "1 textures", "glTF validator on the source: 0 errors", "What was changed",
                  "Levels of detail", "Walkable floor", "Budgets: all met"):
        assert words in report, (words, report)
    assert page.locator("#report-list .budget-missed").count() == 0
    spoken = said(page)
    assert "Upload started." in spoken and "Upload finished; importing." in spoken  # sentences: not run together
    assert "Import of Market hall finished, within its budgets. The report follows." in spoken  # its title, not id
    # Each import figure said is a whole percent the bar showed (not the quarter it passed), as a sentence.
    figures = [text for text in spoken if re.match(r"(Import|Upload) \d", text)]
    assert all(re.fullmatch(r"(Import|Upload) \d{1,2}%\.", text) for text in figures), spoken

    # The running server prepares it (no restart); the page says so and links to it.
    page.wait_for_selector("#scene-state a", timeout=TIMEOUT)  # while being prepared already: its page says how
    state = page.inner_text("#scene-state")
    assert "Preparing the scene for visitors" in state or "The scene is open to visitors." in state, state
    page.wait_for_function("() => document.getElementById('scene-state').textContent.includes('The scene is open to "
                           "visitors.')", timeout=TIMEOUT)
    assert page.inner_text("#scene-state a") == "Open Market hall"
    page.wait_for_function("() => window.civicSpace.announcer.history.includes('Market hall is ready and open to "
                           "visitors.')")
    page.wait_for_function("() => document.getElementById('scene-list').textContent.includes('Market hall')")
    assert "Market hall (market-hall): ready" in page.inner_text("#scene-list")
    assert "Market-Hall.glb as market-hall" in page.inner_text("#job-list")
    assert axe_violations(page) == []
    # The one console error expected: `/api/auth/me` answers 401 before anyone signed in.
    assert [e for e in page.watch.errors if "status of 401" not in e] == []  # type: ignore[attr-defined]

    # At 1280 px: two columns, the form beside the progress and the scene list (no empty third column).
    page.set_viewport_size({"width": 1280, "height": 900})
    columns = page.evaluate("() => getComputedStyle(document.querySelector('.console-grid')).gridTemplateColumns")
    assert len(columns.split()) == 2, columns
    form, scenes = (page.locator(f"#{id}").bounding_box() for id in ("import-section", "scenes-section"))
    assert form and scenes and scenes["x"] >= form["x"] + form["width"]
    report = page.locator("#report").bounding_box()
    assert report and report["width"] > form["width"]
    assert axe_violations(page) == []

    page.focus("#scene-state a")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/scenes/market-hall")
    page.wait_for_function("() => document.body.dataset.state !== 'loading'", timeout=TIMEOUT)
    assert "Market hall" in page.title()

    # In French, a space before the colon (and the scene's status in French).
    page.goto(f"{site.url}/staff/scenes?lang=fr")
    page.wait_for_function("() => document.getElementById('scene-list').textContent.includes('Market hall')")
    assert "Market hall (market-hall) : prête" in page.inner_text("#scene-list")


def test_a_file_that_is_not_a_model_is_refused_in_words(page: Page, site: ServerProcess, world):
    sign_in(page, site.url)
    page.keyboard.press("Tab")
    choose_file(page, world["letter"])
    page.focus("#import-submit")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('console-error').textContent.length > 0")
    error = page.inner_text("#console-error")
    assert "The file is not a glTF model" in error and "unsupported_file_type" in error
    assert focused_id(page) == "import-file"
    assert page.get_attribute("#import-submit", "aria-disabled") is None  # may try again


def test_a_host_is_taken_to_the_note_saying_only_administrators_import(page: Page, site: ServerProcess):
    sign_in(page, site.url, HOST)
    page.wait_for_function("() => document.activeElement.id === 'not-admin'")
    assert "Only administrators can import scenes." in page.inner_text("#not-admin")
    assert page.is_hidden("#import-section") and page.is_hidden("#scenes-section")
    assert axe_violations(page) == []
