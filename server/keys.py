"""Typed keys of everything the application holds (built by `create_app`, read by handlers)."""

from __future__ import annotations

from aiohttp import web

from .auth import RequestLimits
from .bus import Bus
from .config import Config
from .metrics import Metrics
from .proposals import ProposalCache
from .rooms import Rooms
from .scenes import Catalog
from .store import Store
from .webfiles import WebFiles

CONFIG = web.AppKey("config", Config)
CATALOG = web.AppKey("catalog", Catalog)
WEB = web.AppKey("web", WebFiles)
BUS = web.AppKey("bus", Bus)  # type: ignore[type-abstract]
ROOMS = web.AppKey("rooms", Rooms)
METRICS = web.AppKey("metrics", Metrics)
SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])  # open /ws connections, closed at shutdown
STORE = web.AppKey("store", Store)
LIMITS = web.AppKey("limits", RequestLimits)
PROPOSALS = web.AppKey("proposals", ProposalCache)  # Decidim and CONSUL, cached; local ones come from STORE
