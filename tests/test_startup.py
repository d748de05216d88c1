"""A server that cannot start says why in one line and exits non-zero, at once (issue 9 item 8).

Before, a read-only data directory, a malformed database or a port in use printed a traceback and left the
process alive without listening, so a supervisor never restarted it; a database truncated to 0 bytes started
empty (staff, hotspots and audit log gone); two servers could share one data directory.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.config import ROOT
from tests.conftest import tiny_manifest, write_world
from tests.support import ServerProcess, free_port

START_TIMEOUT = 120  # seconds; a hang fails the test with TimeoutExpired


@pytest.fixture
def world() -> Iterator[Path]:
    """A tiny world in a directory every user may read (the read-only case runs the server as `nobody`)."""
    root = Path(tempfile.mkdtemp(prefix="civic-startup-"))
    root.chmod(0o755)
    write_world(root, {"tiny": tiny_manifest()})
    for sub in ("scenes", "assets"):
        (root / sub).chmod(0o755)
        for item in (root / sub).iterdir():
            item.chmod(0o644)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def world_args(world: Path) -> list[str]:
    return ["--scenes-dir", str(world / "scenes"), "--assets-dir", str(world / "assets"), "--no-optimize"]


def serve(world: Path, data_dir: Path, *extra: str, port: int | None = None,
          prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "server", "serve", "--port", str(port or free_port()), "--data-dir",
         str(data_dir), *world_args(world), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=START_TIMEOUT)


def one_line_reason(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    reasons = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(reasons) == 1, result.stderr[-2000:]
    assert "running at" not in result.stdout
    return reasons[0]


def test_a_port_in_use_is_refused_with_its_address(world):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        reason = one_line_reason(serve(world, world / "data", port=port))
    assert f"cannot listen on 127.0.0.1:{port}" in reason and "in use" in reason


def test_a_malformed_database_is_refused_and_left_untouched(world):
    data = world / "data"
    data.mkdir()
    garbage = b"this is not an SQLite database\n" * 200
    (data / "civic.sqlite3").write_bytes(garbage)
    reason = one_line_reason(serve(world, data))
    assert "civic.sqlite3" in reason and "not a database" in reason
    assert (data / "civic.sqlite3").read_bytes() == garbage


def test_an_empty_database_is_refused_unless_a_new_store_is_asked_for(world):
    data = world / "data"
    data.mkdir()
    (data / "civic.sqlite3").write_bytes(b"")
    reason = one_line_reason(serve(world, data))
    assert "empty (0 bytes)" in reason and "--new-store" in reason
    assert (data / "civic.sqlite3").stat().st_size == 0  # not silently initialised

    server = ServerProcess(data, *world_args(world), "--new-store")
    try:
        assert (data / "civic.sqlite3").stat().st_size > 0
        assert len(list(data.glob("civic.sqlite3.empty-*"))) == 1  # set aside, never deleted
    finally:
        assert server.stop() == 0


def test_a_missing_database_is_created_on_first_start(world):
    data = world / "fresh"
    data.mkdir()  # for the test's own log file; the database does not exist yet
    server = ServerProcess(data, *world_args(world))
    try:
        assert (data / "civic.sqlite3").stat().st_size > 0
    finally:
        assert server.stop() == 0


def test_a_second_server_on_the_same_data_directory_is_refused(world):
    data = world / "data"
    data.mkdir()
    first = ServerProcess(data, *world_args(world))
    try:
        reason = one_line_reason(serve(world, data))
        assert "another Civic Space server" in reason and f"pid {first.proc.pid}" in reason
    finally:
        assert first.stop() == 0
    again = ServerProcess(data, *world_args(world), name="again")  # the lock went with the first server
    assert again.stop() == 0


def test_a_read_only_data_directory_is_refused(world):
    data = world / "data"
    data.mkdir()
    data.chmod(0o555)
    # root writes anywhere: run the server as an unprivileged user, as a city would.
    prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups") if os.geteuid() == 0 else ()
    if prefix and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop privileges to make a directory read-only")
    reason = one_line_reason(serve(world, data, prefix=prefix))
    assert f"the data directory {data} is not writable" in reason
