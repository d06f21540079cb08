"""Erasing shoppers and purging old events: the Postgres side.

Erasing a shopper deletes every row that names them (events, search events, the users
row) in one transaction with the erasure's record; their vectors in the vector store go in
a second step (indexing.erasure), retried until done. Purging deletes events older than a
cut-off.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from models.db import Database

_DELETE_SHOPPER = (
    # Search events of the shopper's sessions too: an anonymous impression in a session the
    # shopper started names the session, and the session names the shopper.
    ("search_events", text("""
        DELETE FROM search_events WHERE user_id = :user_id OR session_id IN (
            SELECT DISTINCT session_id FROM events
            WHERE user_id = :user_id AND session_id IS NOT NULL)""")),
    # Lists shown under an experiment, likewise by the shopper or their sessions.
    ("exposures", text("""
        DELETE FROM exposures WHERE user_id = :user_id OR session_id IN (
            SELECT DISTINCT session_id FROM events
            WHERE user_id = :user_id AND session_id IS NOT NULL)""")),
    ("events", text("DELETE FROM events WHERE user_id = :user_id")),
    ("users", text("DELETE FROM users WHERE user_id = :user_id")),
)


@dataclass(frozen=True)
class ErasureInfo:
    erasure_id: str
    status: str  # pending | done
    requested_at: datetime
    done_at: datetime | None
    attempts: int
    last_error: str | None


def erase_rows(conn: Connection, user_id: str, point_id: int, shop_id: str
               ) -> tuple[str, dict[str, int]]:
    """Delete every row naming the shopper and record a pending erasure, in the caller's
    transaction. Returns the erasure id and rows deleted per table."""
    deleted = {table: conn.execute(statement, {"user_id": user_id}).rowcount
               for table, statement in _DELETE_SHOPPER}
    erasure_id = uuid.uuid4().hex
    conn.execute(text("""
        INSERT INTO erasures (erasure_id, shop_id, point_id, status)
        VALUES (:id, :shop, :point, 'pending')"""),
                 {"id": erasure_id, "shop": shop_id, "point": point_id})
    return erasure_id, deleted


def pending(database: Database, limit: int = 100) -> list[tuple[str, int]]:
    """(erasure id, point id) of erasures whose vectors are not all gone yet."""
    with database.engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT erasure_id, point_id FROM erasures
            WHERE status = 'pending' AND point_id IS NOT NULL
            ORDER BY requested_at LIMIT :limit"""), {"limit": limit}).all()
    return [(str(r[0]), int(r[1])) for r in rows]


def held_points(database: Database) -> list[int]:
    """Point ids of erased shoppers that a build started before their erasure could still
    bring back: a version going live removes them first."""
    with database.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT point_id FROM erasures WHERE point_id IS NOT NULL")).all()
    return [int(r[0]) for r in rows]


def finish(database: Database, erasure_ids: list[str]) -> None:
    """Mark erasures done, and forget the point ids that no build in progress predates."""
    with database.engine.begin() as conn:
        conn.execute(text("""
            UPDATE erasures SET status = 'done', done_at = now(), attempts = attempts + 1,
                   last_error = NULL
            WHERE erasure_id = ANY(:ids) AND status = 'pending'"""), {"ids": erasure_ids})
        forget_points(conn)


def forget_points(conn: Connection) -> None:
    conn.execute(text("""
        UPDATE erasures e SET point_id = NULL
        WHERE e.status = 'done' AND e.point_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM index_versions v
            WHERE v.status = 'building' AND v.started_at <= e.requested_at)"""))


def failed_attempt(database: Database, erasure_ids: list[str], error: str) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("""
            UPDATE erasures SET attempts = attempts + 1, last_error = :error
            WHERE erasure_id = ANY(:ids)"""), {"ids": erasure_ids, "error": error[:500]})


def get(database: Database, erasure_id: str) -> ErasureInfo | None:
    with database.engine.connect() as conn:
        row = conn.execute(text("""
            SELECT erasure_id, status, requested_at, done_at, attempts, last_error
            FROM erasures WHERE erasure_id = :id"""), {"id": erasure_id}).first()
    return ErasureInfo(*row) if row is not None else None


def purge_before(database: Database, cutoff: datetime) -> dict[str, Any]:
    """Delete events, search events and experiment exposures that happened before `cutoff`,
    in one transaction; rows deleted per table."""
    with database.engine.begin() as conn:
        return {
            "events": conn.execute(text("DELETE FROM events WHERE occurred_at < :cutoff"),
                                   {"cutoff": cutoff}).rowcount,
            "search_events": conn.execute(
                text("DELETE FROM search_events WHERE occurred_at < :cutoff"),
                {"cutoff": cutoff}).rowcount,
            "exposures": conn.execute(text("DELETE FROM exposures WHERE shown_at < :cutoff"),
                                      {"cutoff": cutoff}).rowcount,
        }
