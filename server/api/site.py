"""What every visitor reads: the pages, the client's files, scenes and their assets, health and metrics, the
OpenAPI document and the realtime endpoint. Bytes are served by server/blobs.py (ETag/304, Range, compression).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ConfigDict

from ..blobs import serve_blob
from ..errors import ApiError
from ..keys import CATALOG, CONFIG, METRICS, ROOMS, SOCKETS, WEB
from ..realtime import websocket_handler
from .models import Out
from .route import Call

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class Health(Out):
    status: str
    scenes: int


class SceneEntry(Out):
    id: str
    title: dict[str, str]
    description: dict[str, str]
    url: str
    capacity: int


class SceneIndex(Out):
    scenes: list[SceneEntry]


class SceneDocument(Out):
    """A manifest resolved for the client (docs/http-api.md): its fields plus asset, bounds and walkable grid."""

    model_config = ConfigDict(extra="allow")
    id: str
    title: dict[str, str]
    description: dict[str, str]
    capacity: int
    asset: dict[str, Any]
    bounds: dict[str, Any]
    walkable: dict[str, Any]


async def healthz(call: Call) -> web.Response:
    return web.json_response({"status": "ok", "scenes": len(call.app[CATALOG].scenes)})


async def metrics(call: Call) -> web.Response:
    body = call.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def list_scenes(call: Call) -> web.Response:
    return serve_blob(call.request, call.app[CATALOG].index, REVALIDATE)


async def get_scene(call: Call) -> web.Response:
    scene = call.app[CATALOG].scenes.get(call.request.match_info["scene_id"])
    if scene is None:
        raise ApiError(404, "scene_not_found", "There is no scene with this id.")
    return serve_blob(call.request, scene.document, REVALIDATE)


async def get_asset(call: Call) -> web.Response:
    blob = call.app[CATALOG].assets.get(call.request.match_info["name"])
    if blob is None:
        raise ApiError(404, "asset_not_found", "There is no asset with this name.")
    return serve_blob(call.request, blob, IMMUTABLE)


async def get_static(call: Call) -> web.Response:
    blob = call.app[WEB].get(call.request.match_info["path"])
    if blob is None:
        raise ApiError(404, "not_found", "There is no such file.")
    return serve_blob(call.request, blob, REVALIDATE)


def page(name: str):  # type: ignore[no-untyped-def]
    async def handler(call: Call) -> web.Response:
        blob = call.app[WEB].get(name)
        if blob is None:
            raise ApiError(503, "client_missing", "The web client is not installed (run the setup).")
        response = serve_blob(call.request, blob, REVALIDATE)
        scene_id = call.request.match_info.get("scene_id")
        if scene_id is not None and scene_id not in call.app[CATALOG].scenes and response.status == 200:
            response.set_status(404)  # the page itself explains, in the visitor's language
        return response

    handler.__name__ = f"page_{name.split('.')[0]}"
    return handler


async def realtime(call: Call) -> web.StreamResponse:
    app, config = call.app, call.app[CONFIG]
    return await websocket_handler(call.request, app[ROOMS], app[METRICS], config.tick_hz, config.allowed_origins,
                                   app[SOCKETS])
