"""Residents see each other in the browser: roster, moving avatars, chat as text, leaving — two real browser
contexts against a real server (issue 3, client side).

Each test opens its own overflow instance of the town hall (`?instance=`), so residents of one test never
appear in another's room. Waits are bounded and use the function form of wait_for_function (the page's CSP
refuses string expressions).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from server.config import ROOT
from tests.support import ServerProcess

from .conftest import PageWatch

LOAD_TIMEOUT = 120_000
SEEN_TIMEOUT = 15_000

Open = Callable[..., Page]


@pytest.fixture
def open_resident(browser: Browser, server: Any) -> Iterator[Open]:
    """Opens the town hall in a fresh browser context (a separate resident); closes them all afterwards."""
    contexts = []

    def open_(instance: int, name: str | None = None) -> Page:
        context = browser.new_context(viewport={"width": 1024, "height": 640})
        if name is not None:
            context.add_init_script(f"localStorage.setItem('civicSpace.name', {name!r})")
        contexts.append(context)
        page = context.new_page()
        page.watch = PageWatch(page)  # type: ignore[attr-defined]
        page.dialogs = []  # type: ignore[attr-defined]
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))  # type: ignore[attr-defined]
        page.goto(f"{server.url}/scenes/town-hall?instance={instance}")
        page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=LOAD_TIMEOUT)
        page.wait_for_function("() => window.civicSpace.presence?.connected", timeout=SEEN_TIMEOUT)
        return page

    yield open_
    for context in contexts:
        context.close()


def roster_names(page: Page) -> list[str]:
    return page.evaluate("() => civicSpace.presence.members().map((m) => m.name).sort()")


def wait_for_roster(page: Page, names: list[str]) -> None:
    page.wait_for_function(
        "(names) => JSON.stringify(civicSpace.presence.members().map((m) => m.name).sort()) === JSON.stringify(names)",
        arg=sorted(names),
        timeout=SEEN_TIMEOUT,
    )


def assert_clean(*pages: Page, server_url: str) -> None:
    for page in pages:
        watch = page.watch  # type: ignore[attr-defined]
        assert watch.errors == [], watch.errors
        own = (server_url + "/", f"blob:{server_url}/", "data:")  # blob: the GLB's textures, made by the page itself
        foreign = [url for url in watch.requests if not url.startswith(own)]
        assert foreign == [], foreign
        assert page.dialogs == []  # type: ignore[attr-defined]


def test_residents_of_one_scene_see_each_other_in_the_roster_by_name(open_resident: Open, server: Any) -> None:
    ann = open_resident(11, name="Ann")
    bea = open_resident(11)
    # Bea picks her name with the keyboard in the settings, after arriving as a guest.
    bea.focus("#name-input")
    bea.keyboard.press("Control+A")
    bea.keyboard.type("Bea D.")
    bea.keyboard.press("Enter")

    wait_for_roster(ann, ["Ann", "Bea D."])
    wait_for_roster(bea, ["Ann", "Bea D."])
    roster_text = ann.locator("#roster li").all_inner_texts()
    assert sorted(t.replace("(you)", "").strip() for t in roster_text) == ["Ann", "Bea D."]
    assert "People here (2)" in ann.inner_text("#people-title")
    assert ann.evaluate("civicSpace.presence.id") != bea.evaluate("civicSpace.presence.id")
    assert bea.evaluate("localStorage.getItem('civicSpace.name')") == "Bea D."
    assert_clean(ann, bea, server_url=server.url)


def test_an_invalid_name_is_refused_in_the_page_and_the_connection_stays(open_resident: Open, server: Any) -> None:
    ann = open_resident(12, name="Ann")
    ann.focus("#name-input")
    ann.keyboard.press("Control+A")
    ann.keyboard.type("<script>")
    ann.keyboard.press("Enter")
    assert ann.get_attribute("#name-input", "aria-invalid") == "true"
    assert ann.is_visible("#name-error")
    time.sleep(0.5)
    assert ann.evaluate("civicSpace.presence.connected")
    assert roster_names(ann) == ["Ann"]
    assert_clean(ann, server_url=server.url)


def test_a_walking_resident_is_seen_moving_to_where_they_are(open_resident: Open, server: Any) -> None:
    ann = open_resident(13, name="Ann")
    bea = open_resident(13, name="Bea")
    ann_id = ann.evaluate("civicSpace.presence.id")
    bea.wait_for_function(
        "(id) => civicSpace.presence.remote().some((a) => a.id === id)", arg=ann_id, timeout=SEEN_TIMEOUT
    )
    start = bea.evaluate("(id) => civicSpace.presence.remote().find((a) => a.id === id).position", ann_id)

    ann.focus("#view")
    ann.keyboard.down("ArrowUp")
    time.sleep(1.5)
    ann.keyboard.up("ArrowUp")
    ann.evaluate("civicSpace.nextFrame()")
    target = ann.evaluate("civicSpace.state().position")
    assert abs(target[2] - start[2]) > 0.5, "Ann did not walk"

    bea.wait_for_function(
        """([id, target]) => {
            const avatar = civicSpace.presence.remote().find((a) => a.id === id);
            return avatar && Math.hypot(avatar.position[0] - target[0], avatar.position[2] - target[2]) < 0.3
                && Math.abs(avatar.position[1] - target[1]) < 0.3;
        }""",
        arg=[ann_id, target],
        timeout=SEEN_TIMEOUT,
    )
    seen = bea.evaluate("(id) => civicSpace.presence.remote().find((a) => a.id === id)", ann_id)
    assert abs(seen["yaw"] - ann.evaluate("civicSpace.state().yaw")) < 2
    assert_clean(ann, bea, server_url=server.url)


def test_chat_typed_with_the_keyboard_arrives_as_literal_text(open_resident: Open, server: Any) -> None:
    ann = open_resident(14, name="Ann")
    bea = open_resident(14, name="Bea")
    wait_for_roster(ann, ["Ann", "Bea"])
    images_before = ann.evaluate("document.images.length")
    payload = "<img src=x onerror=alert(1)>"

    bea.focus("#chat-input")
    bea.keyboard.type(payload)
    before = bea.evaluate("civicSpace.state()")
    bea.keyboard.press("ArrowLeft")  # editing keys in the chat never walk or turn
    bea.keyboard.press("ArrowUp")
    bea.keyboard.press("End")
    bea.keyboard.press("Enter")

    ann.wait_for_function("() => document.querySelectorAll('#chat-log .chat-text').length === 1", timeout=SEEN_TIMEOUT)
    assert ann.inner_text("#chat-log .chat-text") == payload
    assert ann.inner_text("#chat-log .chat-name") == "Bea"
    assert ann.evaluate("document.querySelectorAll('#chat-log img').length") == 0
    assert ann.evaluate("document.images.length") == images_before
    bea.wait_for_function("() => document.querySelectorAll('#chat-log .chat-text').length === 1", timeout=SEEN_TIMEOUT)
    assert bea.input_value("#chat-input") == ""
    bea.evaluate("civicSpace.nextFrame()")
    after = bea.evaluate("civicSpace.state()")
    assert (after["position"], after["yaw"]) == (before["position"], before["yaw"])
    time.sleep(0.5)  # an onerror handler would have fired by now
    assert_clean(ann, bea, server_url=server.url)


def test_panels_are_reached_with_tab_and_the_n_key_hides_name_tags(open_resident: Open, server: Any) -> None:
    ann = open_resident(15, name="Ann")
    ann.focus("#chat-input")
    ann.keyboard.type("Hello")
    ann.keyboard.press("Enter")  # the chat log is empty, hence hidden, until the first line
    ann.wait_for_function("() => document.querySelectorAll('#chat-log li').length === 1", timeout=SEEN_TIMEOUT)
    ann.focus("#view")
    reached = []
    for _ in range(14):
        ann.keyboard.press("Tab")
        reached.append(ann.evaluate("document.activeElement.id"))
    for element in ("roster", "chat-log", "chat-input", "name-input", "names-toggle"):
        assert element in reached, reached

    assert ann.is_checked("#names-toggle")
    ann.focus("#view")
    ann.keyboard.press("n")
    assert not ann.is_checked("#names-toggle")
    ann.focus("#names-toggle")
    ann.keyboard.press("Space")
    assert ann.is_checked("#names-toggle")
    assert_clean(ann, server_url=server.url)


def test_a_resident_who_closes_the_page_disappears_for_the_others(open_resident: Open, server: Any) -> None:
    ann = open_resident(16, name="Ann")
    bea = open_resident(16, name="Bea")
    bea_id = bea.evaluate("civicSpace.presence.id")
    ann.wait_for_function(
        "(id) => civicSpace.presence.remote().some((a) => a.id === id)", arg=bea_id, timeout=SEEN_TIMEOUT
    )
    assert roster_names(ann) == ["Ann", "Bea"]

    bea.context.close()
    ann.wait_for_function(
        "(id) => !civicSpace.presence.members().some((m) => m.id === id)"
        " && !civicSpace.presence.remote().some((a) => a.id === id)",
        arg=bea_id,
        timeout=5_000,
    )
    assert ann.locator("#roster li").count() == 1
    assert "People here (1)" in ann.inner_text("#people-title")
    assert_clean(ann, server_url=server.url)


@pytest.fixture
def tiny_room_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server whose town hall holds one resident per instance."""
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    manifest = json.loads((ROOT / "scenes" / "town-hall.json").read_text())
    manifest["capacity"] = 1
    (scenes / "town-hall.json").write_text(json.dumps(manifest))
    process = ServerProcess(tmp_path, "--scenes-dir", str(scenes), "--no-optimize", name="tiny-room")
    yield process
    assert process.stop() == 0


def test_a_full_room_moves_the_newcomer_to_the_overflow_instance(
    browser: Browser, tiny_room_server: ServerProcess
) -> None:
    pages = []
    try:
        for _ in range(2):
            context = browser.new_context(viewport={"width": 1024, "height": 640})
            page = context.new_page()
            page.watch = PageWatch(page)  # type: ignore[attr-defined]
            page.dialogs = []  # type: ignore[attr-defined]
            page.goto(f"{tiny_room_server.url}/scenes/town-hall")
            page.wait_for_function("() => window.civicSpace.presence?.connected", timeout=LOAD_TIMEOUT)
            pages.append(page)
        first, second = pages
        assert "instance" not in first.url
        second.wait_for_function("() => location.search.includes('instance=2')", timeout=SEEN_TIMEOUT)
        assert "room 2" in second.inner_text("#presence-status")
        assert roster_names(first) == ["Guest"] and roster_names(second) == ["Guest"]
        for page in pages:
            page.wait_for_function("() => document.body.dataset.state === 'ready'", timeout=LOAD_TIMEOUT)
        assert_clean(*pages, server_url=tiny_room_server.url)
    finally:
        for page in pages:
            page.context.close()
