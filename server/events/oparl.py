"""Import public meetings from a council information system that speaks OParl 1.1 (https://oparl.org).

Two halves, kept apart so the mapping can be tested without a network or a store:
- pure mapping: `map_meeting(meeting, options)` turns one OParl `Meeting` object into an `Upsert`, a `Remove` or a
  `Skip` (with the reason); `parse_time`, `agenda_of`, `documents_of` and `safe_url` are its parts;
- fetching and writing: `OParlReader` walks the feed through the proposals' SSRF-guarded client
  (`server.proposals.PlatformHttp`: address policy after resolution, no redirects, no proxy settings), then
  `apply` writes every mapped meeting with `store.upsert_imported_event("oparl", meeting_id, fields, actor)`.
  `import_oparl` does both: the WHOLE feed is read and mapped before the first write, so a feed that breaks on
  page 3 (not JSON, wrong shape, too large, unreachable) raises `OParlError` and writes nothing at all.

Walking the feed: the URL given may be a System (→ its `body` list → each Body), a Body (→ its `meeting` list), a
meeting list page, or one Meeting. External lists are pages `{"data": [...], "pagination": {...}, "links":
{"next": url}}` (OParl 1.1, chapter "Objektlisten und Paginierung"); `links.next` is followed until it is absent.
Bounds: at most `max_pages` requests per import (lists and objects together; reaching it stops reading with a
warning, what was read is imported), a `links.next` that points at a page already read stops the walk (a loop,
with a warning), each answer at most `max_body` bytes (checked before and while reading), PlatformHttp's timeouts
(10 s a request), `min_interval` seconds between two requests, one retry after a 429 whose Retry-After is short.
A meeting list can be narrowed with OParl's `modified_since` filter (the periodic sync uses it after a full run).

Fields used (OParl 1.1 schema, github.com/OParl/spec schema/*.json) and what is done with awkward data:
- System: `type`, `body` (URL of the external body list; entries that are URLs instead of Body objects are
  fetched). Body: `type`, `meeting` (URL of the meeting list; a Body of a System without one is passed over with a
  warning), `deleted` (a deleted body is passed over).
- Meeting: `id` (the external id: an http(s) URL of at most 2,000 characters, else skipped; a meeting listed twice
  is taken once), `type` (must end in `/Meeting` when present), `name` (title, HTML stripped, at most 120
  characters; missing → a generic "Meeting" in the chosen language), `start` (required: missing, unparsable,
  date-only or outside 2000–2100 → skipped), `end` (missing, unparsable, date-only or not after `start` → None:
  the event has an open end), `location` (an embedded Location: `description`, `room`, `streetAddress`,
  `postalCode`, `locality` become the description; a bare URL is ignored), `agendaItem` (embedded objects),
  `cancelled` / `deleted` true → `Remove` (the imported event is deleted if it exists). Not used: `meetingState`,
  `organization`, `participant`, `invitation`, `resultsProtocol`, `verbatimProtocol`, meeting-level `auxiliaryFile`
  (an event has no meeting-level documents), `keyword`, `created`, `modified` (only as the list filter), `web`.
- Times: ISO 8601; with an offset (or `Z`) → that instant; without one → read as local time in the `timezone`
  option. Stored as UTC epoch seconds; the event's `timezone` is the option (an IANA name, checked).
- AgendaItem: `public` — false (or anything but true/absent, e.g. the string "false") → the item is left out
  entirely, never stored; absent → public (the spec only recommends the flag, many systems omit it on public
  items). `deleted` true → left out. `order` (integer, also a digit string) sorts the items; items without a usable
  `order` follow in feed order. `name` → title; without a name: the generic "Agenda item" in the chosen language
  followed by `number` ("Agenda item 3"). `number` → `ref`. `result` and `resolutionText` (HTML stripped) → the
  description. Documents from `resolutionFile` then `auxiliaryFile` (embedded File objects; bare URLs, deleted
  files and files without a usable address are left out): title from `name`, else `fileName`, else "Document";
  address `accessUrl`, else `downloadUrl` (real systems send `""` for one of them), http/https only, no user
  name or password in it, at most 500 characters. Not used: `id`, `meeting`, `consultation`, `start`, `end`,
  `keyword`, `modified`, `mimeType` (real systems send "pdf" as often as "application/pdf").
- Bounds of what is stored (those of the HTTP API's EventIn): 100 agenda items a meeting (the first 100 by order),
  20 documents an item, titles 120 characters, descriptions 2,000, document titles 200, `ref` 20. Text is one line
  of plain text (OParl texts sometimes carry HTML).
Meetings that disappear from a feed are NOT deleted: OParl never drops an object silently (it marks it `deleted`),
and a feed cut short by `max_pages` would otherwise delete whatever it did not reach.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from yarl import URL

from server.proposals import PlatformHttp
from server.proposals.model import AddressRefused, RateLimited, SourceError, clip, plain_text
from server.schema_types import TITLE_MAX as SCHEMA_TITLE_MAX
from server.store.base import Conflict

SOURCE = "oparl"
LANGUAGES = ("en", "fr", "nl", "es")
# The same bounds as an event written through the HTTP API (server/events/models.py), so an imported event can be
# edited there as it is.
TITLE_MAX = SCHEMA_TITLE_MAX
DESCRIPTION_MAX = 2000
DOCUMENT_TITLE_MAX = 200
LINK_MAX = 500
ID_MAX = 2000
AGENDA_MAX = 100
DOCUMENTS_MAX = 20
MAX_PAGES = 100
MAX_BODY = 8 << 20  # a page of 100 complete meetings with embedded agenda items can pass 1 MiB
MIN_INTERVAL = 0.5
MAX_RETRY_WAIT = 30.0
_YEARS = (2000, 2100)
_SCENE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")  # server/manifest.py SceneId
_DIGITS = re.compile(r"^\s*-?\d{1,9}\s*$")
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")

GENERIC = {
    "meeting": {"en": "Meeting", "fr": "Séance", "nl": "Vergadering", "es": "Sesión"},
    "item": {"en": "Agenda item", "fr": "Point de l'ordre du jour", "nl": "Agendapunt",
             "es": "Punto del orden del día"},
    "document": {"en": "Document", "fr": "Document", "nl": "Document", "es": "Documento"},
}


class OParlError(Exception):
    """The feed could not be read as OParl; `code` is stable (oparl_unreachable, oparl_refused, oparl_http_status,
    oparl_not_json, oparl_too_large, oparl_bad_shape, oparl_rate_limited), the message names host and reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ImportOptions:
    scene: str
    zone: str
    timezone: str = "Europe/Berlin"
    lang: str = "en"
    capacity: int | None = None

    def __post_init__(self) -> None:
        if not _SCENE_ID.match(self.scene):
            raise ValueError(f"scene {self.scene!r}: 1-63 lower-case letters, digits or '-'")
        if not _SCENE_ID.match(self.zone):
            raise ValueError(f"zone {self.zone!r}: 1-63 lower-case letters, digits or '-'")
        if self.lang not in LANGUAGES:
            raise ValueError(f"language {self.lang!r}: one of {', '.join(LANGUAGES)}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time zone {self.timezone!r} is not an IANA time zone name") from None
        if self.capacity is not None and not 1 <= self.capacity <= 100_000:
            raise ValueError("capacity must be between 1 and 100000")


@dataclass(frozen=True)
class Upsert:
    external_id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class Remove:
    external_id: str


@dataclass(frozen=True)
class Skip:
    external_id: str | None
    reason: str


Outcome = Upsert | Remove | Skip


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0
    pages: int = 0
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "removed": self.removed, "skipped": self.skipped}

    def summary(self) -> str:
        return ", ".join(f"{name} {n}" for name, n in self.counts().items())


# --- pure mapping -------------------------------------------------------------------------------------------------

def text(value: object, limit: int) -> str:
    """OParl text (plain, sometimes HTML) → one line of plain text of at most `limit` characters."""
    return plain_text(value, limit)


def safe_url(value: object, limit: int = ID_MAX) -> str | None:
    """An http(s) address fit to show as a link, or None (other schemes, credentials, no host, over `limit`)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > limit or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return None
    try:
        url = URL(value)
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host or url.user is not None or url.password is not None:
        return None
    return value


def parse_time(value: object, tz: str) -> float | None:
    """An OParl date-time → UTC epoch seconds; local time when it has no offset; None for date-only or nonsense."""
    if not isinstance(value, str) or _DATE_ONLY.match(value) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    if not _YEARS[0] <= moment.astimezone(UTC).year <= _YEARS[1]:
        return None
    return moment.timestamp()


def _order(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.match(value):
        return int(value)
    return None


def documents_of(item: dict[str, Any], lang: str) -> list[dict[str, str]]:
    """The item's files as links `{"title", "url"}`: `resolutionFile` first, then `auxiliaryFile`, no duplicates."""
    files: list[Any] = [item.get("resolutionFile")]
    aux = item.get("auxiliaryFile")
    if isinstance(aux, list):
        files.extend(aux)
    documents: list[dict[str, str]] = []
    seen: set[str] = set()
    for file in files:
        if not isinstance(file, dict) or file.get("deleted") is True:
            continue  # absent, a bare URL (nothing to call it) or a deleted file
        url = safe_url(file.get("accessUrl"), LINK_MAX) or safe_url(file.get("downloadUrl"), LINK_MAX)
        if url is None or url in seen:
            continue
        seen.add(url)
        title = (text(file.get("name"), DOCUMENT_TITLE_MAX) or text(file.get("fileName"), DOCUMENT_TITLE_MAX)
                 or GENERIC["document"][lang])
        documents.append({"title": title, "url": url})
        if len(documents) == DOCUMENTS_MAX:
            break
    return documents


def agenda_of(items: object, lang: str) -> list[dict[str, Any]]:
    """The public agenda: non-public and deleted items left out, sorted by `order` (items without one last)."""
    if not isinstance(items, list):
        return []
    ranked: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("deleted") is True:
            continue
        if item.get("public", True) is not True:
            continue  # not public, or a flag we cannot read as "public": never stored
        order = _order(item.get("order"))
        ranked.append(((0, order, index) if order is not None else (1, 0, index), item))
    ranked.sort(key=lambda pair: pair[0])
    agenda: list[dict[str, Any]] = []
    for _key, item in ranked[:AGENDA_MAX]:
        number = text(item.get("number"), 20) or None
        title = text(item.get("name"), TITLE_MAX)
        if not title:
            title = GENERIC["item"][lang] + (f" {number}" if number else "")
        parts = [text(item.get("result"), DESCRIPTION_MAX), text(item.get("resolutionText"), DESCRIPTION_MAX)]
        description = clip(" — ".join(p for p in parts if p), DESCRIPTION_MAX)
        agenda.append({
            "title": {lang: title},
            "description": {lang: description} if description else {},
            "documents": documents_of(item, lang),
            "ref": number,
        })
    return agenda


def location_text(location: object) -> str:
    """An embedded Location → "description, room, street, postcode locality" (a bare URL → "")."""
    if not isinstance(location, dict) or location.get("deleted") is True:
        return ""
    place = " ".join(p for p in (text(location.get("postalCode"), 20), text(location.get("locality"), 100)) if p)
    parts = [text(location.get(key), 300) for key in ("description", "room", "streetAddress")] + [place]
    unique: list[str] = []
    for part in parts:
        if part and part not in unique:
            unique.append(part)
    return clip(", ".join(unique), DESCRIPTION_MAX)


def _type_is(obj: dict[str, Any], kind: str) -> bool:
    value = obj.get("type")
    return isinstance(value, str) and value.rstrip("/").rsplit("/", 1)[-1] == kind


def map_meeting(meeting: object, options: ImportOptions) -> Outcome:
    """One OParl Meeting → what to do with the event imported from it (see the module docstring)."""
    if not isinstance(meeting, dict):
        return Skip(None, "a list entry that is not an object")
    external_id = safe_url(meeting.get("id"))
    if external_id is None:
        return Skip(None, "a meeting without a usable http(s) id")
    if "type" in meeting and not _type_is(meeting, "Meeting"):
        return Skip(external_id, f"not a Meeting (type {str(meeting.get('type'))[:80]!r})")
    if meeting.get("deleted") is True or meeting.get("cancelled") is True:
        return Remove(external_id)
    starts_at = parse_time(meeting.get("start"), options.timezone)
    if starts_at is None:
        return Skip(external_id, "no usable start time")
    ends_at = parse_time(meeting.get("end"), options.timezone)
    if ends_at is not None and ends_at <= starts_at:
        ends_at = None
    lang = options.lang
    title = text(meeting.get("name"), TITLE_MAX) or GENERIC["meeting"][lang]
    where = location_text(meeting.get("location"))
    fields: dict[str, Any] = {
        "scene": options.scene,
        "zone": options.zone,
        "title": {lang: title},
        "description": {lang: where} if where else {},
        "starts_at": starts_at,
        "ends_at": ends_at,
        "timezone": options.timezone,
        "agenda": agenda_of(meeting.get("agendaItem"), lang),
    }
    if options.capacity is not None:
        fields["capacity"] = options.capacity
    return Upsert(external_id, fields)


def map_meetings(meetings: list[Any], options: ImportOptions) -> list[Outcome]:
    """Every meeting mapped; a meeting id listed more than once (unstable pagination) is taken the first time."""
    outcomes: list[Outcome] = []
    seen: set[str] = set()
    for meeting in meetings:
        outcome = map_meeting(meeting, options)
        if outcome.external_id is not None:
            if outcome.external_id in seen:
                continue
            seen.add(outcome.external_id)
        outcomes.append(outcome)
    return outcomes


# --- reading the feed ---------------------------------------------------------------------------------------------

def _where(url: str) -> str:
    parsed = URL(url)
    return f"{parsed.host}{parsed.path}"


@dataclass
class Feed:
    meetings: list[Any] = field(default_factory=list)
    pages: int = 0
    warnings: list[str] = field(default_factory=list)


class OParlReader:
    """Reads OParl objects and lists through a PlatformHttp (entered by the caller), within the bounds above."""

    def __init__(
        self,
        http: PlatformHttp,
        *,
        max_pages: int = MAX_PAGES,
        max_body: int = MAX_BODY,
        min_interval: float = MIN_INTERVAL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http, self.max_pages, self.max_body, self.min_interval = http, max_pages, max_body, min_interval
        self.sleep, self.clock = sleep, clock
        self.requests = 0
        self._last = float("-inf")

    async def get(self, url: str) -> dict[str, Any]:
        """One OParl answer as a JSON object, or OParlError."""
        try:
            return await self._get(url)
        except RateLimited as exc:
            if exc.retry_after > MAX_RETRY_WAIT or self.requests >= self.max_pages:
                raise OParlError("oparl_rate_limited", f"{_where(url)}: {exc}") from None
            await self.sleep(exc.retry_after)
            try:
                return await self._get(url)
            except RateLimited as again:
                raise OParlError("oparl_rate_limited", f"{_where(url)}: {again}") from None

    async def _get(self, url: str) -> dict[str, Any]:
        wait = self._last + self.min_interval - self.clock()
        if wait > 0:
            await self.sleep(wait)
        self._last = self.clock()
        self.requests += 1
        origin = str(URL(url).origin()) if safe_url(url) else url
        try:
            async with self.http.request("GET", url, host_key=origin) as resp:
                if resp.status != 200:
                    raise OParlError("oparl_http_status", f"{_where(url)} answered HTTP {resp.status}")
                if resp.content_length is not None and resp.content_length > self.max_body:
                    raise OParlError("oparl_too_large", f"{_where(url)}: answer larger than {self.max_body} bytes")
                body = await self._read(resp.content, url)
        except AddressRefused as exc:
            raise OParlError("oparl_refused", str(exc)) from None
        except RateLimited:
            raise
        except SourceError as exc:
            raise OParlError("oparl_unreachable", str(exc)) from None
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise OParlError("oparl_not_json", f"{_where(url)} answered something that is not JSON") from None
        if not isinstance(payload, dict):
            raise OParlError("oparl_bad_shape", f"{_where(url)} answered JSON that is not an object")
        return payload

    async def _read(self, stream: aiohttp.StreamReader, url: str) -> bytes:
        """The whole body, never more than `max_body` bytes in memory (`read(n)` may return any part of it)."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in stream.iter_chunked(1 << 16):
            size += len(chunk)
            if size > self.max_body:
                raise OParlError("oparl_too_large", f"{_where(url)}: answer larger than {self.max_body} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def list_items(self, url: str, feed: Feed, first: dict[str, Any] | None = None) -> list[Any]:
        """Every entry of an external list, following `links.next` (page cap and loop guard, see above)."""
        items: list[Any] = []
        seen: set[str] = set()
        seen_ids: set[Any] = set()
        next_url: str | None = url
        page = first
        while next_url is not None:
            key = str(URL(next_url).with_fragment(None))
            if key in seen:
                feed.warnings.append(f"{_where(next_url)}: links.next leads back to a page already read; stopped")
                break
            seen.add(key)
            if page is None:
                if self.requests >= self.max_pages:
                    feed.warnings.append(f"stopped after {self.max_pages} requests; the rest of the list is not read")
                    break
                page = await self.get(next_url)
            feed.pages += 1
            data = page.get("data")
            if not isinstance(data, list):
                raise OParlError("oparl_bad_shape", f"{_where(next_url)}: a list page without a `data` array")
            ids = {item.get("id") if isinstance(item, dict) else item for item in data}
            if data and ids <= seen_ids:  # the same page under another address (`?page=1` after the bare URL)
                feed.warnings.append(f"{_where(next_url)}: links.next leads back to entries already read; stopped")
                break
            seen_ids.update(i for i in ids if isinstance(i, str))
            items.extend(data)
            links = page.get("links", {})
            if links is None:
                links = {}
            if not isinstance(links, dict):
                raise OParlError("oparl_bad_shape", f"{_where(next_url)}: `links` is not an object")
            following = links.get("next")
            if following is not None and not isinstance(following, str):
                raise OParlError("oparl_bad_shape", f"{_where(next_url)}: `links.next` is not a URL")
            if following is not None and safe_url(following) is None:
                raise OParlError("oparl_bad_shape", f"{_where(next_url)}: `links.next` is not an http(s) URL")
            next_url = following or None
            page = None
        return items

    async def meetings(self, url: str, modified_since: datetime | None = None) -> Feed:
        """All meetings reachable from `url` (System, Body, meeting list or one Meeting)."""
        if safe_url(url) is None:
            raise OParlError("oparl_refused", f"{url[:200]!r} is not an http(s) address")
        feed = Feed()
        root = await self.get(url)
        if isinstance(root.get("data"), list):
            if modified_since is not None:  # the filter belongs on the first page's address
                root = await self.get(_filtered(url, modified_since))
                url = _filtered(url, modified_since)
            feed.meetings = await self.list_items(url, feed, first=root)
        elif _type_is(root, "Meeting"):
            feed.pages = 1
            feed.meetings = [root]
        elif _type_is(root, "Body"):
            feed.pages = 1
            feed.meetings = await self._body_meetings(root, url, feed, modified_since)
        elif _type_is(root, "System"):
            feed.pages = 1
            bodies_url = root.get("body")
            if not isinstance(bodies_url, str) or safe_url(bodies_url) is None:
                raise OParlError("oparl_bad_shape", f"{_where(url)}: the System's `body` is not a list URL")
            for body in await self.list_items(bodies_url, feed):
                if isinstance(body, str) and safe_url(body) is not None and self.requests < self.max_pages:
                    body = await self.get(body)  # a compact list (URLs only), as OParl 1.0 servers send it
                if not isinstance(body, dict) or body.get("deleted") is True:
                    continue
                if not isinstance(body.get("meeting"), str):
                    feed.warnings.append(f"{_where(bodies_url)}: a Body without a meeting list is passed over")
                    continue
                feed.meetings.extend(await self._body_meetings(body, bodies_url, feed, modified_since))
        else:
            raise OParlError("oparl_bad_shape",
                             f"{_where(url)} is not an OParl System, Body, Meeting or meeting list")
        return feed

    async def _body_meetings(self, body: dict[str, Any], where: str, feed: Feed,
                             modified_since: datetime | None) -> list[Any]:
        meetings_url = body.get("meeting")
        if not isinstance(meetings_url, str) or safe_url(meetings_url) is None:
            raise OParlError("oparl_bad_shape", f"{_where(where)}: a Body's `meeting` is not a list URL")
        if modified_since is not None:
            meetings_url = _filtered(meetings_url, modified_since)
        return await self.list_items(meetings_url, feed)


def _filtered(url: str, since: datetime) -> str:
    return str(URL(url).update_query(modified_since=since.astimezone(UTC).isoformat(timespec="seconds")))


# --- writing ------------------------------------------------------------------------------------------------------

class EventStore(Protocol):
    """The part of the store (server/store, docs/events.md) the import uses."""

    async def events(self, include_deleted: bool = False) -> list[dict[str, Any]]: ...
    async def upsert_imported_event(self, source: str, external_id: str, fields: dict[str, Any],
                                    actor: str) -> tuple[dict[str, Any], bool]: ...
    async def delete_event(self, event_id: int, version: int, actor: str) -> dict[str, Any] | None: ...


def _same(row: dict[str, Any], fields: dict[str, Any]) -> bool:
    return all(row.get(key) == value for key, value in fields.items())


async def apply(store: EventStore, outcomes: list[Outcome], *, actor: str = SOURCE, dry_run: bool = False,
                report: ImportReport | None = None,
                on_change: Callable[[dict[str, Any]], Awaitable[None]] | None = None) -> ImportReport:
    """Write the mapped meetings; counts in the report. `dry_run` writes nothing and counts what would change."""
    report = report if report is not None else ImportReport()
    existing = {row["external_id"]: row for row in await store.events(include_deleted=True)
                if row.get("source") == SOURCE and row.get("external_id")}
    for outcome in outcomes:
        if isinstance(outcome, Skip):
            report.skipped += 1
            report.warnings.append(f"skipped {outcome.external_id or 'an entry'}: {outcome.reason}")
            continue
        row = existing.get(outcome.external_id)
        if row is not None and row.get("deleted_at") is not None:
            # Deleted here (cancelled before, or by a host): the store never revives it, so neither does a re-run.
            report.unchanged += 1
            if isinstance(outcome, Upsert):
                report.warnings.append(f"{outcome.external_id} is deleted here and stays deleted")
            continue
        if isinstance(outcome, Remove):
            if row is None:
                report.unchanged += 1  # cancelled or deleted, and never imported
                continue
            if not dry_run:
                try:
                    gone = await store.delete_event(row["id"], row["version"], actor)
                except Conflict as exc:  # a host edited it since it was read: the meeting is cancelled all the same
                    gone = await store.delete_event(row["id"], exc.current["version"], actor)
                if gone is None:
                    report.unchanged += 1
                    continue
                if on_change is not None:
                    await on_change(gone)
            report.removed += 1
        else:
            if dry_run:
                changed = row is None or not _same(row, outcome.fields)
            else:
                saved, changed = await store.upsert_imported_event(SOURCE, outcome.external_id, outcome.fields,
                                                                   actor=actor)
                if changed and on_change is not None:
                    await on_change(saved)
            if row is None:
                report.created += 1
            elif changed:
                report.updated += 1
            else:
                report.unchanged += 1
    return report


async def import_oparl(store: EventStore, url: str, options: ImportOptions, reader: OParlReader, *,
                       modified_since: datetime | None = None, dry_run: bool = False, actor: str = SOURCE,
                       on_change: Callable[[dict[str, Any]], Awaitable[None]] | None = None) -> ImportReport:
    """Read the whole feed, map it, then write it. OParlError (nothing written) when the feed cannot be read."""
    feed = await reader.meetings(url, modified_since)
    outcomes = map_meetings(feed.meetings, options)
    report = ImportReport(pages=feed.pages, warnings=list(feed.warnings))
    return await apply(store, outcomes, actor=actor, dry_run=dry_run, report=report, on_change=on_change)
