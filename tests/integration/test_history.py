"""A shopper's history as read from the real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from indexing.interactions import load_interactions
from models.db import Database
from models.history import hidden_products, load_histories, load_history
from models.settings import Settings
from ranking.history import purchased

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


def _typed(db: Database, rows: list[tuple[str, str, str, int]]) -> None:
    """(user, product, event type, minutes after T0) events for products P1 and P2."""
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO products (product_id, title, category, price, created_at) "
            "VALUES ('P1', 'one', 'c', 1, :t), ('P2', 'two', 'c', 1, :t)"), {"t": T0})
        for i, (user, product, kind, minute) in enumerate(rows):
            conn.execute(text(
                "INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at) "
                "VALUES (:e, :u, :p, :k, :t)"),
                {"e": f"E{i}", "u": user, "p": product, "k": kind,
                 "t": T0 + timedelta(minutes=minute)})


def test_what_a_shopper_hid_or_disliked_is_read_beyond_the_window_and_the_limit(
    db: Database,
) -> None:
    # A hide years before the window, then more events than the history's limit.
    _typed(db, [("U", "P1", "hide", -3_000_000), ("U", "P2", "dislike", -2_000_000),
                *[("U", "P2", "view", m) for m in range(5)], ("V", "P1", "hide", 1)])
    history = load_history(db, "U", None, T0, 3)
    assert len(history.events) == 3
    assert all(e.event_type == "view" for e in history.events)
    assert [e.at for e in history.events] == sorted((e.at for e in history.events),
                                                    reverse=True)
    assert history.hidden == {"P1", "P2"}
    assert history.blocked == {"P1", "P2"}
    assert hidden_products(db, "U") == {"P1", "P2"}
    assert hidden_products(db, "V") == {"P1"}
    assert hidden_products(db, None) == frozenset()
    assert load_history(db, "NOBODY", None, None, 10).hidden == frozenset()
    # The batch export reads the same.
    assert load_histories(db, ["U", "V", "W"], T0, 3)["U"].hidden == {"P1", "P2"}
    assert load_histories(db, ["U", "V", "W"], T0, 3)["W"].hidden == frozenset()


def test_a_purchase_and_its_return_count_against_the_product_in_training(db: Database) -> None:
    _typed(db, [("U", "P1", "view", 0), ("U", "P1", "add_to_cart", 1),
                ("U", "P1", "purchase", 1), ("U", "P1", "return", 2),
                ("U", "P2", "purchase", 3), ("V", "P1", "purchase", 4)])
    settings = Settings.from_env(event_window_days=0, decay_per_day=0)
    interactions = load_interactions(db, settings)
    matrix = interactions.matrix.toarray()
    cell = {(u, p): matrix[interactions.users.index(u), interactions.items.index(p)]
            for u in ("U", "V") for p in ("P1", "P2")}
    weights = settings.training.event_weights()
    assert cell[("U", "P1")] == pytest.approx(
        weights["view"] + weights["add_to_cart"] + weights["purchase"] + weights["return"])
    assert cell[("U", "P1")] < 0
    assert cell[("U", "P2")] == weights["purchase"]
    assert cell[("V", "P1")] == weights["purchase"]


def test_what_a_shopper_touched_beyond_the_limit_is_still_known_within_the_window(
    db: Database,
) -> None:
    # P1 bought long ago (in the window), then more views of P2 than the limit.
    _typed(db, [("U", "P1", "purchase", 1), *[("U", "P2", "view", m) for m in range(2, 8)],
                ("V", "P1", "view", 1), ("W", "P1", "purchase", -10), ("W", "P2", "view", 5),
                ("W", "P2", "view", 6)])
    history = load_history(db, "U", None, None, 3)
    assert {e.product_id for e in history.events} == {"P2"}
    assert history.touched == {"P1", "P2"} and history.bought == {"P1"}
    assert purchased(history) == {"P1"}
    # A shopper whose events fit the limit has them all in `events`; nothing more is read.
    assert load_history(db, "V", None, None, 3).touched == frozenset()
    # Only the window counts: W's purchase before it is not theirs to leave out.
    windowed = load_history(db, "W", None, T0, 2)
    assert windowed.touched == {"P2"} and windowed.bought == frozenset()
    # The batch export reads the same.
    batch = load_histories(db, ["U", "V", "W"], None, 3)
    assert batch["U"] == history and batch["V"] == load_history(db, "V", None, None, 3)
    assert load_histories(db, ["W"], T0, 2)["W"] == windowed
