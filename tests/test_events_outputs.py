"""What meetings publish: iCalendar (one event and the feed) read back by the `icalendar` parser AND checked
against RFC 5545's structure (CRLF lines folded at 75 octets, required properties, a VTIMEZONE for every TZID);
the transcript as WebVTT read by `webvtt-py` and as plain text, only once the meeting ended."""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import webvtt

from server.keys import EVENTS

from .test_events_api import START, new_event, people  # noqa: F401  (people: a fixture)


def structure(raw: bytes) -> list[str]:
    """RFC 5545 3.1: CRLF-terminated content lines of at most 75 octets; unfolded, one property per line."""
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    for physical in raw.split(b"\r\n")[:-1]:
        assert len(physical) <= 75, physical
    return raw.decode().replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def components(lines: list[str]) -> dict[str, list[list[str]]]:
    """The property lines of every component, by name; BEGIN/END balanced."""
    stack: list[tuple[str, list[str]]] = []
    found: dict[str, list[list[str]]] = {}
    for line in lines:
        if line.startswith("BEGIN:"):
            stack.append((line[6:], []))
        elif line.startswith("END:"):
            name, props = stack.pop()
            assert name == line[4:], f"{line} closes {name}"
            found.setdefault(name, []).append(props)
        else:
            stack[-1][1].append(line)
    assert not stack
    return found


def names(props: list[str]) -> list[str]:
    return [p.split(":", 1)[0].split(";", 1)[0] for p in props]


async def test_one_event_calendar_is_valid_rfc5545_with_its_time_zone(people, tiny_client):  # noqa: F811
    event_id, host = await new_event(people)
    async with host.session.get(f"{host.base}/events/{event_id}/event.ics") as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/calendar")
        raw = await response.read()
    lines = structure(raw)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    found = components(lines)
    calendar = found["VCALENDAR"][0]
    assert "VERSION:2.0" in calendar and any(p.startswith("PRODID:") for p in calendar)
    (event,) = found["VEVENT"]
    for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE"):
        assert names(event).count(required) == 1, required
    host_name = tiny_client.make_url("").host
    assert f"UID:event-{event_id}@{host_name}" in event and "SEQUENCE:1" in event
    start = next(p for p in event if p.startswith("DTSTART"))
    assert start.startswith("DTSTART;TZID=Europe/Amsterdam:") and not start.endswith("Z")
    assert next(p for p in event if p.startswith("DTSTAMP")).endswith("Z")  # DTSTAMP is UTC
    (zone,) = found["VTIMEZONE"]
    assert "TZID:Europe/Amsterdam" in zone and ("STANDARD" in found and "DAYLIGHT" in found)

    parsed = icalendar.Calendar.from_ical(raw)
    (vevent,) = parsed.walk("VEVENT")
    assert vevent.decoded("dtstart") == datetime.fromtimestamp(START, ZoneInfo("Europe/Amsterdam"))
    assert vevent.decoded("dtend") - vevent.decoded("dtstart") == timedelta(hours=2)
    assert str(vevent["summary"]) == "Neighbourhood council"
    assert str(vevent["url"]).endswith(f"/events/{event_id}")
    assert [str(tz["tzid"]) for tz in parsed.walk("VTIMEZONE")] == ["Europe/Amsterdam"]
    assert parsed.get_missing_tzids() == set()


async def test_the_feed_holds_upcoming_and_live_events_and_a_moved_one_updates_in_place(people):  # noqa: F811
    first, host = await new_event(people)
    second, _ = await new_event(people, "live", timezone="America/New_York", endsAt=None)
    third, _ = await new_event(people, "ended")
    await host.call("PATCH", f"/api/events/{first}", {"version": 1, "startsAt": START + 3600,
                                                       "endsAt": START + 7200})
    async with host.session.get(f"{host.base}/events.ics") as response:
        raw = await response.read()
    structure(raw)
    parsed = icalendar.Calendar.from_ical(raw)
    uids = {str(e["uid"]).split("@")[0]: e for e in parsed.walk("VEVENT")}
    assert set(uids) == {f"event-{first}", f"event-{second}"}  # the ended one is not in the feed
    assert int(uids[f"event-{first}"]["sequence"]) == 2  # edited once
    new_york = uids[f"event-{second}"]
    assert new_york.decoded("dtend") - new_york.decoded("dtstart") == timedelta(hours=2)  # no end: two hours
    assert {str(tz["tzid"]) for tz in parsed.walk("VTIMEZONE")} == {"Europe/Amsterdam", "America/New_York"}
    assert (await host.get("/events/999/event.ics"))[0] == 404


async def test_the_transcript_is_published_as_webvtt_and_text_only_once_the_meeting_ended(people, tiny_client):  # noqa: F811
    event_id, _ = await new_event(people, "live")
    cap = await people("cap")
    service = tiny_client.server.app[EVENTS]
    started = (await service.public(event_id))["startedAt"]
    times = iter([started + 1.5, started + 4.25, started + 65.0])
    service.clock = lambda: next(times)
    for text in ("Welcome to the council.", "First item: bike lanes --> Main Street", "Thank you."):
        assert (await cap.post(f"/api/events/{event_id}/captions", {"text": text}))[0] == 201
    service.clock = time.time
    for ext in ("vtt", "txt"):
        status, body = await cap.get(f"/events/{event_id}/transcript.{ext}")
        assert status == 404 and body["error"]["code"] == "transcript_not_published"
    assert (await cap.get(f"/api/events/{event_id}"))[1]["transcript"] is None
    chair = await people("chloe")
    await chair.post(f"/api/events/{event_id}/state", {"to": "ended"})
    event = (await cap.get(f"/api/events/{event_id}"))[1]
    assert event["transcript"] == {"vtt": f"/events/{event_id}/transcript.vtt",
                                   "txt": f"/events/{event_id}/transcript.txt"}

    async with cap.session.get(cap.base + event["transcript"]["vtt"]) as response:
        assert response.headers["Content-Type"] == "text/vtt; charset=utf-8"
        text = await response.text()
    assert text.startswith("WEBVTT")
    cues = webvtt.from_buffer(io.StringIO(text)).captions
    assert [c.text for c in cues] == ["Welcome to the council.", "First item: bike lanes -> Main Street",
                                      "Thank you."]
    assert [(c.start, c.end) for c in cues][:2] == [("00:00:01.500", "00:00:04.250"),
                                                    ("00:00:04.250", "00:00:12.250")]  # next line, or 8 s at most
    assert all(c.start_time.in_milliseconds() < c.end_time.in_milliseconds() for c in cues)
    assert cues[2].start == "00:01:05.000"

    async with cap.session.get(cap.base + event["transcript"]["txt"]) as response:
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        plain = await response.text()
    assert plain.splitlines()[0] == "Neighbourhood council"
    assert "[00:00:01] Welcome to the council." in plain and "[00:01:05] Thank you." in plain
    assert "chat" not in plain.lower()
