"""Cart complements evaluated on held-out baskets, against the real Postgres."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from evaluation.cart import LAST_ITEM, OURS, POPULAR, evaluate_cart, markdown
from evaluation.recommendations import EvaluationOptions
from models.db import Database
from models.settings import Settings

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PRODUCTS = {"kettle": "kettles", "tea": "tea", "mugs": "mugs", "toaster": "toasters",
            "bread": "bakery", "jam": "spreads"}


def _shop(db: Database) -> None:
    with db.engine.begin() as conn:
        for pid, sub in PRODUCTS.items():
            conn.execute(text(
                "INSERT INTO products (product_id, title, category, subcategory, price, "
                "created_at) VALUES (:p, :p, 'home', :s, 1, :t)"),
                {"p": pid, "s": sub, "t": T0 - timedelta(days=100)})
        n = 0
        # Sixty days of baskets, then the two-week test period: the same two kinds of
        # basket throughout.
        for day in range(74):
            for k, basket in enumerate((["kettle", "tea", "mugs"], ["toaster", "bread", "jam"])):
                for product in basket:
                    n += 1
                    conn.execute(text(
                        "INSERT INTO events (event_id, user_id, product_id, event_type, "
                        "occurred_at, session_id) VALUES (:e, :u, :p, 'add_to_cart', :t, :s)"),
                        {"e": f"e{n}", "u": f"u{day % 7}", "p": product,
                         "t": T0 - timedelta(days=74 - day, minutes=-k),
                         "s": f"s{day}-{k}"})


def test_the_product_left_out_of_a_basket_comes_back(db: Database) -> None:
    _shop(db)
    result = evaluate_cart(db, Settings.from_env(), EvaluationOptions(test_days=14))
    assert result.n_baskets == 28
    assert result.same_subcategory == 0
    assert result.summaries[OURS]["hit_rate@10"] == 1.0
    assert result.summaries[OURS]["n_users"] == 28
    assert set(result.summaries) == {OURS, LAST_ITEM, POPULAR}
    assert f"| {OURS} |" in markdown(result)


def test_the_command_scores_the_cart_alone(
    db: Database, tmp_path: Path, run_cli: Callable[[list[str]], int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _shop(db)
    assert run_cli(["evaluate", "--cart", "--out", str(tmp_path / "out")]) == 0
    assert run_cli(["evaluate", "--cart", "--buy-again"]) == 2
    assert "## Cart complements" in capsys.readouterr().out
    assert (tmp_path / "out" / "cart.md").exists()
