"""What every visitor reads: the pages (rendered by server/pages.py), the client's files, scenes and their assets,
health and metrics, the OpenAPI document and the realtime endpoint. Bytes are served by server/blobs.py (ETag/304,
Range, compression).
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import ConfigDict

from ..blobs import serve_blob
from ..errors import ApiError, error_response
from ..keys import CATALOG, CONFIG, METRICS, PROPOSALS, ROOMS, SOCKETS, STORE, WEB
from ..pages import PAGES, Pages, html_response, language_of
from ..protocol import PREPARING_RETRY_SECONDS
from ..realtime import websocket_handler
from ..services import places, walk_edits
from .models import Out
from .route import Call

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class Health(Out):
    status: str
    scenes: int  # ready
    preparing: int
    failed: int


class SceneEntry(Out):
    id: str
    title: dict[str, str]
    description: dict[str, str]
    url: str
    capacity: int
    status: Literal["ready", "preparing", "failed"]
    progress: float | None = None  # preparing: the fraction done
    message: str | None = None  # failed: why, for staff (the server log has the details)


class SceneIndex(Out):
    scenes: list[SceneEntry]


class SceneDocument(Out):
    """A manifest resolved for the client (docs/http-api.md): its fields plus asset, bounds and walkable grid, and
    for an imported scene its levels of detail (`lods`, coarsest first, the first being `asset`)."""

    model_config = ConfigDict(extra="allow")
    id: str
    title: dict[str, str]
    description: dict[str, str]
    capacity: int
    asset: dict[str, Any]
    bounds: dict[str, Any]
    walkable: dict[str, Any]


async def healthz(call: Call) -> web.Response:
    """Answers as soon as the server listens, whether or not its scenes are ready yet."""
    catalog = call.app[CATALOG]
    return web.json_response({"status": "ok", "scenes": len(catalog.scenes), "preparing": catalog.count("preparing"),
                              "failed": catalog.count("failed")})


async def metrics(call: Call) -> web.Response:
    body = call.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def list_scenes(call: Call) -> web.Response:
    return serve_blob(call.request, call.app[CATALOG].index, REVALIDATE)


async def get_scene(call: Call) -> web.Response:
    catalog = call.app[CATALOG]
    scene_id = call.request.match_info["scene_id"]
    scene = catalog.scenes.get(scene_id)
    if scene is None:
        entry = catalog.entries.get(scene_id)
        if entry is not None and entry.status == "preparing":
            response = error_response(503, "scene_preparing", f"This scene is being prepared ({entry.progress:.0%}); "
                                                              "try again in a few seconds.")
            response.headers["Retry-After"] = str(PREPARING_RETRY_SECONDS)
            return response
        if entry is not None and entry.status == "failed":
            raise ApiError(503, "scene_unavailable", "This scene could not be prepared; staff can see why in the "
                                                     "scene list and the server log.")
        raise ApiError(404, "scene_not_found", "There is no scene with this id.")
    document = await places.scene_document(call.app[STORE], scene)  # + the zones and stops staff added
    document = await walk_edits.scene_document(call.app[STORE], scene, document)  # + the floor they corrected
    return serve_blob(call.request, document, REVALIDATE)


async def get_asset(call: Call) -> web.Response:
    blob = call.app[CATALOG].assets.get(call.request.match_info["name"])
    if blob is None:
        raise ApiError(404, "asset_not_found", "There is no asset with this name.")
    return serve_blob(call.request, blob, IMMUTABLE)


async def get_static(call: Call) -> web.Response:
    path = call.request.match_info["path"]
    # The pages are templates, served rendered at their own addresses (/, /scenes/{id}, /accessibility).
    blob = None if path.endswith(".html") or path.startswith("templates/") else call.app[WEB].get(path)
    if blob is None:
        raise ApiError(404, "not_found", "There is no such file.")
    return serve_blob(call.request, blob, REVALIDATE)


async def landing_page(call: Call) -> web.Response:
    """The home page: the list of places, whole in the visitor's language before any script runs."""
    pages, lang, chosen = _page_parts(call)
    body = pages.render("index.html", lang, call.request, **pages.landing_context(call.app[CATALOG], lang))
    return html_response(call.request, body, lang, chosen)


async def statement_page(call: Call) -> web.Response:
    pages, lang, chosen = _page_parts(call)
    return html_response(call.request, pages.render("accessibility.html", lang, call.request), lang, chosen)


async def scene_page(call: Call) -> web.Response:
    """A scene's page: 3D, or text-only with `?mode=text` (then laid out as text from the first byte); its places,
    tour and hotspots are in the HTML. An unknown scene is a 404 page saying so in the visitor's language."""
    pages, lang, chosen = _page_parts(call)
    app, request = call.app, call.request
    text_mode = request.query.get("mode") == "text"
    catalog = app[CATALOG]
    scene = catalog.scenes.get(request.match_info["scene_id"])
    if scene is None:
        entry = catalog.entries.get(request.match_info["scene_id"])
        preparing = entry.progress if entry is not None and entry.status == "preparing" else None
        body = pages.render("scene.html", lang, request, text_mode=text_mode, missing=True, scene=None, places=[],
                            tour=[], hotspots=[], spawn_place=None, preparing=preparing)
        if preparing is None:
            return html_response(request, body, lang, chosen, status=404)
        response = html_response(request, body, lang, chosen, status=503)  # the page tries again by itself
        response.headers["Retry-After"] = str(PREPARING_RETRY_SECONDS)
        return response
    context = await pages.scene_context(scene.manifest, lang, app[STORE], app[PROPOSALS])
    body = pages.render("scene.html", lang, request, text_mode=text_mode, missing=False, **context)
    return html_response(request, body, lang, chosen)


def _page_parts(call: Call) -> tuple[Pages, str, bool]:
    lang, chosen = language_of(call.request)
    return call.app[PAGES], lang, chosen


async def realtime(call: Call) -> web.StreamResponse:
    app, config = call.app, call.app[CONFIG]
    catalog = app[CATALOG]

    def preparing(scene_id: str) -> bool:
        entry = catalog.entries.get(scene_id)
        return entry is not None and entry.status == "preparing"

    return await websocket_handler(call.request, app[ROOMS], app[METRICS], config.tick_hz, config.allowed_origins,
                                   app[SOCKETS], preparing)
