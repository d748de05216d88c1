"""Application construction: `create_app(config)` builds everything from a config object.

No module-level state: the catalog, the web files, the store and the rooms live on the application under typed
keys (server/keys.py), so tests can build as many independent apps as they like. The routes come from the one
route table, server/api/routes.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

from aiohttp import web

from .api.client import forwarded_middleware
from .api.residents import Residents
from .api.routes import add_routes
from .auth import RequestLimits
from .bus import Bus, InProcessBus, InProcessHub
from .catalog import Catalog, Preparation, build_catalog, plan_catalog
from .config import Config
from .errors import error_middleware
from .events.live import install_events
from .events.oparl_sync import oparl_lifecycle
from .events.recording import install_recording
from .keys import BUS, CATALOG, CONFIG, LIMITS, METRICS, PROPOSALS, RESIDENTS, ROOMS, SOCKETS, STORE, WEB
from .metrics import Metrics
from .pages import PAGES, Pages
from .proposals import ConsulSource, DecidimSource, PlatformHttp, Proposal, ProposalCache
from .realtime import say_goodbye
from .rooms import Rooms, SceneInfo
from .security import security_headers
from .store import make_store
from .webfiles import WebFiles

log = logging.getLogger("civic.app")
PREPARATION: web.AppKey[Preparation] = web.AppKey("preparation")
PREPARATION_THREADS = 2  # scenes prepared at once: a slow one never holds up all others
# WEB: python -m server warms the client's files; PREPARATION: tests wait for the scenes prepared in the background
__all__ = ["PREPARATION", "WEB", "create_app", "load_catalog", "make_bus"]


def create_app(config: Config, catalog: Catalog | None = None, *,
               prepare_in_background: bool = False) -> web.Application:
    """`prepare_in_background`: answer at once and prepare the scenes in threads, each listed as preparing until
    it is ready (`python -m server serve`); otherwise every scene is prepared before this returns."""
    app = web.Application(
        middlewares=[forwarded_middleware, security_headers, error_middleware],
        client_max_size=config.max_request_bytes,
    )
    app[CONFIG] = config
    if catalog is None and prepare_in_background:
        catalog = plan_catalog(config.scenes_dir)
        app[PREPARATION] = Preparation(catalog, config.assets_dir, config.data_dir, config.walk_cell,
                                       config.optimize, threads=PREPARATION_THREADS)
    app[CATALOG] = catalog if catalog is not None else load_catalog(config)
    app[WEB] = WebFiles(config.web_dir, config.data_dir / "webcache")
    app[PAGES] = Pages.load(config.web_dir)  # templates and locale files, read once
    app[METRICS] = Metrics()
    app[BUS] = make_bus(config)
    app[ROOMS] = Rooms(app[BUS], app[METRICS], config.tick_hz, _scene_info(app[CATALOG]))
    app[SOCKETS] = set()
    app[STORE] = make_store(config)  # SQLite in the data directory, or --database
    app[LIMITS] = RequestLimits()
    app[RESIDENTS] = Residents(config.data_dir / "resident.key")
    app[PROPOSALS] = ProposalCache({})  # its sources get their HTTP session at start-up
    install_events(app)  # public meetings: their service and this process's live-stream hub
    app.cleanup_ctx.append(_store_lifecycle)
    if PREPARATION in app:  # after the store: a server that cannot open its database prepares nothing
        app.cleanup_ctx.append(_preparation_lifecycle)
    app.cleanup_ctx.append(_realtime_lifecycle)
    app.cleanup_ctx.append(_proposals_lifecycle)
    app.cleanup_ctx.append(oparl_lifecycle)  # council meetings from --oparl-url (nothing without it)
    install_recording(app)  # after the store's and the bus's lifecycles: a recording is stored before they close
    app.on_shutdown.append(_goodbye)
    add_routes(app)
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


async def _preparation_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Scenes are prepared while the server answers; a stopping server does not wait for them."""
    preparation = app[PREPARATION]
    preparation.start(asyncio.get_running_loop())
    yield
    preparation.stop()


async def _store_lifecycle(app: web.Application) -> AsyncIterator[None]:
    await app[STORE].open()
    residents = app[RESIDENTS]  # one resident-id key for all processes of a city: a support counts once anywhere
    residents.use_key(await app[STORE].shared_secret("resident", residents.key))
    yield
    await app[STORE].close()


async def _proposals_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Live proposals from Decidim and CONSUL: one HTTP session, the watched refs refreshed in the background,
    every visible change pushed to the rooms."""
    async with PlatformHttp(app[CONFIG].platform_hosts) as http:  # address policy (SSRF) and request budgets
        cache = app[PROPOSALS]
        cache.sources.update(decidim=DecidimSource(http), consul=ConsulSource(http))
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
