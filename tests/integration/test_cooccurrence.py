"""Bought together: co-occurrence in baskets, on a hand-made event log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from indexing.cooccurrence import bought_together
from models.db import Database
from models.settings import Settings

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def add_events(db: Database, rows: list[tuple[str, str, str, str | None, int]]) -> None:
    with db.engine.begin() as conn:
        for i, (user, product, kind, session, day) in enumerate(rows):
            conn.execute(text(
                "INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at, "
                "session_id) VALUES (:e, :u, :p, :k, :t, :s)"),
                {"e": f"e{i}", "u": user, "p": product, "k": kind, "s": session,
                 "t": T0 + timedelta(days=day, minutes=i)})


def test_pairs_in_the_same_basket_are_scored_by_normalised_cooccurrence(db: Database) -> None:
    add_events(db, [
        ("u1", "phone", "purchase", "s1", 0), ("u1", "case", "add_to_cart", "s1", 0),
        ("u2", "phone", "purchase", "s2", 1), ("u2", "case", "purchase", "s2", 1),
        ("u3", "phone", "purchase", "s3", 2), ("u3", "charger", "purchase", "s3", 2),
        # Views never make a basket; another session's cart is another basket.
        ("u4", "phone", "view", "s4", 3), ("u4", "shoe", "view", "s4", 3),
        ("u5", "shoe", "purchase", "s5", 3),
    ])
    together = bought_together(db, Settings.from_env(), T0 + timedelta(days=3))
    # phone in 3 baskets, case in 2, both in 2: 2 / sqrt(3 * 2).
    assert together["phone"][0] == ("case", pytest.approx(2 / 6 ** 0.5))
    assert together["phone"][1] == ("charger", pytest.approx(1 / 3 ** 0.5))
    assert [p for p, _ in together["case"]] == ["phone"]
    assert "shoe" not in together


def test_events_without_a_session_form_a_basket_per_user_and_day(db: Database) -> None:
    add_events(db, [
        ("u1", "tent", "purchase", None, 0), ("u1", "stove", "purchase", None, 0),
        ("u1", "lamp", "purchase", None, 5),
    ])
    together = bought_together(db, Settings.from_env(), T0 + timedelta(days=5))
    assert [p for p, _ in together["tent"]] == ["stove"]
    assert "lamp" not in together


def test_minimum_support_drops_rare_pairs(db: Database) -> None:
    add_events(db, [
        ("u1", "a", "purchase", "s1", 0), ("u1", "b", "purchase", "s1", 0),
        ("u2", "a", "purchase", "s2", 0), ("u2", "c", "purchase", "s2", 0),
        ("u3", "a", "purchase", "s3", 0), ("u3", "c", "purchase", "s3", 0),
    ])
    strict = Settings.from_env(bought_together_min_support=2)
    together = bought_together(db, strict, T0 + timedelta(days=1))
    assert [p for p, _ in together["a"]] == ["c"]
