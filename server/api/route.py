"""The request machinery every route shares: a `Route` declares a route once, `Route.endpoint` runs it.

For each request, in this order: the role the route declares is checked (`auth.require`, before any body is
read); a route that takes no body refuses one without reading it; a body is read up to MAX_BODY bytes and
validated by the route's pydantic model (422 names the field); the query by its model; then the handler runs.
Events the handler queued with `Call.push_scene` / `Call.push_all` go to the rooms only after the handler
returned its response, so a failure while building a response can never follow a pushed change, and a failure
while pushing never turns a committed write into a 500. Routes marked `no_store` answer `Cache-Control: no-store`,
errors included.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from .. import auth
from ..errors import ApiError, error_response
from ..keys import CONFIG, ROOMS, STORE
from ..store import Staff

log = logging.getLogger("civic.api")
MAX_BODY = 32 * 1024
ANY_STAFF = "staff"  # a route any signed-in staff member may call; the handler checks role and duty
M = TypeVar("M", bound=BaseModel)
_ID = re.compile(r"^[0-9]{1,12}$")
Event = dict[str, Any] | Callable[[], Awaitable[dict[str, Any]]]


class Body(BaseModel):
    """A request body or query: unknown fields are refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """Query parameters: unknown ones are ignored (cache busters, trackers)."""

    model_config = ConfigDict(extra="ignore")


@dataclass
class Call:
    """One request as a handler sees it: parsed, authorised, with the events to push once answered."""

    request: web.Request
    staff: Staff | None
    body: Any
    query: Any
    events: list[tuple[str | None, Event]] = field(default_factory=list)

    @property
    def app(self) -> web.Application:
        return self.request.app

    def path_id(self, name: str, what: str) -> int:
        """An integer id from the path (ASCII digits only); 404 for anything else."""
        value = self.request.match_info[name]
        if not _ID.match(value):
            raise ApiError(404, f"{what}_not_found", f"There is no {what} with this id.")
        return int(value)

    def push_scene(self, scene_id: str, event: Event) -> None:
        """Push `event` to every instance of the scene once the response is built (a coroutine function that
        makes the event is called then, so a failure to make it cannot fail the request)."""
        self.events.append((scene_id, event))

    def push_all(self, event: Event) -> None:
        """Push `event` to every room on every process once the response is built (see `push_scene`)."""
        self.events.append((None, event))

    def actor(self) -> Staff:
        assert self.staff is not None, "only routes with a role have an actor"
        return self.staff


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One route, declared once: what the router serves and what /api/openapi.json says come from here."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None  # the JSON request body's model; None: the route takes no body
    body_optional: bool = False  # an absent body counts as `{}`
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None  # the JSON success body's model
    content_type: str = "application/json"  # of the success body, when it is not JSON
    status: int = 200
    role: str | None = None  # the staff role needed (auth.GRANTS), ANY_STAFF, or None: anyone
    errors: tuple[int, ...] = ()
    no_store: bool = False
    page_404: bool = False  # a 404 is an HTML page (in the visitor's language), not a JSON error
    documented: bool = True  # False only for the WebSocket upgrade, which OpenAPI cannot describe
    upload: bool = False  # the handler reads a multipart/form-data body itself (and bounds it)
    form: dict[str, Any] | None = None  # that body's OpenAPI description (default: openapi.UPLOAD, the slide form)
    body_timeout: float | None = None  # seconds the body may take to arrive, if not the server's --body-timeout
    guard: Callable[[web.Request], None] | None = None  # runs before any body is read (raises ApiError to refuse)

    async def endpoint(self, request: web.Request) -> web.StreamResponse:
        call: Call = Call(request, None, None, None)
        try:
            if self.role == ANY_STAFF:
                call.staff = await any_staff(request)
            elif self.role is not None:
                call.staff = await auth.require(request, request.app[STORE], self.role)
            if self.guard is not None:
                self.guard(request)
            if self.upload:
                pass  # the handler reads it (multipart)
            elif self.body is None:
                refuse_body(request)
            else:
                call.body = await parse_body(request, self.body, self.body_optional)
            if self.query is not None:
                call.query = validate(self.query, dict(request.query), "query")
            response = await self.handler(call)
        except ApiError as exc:
            if not self.no_store:
                raise
            response = error_response(exc.status, exc.code, exc.message)
        if self.no_store:
            response.headers["Cache-Control"] = "no-store"
        await _push(request, call.events)
        return response


async def _push(request: web.Request, events: list[tuple[str | None, Event]]) -> None:
    rooms = request.app[ROOMS]
    for scene_id, made in events:
        try:
            event = made if isinstance(made, dict) else await made()
            if scene_id is None:
                rooms.broadcast_all(event)
            else:
                rooms.broadcast_scene(scene_id, event)
        except Exception:  # the write is committed and answered; a failed push must not turn it into a 500
            log.exception("push failed")


async def any_staff(request: web.Request) -> Staff:
    """Any signed-in staff member, CSRF and Origin checked for writes exactly as `auth.require` does; the handler
    decides by role and duty (public meetings: duties are per event, not roles)."""
    found = await auth.session_of(request, request.app[STORE])
    if found is None:
        raise ApiError(401, "not_signed_in", "Sign in as staff to do this.")
    staff, csrf = found
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get("X-CSRF-Token", "")
        origin = request.headers.get("Origin")
        own = {f"{scheme}://{request.host}" for scheme in ("http", "https")}
        if not secrets.compare_digest(sent.encode(), csrf.encode()) or (origin is not None and origin not in own):
            raise ApiError(403, "csrf_failed", "The request did not come from this site's staff page.")
    return staff


def refuse_body(request: web.Request) -> None:
    """A route that takes no body never reads one: 413 when one is announced (any length or chunked)."""
    if (request.content_length or 0) > 0 or "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        raise ApiError(413, "payload_too_large", "This request takes no body.")


async def read_bounded(request: web.Request, limit: int = MAX_BODY) -> bytes:
    """The request body, reading at most `limit` + 1 bytes whatever the client announced; 413 beyond. The
    server-wide `max_request_bytes` caps `limit` too."""
    limit = min(limit, request.app[CONFIG].max_request_bytes)
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "payload_too_large", "The request body is too large.")
    chunks, size = [], 0
    while size <= limit:
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise ApiError(413, "payload_too_large", "The request body is too large.")
    return b"".join(chunks)


def validate(model: type[M], data: object, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = ".".join(str(p) for p in first["loc"]) or where
        raise ApiError(422, "invalid_field", f"{path}: {first['msg']}") from None


async def parse_body(request: web.Request, model: type[M], optional: bool = False) -> M:
    raw = await read_bounded(request)
    if not raw and optional:
        return validate(model, {}, "body")
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "The request body must be JSON (application/json).")
    try:
        data = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "invalid_json", "The request body must be JSON.") from None
    return validate(model, data, "body")


def conflict(what: str, current: dict[str, Any]) -> web.Response:
    """409 with the current state, so a stale edit is never silently lost."""
    message = f"Someone else changed this {what} meanwhile; here is its current state."
    return web.json_response({"error": {"code": "version_conflict", "message": message}, "current": current},
                             status=409)
