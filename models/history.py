"""A shopper's recent events read from Postgres, as the ranking core's history record."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from models.db import Database
from ranking.history import Interaction, ShopperHistory

_USER_EVENTS = text(
    """
    SELECT product_id, event_type, occurred_at, device_type FROM events
    WHERE user_id = :user_id AND (CAST(:since AS timestamptz) IS NULL
                                  OR occurred_at > CAST(:since AS timestamptz))
    ORDER BY occurred_at DESC LIMIT :limit
    """
)
_SESSION_EVENTS = text(
    """
    SELECT product_id, event_type, occurred_at, device_type FROM events
    WHERE session_id = :session_id ORDER BY occurred_at DESC LIMIT :limit
    """
)


def window_start(as_of: datetime | None, window_days: int) -> datetime | None:
    """Where a shopper's history starts: `window_days` before the index's as-of time (no
    start with no window, 0, or no as-of time)."""
    if as_of is None or window_days <= 0:
        return None
    return as_of - timedelta(days=window_days)


def load_history(
    database: Database,
    user_id: str | None,
    session_id: str | None,
    since: datetime | None,
    limit: int,
    device_type: str | None = None,
) -> ShopperHistory:
    """The shopper's newest `limit` events after `since` (the start of the event window),
    and their session's events: two index scans (per user, per session). The device is
    `device_type` when given, else that of the newest event that names one, the session's
    first."""
    with database.engine.connect() as conn:
        user_rows: list[Any] = []
        if user_id is not None:
            user_rows = list(conn.execute(_USER_EVENTS, {
                "user_id": user_id, "since": since.isoformat() if since else None,
                "limit": limit}))
        session_rows: list[Any] = []
        if session_id is not None:
            session_rows = list(conn.execute(_SESSION_EVENTS,
                                             {"session_id": session_id, "limit": limit}))
    if device_type is None:
        # Rows come newest first.
        device_type = next((str(r[3]) for r in (*session_rows, *user_rows) if r[3]), None)
    return ShopperHistory(
        user_id=user_id,
        events=[Interaction(str(p), str(k), t.timestamp()) for p, k, t, _ in user_rows],
        session_events=[Interaction(str(p), str(k), t.timestamp())
                        for p, k, t, _ in session_rows],
        device_type=device_type)


_SESSION_OWNER = text("""
    SELECT user_id FROM events WHERE session_id = :session_id
    ORDER BY occurred_at, event_id LIMIT 1
""")


def session_owner(database: Database, session_id: str) -> str | None:
    """The shopper who started a session (its first event's), None for a new session."""
    with database.session() as session:
        owner = session.execute(_SESSION_OWNER, {"session_id": session_id}).scalar()
    return str(owner) if owner is not None else None
