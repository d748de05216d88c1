"""Command line: `python -m server serve [--host H] [--port P] [--data-dir D] [--database URL] [--workers N]`,
`python -m server staff add|list|passwd|remove` and `python -m server store copy --from URL --to URL`.

Every command that touches the store honours `--database` / CIVIC_DATABASE_URL (default: SQLite in the data
directory) and `--database-pool` / CIVIC_DATABASE_POOL.

Prints the URL once listening; SIGINT or SIGTERM stops it gracefully (open requests finish, then exit 0).
Invariant: a server that cannot start exits non-zero at once with one line on stderr saying why (`error: ...`),
so a supervisor sees the failure; it never stays alive without listening (issue 9 item 8). Start-up order:
lock the data directory (one server per data directory: an exclusive lock on `<data-dir>/.lock`), raise the
open-file limit, build the app, open the store, listen.

`--workers N` (N > 1, needs `--redis`): this process locks the data directory, prepares what the workers share
(the scene assets on disk, the store's migrations: done once, never raced), then forks N workers that listen
on the same port (SO_REUSEPORT: the kernel spreads connections over them) and share rooms through Redis like
separate servers would. They share the data directory and the store: SQLite in WAL mode takes writers of several
processes (every write is a `BEGIN IMMEDIATE` transaction waiting up to its busy timeout), PostgreSQL anyway. The
lock is inherited by the workers, so no other server takes the directory while one of them lives. The URL line is
printed once every worker listens; SIGINT/SIGTERM stops them all gracefully; a worker that dies stops the others
and the server exits non-zero (its supervisor restarts it). Per-address connection caps count per worker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import functools
import getpass
import logging
import os
import re
import resource
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from . import scenes_cli
from .addresses import LOOPBACK
from .app import WEB, create_app
from .auth import ROLES, hash_password
from .config import Config, config_from
from .connections import AddressCap, GuardedProtocol, GuardedSite, listen, make_runner
from .events.oparl_cli import add_parser as add_events_parser
from .events.oparl_cli import run as run_events
from .keys import METRICS
from .logs import AccessLogger, setup_logging
from .store import DATABASE_FILE, SQLiteStore, StoreError, open_store, store_from_url
from .store.copy import copy_store

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
    serve.add_argument("--new-store", dest="new_store", action="store_const", const="1",
                       help="accept an empty (0-byte) database file: set it aside and start a new, empty store")
    add_database_arguments(serve)
    serve.add_argument("--workers", type=int,
                       help="server processes sharing the port and, through --redis, the rooms (default 1, env "
                            "CIVIC_WORKERS); they share the data directory and the store")
    serve.add_argument("--oparl-url", help="import council meetings periodically from this OParl 1.1 System, Body or "
                                           "meeting list URL (env CIVIC_OPARL_URL; off by default)")
    serve.add_argument("--oparl-every", type=float, help="seconds between OParl imports (default 900)")
    serve.add_argument("--oparl-scene", help="scene of imported meetings (default town-hall)")
    serve.add_argument("--oparl-zone", help="zone of imported meetings (default council-chamber)")
    serve.add_argument("--oparl-timezone", help="time zone of imported meetings (default Europe/Berlin)")
    serve.add_argument("--oparl-lang", choices=["en", "fr", "nl", "es"],
                       help="language the council's texts are stored under (default en)")
    serve.add_argument("--recording-keep-days", type=int,
                       help="days a meeting's audio recording is kept after it ended, then deleted (default 365, "
                            "env CIVIC_RECORDING_KEEP_DAYS)")
    serve.add_argument("--header-timeout", type=float,
                       help="seconds a client has to send a request's headers (default 15, env CIVIC_HEADER_TIMEOUT)")
    serve.add_argument("--body-timeout", type=float,
                       help="seconds a client has to send a request body (default 30, env CIVIC_BODY_TIMEOUT)")
    serve.add_argument("--max-connections-per-address", type=int,
                       help="open connections per client address (default 64, env CIVIC_MAX_CONNECTIONS_PER_ADDRESS)")
    staff = commands.add_parser("staff", help="manage staff accounts (editor, moderator, admin)")
    staff.add_argument("--data-dir", help="where the database lives (default ./data, env CIVIC_DATA_DIR)")
    add_database_arguments(staff)
    actions = staff.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    listing = actions.add_parser("list", help="list accounts")
    passwd = actions.add_parser("passwd", help="set a new password (signs the account out everywhere)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    remove = actions.add_parser("remove", help="delete an account")
    remove.add_argument("username")
    for action in (add, listing, passwd, remove):  # `staff add … --data-dir D` as well as `staff --data-dir D add …`
        # SUPPRESS: when not given after the action, the value given before it is kept (not reset to None).
        action.add_argument("--data-dir", default=argparse.SUPPRESS, help="as `staff --data-dir`")
    store = commands.add_parser("store", help="manage the store itself")
    store_actions = store.add_subparsers(dest="action", required=True)
    copy = store_actions.add_parser(
        "copy", help="copy everything from one store to another and verify it (repeatable)",
        description="Copy staff, sessions, hotspots, proposals, supports and the audit log, then verify counts, "
                    "rows and the audit log's order. Stop the servers using the source first.")
    copy.add_argument("--from", dest="source", required=True,
                      help="sqlite:///path/to/civic.sqlite3 (or a data directory) or postgresql://…")
    copy.add_argument("--to", dest="target", required=True, help="sqlite:///… or postgresql://…")
    add_events_parser(commands)
    scenes_cli.add_parser(commands)
    return parser.parse_args(argv)


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", dest="database_url",
                        help="the store: sqlite:///path or postgresql://user@host/db (default SQLite in the data "
                             "directory, env CIVIC_DATABASE_URL)")
    parser.add_argument("--database-pool", dest="database_pool", type=int,
                        help="PostgreSQL connections per process (default 10, env CIVIC_DATABASE_POOL)")


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():  # piped or closed: getpass would warn, echo, then stop on the second prompt
        raise ValueError("standard input is not a terminal; to pipe the password in, give --password-stdin")
    try:
        first = getpass.getpass("Password (10 characters or more): ")
        again = getpass.getpass("Again: ")
    except EOFError:  # Ctrl-D at a prompt: one line, not a traceback
        raise ValueError("no password typed") from None
    if again != first:
        raise ValueError("the passwords differ")
    return first


class StartupError(Exception):
    """The server cannot start; the message is the one line printed before exiting non-zero."""


def lock_data_dir(data_dir: Path) -> int:
    """Create the data directory if needed and hold an exclusive lock on `<data-dir>/.lock` for the life of the
    process (released by the kernel when it ends, even on SIGKILL). Returns the lock's file descriptor."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StartupError(f"the data directory {data_dir} is not writable: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise StartupError(f"another Civic Space server (pid {holder}) is using the data directory {data_dir}; "
                           "stop it, or give this one its own --data-dir") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        probe = data_dir / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        os.close(fd)
        raise StartupError(f"the data directory {data_dir} is not writable: {exc.strerror or exc}") from exc
    return fd


def set_aside_empty_database(path: Path) -> None:
    """`--new-store`: an empty (0-byte) database file and its WAL files are renamed, never deleted."""
    if not path.exists() or path.stat().st_size > 0:
        return
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.rename(path.with_name(f"{path.name}.empty-{stamp}{suffix}"))
    log.warning("empty database set aside; starting a new store", extra={"file": path.name})


def raise_file_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit: every resident is a socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    log.info("open file limit", extra={"limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0]})


async def manage_staff(config: Config, args: argparse.Namespace) -> int:
    store = await open_store(config)
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


async def copy_stores(config: Config, args: argparse.Namespace) -> int:
    if args.source == args.target:
        raise ValueError("--from and --to name the same store")
    source = store_from_url(args.source, config.database_pool)
    target = store_from_url(args.target, config.database_pool)
    if isinstance(source, SQLiteStore) and not source.path.exists():
        raise ValueError(f"there is no database at {source.path}")
    await source.open()
    try:
        await target.open()
        try:
            counts = await copy_store(source, target)
        finally:
            await target.close()
    finally:
        await source.close()
    print("copied and verified: " + ", ".join(f"{table} {n}" for table, n in counts.items()))
    return 0


class SharedPortSite(GuardedSite):
    """A `GuardedSite` whose socket shares its port with the other workers' (SO_REUSEPORT)."""

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self.app_runner.server
        assert server is not None
        cap = self.cap
        self._server = await asyncio.get_running_loop().create_server(
            lambda: GuardedProtocol(server(), cap), self.host, self.port, reuse_address=True, reuse_port=True)
        if self._server.sockets:
            self.bound_port = int(self._server.sockets[0].getsockname()[1])


async def listen_shared(runner: web.AppRunner, config: Config) -> int:
    """`connections.listen` for a worker: the same cap, on a shared port."""
    refused = runner.app[METRICS].connections_refused
    cap = AddressCap(config.max_connections_per_address, [*LOOPBACK, *config.trusted_proxies], refused.inc)
    site = SharedPortSite(runner, config.host, config.port, cap)
    await site.start()
    return site.bound_port


async def serve(config: Config, listening: Callable[[str], None] | None = None) -> None:
    """Run one server process until SIGINT/SIGTERM. `listening` is told the URL once it listens (default: print
    it); a worker of `--workers` tells its parent instead and listens on the shared port."""
    loop = asyncio.get_running_loop()
    try:
        # Scenes are prepared in the background: /healthz and ready scenes answer at once, a slow or broken
        # scene holds up nothing else (the scene list says which are still being prepared).
        app = await loop.run_in_executor(None, functools.partial(create_app, config, prepare_in_background=True))
        await loop.run_in_executor(None, app[WEB].warm)
    except OSError as exc:
        raise StartupError(f"cannot prepare {exc.filename or config.data_dir}: {exc.strerror or exc}") from exc
    runner = make_runner(app, config, access_log_class=AccessLogger)
    host = f"[{config.host}]" if ":" in config.host else config.host
    try:
        try:
            await runner.setup()  # opens the store, starts the bus and the tick
        except StoreError as exc:
            raise StartupError(str(exc)) from exc
        except OSError as exc:
            raise StartupError(f"cannot open {exc.filename or config.data_dir}: {exc.strerror or exc}") from exc
        try:
            port = await (listen(runner, config) if listening is None else listen_shared(runner, config))
        except OSError as exc:
            raise StartupError(f"cannot listen on {host}:{config.port}: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(Exception):
            await runner.cleanup()
        raise
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Only now: whoever waits for this line may stop the server gracefully at once.
    url = f"http://{host}:{port}/"
    if listening is None:
        print(f"Civic Space is running at {url}  (Ctrl+C to stop)", flush=True)
    else:
        listening(url)
    await stop.wait()
    log.info("shutting down")
    await runner.cleanup()


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (its transports and selector are C: the per-message cost of every
    socket read and write drops), else None for asyncio's default loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def reserve_port(config: Config) -> socket.socket:
    """A socket bound (not listening) to the server's address with SO_REUSEPORT, held by the parent: it resolves
    port 0 to the port every worker then binds, and fails early when the port is taken."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    reserved = socket.socket(family, socket.SOCK_STREAM)
    try:
        reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        reserved.bind((config.host, config.port))
    except OSError as exc:
        reserved.close()
        raise StartupError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from exc
    return reserved


def prepare_shared(config: Config) -> None:
    """What the workers share on disk, done once before they start: the scene assets (built by `create_app`), the
    compressed web files (`warm`) and the store's migrations (two workers doing either at once would race)."""
    try:
        create_app(config)[WEB].warm()
    except OSError as exc:
        raise StartupError(f"cannot prepare {exc.filename or config.data_dir}: {exc.strerror or exc}") from exc

    async def migrate() -> None:
        store = await open_store(config)
        await store.close()

    try:
        asyncio.run(migrate())
    except StoreError as exc:
        raise StartupError(str(exc)) from exc


def run_worker(config: Config, ready: int) -> int:
    """One worker (a forked child): serve, write one byte to `ready` once listening, exit code as `start`."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)

    def listening(_: str) -> None:
        os.write(ready, b"1")
        os.close(ready)

    try:
        with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(serve(config, listening))
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except BaseException as exc:  # a child must never return into the parent's code
        log.debug("worker failed", exc_info=True)
        print(f"error: worker failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


def run_workers(config: Config) -> int:
    """`--workers N`: fork N workers on one port, print the URL once all listen, stop them all on SIGINT/SIGTERM
    (0) or when one of them dies (1)."""
    reserved = reserve_port(config)
    shared = replace(config, port=int(reserved.getsockname()[1]))
    prepare_shared(shared)
    stopping = False
    pids: list[int] = []

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    ready_read, ready_write = os.pipe()
    for index in range(config.workers):
        worker = replace(shared, node_id=f"{config.node_id}-{index}") if config.node_id else shared
        worker = replace(worker, periodic_jobs=index == 0)  # one OParl sync per server, not one per worker
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(ready_read)
            reserved.close()
            os._exit(run_worker(worker, ready_write))
        pids.append(pid)
    os.close(ready_write)
    started = 0
    while started < config.workers:
        try:
            chunk = os.read(ready_read, config.workers)
        except InterruptedError:
            continue
        if not chunk:  # every worker closed its end: the missing ones failed (and said why on stderr)
            break
        started += len(chunk)
    os.close(ready_read)
    code = 0
    if started < config.workers:
        stop()
        code = 1
    elif not stopping:
        host = f"[{shared.host}]" if ":" in shared.host else shared.host
        print(f"Civic Space is running at http://{host}:{shared.port}/  ({config.workers} workers; Ctrl+C to "
              "stop)", flush=True)
    while pids:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid not in pids:
            continue
        pids.remove(pid)
        if not stopping:
            log.error("a worker exited; stopping the others", extra={"status": os.waitstatus_to_exitcode(status)})
            code = 1
            stop()
    reserved.close()
    return code


def start(config: Config) -> int:
    """Run the server until stopped; 0 after a graceful stop, 1 with a one-line reason if it cannot start."""
    try:
        lock = lock_data_dir(config.data_dir)
        if config.new_store and not config.database_url:
            set_aside_empty_database(config.data_dir / DATABASE_FILE)
        raise_file_limit()
        if config.workers > 1:
            code = run_workers(config)
            os.close(lock)
            return code
        with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(serve(config))
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except Exception as exc:  # anything else at start: still one line and a non-zero exit, never a hang
        log.debug("start-up failed", exc_info=True)
        print(f"error: cannot start: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    os.close(lock)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = config_from(vars(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.log_level)
    if args.command == "serve":
        return start(config)
    if args.command == "scenes":
        return scenes_cli.run(args)
    if args.command in ("staff", "store"):
        try:
            return asyncio.run(manage_staff(config, args) if args.command == "staff" else copy_stores(config, args))
        except (ValueError, StoreError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if args.command == "events":
        return asyncio.run(run_events(args, config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
