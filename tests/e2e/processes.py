"""Running `lodestar` commands as their own processes, as an operator does: a fresh data
dir, settings from the environment, and a server on a free loopback port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.clients import ADMIN_KEY

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lodestar(data_dir: Path, *args: str, **settings: str) -> subprocess.Popen[bytes]:
    """Start `lodestar ARGS` on `data_dir` with LODESTAR_* `settings`; its stderr goes to
    `<data_dir>/stderr.log` (a pipe nobody reads would stall a chatty server)."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "QDRANT_URL"}}
    env["LODESTAR_DATA_DIR"] = str(data_dir)
    env["LODESTAR_ADMIN_KEY"] = ADMIN_KEY
    env.update(settings)
    with (data_dir / "stderr.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=log)


def run_lodestar(data_dir: Path, *args: str, **settings: str) -> None:
    """Run a command to its end; its stderr in the failure message when it fails."""
    code = lodestar(data_dir, *args, **settings).wait(timeout=600)
    assert code == 0, (data_dir / "stderr.log").read_text()[-4000:]


def users(data_dir: Path) -> list[int]:
    """The process ids registered as users of the embedded Postgres in `data_dir`."""
    path = data_dir / "pg" / ".handle_pids.json"
    return [int(p) for p in json.loads(path.read_text() or "[]")] if path.exists() else []


def postgres_running(data_dir: Path) -> bool:
    return (data_dir / "pg" / "postmaster.pid").exists()


def wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("the server did not come up")


def wait_until_warm(port: int) -> None:
    """Until the server has loaded the encoder and the catalog's words in the background
    (a shutdown waits for that load; search needs it)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        missing = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=30).json()["missing"]
        if not any(m.startswith("search:") for m in missing):
            return
        time.sleep(0.3)
    raise AssertionError("the server did not warm up")
