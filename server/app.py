"""Application construction: `create_app(config)` builds everything from a config object.

No module-level state: the catalog and the web files live on the application under typed keys, so tests
can build as many independent apps as they like.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from . import api_staff, openapi
from .auth import RequestLimits
from .blobs import serve_blob
from .bus import Bus, InProcessBus, InProcessHub
from .config import Config
from .errors import ApiError, error_middleware
from .keys import BUS, CATALOG, CONFIG, LIMITS, METRICS, PROPOSALS, ROOMS, SOCKETS, STORE, WEB
from .metrics import Metrics
from .proposals import ConsulSource, DecidimSource, Proposal, ProposalCache
from .realtime import say_goodbye, websocket_handler
from .rooms import Rooms, SceneInfo
from .scenes import Catalog, build_catalog
from .security import security_headers
from .store import Store
from .webfiles import WebFiles

log = logging.getLogger("civic.app")


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


async def realtime(request: web.Request) -> web.StreamResponse:
    app, config = request.app, request.app[CONFIG]
    return await websocket_handler(request, app[ROOMS], app[METRICS], config.tick_hz, config.allowed_origins,
                                   app[SOCKETS])


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def _page(name: str):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request) -> web.Response:
        blob = request.app[WEB].get(name)
        if blob is None:
            raise ApiError(503, "client_missing", "The web client is not installed (run the setup).")
        response = serve_blob(request, blob, REVALIDATE)
        scene_id = request.match_info.get("scene_id")
        if scene_id is not None and scene_id not in request.app[CATALOG].scenes and response.status == 200:
            response.set_status(404)  # the page itself explains, in the visitor's language
        return response

    return handler


def create_app(config: Config, catalog: Catalog | None = None) -> web.Application:
    app = web.Application(
        middlewares=[security_headers, error_middleware],
        client_max_size=config.max_request_bytes,
    )
    app[CONFIG] = config
    app[CATALOG] = catalog if catalog is not None else load_catalog(config)
    app[WEB] = WebFiles(config.web_dir, config.data_dir / "webcache")
    app[METRICS] = Metrics()
    app[BUS] = make_bus(config)
    app[ROOMS] = Rooms(app[BUS], app[METRICS], config.tick_hz, _scene_info(app[CATALOG]))
    app[SOCKETS] = set()
    app[STORE] = Store(config.data_dir / "civic.sqlite3")
    app[LIMITS] = RequestLimits()
    app[PROPOSALS] = ProposalCache({})  # its sources get their HTTP session at start-up
    app.cleanup_ctx.append(_store_lifecycle)
    app.cleanup_ctx.append(_realtime_lifecycle)
    app.cleanup_ctx.append(_proposals_lifecycle)
    app.on_shutdown.append(_goodbye)
    app.router.add_get("/ws", realtime)
    app.router.add_get("/metrics", metrics)
    api_staff.add_routes(app)
    app.router.add_get("/api/openapi.json", openapi_document)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/scenes", list_scenes)
    app.router.add_get("/api/scenes/{scene_id}", get_scene)
    app.router.add_get("/assets/{name}", get_asset)
    app.router.add_get("/static/{path:.+}", get_static)
    app.router.add_get("/", _page("index.html"))
    app.router.add_get("/scenes/{scene_id}", _page("scene.html"))
    app.router.add_get("/accessibility", _page("accessibility.html"))
    return app


def make_bus(config: Config) -> Bus:
    node_id = config.node_id or uuid.uuid4().hex[:12]
    if config.redis_url:
        from .bus_redis import RedisBus  # only needed, and imported, when scaling out

        return RedisBus(config.redis_url, node_id)
    return InProcessBus(InProcessHub(), node_id)


def _scene_info(catalog: Catalog):  # type: ignore[no-untyped-def]
    def info(scene_id: str) -> SceneInfo | None:
        scene = catalog.scenes.get(scene_id)
        if scene is None:
            return None
        return SceneInfo(scene.manifest.capacity, scene.prepared.bounds, scene.manifest.spawn[0].position)

    return info


async def _store_lifecycle(app: web.Application) -> AsyncIterator[None]:
    await app[STORE].open()
    yield
    await app[STORE].close()


async def _proposals_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Live proposals from Decidim and CONSUL: one HTTP session, the watched refs refreshed in the background,
    every visible change pushed to the rooms."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        cache = app[PROPOSALS]
        cache.sources.update(decidim=DecidimSource(session), consul=ConsulSource(session))
        for ref in await app[STORE].remote_proposal_refs():
            cache.watch(ref)

        def push(ref: str, proposal: Proposal | None) -> None:
            if proposal is not None:
                app[ROOMS].broadcast_all({"type": "proposal", "proposal": proposal.to_json()})

        cache.subscribe(push)
        refresher = asyncio.ensure_future(cache.run())
        yield
        refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresher


async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi.document())


async def _realtime_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Start the bus and the tick; stop both at cleanup (after the residents were told, see `_goodbye`)."""
    await app[BUS].start()
    ticker = asyncio.ensure_future(app[ROOMS].run())
    yield
    ticker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticker
    await app[BUS].close()


async def _goodbye(app: web.Application) -> None:
    """First step of a graceful shutdown: residents learn at once, before aiohttp waits for handlers."""
    await say_goodbye(app[SOCKETS])


def load_catalog(config: Config) -> Catalog:
    catalog = build_catalog(
        config.scenes_dir, config.assets_dir, config.data_dir, cell=config.walk_cell, optimize=config.optimize
    )
    log.info("scenes loaded", extra={"scenes": sorted(catalog.scenes), "rejected": len(catalog.errors)})
    return catalog
