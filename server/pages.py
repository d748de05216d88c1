"""The pages, whole before any script runs: the landing page, the accessibility statement and the scene page (3D
and text-only) are rendered by the server in the visitor's language, with the scene list, the places, the tour and
the hotspots (with their proposal's last known state) already in them. Scripts then add what needs them.

Invariants: templates are Jinja2 with autoescaping on, so every text from a manifest, a hotspot or a platform is
inserted as text, never markup; the UI strings come from the same files the browser reads (web/locales/*.json),
loaded once when the application is built; the language is `?lang=` (then kept in a `lang` cookie: the visitor
chose it), else that cookie, else `Accept-Language`, else English — nothing else is stored and nothing identifies
a visitor; a proposal's state is what the proposal cache or the local store already holds (no platform is asked
while a page is rendered); a page embeds no executable script (strict CSP): the strings the page's scripts need
travel in a `<script type="application/json">` data block.
"""

from __future__ import annotations

import gzip
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brotli
import jinja2
from aiohttp import web
from markupsafe import Markup

from .blobs import Blob, make_blob, serve_blob
from .catalog import Catalog
from .manifest import Manifest
from .proposals import ProposalCache
from .proposals.local import LocalSource
from .services.places import merge
from .store import Store

log = logging.getLogger("civic.pages")
LANGUAGES = ("en", "fr", "nl", "es")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "nl": "Nederlands", "es": "Español"}
LANG_COOKIE = "lang"
LANG_COOKIE_AGE = 365 * 24 * 3600
MAX_ACCEPT_LANGUAGE = 512  # longer headers are read up to here
HTML = "text/html; charset=utf-8"
FEET_TOLERANCE = 0.5  # as web/js/zones.js: metres below a zone's floor still count as in it
TOUR_SPEEDS = (0.75, 1, 1.5)  # as web/js/tour.js
STATUSES = ("open", "evaluating", "accepted", "rejected", "withdrawn", "closed")
Text = tuple[str, str]  # (text, language it is in)
PAGES: web.AppKey[Pages] = web.AppKey("pages")


class Locales:
    """The UI strings of every supported language, English filling any key a language lacks."""

    def __init__(self, folder: Path) -> None:
        english = self._read(folder / f"{DEFAULT_LANGUAGE}.json")
        self.strings = {lang: {**english, **self._read(folder / f"{lang}.json")} for lang in LANGUAGES}
        # The block each page embeds for its scripts, serialised once per language; "<" is escaped, so nothing
        # in it can close the block or open a comment.
        self.embedded = {
            lang: Markup(json.dumps(strings, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c"))
            for lang, strings in self.strings.items()
        }

    @staticmethod
    def _read(path: Path) -> dict[str, str]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.error("locale file unreadable", extra={"file": path.name, "detail": str(exc)})
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def t(self, lang: str, key: str, **values: object) -> str:
        text = self.strings[lang].get(key, key)
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text


def language_of(request: web.Request) -> tuple[str, bool]:
    """(language, chosen now): `?lang=`, else the `lang` cookie, else Accept-Language, else English."""
    asked = request.query.get("lang", "")[:8].lower()
    if asked in LANGUAGES:
        return asked, True
    kept = request.cookies.get(LANG_COOKIE, "")[:8]
    if kept in LANGUAGES:
        return kept, False
    return from_accept_language(request.headers.get("Accept-Language", "")), False


def from_accept_language(header: str) -> str:
    """The supported language the header prefers most (q-values honoured, ties in header order), else English."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for part in header[:MAX_ACCEPT_LANGUAGE].split(",")[:32]:
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        q = 1.0
        params = params.strip().replace(" ", "")
        if params.startswith("q="):
            try:
                q = float(params[2:7])
            except ValueError:
                continue
        if base in LANGUAGES and q > best_q:
            best, best_q = base, q
    return best


def pick(texts: dict[str, str] | str | None, lang: str) -> Text:
    """A {"en": …, "fr": …} text in `lang`, else English, else any, with the language it is in (as i18n.js)."""
    if not texts:
        return "", lang
    if isinstance(texts, str):
        return texts, lang
    for candidate in (lang, DEFAULT_LANGUAGE):
        if texts.get(candidate):
            return texts[candidate], candidate
    first = next(iter(texts.items()))
    return str(first[1]), first[0]


def zone_at(zones: list[dict[str, Any]], position: list[float] | None) -> dict[str, Any] | None:
    """The zone holding a point: the smallest box wins when boxes nest (the same rule as web/js/zones.js)."""
    if not position or len(position) != 3:
        return None
    x, y, z = position
    best, best_area = None, 0.0
    for zone in zones:
        lo, hi = zone["area"]["min"], zone["area"]["max"]
        if not (lo[0] <= x <= hi[0] and lo[2] <= z <= hi[2] and lo[1] - FEET_TOLERANCE <= y < hi[1]):
            continue
        area = (hi[0] - lo[0]) * (hi[2] - lo[2])
        if best is None or area < best_area:
            best, best_area = zone, area
    return best


@dataclass
class Pages:
    """Renders the site's pages; one per application (create_app), reading the catalog, store and proposal cache."""

    templates: Path  # web/: the pages are templates where they have always been
    locales: Locales

    @classmethod
    def load(cls, web_dir: Path) -> Pages:
        return cls(web_dir, Locales(web_dir / "locales"))

    def __post_init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.templates)),
            autoescape=True,  # every page is HTML: everything inserted is escaped unless marked safe here
            auto_reload=True,  # editing web/ needs no restart, as for the client's other files
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, name: str, lang: str, request: web.Request, **context: Any) -> str:
        locales = self.locales

        def t(key: str, **values: object) -> str:
            return locales.t(lang, key, **values)

        def same_page(**changes: str) -> str:
            """This page's address with `changes` to its query (only the parameters the pages read are kept)."""
            query = {k: v for k, v in request.query.items() if k in ("mode", "instance", "lang", "event", "at")}
            return str(request.rel_url.with_query({**query, **changes}))

        languages = [{"code": c, "name": LANGUAGE_NAMES[c], "url": same_page(lang=c)} for c in LANGUAGES]
        decimal = "." if lang == "en" else ","
        speeds = [{"value": f"{v:g}", "label": f"{v:g}".replace(".", decimal) + "×"} for v in TOUR_SPEEDS]
        return self.env.get_template(name).render(
            lang=lang, t=t, languages=languages, strings=locales.embedded[lang], tour_speeds=speeds,
            mode_url=lambda mode: same_page(mode=mode), **context
        )

    def landing_context(self, catalog: Catalog, lang: str) -> dict[str, Any]:
        """Ready scenes, and those still being prepared (with how far: their page says to come back in a moment);
        a scene that failed is for staff (the scene list and the log), not on the home page."""
        scenes = []
        for scene_id, entry in catalog.entries.items():
            ready = catalog.scenes.get(scene_id)
            if ready is None and entry.status != "preparing":
                continue
            m = ready.manifest if ready is not None else entry.manifest
            scenes.append({"id": m.id, "url": f"/scenes/{m.id}", "title": pick(m.title, lang),
                           "description": pick(m.description, lang), "capacity": m.capacity,
                           "preparing": None if ready is not None else round(entry.progress * 100)})
        return {"scenes": scenes}

    async def scene_context(self, manifest: Manifest, lang: str, store: Store,
                            cache: ProposalCache) -> dict[str, Any]:
        doc = manifest.model_dump()
        # The manifest's zones and tour extended by those staff added (server/services/places.py).
        zones, stops = merge(manifest, await store.zones(manifest.id), await store.tour_stops(manifest.id))
        places = [{"id": z["id"], "name": pick(z["name"], lang), "description": pick(z["description"], lang)}
                  for z in zones]
        tour = []
        for stop in stops:
            named = next((z for z in zones if stop.get("zone") and z["id"] == stop["zone"]), None)
            zone = named or zone_at(zones, stop["position"])
            tour.append({"id": stop["id"], "place": pick(zone["name"], lang) if zone else None,
                         "narration": pick(stop["narration"], lang)})
        hotspots = []
        for row in await store.hotspots(manifest.id):
            zone = zone_at(zones, row["position"])
            ref = row["proposal_ref"]
            hotspots.append({
                "id": row["id"], "version": row["version"], "kind": row["kind"], "title": pick(row["title"], lang),
                "summary": pick(row["description"], lang), "place": pick(zone["name"], lang) if zone else None,
                "proposal": await self._last_known(ref, lang, store, cache) if ref else None,
            })
        stored = await store.spawns(manifest.id)  # arrival points staff set replace the manifest's
        spawn = zone_at(zones, stored[0]["position_xyz"] if stored else doc["spawn"][0]["position"])
        return {"scene": {"id": manifest.id, "title": pick(manifest.title, lang),
                          "description": pick(manifest.description, lang)},
                "places": places, "tour": tour, "hotspots": hotspots,
                "spawn_place": pick(spawn["name"], lang) if spawn else None}

    async def _last_known(self, ref: str, lang: str, store: Store, cache: ProposalCache) -> dict[str, Any] | None:
        """What the page can say about a proposal without asking a platform: the local store's row, or the cache's
        last value of a remote one (None when nothing is known yet: the page's script asks)."""
        proposal = await LocalSource(store).fetch(ref) if ref.startswith("local:") else cache.peek(ref)
        if proposal is None:
            return None
        data = proposal.to_json()
        status = data["status"]
        if status in STATUSES:
            status_text = self.locales.t(lang, f"proposal.status.{status}")
        else:
            status_text = pick(data["statusLabel"], lang)[0] or self.locales.t(lang, "proposal.status.unknown")
        supports = data["supports"]
        return {"title": pick(data["title"], lang), "status": status_text, "stale": bool(data["stale"]),
                "supports": str(supports) if isinstance(supports, int) else None}


def html_response(request: web.Request, body: str, lang: str, chosen: bool, status: int = 200) -> web.Response:
    """A rendered page: compressed for this request only (fast levels), revalidated on every visit (ETag), and
    the `lang` cookie set when the visitor chose a language by a link."""
    data = body.encode()
    accepted = request.headers.get("Accept-Encoding", "").lower()
    variants: dict[str, bytes] = {}
    if "br" in accepted:
        variants["br"] = brotli.compress(data, quality=5)
    elif "gzip" in accepted:
        variants["gzip"] = gzip.compress(data, compresslevel=6, mtime=0)
    blob: Blob = make_blob(data, HTML, variants)
    response = serve_blob(request, blob, "no-cache")
    if status != 200 and response.status == 200:
        response.set_status(status)
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Encoding, Accept-Language, Cookie"
    if chosen:
        response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_AGE, path="/", samesite="Lax",
                            secure=request.secure, httponly=True)
    return response
