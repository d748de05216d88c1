"""The public pages of meetings, whole before any script runs (docs/events.md, "Pages"): `/events` (live now,
upcoming, past with their transcripts), `/events/{id}` (time in the event's own time zone, place, agenda with
documents, state and current item, the ways to join, the calendar file, the transcript and audio recordings once
published) and `/events/{id}/captions` (the second screen: captions only, large). Scripts (web/js/event-pages.js)
then follow the meeting live over its SSE stream.

Invariants: events are read through the event service, as the API reads them (no SQL here); nothing about
staff (usernames, duties) reaches a public page; a document link is shown only when it is an http(s) address, so a
stored `javascript:` URL can never become a link; an unknown or deleted event is a 404 page in the visitor's
language; times are shown in the event's time zone, named, in the page's language (Babel's CLDR data).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from babel.dates import format_date, format_time, get_timezone_name
from babel.units import format_unit

from ..errors import ApiError
from ..keys import CATALOG, EVENTS
from ..pages import PAGES, html_response, language_of, pick
from .route import Call, Route

PAST_STATES = ("ended", "archived")
SAFE_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
_ID = re.compile(r"^[0-9]{1,12}$")


def _zone(name: str | None) -> ZoneInfo | timezone:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def when(starts_at: float, ends_at: float | None, tz_name: str | None, lang: str) -> dict[str, str]:
    """The meeting's time as its residents read it: date, start–end, the zone's name; and ISO 8601 for <time>."""
    tz = _zone(tz_name)
    start = datetime.fromtimestamp(starts_at, tz)
    time = format_time(start, "short", locale=lang)
    end_iso = ""
    if ends_at is not None and ends_at > starts_at:
        end = datetime.fromtimestamp(ends_at, tz)
        end_iso = end.isoformat()
        same_day = end.date() == start.date()
        end_text = format_time(end, "short", locale=lang) if same_day else (
            f"{format_date(end, 'medium', locale=lang)} {format_time(end, 'short', locale=lang)}")
        time = f"{time}–{end_text}"
    zone_name = get_timezone_name(start, "long", locale=lang) if isinstance(tz, ZoneInfo) else "UTC"
    return {"date": format_date(start, "full", locale=lang), "time": time, "zone": zone_name,
            "iso": start.isoformat(), "end_iso": end_iso}


def _documents(item: dict[str, Any]) -> list[dict[str, str]]:
    documents = []
    for doc in item.get("documents") or []:
        url = str(doc.get("url") or "")
        if SAFE_URL.match(url):
            documents.append({"title": str(doc.get("title") or url), "url": url})
    return documents


def length_text(seconds: float, lang: str) -> str:
    """A recording's length in whole minutes (at least one), in the page's language: "12 min"."""
    return str(format_unit(max(1, round(seconds / 60)), "duration-minute", length="short", locale=lang))


def size_text(size: int, lang: str) -> str:
    """A file's size as people read it: "340 kB", "1.4 MB" ("1,4 Mo" in French)."""
    if size < 1_000_000:
        return str(format_unit(max(1, round(size / 1000)), "digital-kilobyte", length="short", locale=lang))
    return str(format_unit(round(size / 1_000_000, 1), "digital-megabyte", length="short", locale=lang,
                           format="#,##0.#"))


def recordings_view(recordings: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The published recordings (the event JSON's `recordings`, already empty before the end) as links."""
    return [{"url": r["url"], "part": n, "length": length_text(float(r["seconds"]), lang),
             "size": size_text(int(r["bytes"]), lang)} for n, r in enumerate(recordings, 1)]


def event_view(row: dict[str, Any], lang: str, request: web.Request,
               recordings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the pages show of one event (public fields only); `recordings`: the event JSON's, for its page."""
    event_id = row["id"]
    scene = request.app[CATALOG].scenes.get(row["scene"])
    scene_title = pick(scene.manifest.title, lang) if scene else (row["scene"], lang)
    zone_name = None
    if scene is not None:
        zone = next((z for z in scene.manifest.zones if z.id == row.get("zone")), None)
        zone_name = pick(zone.name, lang) if zone else None
    agenda = []
    current = row.get("current_item")
    for index, item in enumerate(row.get("agenda") or []):
        agenda.append({"title": pick(item.get("title"), lang), "description": pick(item.get("description"), lang),
                       "documents": _documents(item), "current": index == current and row["state"] == "live"})
    query = {"event": str(event_id), **({"at": row["zone"]} if row.get("zone") else {})}
    join = f"/scenes/{quote(row['scene'], safe='')}?{urlencode(query)}"
    published = row["state"] in PAST_STATES
    return {
        "id": event_id, "url": f"/events/{event_id}", "title": pick(row.get("title"), lang),
        "description": pick(row.get("description"), lang), "state": row["state"],
        "when": when(row["starts_at"], row.get("ends_at"), row.get("timezone"), lang),
        "scene": scene_title, "place": zone_name, "capacity": row.get("capacity"), "agenda": agenda,
        "current": agenda[current] if isinstance(current, int) and 0 <= current < len(agenda) and row["state"] == "live"
        else None,
        "join": join, "join_text": join + "&mode=text", "captions": f"/events/{event_id}/captions",
        "ics": f"/events/{event_id}/event.ics",
        "transcript": {"vtt": f"/events/{event_id}/transcript.vtt", "txt": f"/events/{event_id}/transcript.txt"}
        if published else None,
        "recordings": recordings_view(recordings or [], lang) if published else [],
    }


async def events_page(call: Call) -> web.Response:
    """Every meeting: live now, upcoming (doors open or not yet; soonest first), past (latest first) — the same
    groups as `GET /api/events?when=`."""
    request = call.request
    lang, chosen = language_of(request)
    events = request.app[EVENTS]
    groups = {when: [event_view(row, lang, request) for row in await events.events(when)]
              for when in ("live", "upcoming", "past")}
    groups["past"].reverse()  # the latest first
    body = request.app[PAGES].render("events.html", lang, request, groups=groups)
    return html_response(request, body, lang, chosen)


async def _event_or_none(call: Call) -> dict[str, Any] | None:
    raw = call.request.match_info["event_id"]
    if not _ID.match(raw):
        return None
    try:
        return await call.app[EVENTS].event(int(raw))
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


async def event_page(call: Call) -> web.Response:
    """One meeting: when, where, the agenda, its state, how to join it (3D, text only, captions), its calendar file
    and, once it ended, its transcript and audio recordings. An unknown event is a 404 page."""
    request = call.request
    lang, chosen = language_of(request)
    row = await _event_or_none(call)
    pages = request.app[PAGES]
    if row is None:
        return html_response(request, pages.render("event.html", lang, request, event=None), lang, chosen, status=404)
    recordings = (await call.app[EVENTS].public_row(row))["recordings"] if row["state"] in PAST_STATES else []
    body = pages.render("event.html", lang, request, event=event_view(row, lang, request, recordings))
    return html_response(request, body, lang, chosen)


async def captions_page(call: Call) -> web.Response:
    """The second screen: the meeting's captions, large, and nothing else (no 3D, no chat)."""
    request = call.request
    lang, chosen = language_of(request)
    row = await _event_or_none(call)
    pages = request.app[PAGES]
    if row is None:
        return html_response(request, pages.render("captions.html", lang, request, event=None), lang, chosen,
                             status=404)
    body = pages.render("captions.html", lang, request, event=event_view(row, lang, request))
    return html_response(request, body, lang, chosen)


ROUTES: tuple[Route, ...] = (
    Route("GET", "/events", events_page, "Public meetings: live now, upcoming, past with their transcripts",
          "pages", content_type="text/html"),
    Route("GET", "/events/{event_id}", event_page,
          "A meeting's page: time, place, agenda, state, join (3D or text only), captions, calendar, transcript",
          "pages", content_type="text/html", page_404=True),
    Route("GET", "/events/{event_id}/captions", captions_page,
          "A meeting's captions on a second screen (large text, nothing else)", "pages", content_type="text/html",
          page_404=True),
)
