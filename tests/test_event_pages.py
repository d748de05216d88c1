"""The public pages of meetings as the server renders them (server/api/event_pages.py): the list grouped as the API
groups it, a meeting's page whole before any script (time in its own zone, place, agenda with safe document links,
join links into the scene at its zone, calendar, transcript only once ended), the second-screen captions page, 404
pages in the visitor's language, every stored text escaped, no inline script, nothing about staff."""

from __future__ import annotations

import re
from typing import Any

from server.keys import STORE

MARKUP = '<img src=x onerror="alert(1)"><b>Bold</b>'
MEETING: dict[str, Any] = {
    "scene": "tiny", "zone": "hall", "title": {"en": "Neighbourhood council", "fr": "Conseil de quartier"},
    "description": {"en": "Monthly public meeting."}, "starts_at": 1_796_232_600.0,  # 2026-12-02 17:30 UTC
    "ends_at": 1_796_239_800.0, "timezone": "Europe/Amsterdam", "capacity": 40,
    "agenda": [
        {"title": {"en": "Opening"}, "description": {"en": ""}, "documents": [], "ref": None},
        {"title": {"en": "Budget 2027", "fr": "Budget 2027"}, "description": {"en": "The draft budget."},
         "documents": [{"title": "Draft budget", "url": "https://example.org/budget.pdf"},
                       {"title": "Evil", "url": "javascript:alert(1)"}], "ref": "7"},
    ],
    "staff": {"chair": ["carla-chair"], "moderator": ["moe-moderator"], "captioner": ["cap-captioner"]},
}


async def page(client, path: str, **headers: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    response = await client.get(path, headers=headers)
    return response.status, await response.text()


async def make(client, **overrides: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return await client.server.app[STORE].create_event({**MEETING, **overrides}, "host")  # type: ignore[no-any-return]


async def go(client, event: dict[str, Any], *states: str, **fields: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    store = client.server.app[STORE]
    for state in states:
        event = await store.set_event_live(event["id"], {"state": state}, "carla-chair", f"event.{state}")
    if fields:
        event = await store.set_event_live(event["id"], fields, "carla-chair", "event.item")
    return event


def no_inline_script(html: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag


async def test_the_events_page_groups_live_upcoming_and_past_and_links_the_calendar(tiny_client):
    upcoming = await make(tiny_client)
    live = await go(tiny_client, await make(tiny_client, title={"en": "Hearing on the square"}), "live")
    past = await go(tiny_client, await make(tiny_client, title={"en": "Old council"}), "live", "ended")
    status, html = await page(tiny_client, "/events", **{"Accept-Language": "en"})
    assert status == 200
    no_inline_script(html)
    assert 'href="/events.ics"' in html
    sections = {name: html.index(f'id="events-{name}"') for name in ("live", "upcoming", "past")}
    assert sections["live"] < html.index(f'href="/events/{live["id"]}"') < sections["upcoming"]
    assert sections["upcoming"] < html.index(f'href="/events/{upcoming["id"]}"') < sections["past"]
    assert sections["past"] < html.index(f'href="/events/{past["id"]}"')
    assert f'href="/scenes/tiny?event={live["id"]}&amp;at=hall&amp;mode=text"' in html  # join the live one directly
    assert f'href="/scenes/tiny?event={upcoming["id"]}&amp;at=hall"' not in html
    assert f'href="/events/{past["id"]}/transcript.txt"' in html
    assert f'href="/events/{upcoming["id"]}/transcript.txt"' not in html
    assert "carla-chair" not in html and "moe-moderator" not in html


async def test_an_empty_events_page_says_so_in_the_visitors_language(tiny_client):
    status, html = await page(tiny_client, "/events", **{"Accept-Language": "nl"})
    assert status == 200 and '<html lang="nl"' in html
    assert "Er is nu geen vergadering bezig." in html and "Er is nog geen vergadering gepland." in html


async def test_a_meeting_page_shows_time_in_its_zone_place_agenda_and_join_links(tiny_client):
    event = await make(tiny_client)
    status, html = await page(tiny_client, f"/events/{event['id']}", **{"Accept-Language": "fr"})
    assert status == 200 and '<html lang="fr"' in html
    no_inline_script(html)
    assert "Conseil de quartier" in html
    # 17:30 UTC is 18:30 in Amsterdam in December; the date and the zone's name are in French.
    assert "mercredi 2 décembre 2026" in html and "18:30–20:30" in html
    assert 'datetime="2026-12-02T18:30:00+01:00"' in html and "Europe centrale" in html
    assert "Salle" in html and "Petite salle" in html  # the zone's and the scene's names
    assert f'href="/scenes/tiny?event={event["id"]}&amp;at=hall"' in html
    assert f'href="/scenes/tiny?event={event["id"]}&amp;at=hall&amp;mode=text"' in html
    assert f'href="/events/{event["id"]}/captions"' in html and f'href="/events/{event["id"]}/event.ics"' in html
    assert 'href="https://example.org/budget.pdf"' in html and "Draft budget" in html
    assert "javascript:" not in html and "Evil" not in html  # only http(s) documents become links
    assert "transcript.txt" not in html  # not before it ended
    assert "carla-chair" not in html and "cap-captioner" not in html


async def test_the_current_item_is_marked_while_live_and_the_transcript_appears_once_ended(tiny_client):
    event = await go(tiny_client, await make(tiny_client), "open", "live", current_item=1)
    status, html = await page(tiny_client, f"/events/{event['id']}", **{"Accept-Language": "en"})
    assert status == 200
    assert re.search(r'<li class="agenda-item" data-index="1" aria-current="step">', html)
    assert html.count('aria-current="step"') == 1
    assert re.search(r'id="event-current-title">Budget 2027<', html)
    assert 'data-state="live"' in html and ">Live<" in html
    ended = await go(tiny_client, event, "ended")
    status, html = await page(tiny_client, f"/events/{ended['id']}", **{"Accept-Language": "en"})
    for kind in ("txt", "vtt"):
        assert f'href="/events/{ended["id"]}/transcript.{kind}"' in html
    assert 'id="join-3d"' not in html and 'aria-current="step"' not in html


async def test_stored_texts_with_markup_are_shown_as_text(tiny_client):
    event = await make(tiny_client, title={"en": MARKUP}, description={"en": "</p><script>alert(2)</script>"},
                       agenda=[{"title": {"en": MARKUP}, "description": {"en": ""},
                                "documents": [{"title": MARKUP, "url": "https://example.org/x"}], "ref": None}])
    for path in (f"/events/{event['id']}", "/events", f"/events/{event['id']}/captions"):
        status, html = await page(tiny_client, path)
        assert status == 200
        assert "<img src=x" not in html and "<b>Bold" not in html and "alert(2)</script>" not in html, path
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html, path


async def test_the_captions_page_is_a_log_and_nothing_else(tiny_client):
    event = await make(tiny_client)
    status, html = await page(tiny_client, f"/events/{event['id']}/captions", **{"Accept-Language": "es"})
    assert status == 200 and '<html lang="es"' in html
    no_inline_script(html)
    assert re.search(r'id="captions-log" class="captions-log" role="log"', html)
    assert 'aria-live="assertive"' not in html
    assert "<canvas" not in html and "site-header" not in html and "event-chat" not in html
    assert "Los subtítulos aparecen aquí" in html


async def test_unknown_deleted_or_malformed_meetings_are_404_pages(tiny_client):
    event = await make(tiny_client)
    await tiny_client.server.app[STORE].delete_event(event["id"], event["version"], "host")
    for path in (f"/events/{event['id']}", "/events/99999", "/events/abc", f"/events/{event['id']}/captions",
                 "/events/1e3/captions"):
        response = await tiny_client.get(path, headers={"Accept-Language": "fr"})
        assert response.status == 404, path
        assert response.content_type == "text/html"
        assert "Il n'y a pas de réunion à cette adresse" in (await response.text()).replace("&#39;", "'")


async def record(client, event: dict[str, Any], seconds: float, size: int, stored: bool = True) -> None:  # type: ignore[no-untyped-def]
    """A recording of the live meeting, written as the recorder writes one (chunks, then finished)."""
    store = client.server.app[STORE]
    row = await store.start_recording(event["id"], "a", "carla-chair")
    assert row is not None
    await store.add_recording_chunk(row["id"], 0, b"O" * size)
    await store.finish_recording(row["id"], seconds, int(seconds * 50), size, stored)


async def test_an_ended_meeting_page_lists_its_audio_recordings_with_length_and_size(tiny_client):
    event = await go(tiny_client, await make(tiny_client), "live")
    await record(tiny_client, event, 725.0, 1_400_000)
    status, html = await page(tiny_client, f"/events/{event['id']}", **{"Accept-Language": "en"})
    assert "recording.ogg" not in html and "event-recording" not in html  # not before the end
    await go(tiny_client, event, "ended")
    status, html = await page(tiny_client, f"/events/{event['id']}", **{"Accept-Language": "en"})
    assert status == 200
    no_inline_script(html)
    link = re.search(r'<a class="event-recording" href="([^"]+)" type="audio/ogg">([^<]+)</a> '
                     r'<span class="event-file-size">\(([^)]+)\)</span>', html)
    assert link is not None, html
    assert link.groups() == (f"/events/{event['id']}/recording.ogg", "Audio recording (Ogg), 12 min", "1.4 MB")
    assert html.index('id="transcript-vtt"') < link.start()  # beside the transcript's links
    assert "<p>The audio recording is the stage audio" in html
    response = await tiny_client.get(link.group(1))
    assert response.status == 200 and response.content_type == "audio/ogg"  # the link is the published file


async def test_several_recordings_are_numbered_an_unstored_one_is_not_listed_and_french_reads_its_units(tiny_client):
    event = await go(tiny_client, await make(tiny_client), "live")
    await record(tiny_client, event, 20.0, 80_000)
    await record(tiny_client, event, 61.0, 5_000, stored=False)  # a writer that failed: nothing to offer
    await record(tiny_client, event, 300.0, 2_500_000)
    await go(tiny_client, event, "ended")
    status, html = await page(tiny_client, f"/events/{event['id']}", **{"Accept-Language": "fr"})
    links = re.findall(r'<a class="event-recording" href="([^"]+)" type="audio/ogg">([^<]+)</a> '
                       r'<span class="event-file-size">\(([^)]+)\)</span>', html)
    base = f"/events/{event['id']}/recording.ogg"
    assert links == [(base, "Enregistrement audio 1 (Ogg), 1\xa0min", "80\u202fko"),  # CLDR's no-break spaces
                     (base + "?part=2", "Enregistrement audio 2 (Ogg), 5\xa0min", "2,5\u202fMo")]
    response = await tiny_client.get(base + "?part=2")
    assert response.status == 200 and len(await response.read()) == 2_500_000  # the part the link names
    assert 'role="status">État : <span' in html  # French puts a space before the colon


async def test_an_ended_meeting_without_recordings_lists_only_the_transcript(tiny_client):
    event = await go(tiny_client, await make(tiny_client), "live", "ended")
    status, html = await page(tiny_client, f"/events/{event['id']}", **{"Accept-Language": "en"})
    assert 'id="transcript-txt"' in html and "event-recording" not in html and "<p>The audio recording" not in html
    assert 'role="status">Status: <span' in html
