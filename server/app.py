"""Application construction: `create_app(config)` builds everything from a config object.

No module-level state: the catalog and the web files live on the application under typed keys, so tests
can build as many independent apps as they like.
"""

from __future__ import annotations

import logging

from aiohttp import web

from .blobs import serve_blob
from .config import Config
from .errors import ApiError, error_middleware
from .scenes import Catalog, build_catalog
from .security import security_headers
from .webfiles import WebFiles

log = logging.getLogger("civic.app")

CONFIG = web.AppKey("config", Config)
CATALOG = web.AppKey("catalog", Catalog)
WEB = web.AppKey("web", WebFiles)

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


async def healthz(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]
    return web.json_response({"status": "ok", "scenes": len(catalog.scenes)})


async def list_scenes(request: web.Request) -> web.Response:
    return serve_blob(request, request.app[CATALOG].index, REVALIDATE)


async def get_scene(request: web.Request) -> web.Response:
    scene = request.app[CATALOG].scenes.get(request.match_info["scene_id"])
    if scene is None:
        raise ApiError(404, "scene_not_found", "There is no scene with this id.")
    return serve_blob(request, scene.document, REVALIDATE)


async def get_asset(request: web.Request) -> web.Response:
    blob = request.app[CATALOG].assets.get(request.match_info["name"])
    if blob is None:
        raise ApiError(404, "asset_not_found", "There is no asset with this name.")
    return serve_blob(request, blob, IMMUTABLE)


async def get_static(request: web.Request) -> web.Response:
    blob = request.app[WEB].get(request.match_info["path"])
    if blob is None:
        raise ApiError(404, "not_found", "There is no such file.")
    return serve_blob(request, blob, REVALIDATE)


def _page(name: str):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request) -> web.Response:
        scene_id = request.match_info.get("scene_id")
        if scene_id is not None and scene_id not in request.app[CATALOG].scenes:
            raise ApiError(404, "scene_not_found", "There is no scene with this id.")
        blob = request.app[WEB].get(name)
        if blob is None:
            raise ApiError(503, "client_missing", "The web client is not installed (run the setup).")
        return serve_blob(request, blob, REVALIDATE)

    return handler


def create_app(config: Config, catalog: Catalog | None = None) -> web.Application:
    app = web.Application(
        middlewares=[security_headers, error_middleware],
        client_max_size=config.max_request_bytes,
    )
    app[CONFIG] = config
    app[CATALOG] = catalog if catalog is not None else load_catalog(config)
    app[WEB] = WebFiles(config.web_dir, config.data_dir / "webcache")
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/scenes", list_scenes)
    app.router.add_get("/api/scenes/{scene_id}", get_scene)
    app.router.add_get("/assets/{name}", get_asset)
    app.router.add_get("/static/{path:.+}", get_static)
    app.router.add_get("/", _page("index.html"))
    app.router.add_get("/scenes/{scene_id}", _page("scene.html"))
    return app


def load_catalog(config: Config) -> Catalog:
    catalog = build_catalog(
        config.scenes_dir, config.assets_dir, config.data_dir, cell=config.walk_cell, optimize=config.optimize
    )
    log.info("scenes loaded", extra={"scenes": sorted(catalog.scenes), "rejected": len(catalog.errors)})
    return catalog
