"""A real, throwaway `redis-server` for tests: on a free port, no persistence, stoppable and restartable on the
same port (to simulate an outage and a restart that lost everything).

Invariants: never touches the shared Redis on 6379; a missing binary raises (a test failure, never a skip);
`start()` returns only once the server answers PING, `stop()` only once the process is gone.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from types import TracebackType


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _binary() -> str:
    path = shutil.which("redis-server") or ("/usr/bin/redis-server" if shutil.which("/usr/bin/redis-server") else None)
    if path is None:
        raise RuntimeError("redis-server not found: install it (apt-get install redis-server) to run the bus tests")
    return path


class RedisServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        if self.port == 6379:
            raise ValueError("port 6379 is the shared Redis; tests run their own")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        if self.process is not None:
            return
        self.process = subprocess.Popen(
            [
                _binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not self._answers_ping():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode} (port {self.port} in use?)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout} s")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.kill()  # like a crash: no goodbye to clients
        self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def command(self, *args: str) -> bytes:
        """Send one command (inline protocol) and return the raw reply line: enough for FLUSHALL and PING."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall((" ".join(args) + "\r\n").encode())
            return sock.recv(4096)

    def _answers_ping(self) -> bool:
        try:
            return self.command("PING").startswith(b"+PONG")
        except OSError:
            return False

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
