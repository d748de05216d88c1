"""iCalendar (RFC 5545) for public meetings, made with the `icalendar` library: one calendar per event and one
feed of every upcoming and live event, so residents add meetings to their phone's calendar.

Times carry their event's IANA time zone (DTSTART;TZID=...), with the VTIMEZONE each zone needs; the UID is
stable (`event-<id>@<host>`) and SEQUENCE is the event's version, so a calendar updates a moved meeting in place.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

PRODID = "-//Civic Space//Public meetings//EN"
DEFAULT_LENGTH = timedelta(hours=2)  # for a meeting without an end (OParl allows that)


def _text(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


def _local(epoch: float, zone: str) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=UTC).astimezone(ZoneInfo(zone))


def vevent(event: dict[str, Any], base_url: str, host: str, lang: str = "en") -> icalendar.Event:
    start = _local(event["starts_at"], event["timezone"])
    end = _local(event["ends_at"], event["timezone"]) if event.get("ends_at") else start + DEFAULT_LENGTH
    page = f"{base_url}/events/{event['id']}"
    item = icalendar.Event()
    item.add("uid", f"event-{event['id']}@{host}")
    item.add("dtstamp", datetime.fromtimestamp(int(event.get("updated_at") or event["starts_at"]), tz=UTC))
    item.add("sequence", int(event.get("version") or 1))
    item.add("dtstart", start)
    item.add("dtend", max(end, start))
    item.add("summary", _text(event["title"], lang))
    description = _text(event.get("description") or {}, lang)
    item.add("description", f"{description}\n\n{page}".strip())
    item.add("url", page)
    item.add("location", page)
    item.add("status", "CONFIRMED")
    return item


def calendar(events: list[dict[str, Any]], base_url: str, host: str, lang: str = "en") -> bytes:
    """The VCALENDAR holding `events` (store rows), with a VTIMEZONE for every zone they use."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "Civic Space")
    for event in events:
        cal.add_component(vevent(event, base_url, host, lang))
    if events:
        years = [datetime.fromtimestamp(int(e["starts_at"]), tz=UTC).year for e in events]
        cal.add_missing_timezones(first_date=datetime(min(years) - 1, 1, 1).date(),
                                  last_date=datetime(max(years) + 2, 1, 1).date())
    return bytes(cal.to_ical())
