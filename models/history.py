"""A shopper's recent events read from Postgres, as the ranking core's history record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from models.db import Database
from models.timing import timed
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


@timed("history")
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
    return ShopperHistory(user_id=user_id, events=_interactions(user_rows),
                          session_events=_interactions(session_rows), device_type=device_type)


def _interactions(rows: Sequence[Any]) -> list[Interaction]:
    """(product, type, time, device) rows as the ranking core's interactions, in order."""
    return [Interaction(str(p), str(k), t.timestamp()) for p, k, t, _ in rows]


# The per-shopper statement of load_history, run for each id of a page through a lateral
# join: the same index scan and LIMIT per shopper, so the same rows in the same order (a
# lateral subquery with a LIMIT is a nested loop: each shopper's rows come out together,
# as its scan yields them), in one round trip.
_USERS_EVENTS = text(
    """
    SELECT u.user_id, e.product_id, e.event_type, e.occurred_at, e.device_type
    FROM unnest(CAST(:user_ids AS text[])) AS u(user_id)
    CROSS JOIN LATERAL (
        SELECT product_id, event_type, occurred_at, device_type FROM events
        WHERE user_id = u.user_id AND (CAST(:since AS timestamptz) IS NULL
                                       OR occurred_at > CAST(:since AS timestamptz))
        ORDER BY occurred_at DESC LIMIT :limit
    ) AS e
    """
)


def load_histories(
    database: Database,
    user_ids: Sequence[str],
    since: datetime | None,
    limit: int,
) -> dict[str, ShopperHistory]:
    """`load_history` for many shoppers without a session, in one query: for each id, the
    same newest `limit` events after `since` and the same device (that of the newest event
    naming one). A batch export reads a page of shoppers this way instead of paying a
    round trip per shopper. Every id asked gets a history, empty if it has no events."""
    ids = list(dict.fromkeys(user_ids))
    rows: dict[str, list[Any]] = {u: [] for u in ids}
    if ids:
        with database.engine.connect() as conn:
            # Rows come per shopper in the lateral's order: newest first.
            for user_id, *row in conn.execute(_USERS_EVENTS, {
                    "user_ids": ids, "since": since.isoformat() if since else None,
                    "limit": limit}):
                rows[str(user_id)].append(row)
    return {
        u: ShopperHistory(
            user_id=u,
            events=_interactions(found),
            session_events=[],
            device_type=next((str(r[3]) for r in found if r[3]), None))
        for u, found in rows.items()}


_ACTIVE_SHOPPERS = text(
    """
    SELECT DISTINCT user_id FROM events
    WHERE occurred_at > CAST(:start AS timestamptz) AND user_id > :after
    ORDER BY user_id LIMIT :limit
    """
)


def active_shoppers(database: Database, start: datetime, after: str, limit: int) -> list[str]:
    """One page of the shoppers with an event after `start`: the first `limit` user ids
    greater than `after`, in id order. Paging by id (keyset), so a caller walks millions of
    shoppers holding one page at a time, and a page costs the same wherever it starts."""
    with database.engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(_ACTIVE_SHOPPERS, {
            "start": start.isoformat(), "after": after, "limit": limit})]


_COUNT_ACTIVE = text(
    "SELECT count(DISTINCT user_id) FROM events WHERE occurred_at > CAST(:start AS timestamptz)")


def count_active_shoppers(database: Database, start: datetime) -> int:
    """How many shoppers have an event after `start` (what a progress bar counts to)."""
    with database.engine.connect() as conn:
        return int(conn.execute(_COUNT_ACTIVE, {"start": start.isoformat()}).scalar() or 0)


_SESSION_OWNER = text("""
    SELECT user_id FROM events WHERE session_id = :session_id
    ORDER BY occurred_at, event_id LIMIT 1
""")


def session_owner(database: Database, session_id: str) -> str | None:
    """The shopper who started a session (its first event's), None for a new session."""
    with database.session() as session:
        owner = session.execute(_SESSION_OWNER, {"session_id": session_id}).scalar()
    return str(owner) if owner is not None else None
