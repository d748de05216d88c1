"""`python -m server events import-oparl URL --scene S --zone Z [--timezone TZ] [--lang L] …`: one OParl import.

`add_parser(commands)` adds the `events` command (with its `import-oparl` action) to the top-level sub-parsers of
server/__main__.py; `run(args, config)` does the import and returns the exit code: 0 after an import (counts on
standard output, one `warning:` line per skipped meeting or cut-short list on standard error), 2 with one `error:`
line when the feed cannot be read (nothing is written then), the options are wrong or the store fails.
The store and the platform allow-list come from the same options and environment variables as every other command
(`--data-dir`, `--database`, `--database-pool`, `--platform-hosts` / CIVIC_*), through `server.config.config_from`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from server.config import Config, config_from
from server.events.oparl import LANGUAGES, MAX_PAGES, MIN_INTERVAL, ImportOptions, OParlError, OParlReader, import_oparl
from server.proposals import Budget, PlatformHttp
from server.store import StoreError, open_store

WARNINGS_SHOWN = 20


def add_parser(commands: Any) -> None:
    """Add `events import-oparl` to `commands` (the sub-parsers of `python -m server`)."""
    events = commands.add_parser("events", help="public meetings")
    actions = events.add_subparsers(dest="action", required=True)
    oparl = actions.add_parser(
        "import-oparl", help="import meetings and agenda items from an OParl 1.1 council information system",
        description="Read meetings from an OParl 1.1 System, Body, meeting list or Meeting URL and create, update "
                    "or delete the events imported from them. Running it again changes nothing unless the council "
                    "changed something. Non-public agenda items are never stored.")
    oparl.add_argument("url", help="the OParl System (or Body, meeting list, Meeting) URL")
    oparl.add_argument("--scene", required=True, help="scene the meetings take place in, e.g. town-hall")
    oparl.add_argument("--zone", required=True, help="zone of that scene, e.g. council-chamber")
    oparl.add_argument("--timezone", default="Europe/Berlin",
                       help="IANA time zone of the meetings, also for times without an offset (default Europe/Berlin)")
    oparl.add_argument("--lang", choices=LANGUAGES, default="en",
                       help="the site language the council's texts are stored under (default en)")
    oparl.add_argument("--capacity", type=int, help="attendee capacity of each imported event")
    oparl.add_argument("--max-pages", type=int, default=MAX_PAGES,
                       help=f"at most this many requests to the council's server (default {MAX_PAGES})")
    oparl.add_argument("--min-interval", type=float, default=MIN_INTERVAL,
                       help=f"seconds between two requests (default {MIN_INTERVAL})")
    oparl.add_argument("--dry-run", action="store_true", help="read and count, write nothing")
    oparl.add_argument("--data-dir", help="where the database lives (default ./data, env CIVIC_DATA_DIR)")
    oparl.add_argument("--database", dest="database_url",
                       help="sqlite:///path or postgresql://user@host/db (default SQLite in the data directory, env "
                            "CIVIC_DATABASE_URL)")
    oparl.add_argument("--database-pool", dest="database_pool", type=int,
                       help="PostgreSQL connections (default 10, env CIVIC_DATABASE_POOL)")
    oparl.add_argument("--platform-hosts",
                       help="hosts that may be read even on a private network (host[:port], comma-separated; "
                            "when set, ONLY these), env CIVIC_PLATFORM_HOSTS")


async def run(args: argparse.Namespace, config: Config | None = None) -> int:
    """Run `events import-oparl` (see the module docstring); the exit code."""
    try:
        config = config if config is not None else config_from(vars(args))
        options = ImportOptions(scene=args.scene, zone=args.zone, timezone=args.timezone, lang=args.lang,
                                capacity=args.capacity)
        if not 1 <= args.max_pages <= 10_000:
            raise ValueError("--max-pages must be between 1 and 10000")
        if not 0 <= args.min_interval <= 60:
            raise ValueError("--min-interval must be between 0 and 60 seconds")
        store = await open_store(config)
        try:
            # The reader's own page cap and interval bound the traffic; the budget only has to let them through.
            budget = Budget(per_host=args.max_pages + 1, total=args.max_pages + 1)
            async with PlatformHttp(config.platform_hosts, budget=budget) as http:
                reader = OParlReader(http, max_pages=args.max_pages, min_interval=args.min_interval)
                report = await import_oparl(store, args.url, options, reader, dry_run=args.dry_run)
        finally:
            await store.close()
    except (OParlError, ValueError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in report.warnings[:WARNINGS_SHOWN]:
        print(f"warning: {warning}", file=sys.stderr)
    if len(report.warnings) > WARNINGS_SHOWN:
        print(f"warning: … and {len(report.warnings) - WARNINGS_SHOWN} more", file=sys.stderr)
    done = "would be" if args.dry_run else "imported"
    print(f"{done}: {report.summary()} ({report.pages} pages read)")
    return 0
