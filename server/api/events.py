"""Public meetings over HTTP (docs/events.md, "Service and HTTP API"): the event list and pages' data, the live
stream (SSE), calendars, transcripts, slides, residents' hands, questions and chat, and every staff action.

Handlers only translate: who is asking (staff session, or the resident's signed cookie turned into the event's
handle), then `EventService` (server/events/service.py) decides and publishes. Resident writes need a same-origin
`Origin`, a JSON body and the SameSite=Strict resident cookie (403 `cross_origin` otherwise), and are rate-limited
per handle; staff writes need the session's CSRF token (server/api/route.py).
"""

from __future__ import annotations

from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import ValidationError

from ..errors import ApiError
from ..events import ical, models, transcript
from ..events.handles import event_handle, support_hash
from ..events.live import stream
from ..events.service import EventService, SlowMode, summary_json
from ..events.slides import MAX_BYTES, MEDIA_TYPE
from ..keys import EVENT_HUB, EVENTS, RESIDENTS
from ..store import Conflict
from . import staff
from .client import is_https
from .models import Ok
from .proposals import _same_origin
from .route import ANY_STAFF, Call, Route, conflict

EVENT = "/api/events/{event_id}"
FORM_OVERHEAD = 64 * 1024  # the alt texts and the form's boundaries
IMMUTABLE = "public, max-age=31536000, immutable"
# 409 is listed only where it is a version conflict (with `current`); the state machine's 409s (bad_transition,
# event_not_open, not_in_queue, ...) are plain errors, documented by the `default` answer.
VERSIONED = (401, 403, 404, 409, 413, 415, 422)
STAFF_EDIT = (401, 403, 404, 413, 415, 422)
RESIDENT_WRITE = (403, 404, 413, 415, 422, 429)


def service(call: Call) -> EventService:
    return call.app[EVENTS]


def event_id(call: Call) -> int:
    return call.path_id("event_id", "event")


class Resident:
    """The resident behind a request, known in this event by their handle (a new identity when they have none:
    the response then sets its cookie)."""

    def __init__(self, call: Call) -> None:
        residents = call.app[RESIDENTS]
        known = residents.identity(call.request)
        self.id = known or residents.new_id()
        self.new = known is None
        self.call = call

    def handle(self, event: int) -> str:
        return event_handle(self.call.app[RESIDENTS].key, event, self.id)

    def answer(self, response: web.StreamResponse) -> web.StreamResponse:
        if self.new:
            self.call.app[RESIDENTS].set_cookie(response, self.id, secure=is_https(self.call.request))
        return response


def same_origin(request: web.Request) -> None:
    """The guard of resident writes, before their body is read: only this site's own pages may send them."""
    if not _same_origin(Call(request, None, None, None)):
        raise ApiError(403, "cross_origin", "This is accepted only from this site's pages.")


def resident_write(call: Call) -> tuple[Resident, int, str]:
    """The resident, the event and their handle for a write (same origin: the route's guard): a signed cookie,
    within the rate."""
    resident, event = Resident(call), event_id(call)
    if resident.new:  # a write needs the cookie a page read (/me or /live) gave: SameSite=Strict is the guard
        raise ApiError(403, "cross_origin", "Open the meeting's page first.")
    handle = resident.handle(event)
    if not service(call).limiter.allow(handle):
        raise ApiError(429, "too_many_requests", "Too many actions; wait a moment.")
    return resident, event, handle


def json_answer(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


# --- public reads ------------------------------------------------------------------------------------------------


async def list_events(call: Call) -> web.Response:
    rows = await service(call).events(call.query.when)
    return json_answer({"events": [summary_json(row) for row in rows]})


async def get_event(call: Call) -> web.Response:
    return json_answer(await service(call).public(event_id(call)))


async def live(call: Call) -> web.StreamResponse:
    resident, event = Resident(call), event_id(call)
    handle = resident.handle(event)
    found = await service(call).refuse_banned(event, handle)
    return await stream(call.request, call.app[EVENT_HUB], found, handle, resident.answer)


async def me(call: Call) -> web.StreamResponse:
    resident, event = Resident(call), event_id(call)
    response = json_answer(await service(call).me(event, resident.handle(event)))
    return resident.answer(response)


def _base(call: Call) -> tuple[str, str]:
    host = call.request.host.split(",")[0].strip()[:200] or "localhost"
    return f"{'https' if is_https(call.request) else 'http'}://{host}", host.split(":")[0]


def _ics(call: Call, rows: list[dict[str, Any]], name: str) -> web.Response:
    base, host = _base(call)
    body = ical.calendar(rows, base, host)
    return web.Response(body=body, headers={"Content-Type": "text/calendar; charset=utf-8",
                                            "Content-Disposition": f'inline; filename="{name}"',
                                            "Cache-Control": "public, max-age=300"})


async def feed_ics(call: Call) -> web.Response:
    rows = await service(call).events("upcoming") + await service(call).events("live")
    return _ics(call, sorted(rows, key=lambda r: r["starts_at"]), "events.ics")


async def event_ics(call: Call) -> web.Response:
    event = await service(call).event(event_id(call))
    return _ics(call, [event], f"event-{event['id']}.ics")


async def transcript_vtt(call: Call) -> web.Response:
    event, captions = await service(call).captions(event_id(call))
    return web.Response(text=transcript.webvtt_text(event, captions), content_type="text/vtt", charset="utf-8",
                        headers={"Cache-Control": "public, max-age=300"})


async def transcript_txt(call: Call) -> web.Response:
    event, captions = await service(call).captions(event_id(call))
    return web.Response(text=transcript.plain_text(event, captions), content_type="text/plain", charset="utf-8",
                        headers={"Cache-Control": "public, max-age=300"})


async def slide_image(call: Call) -> web.Response:
    slide = call.path_id("slide_id", "slide")
    data = await service(call).slide_image(event_id(call), slide)
    return web.Response(body=data, headers={"Content-Type": MEDIA_TYPE, "Cache-Control": IMMUTABLE})


# --- residents -----------------------------------------------------------------------------------------------------


async def raise_hand(call: Call) -> web.Response:
    _, event, handle = resident_write(call)
    body = call.body
    position = await service(call).hand(event, handle, body.raised, body.name, body.topic)
    return json_answer({"raised": position is not None, "position": position})


async def ask(call: Call) -> web.Response:
    _, event, handle = resident_write(call)
    return json_answer(await service(call).ask(event, handle, call.body.name, call.body.text), status=201)


async def support(call: Call) -> web.Response:
    resident, event, handle = resident_write(call)
    question = call.path_id("question_id", "question")
    return json_answer(await service(call).support(event, question, handle, support_hash(question, resident.id)))


async def chat(call: Call) -> web.Response:
    _, event, handle = resident_write(call)
    try:
        line = await service(call).chat(event, handle, call.body.name, call.body.text)
    except SlowMode as slow:
        response = web.json_response({"error": {"code": slow.code, "message": slow.message},
                                      "retryAfter": slow.retry_after}, status=429)
        response.headers["Retry-After"] = str(slow.retry_after)
        return response
    return json_answer(line, status=201)


# --- staff -----------------------------------------------------------------------------------------------------------


async def create_event(call: Call) -> web.Response:
    return json_answer(await service(call).create(call.body.model_dump(), call.actor()), status=201)


async def update_event(call: Call) -> web.Response:
    given = call.body.model_dump(exclude_unset=True, exclude={"version"})
    try:
        updated = await service(call).update(event_id(call), call.body.version, given, call.actor())
    except Conflict as stale:
        return conflict("event", await service(call).public_row(stale.current))
    return json_answer(updated)


async def delete_event(call: Call) -> web.Response:
    try:
        deleted = await service(call).delete(event_id(call), call.query.version, call.actor())
    except Conflict as stale:
        return conflict("event", await service(call).public_row(stale.current))
    return json_answer(deleted)


async def staff_view(call: Call) -> web.Response:
    return json_answer(await service(call).staff_view(event_id(call), call.actor()))


async def move(call: Call) -> web.Response:
    return json_answer(await service(call).move(event_id(call), call.body.to, call.actor()))


async def set_item(call: Call) -> web.Response:
    return json_answer(await service(call).item(event_id(call), call.body.index, call.actor()))


async def show_slide(call: Call) -> web.Response:
    return json_answer(await service(call).show_slide(event_id(call), call.body.slideId, call.actor()))


async def grant_floor(call: Call) -> web.Response:
    body = call.body
    return json_answer(await service(call).grant_floor(event_id(call), body.handle, body.seconds, body.name,
                                                       call.actor()))


async def take_floor(call: Call) -> web.Response:
    return json_answer(await service(call).take_floor(event_id(call), call.actor()))


async def upload_slide(call: Call) -> web.Response:
    """multipart/form-data: `image` (PNG, JPEG or WebP) and `alt` (JSON {lang: text}, required)."""
    event, staff_member = event_id(call), call.actor()
    if not call.request.content_type.startswith("multipart/form-data"):
        raise ApiError(415, "unsupported_media_type", "Send the slide as multipart/form-data (image, alt).")
    limit = MAX_BYTES + FORM_OVERHEAD  # this route alone may exceed max_request_bytes (a JSON API's limit)
    if call.request.content_length is not None and call.request.content_length > limit:
        raise ApiError(413, "payload_too_large", "A slide is at most 8 MB.")
    image, claimed, alt = await _read_form(call, limit)
    return json_answer(await service(call).add_slide(event, image, claimed, alt, staff_member), status=201)


async def _read_form(call: Call, limit: int) -> tuple[bytes, str, dict[str, str]]:
    try:
        reader = await call.request.multipart()
    except (ValueError, AssertionError, HttpProcessingError):
        raise ApiError(400, "invalid_form", "The form is not valid multipart/form-data.") from None
    image, claimed, alt_raw, total = None, "", None, 0
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise ApiError(400, "invalid_form", "Nested multipart is not accepted.")
            chunks = []
            while chunk := await part.read_chunk(64 * 1024):  # bounded: never more than `limit` in memory
                total += len(chunk)
                if total > limit:
                    raise ApiError(413, "payload_too_large", "A slide is at most 8 MB.")
                chunks.append(chunk)
            data = b"".join(chunks)
            if part.name == "image" and image is None:
                image, claimed = data, part.headers.get("Content-Type", "")
            elif part.name == "alt" and alt_raw is None:
                alt_raw = data
    except (ValueError, AssertionError, HttpProcessingError):
        raise ApiError(400, "invalid_form", "The form is not valid multipart/form-data.") from None
    if image is None:
        raise ApiError(422, "invalid_field", "image: required")
    if alt_raw is None:
        raise ApiError(422, "missing_alt", "alt: a text alternative is required")
    try:
        alt = models.SlideAlt.model_validate_json(alt_raw).root
    except ValidationError:
        raise ApiError(422, "missing_alt", "alt: a non-empty text per language, e.g. {\"en\": \"…\"}") from None
    return image, claimed, alt


async def delete_slide(call: Call) -> web.Response:
    await service(call).delete_slide(event_id(call), call.path_id("slide_id", "slide"), call.actor())
    return json_answer({"ok": True})


async def review(call: Call) -> web.Response:
    question = call.path_id("question_id", "question")
    return json_answer(await service(call).review(event_id(call), question, call.body.state, call.actor()))


async def answering(call: Call) -> web.Response:
    question = call.path_id("question_id", "question")
    return json_answer(await service(call).answering(event_id(call), question, call.actor()))


async def delete_question(call: Call) -> web.Response:
    await service(call).delete_question(event_id(call), call.path_id("question_id", "question"), call.actor())
    return json_answer({"ok": True})


async def caption(call: Call) -> web.Response:
    return json_answer(await service(call).caption(event_id(call), call.body.text, call.actor()), status=201)


async def delete_chat(call: Call) -> web.Response:
    await service(call).delete_chat(event_id(call), call.path_id("chat_id", "chat"), call.actor())
    return json_answer({"ok": True})


async def moderate(call: Call) -> web.Response:
    await service(call).moderate(event_id(call), call.body.action, call.body.handle, call.actor())
    return json_answer({"ok": True})


async def slow_mode(call: Call) -> web.Response:
    return json_answer(await service(call).slow_mode(event_id(call), call.body.seconds, call.actor()))


M = models
ROUTES: tuple[Route, ...] = (
    # --- public --------------------------------------------------------------------------------------------------
    Route("GET", "/api/events", list_events, "Public meetings (?when=upcoming|live|past|all)", "events",
          query=M.WhenQuery, response=M.EventList, errors=(422,)),
    Route("GET", EVENT, get_event, "One public meeting: agenda, state, current item, slides, transcript links",
          "events", response=M.Event, errors=(404,)),
    Route("GET", EVENT + "/live", live,
          "The meeting's live stream (text/event-stream: state, caption, chat, chat_deleted, removed, "
          "restrictions; docs/events.md). 403 banned for a banned resident", "events",
          content_type="text/event-stream", errors=(403, 404)),
    Route("GET", EVENT + "/me", me, "The resident in this meeting: handle, banned, muted, hand position "
          "(sets the resident cookie)", "events", response=M.Me, errors=(404,), no_store=True),
    Route("GET", "/events.ics", feed_ics, "Every upcoming and live meeting as iCalendar (RFC 5545)", "events",
          content_type="text/calendar"),
    Route("GET", "/events/{event_id}/event.ics", event_ics, "One meeting as iCalendar (RFC 5545)", "events",
          content_type="text/calendar", errors=(404,)),
    Route("GET", "/events/{event_id}/transcript.vtt", transcript_vtt,
          "The meeting's captions as WebVTT, once it ended (404 transcript_not_published before)", "events",
          content_type="text/vtt", errors=(404,)),
    Route("GET", "/events/{event_id}/transcript.txt", transcript_txt,
          "The meeting's captions as plain text, once it ended (404 transcript_not_published before)", "events",
          content_type="text/plain", errors=(404,)),
    Route("GET", EVENT + "/slides/{slide_id}", slide_image, "A slide (WebP; immutable)", "events",
          content_type=MEDIA_TYPE, errors=(404,)),
    # --- residents (same-origin JSON, resident cookie) ----------------------------------------------------------------
    Route("POST", EVENT + "/hand", raise_hand, "Raise or lower your hand, with an optional one-line topic",
          "events", body=M.HandIn, response=M.HandResult, errors=RESIDENT_WRITE,
          no_store=True, guard=same_origin),
    Route("POST", EVENT + "/questions", ask, "Submit a written question (moderated before it is shown)",
          "events", body=M.QuestionIn, response=M.Question, status=201, errors=RESIDENT_WRITE,
          no_store=True, guard=same_origin),
    Route("POST", EVENT + "/questions/{question_id}/support", support,
          "Support an approved question, once per resident", "events", body=M.EmptyIn, body_optional=True,
          response=M.QuestionSupport, errors=RESIDENT_WRITE,
          no_store=True, guard=same_origin),
    Route("POST", EVENT + "/chat", chat, "Write in the meeting's chat (429 slow_mode with retryAfter)", "events",
          body=M.ChatIn, response=M.ChatLine, status=201, errors=RESIDENT_WRITE,
          no_store=True, guard=same_origin),
    # --- staff (session + CSRF; role and duty checked per event) ---------------------------------------------------
    Route("POST", "/api/events", create_event, "Create a meeting (host)", "events", body=M.EventIn,
          response=M.Event, status=201, role="host", errors=STAFF_EDIT),
    Route("PATCH", EVENT, update_event, "Edit a meeting (host; optimistic concurrency on `version`)", "events",
          body=M.EventPatch, response=M.Event, role="host", errors=VERSIONED),
    Route("DELETE", EVENT, delete_event, "Delete a meeting (host; ?version=N)", "events", query=M.VersionQuery,
          response=M.Event, role="host", errors=VERSIONED),
    Route("GET", EVENT + "/staff-view", staff_view,
          "The meeting as its staff see it: duties, every question, restrictions, chat with handles", "events",
          response=M.StaffView, role=ANY_STAFF, errors=(401, 403, 404), no_store=True),
    Route("POST", EVENT + "/state", move, "Open the doors, start, end, archive (chair; forward only)", "events",
          body=M.StateIn, response=M.Event, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("POST", EVENT + "/item", set_item, "Show an agenda item as the current one (chair)", "events",
          body=M.ItemIn, response=M.Event, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("POST", EVENT + "/slides", upload_slide,
          "Upload a slide (host or chair): multipart/form-data with `image` (PNG/JPEG/WebP, at most 8 MB and 8000 "
          "px a side; re-encoded to WebP, metadata dropped) and `alt` (JSON {lang: text}, required)", "events",
          response=M.Slide, status=201, role=ANY_STAFF, errors=STAFF_EDIT + (400,), upload=True),
    Route("DELETE", EVENT + "/slides/{slide_id}", delete_slide, "Delete a slide (host or chair)", "events",
          response=Ok, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("POST", EVENT + "/slide", show_slide, "Show a slide, or none (chair)", "events", body=M.ShowSlideIn,
          response=M.Event, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("POST", EVENT + "/floor", grant_floor, "Give the floor for a time (chair; lowers the hand)", "events",
          body=M.FloorIn, response=M.Event, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("DELETE", EVENT + "/floor", take_floor, "Take the floor back (chair)", "events", response=M.Event,
          role=ANY_STAFF, errors=STAFF_EDIT),
    Route("POST", EVENT + "/questions/{question_id}/review", review, "Approve or reject a question (moderator)",
          "events", body=M.ReviewIn, response=M.StaffQuestion, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("POST", EVENT + "/questions/{question_id}/answering", answering,
          "Mark a question as being answered (chair; the previous one becomes answered)", "events",
          body=M.EmptyIn, body_optional=True, response=M.StaffQuestion, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("DELETE", EVENT + "/questions/{question_id}", delete_question, "Delete a question (moderator)",
          "events", response=Ok, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("POST", EVENT + "/captions", caption, "Write a caption line (captioner)", "events", body=M.CaptionIn,
          response=M.Caption, status=201, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("DELETE", EVENT + "/chat/{chat_id}", delete_chat, "Delete a chat line (moderator)", "events",
          response=Ok, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("POST", EVENT + "/moderation", moderate, "Mute, unmute, remove, ban or unban an attendee (moderator)",
          "events", body=M.ModerationIn, response=Ok, role=ANY_STAFF, errors=STAFF_EDIT),
    Route("POST", EVENT + "/slow-mode", slow_mode, "Slow mode for chat: seconds between a resident's lines, 0 "
          "off (moderator)", "events", body=M.SlowModeIn, response=M.Event, role=ANY_STAFF, errors=STAFF_EDIT),
    *staff.ROUTES,
)
