"""What a person sees and does in the browser: the landing page, the town hall rendering, walking by keyboard,
walls that hold, stairs that lift, a clear message without WebGL, and nothing fetched from anywhere else."""

from __future__ import annotations

import io
import math
from urllib.parse import urlparse

import numpy as np
from PIL import Image
from playwright.sync_api import Page, Playwright

from server.scenegen import town_hall
from tests.support import CHROMIUM_ARGS, chromium_path

READY_TIMEOUT = 120_000
WALK_SPEED = 1.4  # m/s, the client's walking speed


def open_scene(page: Page, base: str, scene: str = "town-hall") -> None:
    page.goto(f"{base}/scenes/{scene}")
    page.evaluate("() => window.civicSpace.ready")
    assert page.evaluate("() => document.body.dataset.state") == "ready"


def state(page: Page) -> dict:
    return page.evaluate("() => window.civicSpace.state()")


def place(page: Page, position: list[float], yaw_deg: float) -> None:
    script = "([p, yaw]) => { window.civicSpace.teleport(p, yaw, 0); return window.civicSpace.nextFrame(); }"
    page.evaluate(script, [position, yaw_deg])


def hold(page: Page, key: str, ms: int) -> dict:
    page.focus("#view")
    page.keyboard.down(key)
    page.wait_for_timeout(ms)
    page.keyboard.up(key)
    page.evaluate("() => window.civicSpace.nextFrame()")
    return state(page)


def only_own_origin(urls: list[str], base: str) -> list[str]:
    own = urlparse(base).netloc
    return [u for u in urls if not u.startswith(("data:", "blob:")) and urlparse(u).netloc != own]


def test_landing_page_lists_the_scenes_and_leads_into_one_by_keyboard(server, page):
    page.goto(server.url + "/")
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    links = page.locator("#scene-list a")
    titles = links.all_inner_texts()
    assert any("Town hall" in t for t in titles) and any("square" in t.lower() for t in titles)
    for _ in range(30):  # Tab until a scene link has focus, then follow it with Enter
        page.keyboard.press("Tab")
        if page.evaluate("() => !!document.activeElement.closest('#scene-list')"):
            break
    else:
        raise AssertionError("no scene link is reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/scenes/*")
    assert page.watch.errors == []


def test_town_hall_renders_a_real_picture(server, page):
    open_scene(page, server.url)
    page.evaluate("() => window.civicSpace.nextFrame(3)")
    image = np.asarray(Image.open(io.BytesIO(page.locator("#canvas").screenshot())).convert("RGB"), dtype=np.float32)
    assert image.std() > 20, "the view is blank or uniform"
    colours = len(np.unique((image // 16).reshape(-1, 3), axis=0))
    assert colours > 40, f"only {colours} distinct colours: this is not a scene"
    assert state(page)["triangles"] > 5000
    assert page.watch.errors == []
    assert only_own_origin(page.watch.requests, server.url) == []


def test_keyboard_walking_moves_the_viewer(server, page):
    open_scene(page, server.url)
    start = state(page)["position"]
    after = hold(page, "ArrowUp", 1500)["position"]
    moved = math.dist(start, after)
    assert 1.0 < moved < 1.5 * WALK_SPEED * 1.5, moved
    turned = hold(page, "ArrowLeft", 700)["yaw"]
    assert turned > 20


def test_walking_into_a_wall_is_blocked(server, page):
    open_scene(page, server.url)
    # From the entrance hall, face -X: the hall's wall to the service office stands at x = -5 (0.3 m thick).
    place(page, [0.0, 0.0, 10.5], 90)
    end = hold(page, "ArrowUp", int(9.0 / WALK_SPEED * 1000))["position"]
    assert end[0] > -5.0 + 0.15, f"walked through the wall to x={end[0]:.2f}"
    assert end[0] < -3.5, f"stopped too early at x={end[0]:.2f}"
    assert abs(end[2] - 10.5) < 0.3 and end[1] == 0


def test_taking_the_stairs_raises_the_viewer(server, page):
    open_scene(page, server.url)
    z = sum(town_hall.STAIR_Z) / 2
    place(page, [town_hall.STAIR_X0 - 0.8, 0.0, z], -90)  # at the foot of the flight, facing +X (up)
    length = town_hall.STAIR_TOP - town_hall.STAIR_X0 + 1.5
    end = hold(page, "ArrowUp", int(length / WALK_SPEED * 1000) + 1500)["position"]
    assert end[1] >= town_hall.U - 0.05, f"still at y={end[1]:.2f} after the flight"
    assert end[0] > town_hall.STAIR_TOP


def test_home_key_returns_to_the_entrance_and_says_so(server, page):
    open_scene(page, server.url)
    place(page, [9.0, 0.0, -2.2], 0)
    page.focus("#view")
    page.keyboard.press("Home")
    page.evaluate("() => window.civicSpace.nextFrame()")
    assert math.dist(state(page)["position"], [0, 0, 10.5]) < 0.01
    page.wait_for_function("() => document.querySelector('#announcer').textContent.length > 0")


def test_without_webgl_a_clear_message_and_no_3d_download(server, playwright_instance: Playwright):
    browser = playwright_instance.chromium.launch(executable_path=chromium_path(),
                                                  args=[*CHROMIUM_ARGS, "--disable-webgl", "--disable-3d-apis"])
    try:
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{server.url}/scenes/town-hall")
        page.wait_for_function("() => document.body.dataset.state === 'no-webgl'", timeout=30_000)
        assert page.locator("#message").is_visible()
        assert "WebGL" in page.locator("#message").inner_text() or "3D" in page.locator("#message").inner_text()
        assert not [u for u in requests if u.endswith(".glb") or "vendor/three" in u]
    finally:
        browser.close()


def test_unknown_scene_shows_a_friendly_page(server, page):
    response = page.goto(f"{server.url}/scenes/no-such-place")
    assert response is not None and response.status == 404
    page.wait_for_function("() => document.body.dataset.state === 'error'", timeout=30_000)
    assert page.locator("#message").is_visible()


def test_a_page_restored_from_the_back_forward_cache_rejoins_the_room(server, page):
    open_scene(page, server.url)
    page.wait_for_function("() => window.civicSpace.presence?.connected", timeout=30_000)
    page.evaluate("() => dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}))")
    page.wait_for_function("() => !window.civicSpace.presence.connected", timeout=10_000)
    page.evaluate("() => dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    page.wait_for_function("() => window.civicSpace.presence?.connected", timeout=30_000)
