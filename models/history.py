"""A shopper's recent events read from Postgres, as the ranking core's history record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from models.db import Database
from ranking.history import Interaction, ShopperHistory

_USER_EVENTS = text(
    """
    SELECT product_id, event_type, occurred_at FROM events
    WHERE user_id = :user_id AND (CAST(:since AS timestamptz) IS NULL
                                  OR occurred_at > CAST(:since AS timestamptz))
    ORDER BY occurred_at DESC LIMIT :limit
    """
)
_SESSION_EVENTS = text(
    """
    SELECT product_id, event_type, occurred_at FROM events
    WHERE session_id = :session_id ORDER BY occurred_at DESC LIMIT :limit
    """
)


def load_history(
    database: Database,
    user_id: str | None,
    session_id: str | None,
    since: datetime | None,
    limit: int,
    context_category: str | None = None,
) -> ShopperHistory:
    """The shopper's newest `limit` events after `since` (the start of the event window),
    and their session's events: two index scans (per user, per session)."""
    with database.engine.connect() as conn:
        events = []
        if user_id is not None:
            rows = conn.execute(_USER_EVENTS, {
                "user_id": user_id, "since": since.isoformat() if since else None,
                "limit": limit})
            events = [Interaction(str(p), str(k), t.timestamp()) for p, k, t in rows]
        session = []
        if session_id is not None:
            rows = conn.execute(_SESSION_EVENTS, {"session_id": session_id, "limit": limit})
            session = [Interaction(str(p), str(k), t.timestamp()) for p, k, t in rows]
    return ShopperHistory(user_id=user_id, events=events, session_events=session,
                          context_category=context_category)
