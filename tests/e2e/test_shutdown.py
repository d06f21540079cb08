"""Stopping a command releases what it holds: a `lodestar serve` stopped with SIGTERM (as
systemd, Docker and process managers stop services) stops the embedded Postgres it was
the last user of, lets a request in flight finish first, and a user that died without
saying so does not keep it running."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients import ADMIN_KEY, bearer
from tests.e2e.processes import (
    ROOT,
    free_port,
    lodestar,
    postgres_running,
    users,
    wait_until_serving,
    wait_until_warm,
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    migrate = lodestar(tmp_path, "migrate")
    assert migrate.wait(timeout=120) == 0
    assert not postgres_running(tmp_path)  # the last user left: the server stopped
    return tmp_path


def query(data_dir: Path, sql: str) -> list[dict[str, Any]]:
    """Rows of `sql` in the data dir's database, read by a short-lived command of our own
    (after the server has stopped)."""
    read = subprocess.run(
        [sys.executable, "-c", (
            "import json, sys\n"
            "from sqlalchemy import text\n"
            "from models.db import open_database\n"
            "from models.settings import Settings\n"
            "db = open_database(Settings(data_dir=sys.argv[1]), pool_size=1)\n"
            "with db.engine.connect() as c:\n"
            "    rows = c.execute(text(sys.argv[2])).mappings()\n"
            "    print(json.dumps([dict(r) for r in rows]))\n"
            "db.close()\n"), str(data_dir), sql],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return list(json.loads(read.stdout.strip().splitlines()[-1]))


def stored_events(data_dir: Path) -> list[dict[str, Any]]:
    return query(data_dir, "SELECT event_id, user_id FROM events")


@pytest.mark.parametrize(("grace", "finishes"), [(10, True), (1, False)])
def test_a_request_in_flight_when_sigterm_comes_finishes_within_the_grace_period(
    data_dir: Path, grace: int, finishes: bool
) -> None:
    port = free_port()
    server = lodestar(data_dir, "serve", "--port", str(port),
                      LODESTAR_SHUTDOWN_GRACE_SECONDS=str(grace))
    try:
        wait_until_serving(port)
        wait_until_warm(port)
        put = httpx.put(f"http://127.0.0.1:{port}/v1/products/P1",
                        headers=bearer(ADMIN_KEY),
                        json={"title": "Steel bottle", "category": "Outdoor", "price": 20})
        assert put.status_code in (200, 201)
        body = json.dumps({"event_id": "in-flight-1", "user_id": "u1", "product_id": "P1",
                           "event_type": "purchase",
                           "occurred_at": "2025-01-01T10:00:00Z"}).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            # Headers and half the body are in when the signal comes; the rest after it.
            conn.sendall(b"POST /v1/events HTTP/1.1\r\nHost: test\r\n"
                         b"Authorization: Bearer " + ADMIN_KEY.encode() + b"\r\n"
                         b"Content-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                         + body[:20])
            time.sleep(0.5)
            server.send_signal(signal.SIGTERM)
            if finishes:
                time.sleep(2.0)  # well inside the grace period
                assert server.poll() is None  # still waiting for the request
            else:
                # Gone once the grace period is over, without answering. Waited for rather
                # than timed: a busy machine may take longer to stop, never less.
                server.wait(timeout=60)
            answer = b""
            with contextlib.suppress(OSError):
                conn.sendall(body[20:])
                while b"\r\n\r\n" not in answer:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
        assert answer.startswith(b"HTTP/1.1 2") == finishes, answer
        assert server.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        if server.poll() is None:
            server.kill()
    assert not postgres_running(data_dir)
    stored = [e["event_id"] for e in stored_events(data_dir)]
    # Never half a write: the event is stored exactly when it was acknowledged.
    assert stored == (["in-flight-1"] if finishes else [])


def test_exposures_queued_at_sigterm_are_written_before_the_server_stops(
    data_dir: Path,
) -> None:
    port = free_port()
    # Exposures would wait a minute for their batch: only the shutdown can write them.
    server = lodestar(data_dir, "serve", "--port", str(port),
                      LODESTAR_EXPERIMENT_FLUSH_SECONDS="60")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(port)
        with httpx.Client(base_url=url, headers=bearer(ADMIN_KEY), timeout=30) as client:
            assert client.put("/v1/products/P1", json={
                "title": "Steel bottle", "category": "Outdoor", "price": 20}).is_success
            made = client.post("/v1/experiments", json={
                "name": "shutdown", "surface": "recommendations",
                "variants": [{"name": "a"}, {"name": "b"}]})
            assert made.status_code == 201
            served = {client.get(f"/v1/users/u{n}/recommendations").json()["request_id"]
                      for n in range(40)}
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        if server.poll() is None:
            server.kill()
    assert {row["request_id"] for row in query(data_dir, "SELECT request_id FROM exposures")
            } == served


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
