"""Running the real thing for tests and benchmarks: a server process on a free port, Debian's Chromium."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from server.config import ROOT

CHROMIUM_ARGS = [
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Chromium is required for the browser tests: apt-get install chromium")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_prepared(url: str, deadline: float, log_name: str) -> None:
    """Scenes are prepared in the background after a server listens: wait until its /healthz says none is left
    preparing (a server without the field, an older one, prepared them before listening)."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as answer:
                if json.load(answer).get("preparing", 0) == 0:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"scenes still being prepared after the deadline; see {log_name}")


class ServerProcess:
    """`python -m server serve` on a free port; returns once it printed its URL."""

    def __init__(self, data_dir: Path, *extra_args: str, name: str = "server") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (data_dir / f"{name}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(self.port), "--data-dir", str(data_dir),
             *extra_args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=self.log, text=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 180
        line = ""
        while time.monotonic() < deadline and "running at" not in line:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log.name}")
        assert "running at" in line, line
        wait_until_prepared(self.url, deadline, self.log.name)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self.log.close()
        return code


class TransferLog:
    """What crossed the wire for one page, from Chromium's DevTools protocol: bytes per request
    (`encodedDataLength`: headers + compressed body) by URL. Used by the byte-budget tests and benchmarks."""

    def __init__(self, cdp) -> None:  # type: ignore[no-untyped-def]
        self.cdp = cdp
        self.urls: dict[str, str] = {}
        self.sizes: dict[str, float] = {}
        cdp.send("Network.enable")
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)

    def _response(self, event: dict) -> None:
        self.urls[event["requestId"]] = event["response"]["url"]

    def _finished(self, event: dict) -> None:
        self.sizes[event["requestId"]] = event["encodedDataLength"]

    def stop(self) -> None:
        self.cdp.remove_listener("Network.responseReceived", self._response)
        self.cdp.remove_listener("Network.loadingFinished", self._finished)

    @property
    def total(self) -> float:
        return sum(self.sizes.values())

    def items(self) -> list[tuple[str, float]]:
        """(url, bytes) of every finished request."""
        return [(self.urls.get(rid, "?"), size) for rid, size in self.sizes.items()]
