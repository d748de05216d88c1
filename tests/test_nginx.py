"""The nginx configuration of docs/deploy.md, run for real in front of two server processes (one PostgreSQL, one
Redis): TLS ends at nginx, WebSocket upgrades reach the servers with the browser's Host and Origin, a staff write
over HTTPS is pushed to residents connected through it, plain HTTP is redirected. The configuration is read from
the document itself (only addresses, ports and certificate paths are replaced), so the sample stays true.

nginx comes from Debian's package (installed by .ci/run); a missing binary fails, never skips."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from server.config import ROOT
from tests.postgres_server import PostgresServer, postgres  # noqa: F401  (fixtures)
from tests.redis_server import RedisServer, free_port
from tests.support import ServerProcess
from tests.test_realtime import next_json
from tests.test_store import PASSWORD, staff_cli


def sample_configuration() -> str:
    text = (ROOT / "docs" / "deploy.md").read_text()
    found = re.search(r"```nginx\n(.*?)```", text, re.S)
    assert found, "docs/deploy.md has no nginx sample"
    return found.group(1)


def local_configuration(sample: str, upstreams: list[int], http_port: int, https_port: int, certs: Path) -> str:
    servers = "".join(f"    server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;\n" for port in upstreams)
    conf, count = re.subn(r"(    server \S+:\d+[^;]*;\n)+", servers, sample, count=1)
    assert count == 1
    for old, new in ((r"listen 80;", f"listen 127.0.0.1:{http_port};"),
                     (r"listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
                     (r"ssl_certificate +\S+;", f"ssl_certificate {certs / 'cert.pem'};"),
                     (r"ssl_certificate_key +\S+;", f"ssl_certificate_key {certs / 'key.pem'};")):
        conf, count = re.subn(old, new, conf)
        assert count == 1, old
    return conf


class Nginx:
    """nginx in the foreground with everything (pid, logs, temporary files) in its own folder."""

    def __init__(self, site: str, folder: Path) -> None:
        binary = shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
        if binary is None:
            raise RuntimeError("nginx not found: install it (apt-get install nginx) to run the deployment test")
        temp = "\n".join(f"  {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                              "uwsgi", "scgi"))
        user = "user root;\n" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} "
            f"warn;\nevents {{ worker_connections 512; }}\nhttp {{\n  access_log off;\n{temp}\n{site}\n}}\n")
        self.folder = folder
        self.process = subprocess.Popen([binary, "-p", str(folder), "-e", str(folder / "error.log"), "-c",
                                         str(folder / "nginx.conf")], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)

    def wait_listening(self, port: int, timeout: float = 10.0) -> None:
        import socket

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                log = (self.folder / "error.log").read_text(errors="replace")
                raise RuntimeError(f"nginx exited: {self.process.stderr.read() if self.process.stderr else ''} {log}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def behind_nginx(tmp_path_factory: pytest.TempPathFactory,
                 postgres: PostgresServer) -> Iterator[str]:  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("nginx")
    url = postgres.create_database()
    folder = Path(tempfile.mkdtemp(prefix="civic-nginx-"))
    certs = folder / "certs"
    certs.mkdir()
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                           "/CN=127.0.0.1", "-keyout", str(certs / "key.pem"), "-out", str(certs / "cert.pem")],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert staff_cli(tmp_path, "--database", url, "add", "edith", "--role", "editor", "--password-stdin",
                     password=PASSWORD).returncode == 0
    servers: list[ServerProcess] = []
    nginx = None
    with RedisServer() as redis:
        try:
            for name in ("a", "b"):
                (tmp_path / name).mkdir()
                servers.append(ServerProcess(tmp_path / name, "--database", url, "--redis", redis.url, "--node-id",
                                             name, "--trusted-proxies", "127.0.0.1", name=name))
            http_port, https_port = free_port(), free_port()
            nginx = Nginx(local_configuration(sample_configuration(), [s.port for s in servers], http_port,
                                              https_port, certs), folder)
            nginx.wait_listening(https_port)
            yield f"127.0.0.1:{https_port}", f"127.0.0.1:{http_port}"  # type: ignore[misc]
        finally:
            if nginx is not None:
                nginx.stop()
            for server in servers:
                server.stop()
            postgres.drop_database(url)
            shutil.rmtree(folder, ignore_errors=True)


async def test_residents_and_staff_work_through_the_documented_nginx(behind_nginx):
    https, http = behind_nginx
    site = f"https://{https}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     connector=aiohttp.TCPConnector(ssl=False)) as session:
        residents = []
        for name in ("Ann", "Bea"):  # round robin: one resident on each process
            ws = await session.ws_connect(f"wss://{https}/ws", origin=site)
            await ws.send_str(json.dumps({"type": "hello", "protocol": 1, "scene": "town-hall", "name": name}))
            await next_json(ws, "welcome", timeout=10)
            residents.append(ws)
        login = await session.post(f"{site}/api/auth/login", json={"username": "edith", "password": PASSWORD})
        assert login.status == 200
        assert "Secure" in login.headers["Set-Cookie"]  # the servers believe nginx's X-Forwarded-Proto
        placed = await session.post(f"{site}/api/scenes/town-hall/hotspots",
                                    headers={"X-CSRF-Token": (await login.json())["csrf"]},
                                    json={"position": [0, 1.5, 2.2], "kind": "information",
                                          "title": {"en": "Opening hours"}})
        assert placed.status == 201, await placed.text()
        for ws in residents:
            pushed = await next_json(ws, "hotspot", timeout=10)
            assert pushed["hotspot"]["title"] == {"en": "Opening hours"}
            await ws.close()
        assert (await session.get(f"{site}/metrics")).status == 404  # not through the public door
        redirect = await session.get(f"http://{http}/api/scenes", allow_redirects=False)
        assert redirect.status == 301 and redirect.headers["Location"].startswith("https://")
