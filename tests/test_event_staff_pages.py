"""The staff pages of public meetings as the server renders them (server/api/event_staff_pages.py): /staff/events,
the chair's console and the caption console are whole shells in the visitor's language, an event's title is text
never markup, an unknown or malformed event id is a 404 page in the visitor's language, no page embeds an inline
script; and every `console.*` string the pages and their scripts use exists in all four languages, translated,
with the same placeholders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from server.keys import STORE

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
LANGS = ("en", "fr", "nl", "es")
MARKUP = '<img src=x onerror="alert(1)"><b>Budget</b>'


async def page(client, path: str, **headers: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    response = await client.get(path, headers=headers)
    return response.status, await response.text()


def only_file_scripts(html: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html):  # the CSP refuses inline scripts: only files and data
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert "style=" not in html  # nor inline styles


async def make_event(client, title: dict[str, str]) -> int:  # type: ignore[no-untyped-def]
    event = await client.server.app[STORE].create_event(
        {"scene": "tiny", "title": title, "starts_at": 1_780_000_000.0, "timezone": "Europe/Amsterdam"}, "hana")
    return int(event["id"])


async def test_the_staff_events_page_is_a_whole_form_in_the_visitors_language(tiny_client):
    status, html = await page(tiny_client, "/staff/events", **{"Accept-Language": "nl"})
    assert status == 200 and '<html lang="nl"' in html
    assert "<h1>Openbare vergaderingen: medewerkers</h1>" in html
    assert '<script type="module" src="/static/js/staff-events.js"></script>' in html
    assert '<link rel="stylesheet" href="/static/css/console.css">' in html
    for field in ("title-en", "title-fr", "title-nl", "title-es", "scene", "zone", "timezone", "start", "end",
                  "capacity", "duty-chair", "duty-moderator", "duty-captioner", "slide-file", "slide-alt-en"):
        assert f'<label for="{field}">' in html, field
        assert f'id="{field}"' in html, field
    assert 'id="announcer" class="visually-hidden" role="status" aria-live="polite"' in html
    only_file_scripts(html)
    block = re.search(r'<script type="application/json" id="civic-strings" data-lang="nl">(.*?)</script>', html)
    assert block and json.loads(block.group(1))["console.form.save"] == "Vergadering opslaan"


@pytest.mark.parametrize(("path", "script", "heading"), [
    ("console", "console-page.js", "Console de présidence"),
    ("captioner", "console-captioner.js", "Console de sous-titrage"),
])
async def test_an_events_console_shows_its_title_as_text(tiny_client, path, script, heading):
    event_id = await make_event(tiny_client, {"en": MARKUP, "fr": "Conseil de quartier"})
    status, html = await page(tiny_client, f"/events/{event_id}/{path}", **{"Accept-Language": "fr"})
    assert status == 200 and '<html lang="fr"' in html
    assert f'data-event-id="{event_id}"' in html
    assert f'<span class="console-kicker">{heading}</span> <span>Conseil de quartier</span>' in html
    assert f'<script type="module" src="/static/js/{script}"></script>' in html
    only_file_scripts(html)
    # A title only in another language is shown in it, marked with its language, and stays text.
    other = await make_event(tiny_client, {"en": MARKUP})
    status, html = await page(tiny_client, f"/events/{other}/{path}", **{"Accept-Language": "fr"})
    assert status == 200
    assert '<span lang="en">&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&lt;b&gt;Budget&lt;/b&gt;</span>' in html
    assert "<img src=x" not in html


@pytest.mark.parametrize("path", ["console", "captioner"])
@pytest.mark.parametrize("event_id", ["999999", "12abc", "0x10", "1" * 13])
async def test_an_unknown_or_malformed_event_is_a_404_page_in_the_visitors_language(tiny_client, path, event_id):
    status, html = await page(tiny_client, f"/events/{event_id}/{path}", **{"Accept-Language": "es"})
    assert status == 404 and '<html lang="es"' in html
    assert "<h1>Esta reunión no existe</h1>" in html
    assert "data-event-id" not in html
    assert '<script type="module" src="/static/js/accessibility-page.js"></script>' in html  # chrome only
    only_file_scripts(html)


async def test_a_deleted_event_has_no_console(tiny_client):
    event_id = await make_event(tiny_client, {"en": "Gone"})
    await tiny_client.server.app[STORE].delete_event(event_id, 1, "hana")
    assert (await tiny_client.get(f"/events/{event_id}/console")).status == 404


def _locale(lang: str) -> dict[str, str]:
    return json.loads((WEB / "locales" / f"{lang}.json").read_text(encoding="utf-8"))


# Keys built at run time from a known set of values (console-page.js, console-common.js, staff-events.js).
DYNAMIC = {
    "console.duty.": ("chair", "moderator", "captioner"),
    "console.role.": ("editor", "moderator", "host", "admin"),
    "console.stateName.": ("scheduled", "open", "live", "ended", "archived"),
    "console.state.to.": ("open", "live", "ended", "archived"),
    "console.state.done.": ("open", "live", "ended", "archived"),
    "console.state.confirm.": ("ended", "archived"),
    "console.questionState.": ("pending", "approved", "rejected", "answering", "answered"),
    "console.questions.done.": ("approved", "rejected"),
    "console.mod.": ("mute", "unmute", "remove", "ban", "unban"),
    "console.mod.done.": ("mute", "unmute", "remove", "ban", "unban"),
    "console.mod.confirm.": ("remove", "ban"),
    "console.restricted.": ("muted", "banned"),
    "console.form.item.": ("title", "description"),
}


def test_every_console_string_the_pages_use_exists_in_english():
    sources = [WEB / name for name in ("staff-events.html", "console.html", "captioner.html")]
    sources += sorted((WEB / "js").glob("console-*.js")) + sorted((WEB / "js").glob("staff-events*.js"))
    used = set()
    for source in sources:
        used |= set(re.findall(r"['\"`](console\.[A-Za-z]+(?:\.[A-Za-z_]+)+)['\"`]", source.read_text()))
    used |= {prefix + value for prefix, values in DYNAMIC.items() for value in values}
    english = _locale("en")
    assert len(used) > 150
    assert sorted(used - set(english)) == []


@pytest.mark.parametrize("lang", ["fr", "nl", "es"])
def test_every_console_string_is_translated_with_the_same_placeholders(lang):
    english = {k: v for k, v in _locale("en").items() if k.startswith("console.")}
    other = _locale(lang)
    missing = sorted(set(english) - set(other))
    assert missing == [], missing
    for key, text in english.items():
        assert other[key].strip(), key
        assert set(re.findall(r"\{(\w+)\}", other[key])) == set(re.findall(r"\{(\w+)\}", text)), key
    # Translated, not copied: only a handful may equal English (names such as "Chat", "{n} min", "moderator").
    same = [key for key, text in english.items() if other[key] == text]
    assert len(same) <= 12, same
