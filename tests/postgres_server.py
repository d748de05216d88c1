"""A real, throwaway PostgreSQL server for tests: `initdb` into a temporary folder, `pg_ctl` on a free port, one
fresh database per test, everything removed at the end.

Invariants: never touches a PostgreSQL that happens to run on the machine (its own data folder, a free port,
its own socket folder); a missing binary raises (a test failure, never a skip); as root, every PostgreSQL
program runs as the unprivileged `postgres` user through `runuser` (PostgreSQL refuses to run as root);
`start()` returns only once the server accepts connections, `stop()` only once it is gone. Durability is
switched off (fsync) because the folder is thrown away: these tests pin behaviour, not crash safety.

The `postgres` fixture (session-scoped) starts one server; `new_database(postgres)` gives a test its own
database URL.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import free_port

USER = "postgres"


def bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb (Debian's layout), else initdb on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError("PostgreSQL's initdb not found: install it (apt-get install postgresql) to run the store "
                       "tests")


class PostgresServer:
    def __init__(self) -> None:
        self.port = free_port()
        if self.port == 5432:
            raise ValueError("port 5432 is the machine's PostgreSQL; tests run their own")
        self.bin = bin_dir()
        self.root: Path | None = None

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", USER, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                              cwd=self.root or "/")

    def start(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="civic-pg-"))
        if os.geteuid() == 0:
            account = pwd.getpwnam(USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        data = self.root / "data"
        initdb = self._run("initdb", "-D", str(data), "-U", USER, "--auth=trust", "--encoding=UTF8",
                           "--locale=C.UTF-8", "--no-sync")
        if initdb.returncode != 0:
            self.stop()
            raise RuntimeError(f"initdb failed: {initdb.stderr.strip()}")
        self._pg_ctl_start()

    def _pg_ctl_start(self) -> None:
        assert self.root is not None
        data = self.root / "data"
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        started = self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(data), "-l", str(self.root / "log"),
                            "-o", options, timeout=90)
        if started.returncode != 0:
            log = (self.root / "log").read_text(errors="replace") if (self.root / "log").exists() else ""
            self.stop()
            raise RuntimeError(f"PostgreSQL did not start on port {self.port}: {started.stderr.strip()} {log[-500:]}")

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = self._run("psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                         "-p", str(self.port), "-U", USER, "-d", database, "-c", sql)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def create_database(self) -> str:
        """A new empty database; its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        self.psql(f"CREATE DATABASE {name}")
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def pause(self) -> None:
        """Stop the server, cutting every client off (fast: not immediate, which with durability off here would
        lose the last commits), keeping its data; `resume()` starts it again."""
        assert self.root is not None
        done = self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.root / "data"))
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {done.stderr.strip()}")

    def resume(self) -> None:
        assert self.root is not None
        self._pg_ctl_start()

    def stop(self) -> None:
        if self.root is None:
            return
        if (self.root / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.root / "data"))
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """A fresh database on the session's server, dropped after the test."""
    url = postgres.create_database()
    yield url
    postgres.drop_database(url)
