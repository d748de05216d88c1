"""Server configuration: one frozen object built from flags, then environment variables, then defaults.

Environment variables (each overridden by the matching flag): CIVIC_HOST, CIVIC_PORT, CIVIC_DATA_DIR,
CIVIC_SCENES_DIR, CIVIC_ASSETS_DIR, CIVIC_WEB_DIR, CIVIC_LOG_LEVEL, CIVIC_OPTIMIZE (0 to serve source GLBs),
CIVIC_TICK_HZ, CIVIC_REDIS_URL, CIVIC_ALLOWED_ORIGINS (comma-separated), CIVIC_NODE_ID, CIVIC_HEADER_TIMEOUT,
CIVIC_BODY_TIMEOUT, CIVIC_MAX_CONNECTIONS_PER_ADDRESS, CIVIC_NEW_STORE (1 to accept an empty database file),
CIVIC_DATABASE_URL (sqlite:///path or postgresql://…; default SQLite in the data directory), CIVIC_DATABASE_POOL
(connections per process to PostgreSQL, default 10), CIVIC_WORKERS (server processes sharing the port, default 1),
CIVIC_OPARL_URL, CIVIC_OPARL_EVERY, CIVIC_OPARL_SCENE, CIVIC_OPARL_ZONE, CIVIC_OPARL_TIMEZONE, CIVIC_OPARL_LANG (the
periodic import of council meetings from an OParl 1.1 system; off without a URL), CIVIC_RECORDING_KEEP_DAYS (days
a meeting's audio recording is kept after it ended, default 365).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = field(default_factory=lambda: Path("data"))
    scenes_dir: Path = ROOT / "scenes"
    assets_dir: Path = ROOT / "assets" / "gltf"
    web_dir: Path = ROOT / "web"
    log_level: str = "info"
    optimize: bool = True  # run gltfpack on scene assets (needs Node and web/node_modules)
    walk_cell: float = 0.25  # metres per cell of the walkable grid
    max_request_bytes: int = 64 * 1024
    tick_hz: float = 20.0  # realtime ticks per second
    redis_url: str | None = None  # redis://host:port/db to share rooms between processes
    allowed_origins: frozenset[str] = frozenset()  # extra page origins allowed to open /ws
    node_id: str | None = None  # this process's name on the bus (random when not set)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDR networks).
    trusted_proxies: frozenset[str] = frozenset()
    # Participation platform hosts the server may read proposals from (host or host:port). Empty: any public
    # host. Addresses that resolve to loopback/private/link-local space are refused unless listed here.
    platform_hosts: frozenset[str] = frozenset()
    # Slow clients (server/connections.py): seconds to send a request's headers (also the idle keep-alive), seconds
    # to send its body once a handler reads it, and open connections allowed per client address.
    header_timeout: float = 15.0
    body_timeout: float = 30.0
    max_connections_per_address: int = 64
    # Accept an existing 0-byte database file as a new, empty store (otherwise refused: it means lost data).
    new_store: bool = False
    # The store (server/store): None = SQLite in the data directory; sqlite:///path or postgresql://user@host/db.
    database_url: str | None = None
    database_pool: int = 10  # at most this many PostgreSQL connections per process
    workers: int = 1  # processes sharing the port (SO_REUSEPORT) and the rooms (through Redis)
    # Council meetings read from an OParl 1.1 system every `oparl_every` seconds (server/events/oparl_sync.py), into
    # this scene and zone; times shown in `oparl_timezone`, texts stored under `oparl_lang`.
    oparl_url: str | None = None
    oparl_every: float = 900.0
    oparl_scene: str = "town-hall"
    oparl_zone: str = "council-chamber"
    oparl_timezone: str = "Europe/Berlin"
    oparl_lang: str = "en"
    # Whether this process runs the site's periodic jobs (the OParl sync): one worker of `--workers` does.
    periodic_jobs: bool = True
    # Days a meeting's stage audio recording is kept after the meeting ended (server/events/recording.py).
    recording_keep_days: int = 365


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


def _csv(value: object) -> frozenset[str]:
    return frozenset(item.strip() for item in str(value).split(",") if item.strip())


def _flag(value: object) -> bool:
    return str(value).lower() not in ("0", "false", "no", "off")


def config_from(args: dict[str, object | None], environ: bool = True) -> Config:
    """Merge explicit arguments (None = not given) over CIVIC_* environment variables over defaults."""
    base = Config()
    values: dict[str, object] = {}
    converters: dict[str, Callable[[Any], object]] = {
        "host": str,
        "port": int,
        "data_dir": Path,
        "scenes_dir": Path,
        "assets_dir": Path,
        "web_dir": Path,
        "log_level": str,
        "optimize": _flag,
        "tick_hz": float,
        "redis_url": str,
        "allowed_origins": _csv,
        "node_id": str,
        "trusted_proxies": _csv,
        "platform_hosts": _csv,
        "header_timeout": float,
        "body_timeout": float,
        "max_connections_per_address": int,
        "new_store": _flag,
        "database_url": str,
        "database_pool": int,
        "workers": int,
        "oparl_url": str,
        "oparl_every": float,
        "oparl_scene": str,
        "oparl_zone": str,
        "oparl_timezone": str,
        "oparl_lang": str,
        "recording_keep_days": int,
    }
    for name, convert in converters.items():
        given = args.get(name)
        if given is None and environ:
            given = _env(f"CIVIC_{name.upper()}")
        values[name] = convert(given) if given is not None else getattr(base, name)
    if not 0 <= int(values["port"]) <= 65535:  # type: ignore[call-overload]
        raise ValueError("port must be between 0 and 65535")
    if not 1 <= float(values["tick_hz"]) <= 60:  # type: ignore[arg-type]
        raise ValueError("tick rate must be between 1 and 60 per second")
    for name in ("header_timeout", "body_timeout"):
        if not 0.1 <= float(values[name]) <= 3600:  # type: ignore[arg-type]
            raise ValueError(f"{name.replace('_', ' ')} must be between 0.1 and 3600 seconds")
    if not 1 <= int(values["max_connections_per_address"]) <= 100_000:  # type: ignore[call-overload]
        raise ValueError("max connections per address must be between 1 and 100000")
    if not 1 <= int(values["database_pool"]) <= 1000:  # type: ignore[call-overload]
        raise ValueError("database pool must be between 1 and 1000 connections")
    if not 1 <= int(values["workers"]) <= 64:  # type: ignore[call-overload]
        raise ValueError("workers must be between 1 and 64")
    if int(values["workers"]) > 1 and values["redis_url"] is None:  # type: ignore[call-overload]
        raise ValueError("--workers above 1 needs --redis (the workers share rooms through Redis)")
    if not 60 <= float(values["oparl_every"]) <= 7 * 86400:  # type: ignore[arg-type]
        raise ValueError("the OParl sync interval must be between 60 seconds and a week")
    if not 0 <= int(values["recording_keep_days"]) <= 36500:  # type: ignore[call-overload]
        raise ValueError("recordings are kept between 0 and 36500 days")
    if values["oparl_url"] is not None and not str(values["oparl_url"]).startswith(("https://", "http://")):
        raise ValueError("the OParl URL must start with https:// or http://")
    url = values["database_url"]
    if url is not None and not str(url).startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ValueError("the database URL must start with sqlite:/// or postgresql://")
    return Config(**values)  # type: ignore[arg-type]
