"""The exposure log: every list served under an experiment, written in batches by a
background thread so that a request only appends to a queue (microseconds), never waits on
Postgres.

A batch is one INSERT per shop (the rows travel as one JSON array), so thousands of
exposures a second cost a few statements. A batch that cannot be written (Postgres down)
stays queued and is tried again; the queue is bounded (`max_queued`): beyond it the oldest
exposures are dropped and counted, rather than the server running out of memory. `close()`
writes everything still queued, so a clean shutdown loses nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from models.db import Database
from models.tenancy import for_shop

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Exposure:
    shop_id: str
    request_id: str
    experiment_id: str
    variant: str
    surface: str
    unit: str
    user_id: str | None
    session_id: str | None
    items: tuple[str, ...]
    teams: tuple[str, ...] | None
    shown_at: datetime

    def as_json(self) -> dict[str, object]:
        return {"request_id": self.request_id, "experiment_id": self.experiment_id,
                "variant": self.variant, "surface": self.surface, "unit": self.unit,
                "user_id": self.user_id, "session_id": self.session_id,
                "items": list(self.items),
                "teams": list(self.teams) if self.teams is not None else None,
                "shown_at": self.shown_at.isoformat()}


_INSERT = text("""
    INSERT INTO exposures (request_id, experiment_id, variant, surface, unit, user_id,
                           session_id, items, teams, shown_at)
    SELECT request_id, experiment_id, variant, surface, unit, user_id, session_id, items,
           teams, shown_at
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        request_id text, experiment_id text, variant text, surface text, unit text,
        user_id text, session_id text, items text[], teams text[], shown_at timestamptz)
    ON CONFLICT (shop_id, request_id) DO NOTHING""")


class ExposureLog:
    def __init__(self, database: Database, flush_seconds: float = 2.0,
                 batch_rows: int = 2_000, max_queued: int = 200_000) -> None:
        self._database = database
        self._flush_seconds = flush_seconds
        self._batch_rows = batch_rows
        self._max_queued = max_queued
        self._queue: deque[Exposure] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.dropped = 0
        self.failures = 0

    def add(self, exposure: Exposure) -> None:
        """Queue one exposure (called on the request path: no I/O)."""
        with self._lock:
            self._queue.append(exposure)
            if len(self._queue) > self._max_queued:
                self._queue.popleft()
                self.dropped += 1
            full = len(self._queue) >= self._batch_rows
        if full:
            self._wake.set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        """Write in the background from now on (again after a `close`)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="exposure-log", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._flush_seconds)
            self._wake.clear()
            with contextlib.suppress(Exception):  # logged in flush; the thread lives on
                self.flush()

    def flush(self) -> int:
        """Write every exposure queued now; the number written. On a failure the batch is
        put back (in order) and the error raised."""
        total = 0
        with self._write_lock:
            while True:
                with self._lock:
                    batch = [self._queue.popleft()
                             for _ in range(min(self._batch_rows, len(self._queue)))]
                if not batch:
                    return total
                try:
                    self._write(batch)
                except Exception:
                    self.failures += 1
                    log.warning("could not write %d exposures; will retry", len(batch),
                                exc_info=True)
                    with self._lock:
                        self._queue.extendleft(reversed(batch))
                        while len(self._queue) > self._max_queued:
                            self._queue.popleft()
                            self.dropped += 1
                    raise
                total += len(batch)
                self.written += len(batch)

    def _write(self, batch: list[Exposure]) -> None:
        by_shop: dict[str, list[dict[str, object]]] = {}
        for exposure in batch:
            by_shop.setdefault(exposure.shop_id, []).append(exposure.as_json())
        for shop_id, rows in by_shop.items():
            with for_shop(shop_id), self._database.engine.begin() as conn:
                conn.execute(_INSERT, {"rows": json.dumps(rows)})

    def close(self) -> None:
        """Stop the thread and write what is left (a clean shutdown loses nothing that
        Postgres can take)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            self.flush()
        except Exception:
            log.error("%d exposures could not be written at shutdown", self.queued)
