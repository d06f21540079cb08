"""A shopper's history as read from the real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from models.db import Database
from models.history import load_history

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _events(db: Database, rows: list[tuple[str, str | None, str, str | None, int]]) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO products (product_id, title, category, price, created_at) "
            "VALUES ('P1', 'one', 'c', 1, :t), ('P2', 'two', 'c', 1, :t)"), {"t": T0})
        for i, (user, session, product, device, minute) in enumerate(rows):
            conn.execute(text(
                "INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at, "
                "session_id, device_type) VALUES (:e, :u, :p, 'view', :t, :s, :d)"),
                {"e": f"E{i}", "u": user, "p": product, "t": T0 + timedelta(minutes=minute),
                 "s": session, "d": device})


def test_history_reads_user_and_session_events_newest_first(db: Database) -> None:
    _events(db, [("U", "S1", "P1", "desktop", 1), ("U", "S2", "P2", None, 2),
                 ("ANON", "S3", "P2", "tablet", 3)])
    history = load_history(db, "U", "S3", None, 10)
    assert [e.product_id for e in history.events] == ["P2", "P1"]
    assert [e.product_id for e in history.session_events] == ["P2"]


def test_the_device_is_the_newest_named_one_session_first(db: Database) -> None:
    _events(db, [("U", "S1", "P1", "desktop", 1), ("U", "S2", "P2", None, 2),
                 ("ANON", "S3", "P2", "tablet", 3)])
    # The newest user event names no device: the one before it does.
    assert load_history(db, "U", None, None, 10).device_type == "desktop"
    assert load_history(db, "U", "S3", None, 10).device_type == "tablet"
    assert load_history(db, "U", "S3", None, 10, device_type="mobile").device_type == "mobile"
    assert load_history(db, "NOBODY", None, None, 10).device_type is None
