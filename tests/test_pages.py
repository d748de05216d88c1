"""The pages as the server renders them (server/pages.py): whole before any script, in the visitor's language, every
text from a manifest, a hotspot or a proposal escaped, the strings for the scripts in a data block the CSP allows."""

from __future__ import annotations

import json
import re

import pytest

from server.keys import STORE
from server.pages import from_accept_language

MARKUP = '<img src=x onerror="alert(1)"><b>Bold</b>'


async def page(client, path: str, **headers: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    response = await client.get(path, headers=headers)
    return response.status, await response.text()


async def test_the_landing_page_lists_every_scene_with_its_link_in_the_visitors_language(tiny_client):
    status, html = await page(tiny_client, "/", **{"Accept-Language": "fr-BE,fr;q=0.9,en;q=0.5"})
    assert status == 200
    assert '<html lang="fr"' in html
    assert '<a href="/scenes/tiny">Petite salle</a>' in html
    assert "Un sol et un mur." in html
    assert 'id="scenes-status" class="status" role="status" hidden' in html  # nothing "loading" left to say


async def test_a_hotspot_and_a_proposal_with_markup_in_their_titles_show_as_text(tiny_client):
    store = tiny_client.server.app[STORE]
    proposal = await store.create_proposal({"title": {"en": MARKUP}, "summary": {"en": "Books"}, "body": {},
                                           "status": "open", "deadline": None}, "edith")
    await store.create_hotspot("tiny", {
        "position": [1.0, 1.5, -1.8], "normal": [0, 0, 1], "kind": "proposal", "title": {"en": MARKUP},
        "description": {"en": "</p><script>alert(2)</script>"}, "proposal_ref": f"local:{proposal['id']}",
        "link": None}, "edith")
    status, html = await page(tiny_client, "/scenes/tiny?mode=text")
    assert status == 200
    assert "<img src=x" not in html and "<b>Bold" not in html and "alert(2)</script>" not in html
    assert html.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&lt;b&gt;Bold&lt;/b&gt;") == 2  # hotspot, proposal
    assert "&lt;/p&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    # Its proposal's last known state is on the page: status and supports.
    assert re.search(r'data-fact="status">Open<', html) and re.search(r'data-fact="supports">0<', html)


async def test_the_text_only_page_has_places_tour_and_hotspots_and_no_inline_script(tiny_client):
    status, html = await page(tiny_client, "/scenes/tiny?mode=text", **{"Accept-Language": "en"})
    assert status == 200 and 'data-mode="text"' in html
    assert 'data-id="hall"' in html and "The whole place." in html  # the places
    assert '<ol class="tour-stops">' in html and "Welcome." in html  # the tour as a list
    assert 'id="hotspots"' in html and "Nothing to read in this place yet." in html
    assert "Seeing who is here" in html  # what needs a live connection says so (in a noscript)
    for tag in re.findall(r"<script\b[^>]*>", html):  # the CSP refuses inline scripts: only files and data
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    block = re.search(r'<script type="application/json" id="civic-strings" data-lang="en">(.*?)</script>', html)
    assert block and json.loads(block.group(1))["places.title"] == "Places here"


@pytest.mark.parametrize(("header", "expected"), [
    ("", "en"),
    ("de-DE,de;q=0.9", "en"),
    ("nl-BE,nl;q=0.9,en;q=0.5", "nl"),
    ("de, fr;q=0.5, es;q=0.7", "es"),
    ("en;q=0.2, es;q=0.8", "es"),
    ("fr;q=bad, nl", "nl"),
    ("x" * 5000, "en"),
])
def test_accept_language_picks_the_most_preferred_supported_language(header, expected):
    assert from_accept_language(header) == expected


async def test_a_language_chosen_by_link_is_kept_in_a_cookie_and_only_then(tiny_client):
    response = await tiny_client.get("/", headers={"Accept-Language": "fr"})
    assert "lang" not in response.cookies and response.headers["Content-Language"] == "fr"
    response = await tiny_client.get("/accessibility?lang=es")
    assert response.cookies["lang"].value == "es" and response.headers["Content-Language"] == "es"
    assert response.cookies["lang"]["samesite"] == "Lax"
    status, html = await page(tiny_client, "/scenes/tiny", **{"Accept-Language": "fr"})
    assert '<html lang="es"' in html  # the choice beats the browser's header
    status, html = await page(tiny_client, "/?lang=xx", **{"Accept-Language": "fr"})
    assert '<html lang="es"' in html  # an unknown language changes nothing


async def test_language_links_keep_the_mode_and_drop_other_parameters(tiny_client):
    status, html = await page(tiny_client, "/scenes/tiny?mode=text&utm=x")
    assert 'href="/scenes/tiny?mode=text&amp;lang=nl"' in html
    assert "utm" not in html


async def test_an_unknown_scene_is_a_404_page_in_the_visitors_language(tiny_client):
    status, html = await page(tiny_client, "/scenes/nowhere?mode=text", **{"Accept-Language": "nl"})
    assert status == 404 and '<html lang="nl"' in html
    assert "scene_not_found" in html


async def test_page_templates_are_not_served_raw(tiny_client):
    for path in ("/static/scene.html", "/static/index.html", "/static/templates/head.html.j2"):
        assert (await tiny_client.get(path)).status == 404, path
