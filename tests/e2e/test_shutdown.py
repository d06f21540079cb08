"""Stopping a command releases what it holds: a `lodestar serve` stopped with SIGTERM (as
systemd, Docker and process managers stop services) stops the embedded Postgres it was
the last user of, and a user that died without saying so does not keep it running."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lodestar(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "QDRANT_URL"}}
    env["LODESTAR_DATA_DIR"] = str(data_dir)
    return subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def users(data_dir: Path) -> list[int]:
    path = data_dir / "pg" / ".handle_pids.json"
    return [int(p) for p in json.loads(path.read_text() or "[]")] if path.exists() else []


def postgres_running(data_dir: Path) -> bool:
    return (data_dir / "pg" / "postmaster.pid").exists()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    migrate = lodestar(tmp_path, "migrate")
    assert migrate.wait(timeout=120) == 0
    assert not postgres_running(tmp_path)  # the last user left: the server stopped
    return tmp_path


def test_sigterm_stops_the_server_and_its_embedded_postgres(data_dir: Path) -> None:
    port = free_port()
    server = lodestar(data_dir, "serve", "--port", str(port))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        assert postgres_running(data_dir) and users(data_dir) == [server.pid]
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        if server.poll() is None:
            server.kill()
    assert users(data_dir) == []
    assert not postgres_running(data_dir)


def test_a_user_that_died_without_closing_does_not_keep_postgres_running(
    data_dir: Path,
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (data_dir / "pg").mkdir(exist_ok=True)
    (data_dir / "pg" / ".handle_pids.json").write_text(json.dumps([gone.pid]))
    migrate = lodestar(data_dir, "migrate")
    assert migrate.wait(timeout=120) == 0
    assert users(data_dir) == []
    assert not postgres_running(data_dir)
