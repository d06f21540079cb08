"""A shopper's recent events read from Postgres, as the ranking core's history record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from models.db import Database
from models.timing import timed
from ranking.buy_again import PastPurchases, distinct_days
from ranking.history import Interaction, ShopperHistory

# The shopper's newest events, and (in the same round trip) every product they ever hid or
# disliked, which no window or limit may drop: the second part reads its partial index.
_USER_EVENTS = text(
    """
    (SELECT false AS hidden, product_id, event_type, occurred_at, device_type FROM events
     WHERE user_id = :user_id AND (CAST(:since AS timestamptz) IS NULL
                                   OR occurred_at > CAST(:since AS timestamptz))
     ORDER BY occurred_at DESC LIMIT :limit)
    UNION ALL
    (SELECT DISTINCT true, product_id, NULL, NULL::timestamptz, NULL FROM events
     WHERE user_id = :user_id AND event_type IN ('dislike', 'hide'))
    """
)
_HIDDEN_BY = text(
    """
    SELECT DISTINCT user_id, product_id FROM events
    WHERE user_id = ANY(CAST(:user_ids AS text[])) AND event_type IN ('dislike', 'hide')
    """
)
# Every product a shopper touched in the window (and whether they bought it), read only
# when their newest events filled the limit, so that what lies beyond it is still known.
MOST_TOUCHED = 20_000
"""Products of a shopper's window read for leaving them out: a bound on one request's
work, far above what a person buys."""
_TOUCHED = text(
    """
    SELECT product_id, bool_or(event_type = 'purchase') FROM events
    WHERE user_id = :user_id AND (CAST(:since AS timestamptz) IS NULL
                                  OR occurred_at > CAST(:since AS timestamptz))
    GROUP BY product_id ORDER BY product_id LIMIT :most
    """
)
_TOUCHED_BY = text(
    """
    SELECT user_id, product_id, bought FROM (
        SELECT user_id, product_id, bool_or(event_type = 'purchase') AS bought,
               row_number() OVER (PARTITION BY user_id ORDER BY product_id) AS n
        FROM events
        WHERE user_id = ANY(CAST(:user_ids AS text[]))
          AND (CAST(:since AS timestamptz) IS NULL OR occurred_at > CAST(:since AS timestamptz))
        GROUP BY user_id, product_id) per_product
    WHERE n <= :most
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
    touched: frozenset[str] = frozenset()
    bought: frozenset[str] = frozenset()
    with database.engine.connect() as conn:
        user_rows: list[Any] = []
        hidden: frozenset[str] = frozenset()
        if user_id is not None:
            rows = list(conn.execute(_USER_EVENTS, {
                "user_id": user_id, "since": since.isoformat() if since else None,
                "limit": limit}))
            hidden = frozenset(str(r[1]) for r in rows if r[0])
            user_rows = sorted((r[1:] for r in rows if not r[0]), key=lambda r: r[2],
                               reverse=True)
            if len(user_rows) >= limit:
                window = list(conn.execute(_TOUCHED, {
                    "user_id": user_id, "since": since.isoformat() if since else None,
                    "most": MOST_TOUCHED}))
                touched = frozenset(str(r[0]) for r in window)
                bought = frozenset(str(r[0]) for r in window if r[1])
        session_rows: list[Any] = []
        if session_id is not None:
            session_rows = list(conn.execute(_SESSION_EVENTS,
                                             {"session_id": session_id, "limit": limit}))
    if device_type is None:
        # Rows come newest first.
        device_type = next((str(r[3]) for r in (*session_rows, *user_rows) if r[3]), None)
    return ShopperHistory(user_id=user_id, events=_interactions(user_rows),
                          session_events=_interactions(session_rows), device_type=device_type,
                          hidden=hidden, touched=touched, bought=bought)


_HIDDEN = text("""
    SELECT DISTINCT product_id FROM events
    WHERE user_id = :user_id AND event_type IN ('dislike', 'hide')
""")


@timed("history")
def hidden_products(database: Database, user_id: str | None) -> frozenset[str]:
    """The products a shopper ever hid or disliked (none for no shopper): what no surface
    may show them again. One read of a small partial index."""
    if user_id is None:
        return frozenset()
    with database.engine.connect() as conn:
        return frozenset(str(r[0]) for r in conn.execute(_HIDDEN, {"user_id": user_id}))


# A shopper's purchases per product over the buy-again horizon, the products bought most
# lately first (at most :limit of them), with the time of the product's last return.
_PURCHASES = text("""
    SELECT product_id,
           array_agg(EXTRACT(EPOCH FROM occurred_at)::float8 ORDER BY occurred_at)
               FILTER (WHERE event_type = 'purchase'),
           max(EXTRACT(EPOCH FROM occurred_at)::float8) FILTER (WHERE event_type = 'return')
    FROM events
    WHERE user_id = :user_id AND event_type IN ('purchase', 'return')
      AND (CAST(:since AS timestamptz) IS NULL OR occurred_at > CAST(:since AS timestamptz))
    GROUP BY product_id
    HAVING count(*) FILTER (WHERE event_type = 'purchase') > 0
    ORDER BY max(occurred_at) FILTER (WHERE event_type = 'purchase') DESC, product_id
    LIMIT :limit
""")


@timed("history")
def past_purchases(database: Database, user_id: str, since: datetime | None,
                   limit: int) -> list[PastPurchases]:
    """What the shopper bought after `since`, per product (purchases one per day), the
    `limit` products bought most lately; `returned` when a return follows the last one."""
    with database.engine.connect() as conn:
        rows = conn.execute(_PURCHASES, {"user_id": user_id, "limit": limit,
                                         "since": since.isoformat() if since else None}).all()
    out = []
    for product_id, times, last_return in rows:
        days = distinct_days(times)
        out.append(PastPurchases(str(product_id), days,
                                 returned=last_return is not None and last_return >= days[-1]))
    return out


# What a session put in its cart and has not bought (nor returned) since: the cart.
_SESSION_CART = text("""
    SELECT product_id FROM events
    WHERE session_id = :session_id AND event_type IN ('add_to_cart', 'purchase', 'return')
    GROUP BY product_id
    HAVING max(occurred_at) FILTER (WHERE event_type = 'add_to_cart')
           > coalesce(max(occurred_at) FILTER (WHERE event_type IN ('purchase', 'return')),
                      '-infinity')
    ORDER BY max(occurred_at) DESC, product_id
    LIMIT :limit
""")


@timed("history")
def session_cart(database: Database, session_id: str, limit: int) -> list[str]:
    """The products a session added to its cart and has not bought since, most lately
    added first, at most `limit`."""
    with database.engine.connect() as conn:
        return [str(r[0]) for r in conn.execute(_SESSION_CART, {"session_id": session_id,
                                                                "limit": limit})]


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
    hidden: dict[str, set[str]] = {u: set() for u in ids}
    touched: dict[str, set[str]] = {u: set() for u in ids}
    bought: dict[str, set[str]] = {u: set() for u in ids}
    if ids:
        with database.engine.connect() as conn:
            # Rows come per shopper in the lateral's order: newest first.
            for user_id, *row in conn.execute(_USERS_EVENTS, {
                    "user_ids": ids, "since": since.isoformat() if since else None,
                    "limit": limit}):
                rows[str(user_id)].append(row)
            for user_id, product_id in conn.execute(_HIDDEN_BY, {"user_ids": ids}):
                hidden[str(user_id)].add(str(product_id))
            full = [u for u, found in rows.items() if len(found) >= limit]
            if full:
                for user_id, product_id, was_bought in conn.execute(_TOUCHED_BY, {
                        "user_ids": full, "since": since.isoformat() if since else None,
                        "most": MOST_TOUCHED}):
                    touched[str(user_id)].add(str(product_id))
                    if was_bought:
                        bought[str(user_id)].add(str(product_id))
    return {
        u: ShopperHistory(
            user_id=u,
            events=_interactions(found),
            session_events=[],
            device_type=next((str(r[3]) for r in found if r[3]), None),
            hidden=frozenset(hidden[u]), touched=frozenset(touched[u]),
            bought=frozenset(bought[u]))
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
