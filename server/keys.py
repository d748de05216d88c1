"""Typed keys of everything the application holds (built by `create_app`, read by handlers).

Only names and types live here: the types are imported for the type checker alone, so importing a key never
imports the server (no cycles, nothing heavy at import time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from .api.residents import Residents
    from .auth import RequestLimits
    from .bus import Bus
    from .catalog import Catalog
    from .config import Config
    from .events.audio import AudioHub
    from .events.live import Hub
    from .events.service import EventService
    from .metrics import Metrics
    from .proposals import ProposalCache
    from .rooms import Rooms
    from .store import Store
    from .webfiles import WebFiles

CONFIG: web.AppKey[Config] = web.AppKey("config")
CATALOG: web.AppKey[Catalog] = web.AppKey("catalog")
WEB: web.AppKey[WebFiles] = web.AppKey("web")
BUS: web.AppKey[Bus] = web.AppKey("bus")
ROOMS: web.AppKey[Rooms] = web.AppKey("rooms")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("sockets")  # open /ws connections, closed at shutdown
STORE: web.AppKey[Store] = web.AppKey("store")
LIMITS: web.AppKey[RequestLimits] = web.AppKey("limits")
PROPOSALS: web.AppKey[ProposalCache] = web.AppKey("proposals")  # Decidim and CONSUL; local ones come from STORE
RESIDENTS: web.AppKey[Residents] = web.AppKey("residents")  # signs the anonymous resident identity (supports)
EVENTS: web.AppKey[EventService] = web.AppKey("events")  # every write about a public meeting (server/events/)
EVENT_HUB: web.AppKey[Hub] = web.AppKey("event_hub")  # this process's live-stream listeners, one bus topic per event
EVENT_AUDIO: web.AppKey[AudioHub] = web.AppKey("event_audio")  # this process's stage audio (server/events/audio.py)
