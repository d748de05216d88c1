"""Command line: `python -m server serve [--host H] [--port P] [--data-dir D]`.

Prints the URL once listening; SIGINT or SIGTERM stops it gracefully (open requests finish, then exit 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from aiohttp import web

from .app import WEB, create_app
from .config import Config, config_from
from .logs import AccessLogger, setup_logging

log = logging.getLogger("civic.main")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m server", description="Civic Space server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the server")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1, env CIVIC_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8080, env CIVIC_PORT)")
    serve.add_argument("--data-dir", help="where caches and data live (default ./data, env CIVIC_DATA_DIR)")
    serve.add_argument("--scenes-dir", help="scene manifests (default ./scenes)")
    serve.add_argument("--assets-dir", help="source glTF/GLB files (default ./assets/gltf)")
    serve.add_argument("--web-dir", help="the browser client (default ./web)")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.add_argument("--tick-hz", type=float, help="realtime ticks per second (default 20, env CIVIC_TICK_HZ)")
    serve.add_argument("--redis", dest="redis_url",
                       help="share rooms with other processes through Redis, e.g. redis://127.0.0.1:6379/0")
    serve.add_argument("--allowed-origins", help="extra page origins allowed to connect, comma-separated")
    serve.add_argument("--node-id", help="this process's name on the bus (default: random)")
    serve.add_argument("--no-optimize", dest="optimize", action="store_const", const="0",
                       help="serve source GLBs as they are (no gltfpack)")
    return parser.parse_args(argv)


async def serve(config: Config) -> None:
    loop = asyncio.get_running_loop()
    app = await loop.run_in_executor(None, create_app, config)
    await loop.run_in_executor(None, app[WEB].warm)
    runner = web.AppRunner(app, access_log_class=AccessLogger, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    port = runner.addresses[0][1] if runner.addresses else config.port
    host = f"[{config.host}]" if ":" in config.host else config.host
    print(f"Civic Space is running at http://{host}:{port}/  (Ctrl+C to stop)", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = config_from(vars(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.log_level)
    if args.command == "serve":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
