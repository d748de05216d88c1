"""Keep trying: schemathesis fuzzes every documented route with a signed-in admin (so staff routes are reached),
against a real server on a free port. No answer may be a 5xx, and every answer must match /api/openapi.json
(status code, content type, body schema). Bounded: a few examples per operation, about two minutes.

Something exists to reach past 404: a proposal, a hotspot and a live public meeting (chaired by the fuzzing admin)
with a slide, an approved question and a chat line, all with id 1. Half the examples use those ids and the
admin's own session cookie and CSRF token; the others fuzz the ids and the credentials too (schemathesis
generates a session cookie and a CSRF token from the security schemes, which would otherwise never be the
admin's). Operations that end what the others need (deleting a meeting or its parts, moving its state
on) run last. A meeting's live stream never ends by itself, so it is not fuzzed (tests/test_events_live.py)."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
requests = pytest.importorskip("requests")

from aiohttp import web  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402
from schemathesis import GenerationMode, checks  # noqa: E402

from server.api.routes import ROUTES  # noqa: E402
from server.app import create_app  # noqa: E402
from server.auth import hash_password  # noqa: E402
from server.config import ROOT, Config  # noqa: E402
from server.keys import STORE  # noqa: E402
from server.openapi import document  # noqa: E402

from .conftest import tiny_manifest, write_world  # noqa: E402
from .support import free_port  # noqa: E402

PASSWORD = "a long enough password"
EXAMPLES = 15


class LiveServer:
    """The app on its own event loop in a thread, so schemathesis' blocking client can call it."""

    def __init__(self, root: Path) -> None:
        scenes, assets = write_world(root, {"tiny": tiny_manifest()})
        self.config = Config(data_dir=root / "data", scenes_dir=scenes, assets_dir=assets, web_dir=ROOT / "web",
                             optimize=False, port=free_port())
        self.url = f"http://127.0.0.1:{self.config.port}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def start(self) -> None:
        self.thread.start()
        self.app = create_app(self.config)
        self.runner = web.AppRunner(self.app, access_log=None)
        self.run(self.runner.setup())
        self.run(web.TCPSite(self.runner, "127.0.0.1", self.config.port).start())
        self.run(self.app[STORE].add_staff("ada", hash_password(PASSWORD), "admin"))

    def stop(self) -> None:
        self.run(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("schemathesis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def staff(live_server: LiveServer) -> requests.Session:
    session = requests.Session()
    response = session.post(f"{live_server.url}/api/auth/login", json={"username": "ada", "password": PASSWORD})
    assert response.status_code == 200, response.text
    session.headers.update({"X-CSRF-Token": response.json()["csrf"], "Origin": live_server.url})
    # Something to edit: a proposal and a hotspot (ids 1), so edits reach past 404.
    session.post(f"{live_server.url}/api/proposals", json={"title": {"en": "Benches"}})
    session.post(f"{live_server.url}/api/scenes/tiny/hotspots",
                 json={"position": [0, 1, 0], "kind": "information", "title": {"en": "Hello"}})
    _live_meeting(live_server.url, session)
    return session


def _live_meeting(url: str, staff: requests.Session) -> None:
    """Meeting 1, live, chaired by the fuzzing admin, with slide 1, approved question 1 and chat line 1."""
    body = {"scene": "tiny", "zone": "hall", "title": {"en": "Council"}, "startsAt": time.time() + 3600,
            "agenda": [{"title": {"en": "Opening"}}], "staff": {"chair": ["ada"], "moderator": [], "captioner": []}}
    created = staff.post(f"{url}/api/events", json=body)
    assert created.status_code == 201 and created.json()["id"] == 1, created.text
    meeting = f"{url}/api/events/1"
    assert staff.post(f"{meeting}/state", json={"to": "live"}).status_code == 200
    image = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(image, "PNG")
    slide = staff.post(f"{meeting}/slides", files={"image": ("slide.png", image.getvalue(), "image/png")},
                       data={"alt": json.dumps({"en": "A red square"})})
    assert slide.status_code == 201 and slide.json()["id"] == 1, slide.text
    resident = requests.Session()  # a resident of their own: the fuzzing may ban the staff session's handle
    resident.headers.update({"Origin": url})
    assert resident.get(f"{meeting}/me").status_code == 200  # the resident cookie
    asked = resident.post(f"{meeting}/questions", json={"name": "Ann", "text": "When does the work start?"})
    assert asked.status_code == 201 and asked.json()["id"] == 1, asked.text
    said = resident.post(f"{meeting}/chat", json={"name": "Ann", "text": "Hello"})
    assert said.status_code == 201 and said.json()["id"] == 1, said.text
    assert staff.post(f"{meeting}/questions/1/review", json={"state": "approved"}).status_code == 200
    resident.close()


# The document is generated from the route table, so it is known before any server runs. Signing out would end
# the session the other operations run with.
SCHEMA = (schemathesis.openapi.from_dict(document(ROUTES)).exclude(path="/api/auth/logout")
          .exclude(path="/api/events/{event_id}/live", method="GET"))
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]


def _has_input(label: str) -> bool:
    operation = OPERATIONS[label]
    return bool(operation.query or operation.body)  # a path parameter cannot be made invalid (any text is one)


KNOWN = {"scene_id": "tiny"}  # every other `*_id` is 1
LAST = ("POST /api/events/{event_id}/state", "DELETE /api/events/{event_id}")


def _order(label: str) -> int:
    """Operations that delete or end what others need run after them: deletions, then the meeting's state (on to
    ended and archived), then the meeting itself."""
    return 2 + LAST.index(label) if label in LAST else 1 if label.startswith("DELETE ") else 0


CASES = sorted([(label, GenerationMode.POSITIVE) for label in OPERATIONS]
               + [(label, GenerationMode.NEGATIVE) for label in OPERATIONS if _has_input(label)],
               key=lambda case: (_order(case[0]), case[0], case[1].value))


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label} {mode.value}" for label, mode in CASES])
def test_no_route_answers_5xx_or_disagrees_with_its_document(label, mode, live_server, staff):  # type: ignore[no-untyped-def]
    @given(case=OPERATIONS[label].as_strategy(generation_mode=mode), known=st.booleans())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case, known):  # type: ignore[no-untyped-def]
        if known:  # the signed-in admin (not a generated session cookie or CSRF token) acting on what exists
            for name in case.path_parameters or {}:
                if name.endswith("_id"):
                    case.path_parameters[name] = KNOWN.get(name, "1")
            for generated, name in ((case.cookies, "civic_session"), (case.headers, "X-CSRF-Token")):
                if generated:
                    generated.pop(name, None)
        case.call_and_validate(base_url=live_server.url, session=staff, checks=CHECKS)

    fuzz()
