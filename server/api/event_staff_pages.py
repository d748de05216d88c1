"""The staff's pages of public meetings: `/staff/events` (hosts list, create, edit and delete events), the chair's
console `/events/{id}/console` (also the moderators' panel) and the caption console `/events/{id}/captioner`.

They are shells rendered in the visitor's language (server/pages.py): headings, the event's title and every label
are in the HTML; the page's script signs in with the existing staff session and does the rest through the HTTP API
and the live stream (docs/events.md). Nothing a staff member may see is rendered here, so the pages need no
session of their own: the API checks the role and the duty on every request. An unknown event is a 404 page in the
visitor's language. No 3D on these pages.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from ..keys import STORE
from ..pages import PAGES, html_response, language_of, pick
from .route import Call, Route

_ID = re.compile(r"^[0-9]{1,12}$")


async def staff_events_page(call: Call) -> web.Response:
    """The hosts' list of events, with the form that creates and edits one (filled by staff-events.js)."""
    lang, chosen = language_of(call.request)
    body = call.app[PAGES].render("staff-events.html", lang, call.request)
    return html_response(call.request, body, lang, chosen)


async def console_page(call: Call) -> web.Response:
    return await _event_page(call, "console.html")


async def captioner_page(call: Call) -> web.Response:
    return await _event_page(call, "captioner.html")


async def _event_page(call: Call, template: str) -> web.Response:
    request = call.request
    lang, chosen = language_of(request)
    event = await _event(call)
    context: dict[str, Any] = {"event": None}
    if event is not None:
        context["event"] = {"id": event["id"], "title": pick(event["title"], lang), "state": event["state"]}
    body = call.app[PAGES].render(template, lang, request, **context)
    return html_response(request, body, lang, chosen, status=200 if event else 404)


async def _event(call: Call) -> dict[str, Any] | None:
    raw = call.request.match_info["event_id"]
    if not _ID.match(raw):
        return None
    return await call.app[STORE].event(int(raw))


ROUTES: tuple[Route, ...] = (
    Route("GET", "/staff/events", staff_events_page, "Staff: list, create and edit public meetings", "pages",
          content_type="text/html"),
    Route("GET", "/events/{event_id}/console", console_page,
          "Staff: the chair's console and moderation panel of one meeting (404 page for an unknown event)", "pages",
          content_type="text/html", page_404=True),
    Route("GET", "/events/{event_id}/captioner", captioner_page,
          "Staff: the caption console of one meeting (404 page for an unknown event)", "pages",
          content_type="text/html", page_404=True),
)
