"""An imported scene in the browser: the first view is its coarsest level; finer detail arrives as the viewer walks
in (issue 12 item 3), swapped into the same model; under reduced data (Save-Data) it never does.

The world is a synthetic reconstruction imported for the test, its spawn moved out onto the square, 150 m from the
hall, where the first level is as good as any.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from server.importer import import_scene, synthetic
from tests.support import ServerProcess

READY_TIMEOUT = 120_000
FAR = [0.0, 0.0, 150.0]  # the hall spans about x ±30, z ±20 (ground ±40 x ±30), its floor at y = 0


@pytest.fixture(scope="module")
def hall_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("lod-e2e")
    source = synthetic.build(root / "src" / "hall.glb", triangles=120_000, textures=2, texture_size=256)
    import_scene(source, root / "scenes", root / "assets", root / "data", scene_id="hall")
    path = root / "scenes" / "hall.json"
    manifest = json.loads(path.read_text())
    manifest["spawn"] = [{"position": FAR, "yaw": 0}]  # looking toward -Z, at the hall
    path.write_text(json.dumps(manifest))
    server = ServerProcess(root / "data", "--scenes-dir", str(root / "scenes"), "--assets-dir", str(root / "assets"))
    deadline = time.monotonic() + 120
    while True:  # ready at once, or after its preparation in the background
        with urllib.request.urlopen(f"{server.url}/api/scenes") as response:
            listed = {s["id"]: s for s in json.load(response)["scenes"]}
        if listed["hall"]["status"] == "ready":
            break
        assert listed["hall"]["status"] == "preparing" and time.monotonic() < deadline, listed["hall"]
        time.sleep(0.2)
    yield server
    assert server.stop() == 0


def levels(server: ServerProcess) -> list[dict]:
    with urllib.request.urlopen(f"{server.url}/api/scenes/hall") as response:
        return json.load(response)["lods"]


def detail(page: Page) -> dict:
    return page.evaluate("() => ({...document.querySelector('#canvas').dataset})")


def open_hall(page: Page, server: ServerProcess, query: str = "") -> None:
    page.goto(f"{server.url}/scenes/hall{query}")
    page.evaluate("() => window.civicSpace.ready")
    assert page.evaluate("() => document.body.dataset.mode") == "3d"
    page.evaluate("() => window.civicSpace.nextFrame(3)")
    # The stream marks the canvas at the first frame drawn after the scene document said it has levels.
    page.wait_for_function("() => document.querySelector('#canvas').dataset.detailLevels", timeout=30_000)


def walk_in(page: Page) -> None:
    """From afar, jump to the square 8 m in front of the hall's ground, then walk in by keyboard."""
    page.evaluate("() => { window.civicSpace.teleport([0, 0, 38], 0, 0); return window.civicSpace.nextFrame(); }")
    page.focus("#view")
    page.keyboard.down("ArrowUp")
    page.wait_for_timeout(6000)
    page.keyboard.up("ArrowUp")
    page.evaluate("() => window.civicSpace.nextFrame()")


def test_finer_detail_arrives_as_the_viewer_walks_in(hall_server, page):
    lods = levels(hall_server)
    assert len(lods) >= 2
    open_hall(page, hall_server)
    assert detail(page)["detailLevel"] == "0" and detail(page)["detailLevels"] == str(len(lods))
    # From the square, 150 m away, the first level is all the view needs: nothing finer is fetched.
    page.evaluate("() => window.civicSpace.nextFrame(10)")
    page.wait_for_timeout(1500)
    assert detail(page)["detailLevel"] == "0"
    assert not [u for u in page.watch.requests if any(u.endswith(lod["url"]) for lod in lods[1:])]
    first_triangles = int(detail(page)["detailTriangles"])

    walk_in(page)
    page.wait_for_function("() => document.querySelector('#canvas').dataset.detailLevel !== '0'",
                           timeout=READY_TIMEOUT)
    page.wait_for_function("() => !('detailLoading' in document.querySelector('#canvas').dataset)",
                           timeout=READY_TIMEOUT)
    now = detail(page)
    level = int(now["detailLevel"])
    assert level >= 1
    assert int(now["detailTriangles"]) > first_triangles
    assert int(now["detailTriangles"]) == lods[level]["triangles"]
    assert any(u.endswith(lods[level]["url"]) for u in page.watch.requests)
    assert page.evaluate("() => document.body.dataset.state") == "ready"
    assert page.watch.errors == []


def test_under_reduced_data_no_finer_level_is_fetched(hall_server, browser: Browser):
    context = browser.new_context(viewport={"width": 1024, "height": 640})
    # Chromium reports Save-Data from its settings; the page reads navigator.connection.saveData.
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'connection', "
                            "{get: () => ({saveData: true, effectiveType: '4g'})});")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        open_hall(page, hall_server, "?mode=3d")  # 3D asked for explicitly; Save-Data alone means text mode
        walk_in(page)
        page.wait_for_timeout(3000)
        assert detail(page)["detailLevel"] == "0"
        assert not [u for u in requests if any(u.endswith(lod["url"]) for lod in levels(hall_server)[1:])]
    finally:
        context.close()


def test_a_bundled_scene_has_no_levels_and_streams_nothing(server, page):
    page.goto(f"{server.url}/scenes/public-square")
    page.evaluate("() => window.civicSpace.ready")
    page.evaluate("() => window.civicSpace.nextFrame(3)")
    page.wait_for_timeout(500)
    assert "detailLevels" not in detail(page)
    assert page.watch.errors == []


def test_the_swap_to_a_finer_level_keeps_the_picture_in_place(hall_server, page):
    """At one pose, the picture just before and just after the finer level arrives: the same place (blurred to
    its layout, the two differ by little), with more triangles; the finer level arrives without a move."""
    lods = levels(hall_server)
    held: list = []
    page.route(f"**{lods[1]['url']}", lambda route: held.append(route))
    open_hall(page, hall_server)
    page.evaluate("() => { window.civicSpace.teleport([4, 0, 12], 20, -10); return window.civicSpace.nextFrame(3); }")
    page.wait_for_function("() => document.querySelector('#canvas').dataset.detailLoading === '1'", timeout=30_000)
    before = layout(page)
    assert held and detail(page)["detailLevel"] == "0"
    held[0].continue_()
    page.wait_for_function("() => document.querySelector('#canvas').dataset.detailLevel === '1'",
                           timeout=READY_TIMEOUT)
    page.wait_for_timeout(300)  # the frame the loader draws itself: the resident stands still
    after = layout(page)
    difference = float(np.abs(after - before).mean())
    assert difference < 3, f"the picture moved by {difference:.1f} levels on average"
    assert int(detail(page)["detailTriangles"]) == lods[1]["triangles"]


def layout(page: Page) -> np.ndarray:
    """The canvas as 8 x 8 pixel averages: where things are, not their texture's grain."""
    image = np.asarray(Image.open(io.BytesIO(page.locator("#canvas").screenshot())).convert("L"), dtype=np.float32)
    h, w = (image.shape[0] // 8) * 8, (image.shape[1] // 8) * 8
    return image[:h, :w].reshape(h // 8, 8, w // 8, 8).mean(axis=(1, 3))
