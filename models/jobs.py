"""Admin jobs in Postgres, so that every API worker can report on any of them."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError

from models.db import Database
from models.tables import Job

# A running job whose progress has not moved for this long lost its process.
LOST_AFTER = timedelta(minutes=15)


class JobBusy(RuntimeError):
    """A job of this kind is running already."""


@dataclass(frozen=True)
class JobInfo:
    job_id: str
    kind: str
    status: str  # running | done | failed | lost
    stage: str | None
    done: int
    total: int
    error: str | None
    result: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


def create(database: Database, kind: str) -> str:
    """Record a new running job; JobBusy if one of `kind` is running (the database's
    partial unique index decides, so two requests at once cannot both win)."""
    job_id = uuid.uuid4().hex
    with database.session() as session:
        # A job whose process died never finishes; it must not block the next one forever.
        session.execute(
            update(Job).where(Job.kind == kind, Job.status == "running",
                              Job.updated_at < datetime.now(UTC) - LOST_AFTER)
            .values(status="failed", error="lost: its process stopped reporting",
                    finished_at=text("now()")))
    try:
        with database.session() as session:
            session.add(Job(job_id=job_id, kind=kind, status="running"))
    except IntegrityError:
        raise JobBusy(f"a {kind} job is running") from None
    return job_id


def get(database: Database, job_id: str) -> JobInfo | None:
    with database.session() as session:
        row = session.get(Job, job_id)
        if row is None:
            return None
        status = row.status
        if status == "running" and datetime.now(UTC) - row.updated_at > LOST_AFTER:
            status = "lost"
        return JobInfo(row.job_id, row.kind, status, row.stage, row.done, row.total, row.error,
                       dict(row.result or {}), row.created_at, row.updated_at, row.finished_at)


def finish(database: Database, job_id: str, result: dict[str, Any]) -> None:
    _set(database, job_id, status="done", result=result, finished_at=text("now()"))


def fail(database: Database, job_id: str, error: str) -> None:
    _set(database, job_id, status="failed", error=error[:2000], finished_at=text("now()"))


class Progress:
    """A reindex progress callback that writes the job's stage and counts, at most every
    `every` seconds unless the stage changes."""

    def __init__(self, database: Database, job_id: str, every: float = 0.5) -> None:
        self.database, self.job_id, self.every = database, job_id, every
        self._stage: str | None = None
        self._at = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self._stage and now - self._at < self.every and done < total:
            return
        self._stage, self._at = stage, now
        _set(self.database, self.job_id, stage=stage, done=done, total=total)


def _set(database: Database, job_id: str, **values: Any) -> None:
    with database.session() as session:
        session.execute(update(Job).where(Job.job_id == job_id)
                        .values(updated_at=text("now()"), **values))
