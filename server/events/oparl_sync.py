"""The periodic OParl import a running server can keep: `OParlSync(store, url, interval, options=…)`.

`start()` begins a background task that imports at once and then every `interval` seconds; `stop()` ends it and
waits for it. Invariants:
- a bad feed, an unreachable council server or a store error is logged as ONE line (no traceback, the message of
  `OParlError` / `StoreError` names host and reason) and the next run comes as planned: the sync never takes the
  server down, and a failed run writes nothing (`import_oparl` reads the whole feed before writing);
- after a successful full import, runs ask only for meetings modified since the last successful run began (OParl's
  `modified_since` filter, with `overlap` seconds of slack for clocks that disagree); every `full_every`-th run reads
  everything again, so nothing a filter missed is missed for long;
- `on_change(row)` (optional) is awaited for every event created, updated or deleted, so the app can publish it
  (the service publishes on `event:<id>`; this module does not know the bus);
- `last` holds the latest report (or None), `last_error` the latest error message (or None).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from server.events.oparl import (
    MAX_PAGES,
    MIN_INTERVAL,
    EventStore,
    ImportOptions,
    ImportReport,
    OParlError,
    OParlReader,
    import_oparl,
)
from server.keys import CONFIG, EVENTS, STORE
from server.proposals import Budget, PlatformHttp
from server.store import StoreError

log = logging.getLogger("civic.events.oparl")

MIN_SYNC_INTERVAL = 1.0
WARNINGS_LOGGED = 5


class OParlSync:
    def __init__(
        self,
        store: EventStore,
        url: str,
        interval: float,
        *,
        options: ImportOptions,
        platform_hosts: Iterable[str] = (),
        max_pages: int = MAX_PAGES,
        min_interval: float = MIN_INTERVAL,
        full_every: int = 24,
        overlap: float = 600.0,
        on_change: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        if interval < MIN_SYNC_INTERVAL:
            raise ValueError(f"the OParl sync interval must be at least {MIN_SYNC_INTERVAL} s")
        self.store, self.url, self.interval, self.options = store, url, interval, options
        self.platform_hosts = tuple(platform_hosts)
        self.max_pages, self.min_interval = max_pages, min_interval
        self.full_every, self.overlap = max(1, full_every), overlap
        self.on_change, self.wall_clock = on_change, wall_clock
        self.runs = 0
        self.last: ImportReport | None = None
        self.last_error: str | None = None
        self._since: float | None = None  # wall-clock start of the last successful run
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="oparl-sync")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_once(self) -> ImportReport | None:
        """One import (full or incremental); the report, or None after a logged failure."""
        began = self.wall_clock()
        since = None
        if self._since is not None and self.runs % self.full_every != 0:
            since = datetime.fromtimestamp(self._since - self.overlap, UTC)
        self.runs += 1
        try:
            budget = Budget(per_host=self.max_pages + 1, total=self.max_pages + 1)
            async with PlatformHttp(self.platform_hosts, budget=budget) as http:
                reader = OParlReader(http, max_pages=self.max_pages, min_interval=self.min_interval)
                report = await import_oparl(self.store, self.url, self.options, reader, modified_since=since,
                                            on_change=self.on_change)
        except (OParlError, StoreError) as exc:
            self.last_error = str(exc)
            log.warning("oparl sync failed, nothing written: %s", exc)
            return None
        except Exception as exc:  # a bug must not end the sync nor the server: log it, try again next time
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("oparl sync failed unexpectedly")
            return None
        self._since, self.last, self.last_error = began, report, None
        kind = "full" if since is None else "changes"
        log.info("oparl sync (%s): %s, %d pages", kind, report.summary(), report.pages)
        for warning in report.warnings[:WARNINGS_LOGGED]:
            log.warning("oparl sync: %s", warning)
        if len(report.warnings) > WARNINGS_LOGGED:
            log.warning("oparl sync: %d more warnings", len(report.warnings) - WARNINGS_LOGGED)
        return report

    async def _loop(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval)


async def oparl_lifecycle(app: web.Application) -> AsyncIterator[None]:
    """The app's periodic OParl import (`--oparl-url`): changed meetings are published to their live streams."""
    config, service = app[CONFIG], app[EVENTS]
    if config.oparl_url is None or not config.periodic_jobs:
        yield
        return

    async def publish(row: dict[str, Any]) -> None:
        if row.get("deleted_at"):
            await service.publish(row["id"], "deleted", {"id": row["id"]})
        else:
            await service.publish_state(row["id"])

    options = ImportOptions(scene=config.oparl_scene, zone=config.oparl_zone, timezone=config.oparl_timezone,
                            lang=config.oparl_lang)
    sync = OParlSync(app[STORE], config.oparl_url, config.oparl_every, options=options,
                     platform_hosts=config.platform_hosts, on_change=publish)
    sync.start()
    try:
        yield
    finally:
        await sync.stop()
