"""Public meetings over HTTP (docs/events.md): permissions for every action by role and duty, CSRF and
same-origin refusals, the state machine, questions, hands and the floor (with its expiry), moderation (mute,
remove, ban — a ban that survives a new connection), slow mode, slide uploads (good and bad) and staff roles.

Every person is their own HTTP client with their own cookie jar, against one real app on a real SQLite file."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from PIL import Image
from yarl import URL

from server.api.events import ROUTES
from server.auth import hash_password
from server.keys import EVENTS, STORE

PASSWORD = "a long enough password"
HASH = hash_password(PASSWORD)  # once: Argon2 is slow on purpose
START = 1_790_000_000.0


class Person:
    """One browser: its own cookies; `staff` sign-in keeps the CSRF token; resident writes come same-origin."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base, self.csrf = session, base, ""

    def headers(self, origin: bool = True, csrf: bool = True) -> dict[str, str]:
        out = {"Origin": self.base} if origin else {}
        if csrf and self.csrf:
            out["X-CSRF-Token"] = self.csrf
        return out

    async def call(self, method: str, path: str, body: Any = None, *, origin: bool = True, csrf: bool = True,
                   **kwargs: Any) -> tuple[int, Any]:
        async with self.session.request(method, self.base + path, json=body,
                                        headers=self.headers(origin, csrf), **kwargs) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    async def get(self, path: str) -> tuple[int, Any]:
        return await self.call("GET", path)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("POST", path, {} if body is None else body, **kwargs)


@pytest.fixture
async def people(tiny_client) -> AsyncIterator[Any]:  # type: ignore[no-untyped-def]
    """`await people("ada", "admin")` -> a signed-in staff member; `await people()` -> a resident (with the
    cookie a first read of the event's /me gave)."""
    base = str(tiny_client.make_url("")).rstrip("/")
    sessions: list[aiohttp.ClientSession] = []
    store = tiny_client.server.app[STORE]

    async def make(username: str | None = None, role: str = "editor") -> Person:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        person = Person(session, base)
        if username is not None:
            if await store.get_staff(username) is None:
                await store.add_staff(username, HASH, role)
            status, body = await person.call("POST", "/api/auth/login", {"username": username, "password": PASSWORD})
            assert status == 200, body
            person.csrf = body["csrf"]
        return person

    make.store = store  # type: ignore[attr-defined]
    yield make
    for session in sessions:
        await session.close()


def event_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "scene": "tiny", "zone": "hall", "title": {"en": "Neighbourhood council", "fr": "Conseil de quartier"},
        "description": {"en": "Monthly meeting."}, "startsAt": START, "endsAt": START + 7200,
        "timezone": "Europe/Amsterdam", "capacity": 50,
        "agenda": [{"title": {"en": "Opening"}}, {"title": {"en": "Bike lanes"}, "description": {"en": "Plan B"},
                                                  "documents": [{"title": "Plan", "url": "https://city.example/plan"}]}],
        "staff": {"chair": ["chloe"], "moderator": ["mo"], "captioner": ["cap"]},
    }
    body.update(overrides)
    return body


async def new_event(people, state: str | None = None, **overrides: Any) -> tuple[int, Person]:  # type: ignore[no-untyped-def]
    await staff_accounts(people)
    host = await people("hana", "host")
    status, event = await host.post("/api/events", event_body(**overrides))
    assert status == 201, event
    if state:
        chair = await people("chloe", "editor")
        for step in {"open": ["open"], "live": ["live"], "ended": ["live", "ended"]}[state]:
            moved, answer = await chair.post(f"/api/events/{event['id']}/state", {"to": step})
            assert moved == 200, answer
    return event["id"], host


async def staff_accounts(people) -> None:  # type: ignore[no-untyped-def]
    """The accounts `event_body` names in its duties (a duty must name an existing staff member)."""
    store = people.store
    for username, role in (("chloe", "editor"), ("mo", "moderator"), ("cap", "editor")):
        if await store.get_staff(username) is None:
            await store.add_staff(username, HASH, role)


async def resident(people, event_id: int) -> tuple[Person, str]:  # type: ignore[no-untyped-def]
    person = await people()
    status, me = await person.get(f"/api/events/{event_id}/me")
    assert status == 200, me
    return person, me["handle"]


def png(size: tuple[int, int] = (40, 30), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        info = Image.Exif()
        info[0x010E] = "secret description"  # ImageDescription
        image.save(out, "JPEG", exif=info.tobytes())
    else:
        image.save(out, "PNG")
    return out.getvalue()


def slide_form(data: bytes, content_type: str = "image/png", alt: Any = None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("image", data, content_type=content_type, filename="slide")
    if alt is not ...:
        form.add_field("alt", json.dumps({"en": "A red square"} if alt is None else alt),
                       content_type="application/json")
    return form


# --- creating and listing ----------------------------------------------------------------------------------------


async def test_a_host_creates_edits_and_deletes_a_meeting_and_the_public_sees_no_staff(people):
    event_id, host = await new_event(people)
    anyone = await people()
    status, event = await anyone.get(f"/api/events/{event_id}")
    assert status == 200 and event["state"] == "scheduled" and event["agenda"][1]["documents"][0]["title"] == "Plan"
    assert "staff" not in event and "chloe" not in json.dumps(event)
    status, listed = await anyone.get("/api/events?when=upcoming")
    assert [e["id"] for e in listed["events"]] == [event_id]
    assert (await anyone.get("/api/events?when=past"))[1]["events"] == []
    status, edited = await host.call("PATCH", f"/api/events/{event_id}", {"version": 1, "capacity": 80})
    assert status == 200 and edited["capacity"] == 80 and edited["version"] == 2
    status, stale = await host.call("PATCH", f"/api/events/{event_id}", {"version": 1, "capacity": 90})
    assert status == 409 and stale["error"]["code"] == "version_conflict" and stale["current"]["id"] == event_id
    status, _ = await host.call("DELETE", f"/api/events/{event_id}?version=2")
    assert status == 200
    assert (await anyone.get(f"/api/events/{event_id}"))[0] == 404


async def test_only_hosts_and_admins_create_meetings(people):
    await staff_accounts(people)
    for username, role in (("eddie", "editor"), ("mona", "moderator")):
        staff = await people(username, role)
        status, body = await staff.post("/api/events", event_body())
        assert status == 403 and body["error"]["code"] == "forbidden"
    anonymous = await people()
    assert (await anonymous.post("/api/events", event_body()))[0] == 401
    admin = await people("ada", "admin")
    assert (await admin.post("/api/events", event_body()))[0] == 201


async def test_a_meeting_in_an_unknown_scene_zone_or_time_zone_is_refused(people):
    await staff_accounts(people)
    host = await people("hana", "host")
    for bad in ({"scene": "nowhere"}, {"zone": "attic"}, {"timezone": "Mars/Olympus"},
                {"staff": {"chair": ["nobody"]}},
                {"endsAt": START - 60}, {"agenda": [{"title": {"en": "x"}, "documents": [
                    {"title": "evil", "url": "javascript:alert(1)"}]}]}):
        status, body = await host.post("/api/events", event_body(**bad))
        assert status == 422 and body["error"]["code"] == "invalid_field", bad


# --- permissions ------------------------------------------------------------------------------------------------


def _path(route_path: str) -> str:
    return (route_path.replace("{event_id}", "1").replace("{question_id}", "1").replace("{slide_id}", "1")
            .replace("{chat_id}", "1").replace("{username}", "hana"))


async def test_every_staff_write_is_refused_without_the_csrf_token(people):
    await new_event(people)
    admin = await people("ada", "admin")
    writes = [r for r in ROUTES if r.role is not None and r.method != "GET"]
    assert len(writes) >= 17
    for route in writes:
        status, body = await admin.call(route.method, _path(route.path), {}, csrf=False)
        assert status == 403 and body["error"]["code"] == "csrf_failed", route.path


async def test_every_resident_write_is_refused_cross_origin(people):
    event_id, _ = await new_event(people, "live")
    person, _ = await resident(people, event_id)
    writes = [r for r in ROUTES if r.role is None and r.method == "POST"]
    assert {r.path.rsplit("/", 1)[-1] for r in writes} == {"hand", "questions", "support", "chat"}
    for route in writes:
        status, body = await person.call("POST", _path(route.path), {"raised": True}, origin=False)
        assert status == 403 and body["error"]["code"] == "cross_origin", route.path
        async with person.session.post(person.base + _path(route.path), json={},
                                       headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 403 and (await response.json())["error"]["code"] == "cross_origin"
    # And a first visit (no resident cookie yet) cannot write either: it reads the page first.
    stranger = await people()
    status, body = await stranger.post(f"/api/events/{event_id}/hand", {"raised": True})
    assert status == 403 and body["error"]["code"] == "cross_origin"


async def test_a_resident_cannot_chair_and_staff_without_the_duty_cannot_either(people):
    event_id, _ = await new_event(people, "open")
    person, _ = await resident(people, event_id)
    assert (await person.post(f"/api/events/{event_id}/state", {"to": "live"}))[0] == 401
    eddie = await people("eddie", "editor")  # staff, but no duty in this meeting
    for path, body in (("state", {"to": "live"}), ("item", {"index": 0}), ("slide", {"slideId": None}),
                       ("captions", {"text": "hi"}), ("slow-mode", {"seconds": 5}),
                       ("moderation", {"action": "mute", "handle": "a" * 12})):
        status, answer = await eddie.post(f"/api/events/{event_id}/{path}", body)
        assert status == 403 and answer["error"]["code"] == "forbidden", path
    assert (await eddie.get(f"/api/events/{event_id}/staff-view"))[0] == 403


async def test_a_moderator_cannot_grant_the_floor_unless_also_chair(people):
    event_id, host = await new_event(people, "live")
    person, handle = await resident(people, event_id)
    assert (await person.post(f"/api/events/{event_id}/hand", {"raised": True, "name": "Ann"}))[0] == 200
    mo = await people("mo", "moderator")
    status, body = await mo.post(f"/api/events/{event_id}/floor", {"handle": handle, "seconds": 60})
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert (await mo.post(f"/api/events/{event_id}/slow-mode", {"seconds": 10}))[0] == 200  # moderation: yes
    staff = event_body()["staff"] | {"chair": ["chloe", "mo"]}
    version = (await host.get(f"/api/events/{event_id}"))[1]["version"]
    assert (await host.call("PATCH", f"/api/events/{event_id}", {"version": version, "staff": staff}))[0] == 200
    status, event = await mo.post(f"/api/events/{event_id}/floor", {"handle": handle, "seconds": 60})
    assert status == 200 and event["floor"]["name"] == "Ann" and event["floor"]["seconds"] == 60


async def test_a_captioner_captions_but_does_not_moderate_and_duties_show_in_the_staff_view(people):
    event_id, _ = await new_event(people, "live")
    cap = await people("cap", "editor")
    status, line = await cap.post(f"/api/events/{event_id}/captions", {"text": "Welcome everyone"})
    assert status == 201 and line["text"] == "Welcome everyone"
    status, body = await cap.post(f"/api/events/{event_id}/moderation", {"action": "ban", "handle": "a" * 12})
    assert status == 403
    status, view = await cap.get(f"/api/events/{event_id}/staff-view")
    assert status == 200 and view["duties"] == ["captioner"] and view["staff"]["chair"] == ["chloe"]


# --- the state machine ---------------------------------------------------------------------------------------------


async def test_meetings_only_move_forward(people):
    event_id, _ = await new_event(people)
    chair = await people("chloe")
    path = f"/api/events/{event_id}/state"
    status, body = await chair.post(path, {"to": "ended"})
    assert status == 409 and body["error"]["code"] == "bad_transition"
    for step in ("open", "live", "ended", "archived"):
        status, event = await chair.post(path, {"to": step})
        assert status == 200 and event["state"] == step
    assert event["startedAt"] is not None and event["endedAt"] >= event["startedAt"]
    for back in ("open", "live", "ended"):
        assert (await chair.post(path, {"to": back}))[0] == 409
    assert (await chair.post(path, {"to": "scheduled"}))[0] == 422  # not even a target
    other, _ = await new_event(people)
    assert (await chair.post(f"/api/events/{other}/state", {"to": "live"}))[0] == 200  # scheduled -> live


async def test_residents_act_only_while_doors_are_open(people):
    event_id, _ = await new_event(people)
    person, _ = await resident(people, event_id)
    status, body = await person.post(f"/api/events/{event_id}/hand", {"raised": True})
    assert status == 409 and body["error"]["code"] == "event_not_open"
    chair = await people("chloe")
    await chair.post(f"/api/events/{event_id}/state", {"to": "open"})
    status, body = await person.post(f"/api/events/{event_id}/hand", {"raised": True, "name": "Ann"})
    assert status == 200 and body == {"raised": True, "position": 1}


async def test_agenda_items_and_bad_indexes(people):
    event_id, _ = await new_event(people, "live")
    chair = await people("chloe")
    status, event = await chair.post(f"/api/events/{event_id}/item", {"index": 1})
    assert status == 200 and event["currentItem"] == 1
    assert (await chair.post(f"/api/events/{event_id}/item", {"index": 2}))[0] == 422
    assert (await chair.post(f"/api/events/{event_id}/item", {"index": None}))[1]["currentItem"] is None


# --- hands, floor, questions ---------------------------------------------------------------------------------------


async def test_the_hand_queue_keeps_order_and_granting_the_floor_removes_the_hand(people):
    event_id, _ = await new_event(people, "live")
    ann, ann_handle = await resident(people, event_id)
    bea, bea_handle = await resident(people, event_id)
    assert ann_handle != bea_handle
    await ann.post(f"/api/events/{event_id}/hand", {"raised": True, "name": "Ann", "topic": "Trees"})
    status, body = await bea.post(f"/api/events/{event_id}/hand", {"raised": True, "name": "Bea"})
    assert body["position"] == 2
    assert (await bea.get(f"/api/events/{event_id}/me"))[1]["hand"] == 2
    chair = await people("chloe")
    status, event = await chair.post(f"/api/events/{event_id}/floor", {"handle": ann_handle, "seconds": 120})
    assert status == 200 and event["floor"]["handle"] == ann_handle
    assert (await bea.get(f"/api/events/{event_id}/me"))[1]["hand"] == 1
    status, event = await chair.call("DELETE", f"/api/events/{event_id}/floor")
    assert status == 200 and event["floor"] is None
    status, body = await chair.post(f"/api/events/{event_id}/floor", {"handle": "b" * 12, "seconds": 60})
    assert status == 409 and body["error"]["code"] == "not_in_queue"
    status, event = await chair.post(f"/api/events/{event_id}/floor", {"handle": "b" * 12, "name": "Cem"})
    assert status == 200 and event["floor"]["name"] == "Cem"
    assert (await chair.post(f"/api/events/{event_id}/floor", {"handle": ann_handle, "seconds": 10}))[0] == 422
    assert (await bea.post(f"/api/events/{event_id}/hand", {"raised": False}))[1] == {"raised": False,
                                                                                    "position": None}


async def test_the_floor_ends_itself_when_its_time_is_up(people, tiny_client):
    event_id, _ = await new_event(people, "live")
    person, handle = await resident(people, event_id)
    await person.post(f"/api/events/{event_id}/hand", {"raised": True, "name": "Ann"})
    service = tiny_client.server.app[EVENTS]
    now = [service.clock()]
    service.clock = lambda: now[0]
    chair = await people("chloe")
    status, event = await chair.post(f"/api/events/{event_id}/floor", {"handle": handle, "seconds": 30})
    assert event["floor"]["until"] == now[0] + 30
    now[0] += 29
    assert (await person.get(f"/api/events/{event_id}"))[1]["floor"]["handle"] == handle
    now[0] += 2
    assert (await person.get(f"/api/events/{event_id}"))[1]["floor"] is None
    audit = await tiny_client.server.app[STORE].audit()
    assert audit[0]["action"] == "event.floor_ended" and audit[0]["actor"] == "system"


async def test_questions_are_moderated_supported_once_and_answered(people):
    event_id, _ = await new_event(people, "live")
    ann, _ = await resident(people, event_id)
    status, question = await ann.post(f"/api/events/{event_id}/questions", {"name": "Ann", "text": " Why?  "})
    assert status == 201 and question["state"] == "pending" and question["text"] == "Why?"
    assert (await ann.post(f"/api/events/{event_id}/questions", {"text": "two\nlines"}))[0] == 422
    assert (await ann.post(f"/api/events/{event_id}/questions", {"text": "bell\u0007"}))[0] == 422
    qid = question["id"]
    status, body = await ann.post(f"/api/events/{event_id}/questions/{qid}/support")
    assert status == 409 and body["error"]["code"] == "question_not_open"  # pending: not visible yet
    chair_only = await people("chloe")
    mo = await people("mo", "moderator")
    status, reviewed = await mo.post(f"/api/events/{event_id}/questions/{qid}/review", {"state": "approved"})
    assert status == 200 and reviewed["state"] == "approved" and "handle" in reviewed
    assert (await ann.post(f"/api/events/{event_id}/questions/{qid}/support"))[1] == {"supports": 1, "counted": True}
    assert (await ann.post(f"/api/events/{event_id}/questions/{qid}/support"))[1] == {"supports": 1,
                                                                                      "counted": False}
    assert (await mo.post(f"/api/events/{event_id}/questions/{qid}/answering"))[0] == 403  # a chair's act
    status, answering = await chair_only.post(f"/api/events/{event_id}/questions/{qid}/answering")
    assert status == 200 and answering["state"] == "answering"
    _, second = await ann.post(f"/api/events/{event_id}/questions", {"name": "Ann", "text": "And then?"})
    await mo.post(f"/api/events/{event_id}/questions/{second['id']}/review", {"state": "approved"})
    await chair_only.post(f"/api/events/{event_id}/questions/{second['id']}/answering")
    _, view = await mo.get(f"/api/events/{event_id}/staff-view")
    assert {q["id"]: q["state"] for q in view["questions"]} == {qid: "answered", second["id"]: "answering"}
    assert (await mo.call("DELETE", f"/api/events/{event_id}/questions/{qid}"))[0] == 200
    assert (await mo.call("DELETE", f"/api/events/{event_id}/questions/{qid}"))[0] == 404


# --- chat and moderation -------------------------------------------------------------------------------------------


async def test_slow_mode_spaces_a_residents_chat_lines(people, tiny_client):
    event_id, _ = await new_event(people, "live")
    ann, _ = await resident(people, event_id)
    mo = await people("mo", "moderator")
    assert (await mo.post(f"/api/events/{event_id}/slow-mode", {"seconds": 30}))[1]["slowMode"] == 30
    assert (await ann.post(f"/api/events/{event_id}/chat", {"name": "Ann", "text": "first"}))[0] == 201
    async with ann.session.post(f"{ann.base}/api/events/{event_id}/chat", json={"name": "Ann", "text": "again"},
                                headers=ann.headers()) as response:
        body = await response.json()
        assert response.status == 429 and body["error"]["code"] == "slow_mode"
        assert 1 <= body["retryAfter"] <= 30 and response.headers["Retry-After"] == str(body["retryAfter"])
    bea, _ = await resident(people, event_id)  # slow mode is per resident
    assert (await bea.post(f"/api/events/{event_id}/chat", {"name": "Bea", "text": "hi"}))[0] == 201
    await mo.post(f"/api/events/{event_id}/slow-mode", {"seconds": 0})
    assert (await ann.post(f"/api/events/{event_id}/chat", {"name": "Ann", "text": "again"}))[0] == 201
    assert (await mo.post(f"/api/events/{event_id}/slow-mode", {"seconds": 301}))[0] == 422


async def test_a_muted_resident_cannot_chat_but_still_raises_a_hand_and_a_moderator_deletes_lines(people):
    event_id, _ = await new_event(people, "live")
    ann, handle = await resident(people, event_id)
    _, line = await ann.post(f"/api/events/{event_id}/chat", {"name": "Ann", "text": "rude words"})
    mo = await people("mo", "moderator")
    assert (await mo.call("DELETE", f"/api/events/{event_id}/chat/{line['id']}"))[0] == 200
    assert (await mo.get(f"/api/events/{event_id}/staff-view"))[1]["chat"] == []
    assert (await mo.post(f"/api/events/{event_id}/moderation", {"action": "mute", "handle": handle}))[0] == 200
    status, body = await ann.post(f"/api/events/{event_id}/chat", {"name": "Ann", "text": "hello?"})
    assert status == 403 and body["error"]["code"] == "muted"
    assert (await ann.get(f"/api/events/{event_id}/me"))[1]["muted"] is True
    assert (await ann.post(f"/api/events/{event_id}/hand", {"raised": True}))[0] == 200
    await mo.post(f"/api/events/{event_id}/moderation", {"action": "unmute", "handle": handle})
    assert (await ann.post(f"/api/events/{event_id}/chat", {"name": "Ann", "text": "sorry"}))[0] == 201


async def test_a_banned_resident_is_refused_live_and_writes_also_after_a_new_connection(people, tiny_client):
    event_id, _ = await new_event(people, "live")
    ann, handle = await resident(people, event_id)
    await ann.post(f"/api/events/{event_id}/hand", {"raised": True, "name": "Ann"})
    mo = await people("mo", "moderator")
    assert (await mo.post(f"/api/events/{event_id}/moderation", {"action": "ban", "handle": handle}))[0] == 200
    assert (await mo.get(f"/api/events/{event_id}/staff-view"))[1]["hands"] == []  # gone from the queue
    cookies = ann.session.cookie_jar.filter_cookies(URL(ann.base))
    await ann.session.close()
    again = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # a new connection, same browser
    again.cookie_jar.update_cookies(cookies)
    try:
        back = Person(again, ann.base)
        assert (await back.get(f"/api/events/{event_id}/me"))[1] == {"handle": handle, "banned": True,
                                                                     "muted": False, "hand": None}
        status, body = await back.get(f"/api/events/{event_id}/live")
        assert status == 403 and body["error"]["code"] == "banned"
        for path, body in (("hand", {"raised": True}), ("questions", {"text": "let me in"}),
                           ("chat", {"text": "hello"})):
            status, answer = await back.post(f"/api/events/{event_id}/{path}", body)
            assert status == 403 and answer["error"]["code"] == "banned", path
        chair = await people("chloe")
        status, answer = await chair.post(f"/api/events/{event_id}/floor", {"handle": handle, "name": "Ann"})
        assert status == 409 and answer["error"]["code"] == "banned"
        await mo.post(f"/api/events/{event_id}/moderation", {"action": "unban", "handle": handle})
        assert (await back.post(f"/api/events/{event_id}/hand", {"raised": True}))[0] == 200
    finally:
        await again.close()
    actions = [row["action"] for row in await tiny_client.server.app[STORE].audit()]
    assert "event.ban" in actions and "event.unban" in actions


async def test_a_removal_is_audited_and_the_resident_may_come_back(people, tiny_client):
    event_id, _ = await new_event(people, "live")
    ann, handle = await resident(people, event_id)
    mo = await people("mo", "moderator")
    assert (await mo.post(f"/api/events/{event_id}/moderation", {"action": "remove", "handle": handle}))[0] == 200
    assert (await ann.get(f"/api/events/{event_id}/me"))[1]["banned"] is False
    removal = next(row for row in await tiny_client.server.app[STORE].audit() if row["action"] == "event.remove")
    assert (removal["actor"], removal["target"], removal["after"]) == ("mo", f"event:{event_id}", {"handle": handle})
    status, _ = await mo.post(f"/api/events/{event_id}/moderation", {"action": "remove", "handle": "NOT-A-HANDLE"})
    assert status == 422


async def test_archiving_forgets_the_attendees_keeps_the_questions_and_ends_the_streams(people, tiny_client):
    from .test_events_live import listen  # (that module imports this one)

    event_id, _ = await new_event(people, "live")
    ann, ann_handle = await resident(people, event_id)
    bea, bea_handle = await resident(people, event_id)
    _, question = await ann.post(f"/api/events/{event_id}/questions", {"name": "Ann", "text": "Why the bridge?"})
    await ann.post(f"/api/events/{event_id}/chat", {"name": "Ann", "text": "hello"})
    mo = await people("mo", "moderator")
    await mo.post(f"/api/events/{event_id}/questions/{question['id']}/review", {"state": "approved"})
    assert (await bea.post(f"/api/events/{event_id}/questions/{question['id']}/support"))[1]["supports"] == 1
    await mo.post(f"/api/events/{event_id}/moderation", {"action": "mute", "handle": bea_handle})
    await mo.post(f"/api/events/{event_id}/moderation", {"action": "ban", "handle": "b" * 12})
    chair = await people("chloe")
    assert (await chair.post(f"/api/events/{event_id}/state", {"to": "ended"}))[0] == 200
    _, ended = await mo.get(f"/api/events/{event_id}/staff-view")
    assert ended["chat"] and ended["restrictions"]["muted"] == [bea_handle]  # kept until archived
    stream = await listen(ann, event_id)
    assert (await stream.next("chat"))["text"] == "hello"

    status, archived = await chair.post(f"/api/events/{event_id}/state", {"to": "archived"})
    assert status == 200 and archived["state"] == "archived"
    assert await stream.ended()  # told to read again: its chat is gone
    _, view = await mo.get(f"/api/events/{event_id}/staff-view")
    assert view["chat"] == [] and view["hands"] == [] and view["restrictions"] == {"muted": [], "banned": []}
    assert [(q["handle"], q["name"], q["text"], q["supports"]) for q in view["questions"]] == \
        [("", "Ann", "Why the bridge?", 1)]
    again = await listen(ann, event_id)
    state = await again.next("state")
    assert state["state"] == "archived" and [q["text"] for q in state["questions"]] == ["Why the bridge?"]
    with pytest.raises(TimeoutError):  # the whole snapshot, and nothing after it
        while True:
            await again.message(timeout=0.5)
    assert [kind for kind, _, _ in again.seen] == ["state"]
    again.response.close()
    status, body = await mo.post(f"/api/events/{event_id}/moderation", {"action": "ban", "handle": ann_handle})
    assert status == 409 and body["error"]["code"] == "event_not_open"  # nobody is named again
    entry = next(row for row in await tiny_client.server.app[STORE].audit() if row["action"] == "event.purge")
    assert entry["actor"] == "chloe" and entry["after"] == {"chat": 1, "hands": 0, "restrictions": 2,
                                                           "supports": 1, "questions": 1}
    assert (await ann.get(f"/events/{event_id}/transcript.txt"))[0] == 200  # the record is still published


async def test_handles_differ_per_event_and_never_show_the_resident_token(people):
    first, _ = await new_event(people)
    second, _ = await new_event(people)
    person = await people()
    one = (await person.get(f"/api/events/{first}/me"))[1]["handle"]
    two = (await person.get(f"/api/events/{second}/me"))[1]["handle"]
    token = person.session.cookie_jar.filter_cookies(URL(person.base))["civic_resident"].value
    assert one != two and len(one) == 12 and one not in token and two not in token
    assert (await person.get(f"/api/events/{first}/me"))[1]["handle"] == one


# --- slides ---------------------------------------------------------------------------------------------------------


async def test_a_slide_is_reencoded_to_webp_without_metadata_and_shown(people):
    event_id, host = await new_event(people, "live")
    big = io.BytesIO()
    Image.new("RGB", (3000, 1500), (10, 120, 200)).save(big, "JPEG", exif=_exif())
    async with host.session.post(f"{host.base}/api/events/{event_id}/slides", headers=host.headers(),
                                 data=slide_form(big.getvalue(), "image/jpeg")) as response:
        assert response.status == 201, await response.text()
        slide = await response.json()
    assert (slide["width"], slide["height"]) == (1920, 960) and slide["alt"] == {"en": "A red square"}
    anyone = await people()
    async with anyone.session.get(anyone.base + slide["url"]) as response:
        data = await response.read()
        assert response.headers["Content-Type"] == "image/webp" and "immutable" in response.headers["Cache-Control"]
    image = Image.open(io.BytesIO(data))
    assert image.format == "WEBP" and not image.getexif() and b"secret" not in data
    chair = await people("chloe")
    status, event = await chair.post(f"/api/events/{event_id}/slide", {"slideId": slide["id"]})
    assert status == 200 and event["slide"]["id"] == slide["id"] and event["slide"]["alt"]["en"] == "A red square"
    assert (await chair.post(f"/api/events/{event_id}/slide", {"slideId": 999}))[0] == 404
    assert (await host.call("DELETE", f"/api/events/{event_id}/slides/{slide['id']}"))[0] == 200
    assert (await anyone.get(f"/api/events/{event_id}"))[1]["slide"] is None


def _exif() -> bytes:
    info = Image.Exif()
    info[0x010E] = "secret description"
    info[0x0131] = "secret camera software"
    return info.tobytes()


@pytest.mark.parametrize("case", ["not_an_image", "too_large", "missing_alt", "empty_alt", "wrong_type",
                                  "unsupported_type", "huge_pixels", "not_multipart"])
async def test_bad_slide_uploads_are_refused(people, case):
    event_id, host = await new_event(people)
    expected = {"not_an_image": (422, "not_an_image"), "too_large": (413, "payload_too_large"),
                "missing_alt": (422, "missing_alt"), "empty_alt": (422, "missing_alt"),
                "wrong_type": (422, "wrong_image_type"), "unsupported_type": (415, "unsupported_media_type"),
                "huge_pixels": (422, "image_too_large"), "not_multipart": (415, "unsupported_media_type")}[case]
    url = f"{host.base}/api/events/{event_id}/slides"
    if case == "not_multipart":
        request = host.session.post(url, headers=host.headers(), json={"image": "x"})
    else:
        data, kind, alt = png(), "image/png", None
        if case == "not_an_image":
            data = b"<svg xmlns='http://www.w3.org/2000/svg'/>" * 10
        elif case == "too_large":
            data = png() + b"\0" * (8 * 1024 * 1024)
        elif case == "missing_alt":
            alt = ...
        elif case == "empty_alt":
            alt = {"en": "   "}
        elif case == "wrong_type":
            kind = "image/jpeg"
        elif case == "unsupported_type":
            kind = "image/gif"
        elif case == "huge_pixels":
            data = png((8001, 2))
        request = host.session.post(url, headers=host.headers(), data=slide_form(data, kind, alt))
    async with request as response:
        body = await response.json()
    assert (response.status, body["error"]["code"]) == expected


async def test_only_hosts_and_chairs_upload_slides(people):
    event_id, _ = await new_event(people)
    for username, role in (("mo", "moderator"), ("cap", "editor")):
        staff = await people(username, role)
        async with staff.session.post(f"{staff.base}/api/events/{event_id}/slides", headers=staff.headers(),
                                      data=slide_form(png())) as response:
            assert response.status == 403, username
    chair = await people("chloe")
    async with chair.session.post(f"{chair.base}/api/events/{event_id}/slides", headers=chair.headers(),
                                  data=slide_form(png())) as response:
        assert response.status == 201


# --- staff roles ----------------------------------------------------------------------------------------------------


async def test_admins_assign_roles_and_nobody_else_does(people, tiny_client):
    admin = await people("ada", "admin")
    await people("eddie", "editor")
    status, listed = await admin.get("/api/staff")
    assert status == 200 and {s["username"]: s["role"] for s in listed["staff"]} == {"ada": "admin",
                                                                                    "eddie": "editor"}
    status, changed = await admin.call("PATCH", "/api/staff/eddie", {"role": "host"})
    assert status == 200 and changed["role"] == "host"
    assert (await admin.call("PATCH", "/api/staff/nobody", {"role": "host"}))[0] == 404
    assert (await admin.call("PATCH", "/api/staff/ada", {"role": "editor"}))[0] == 409
    assert (await admin.call("PATCH", "/api/staff/eddie", {"role": "king"}))[0] == 422
    assert (await admin.call("PATCH", "/api/staff/eddie", {"role": "editor"}, csrf=False))[0] == 403
    host = await people("hana", "host")
    assert (await host.get("/api/staff"))[0] == 403
    assert (await host.call("PATCH", "/api/staff/eddie", {"role": "admin"}))[0] == 403
    audit = await tiny_client.server.app[STORE].audit()
    assert any(row["action"] == "staff.role" and row["actor"] == "ada" for row in audit)


async def test_a_meeting_may_be_held_in_a_zone_staff_made_in_the_editor(people):
    """Imported scenes have no manifest zones: a meeting's zone may be one made in the editor."""
    await staff_accounts(people)
    host = await people("hana", "host")
    status, body = await host.post("/api/events", event_body(zone="reading-corner"))
    assert status == 422 and body["error"]["code"] == "invalid_field"
    editor = await people("edda", "editor")
    status, zone = await editor.post("/api/scenes/tiny/zones", {
        "name": {"en": "Reading corner"}, "around": {"position": [3.0, 0.0, 3.0], "size": [4, 4]}})
    assert status == 201 and zone["id"] == "reading-corner", zone
    status, event = await host.post("/api/events", event_body(zone="reading-corner"))
    assert status == 201 and event["zone"] == "reading-corner", event
