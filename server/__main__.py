"""Command line: `python -m server serve [--host H] [--port P] [--data-dir D]` and
`python -m server staff add|list|passwd|remove`.

Prints the URL once listening; SIGINT or SIGTERM stops it gracefully (open requests finish, then exit 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import re
import signal
import sys

from aiohttp import web

from .app import WEB, create_app
from .auth import ROLES, hash_password
from .config import Config, config_from
from .logs import AccessLogger, setup_logging
from .store import Store

log = logging.getLogger("civic.main")
USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


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
    serve.add_argument("--trusted-proxies",
                       help="reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-* are believed")
    serve.add_argument("--platform-hosts",
                       help="participation platforms proposals may be read from (host[:port], comma-separated)")
    serve.add_argument("--no-optimize", dest="optimize", action="store_const", const="0",
                       help="serve source GLBs as they are (no gltfpack)")
    staff = commands.add_parser("staff", help="manage staff accounts (editor, moderator, admin)")
    staff.add_argument("--data-dir", help="where the database lives (default ./data, env CIVIC_DATA_DIR)")
    actions = staff.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    actions.add_parser("list", help="list accounts")
    passwd = actions.add_parser("passwd", help="set a new password (signs the account out everywhere)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    remove = actions.add_parser("remove", help="delete an account")
    remove.add_argument("username")
    return parser.parse_args(argv)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (10 characters or more): ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the passwords differ")
    return first


async def manage_staff(config: Config, args: argparse.Namespace) -> int:
    store = Store(config.data_dir / "civic.sqlite3")
    await store.open()
    try:
        if args.action == "add":
            if not USERNAME.match(args.username):
                raise ValueError("usernames are 1-64 letters, digits, '.', '-' or '_'")
            if await store.get_staff(args.username):
                raise ValueError(f"{args.username} exists already")
            await store.add_staff(args.username, hash_password(read_password(args.password_stdin)), args.role)
            print(f"added {args.username} ({args.role})")
        elif args.action == "list":
            for row in await store.list_staff():
                print(f"{row['username']}\t{row['role']}")
        elif args.action == "passwd":
            if not await store.set_password(args.username, hash_password(read_password(args.password_stdin))):
                raise ValueError(f"no account named {args.username}")
            print(f"password of {args.username} changed")
        elif args.action == "remove":
            if not await store.remove_staff(args.username):
                raise ValueError(f"no account named {args.username}")
            print(f"removed {args.username}")
    finally:
        await store.close()
    return 0


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
    elif args.command == "staff":
        try:
            return asyncio.run(manage_staff(config, args))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
