"""Rate-limit counters in Postgres, for API processes that share one budget per bucket."""

from __future__ import annotations

from sqlalchemy import text

from models.db import Database

_HIT = text("""
    INSERT INTO rate_counters (bucket, window_start, hits) VALUES (:bucket, :window, 1)
    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_counters.hits + 1
    RETURNING hits
""")
_FORGET = text("DELETE FROM rate_counters WHERE window_start < :before")


def hit(database: Database, bucket: str, window: int) -> int:
    """Count one request in `bucket`'s window and return the window's count so far."""
    with database.session() as session:
        return int(session.execute(_HIT, {"bucket": bucket, "window": window}).scalar_one())


def forget_before(database: Database, window: int) -> None:
    """Drop the counts of windows that have ended."""
    with database.session() as session:
        session.execute(_FORGET, {"before": window})
