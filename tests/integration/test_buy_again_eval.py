"""The buy-again evaluation on a time split, against the real Postgres."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from evaluation.buy_again import BASELINE, OURS, evaluate_buy_again, markdown
from evaluation.recommendations import EvaluationOptions
from models.db import Database
from models.settings import Settings

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_shoppers_who_buy_again_are_scored_on_what_they_bought_again(db: Database) -> None:
    with db.engine.begin() as conn:
        for pid, category in (("coffee", "pantry"), ("tea", "pantry"), ("sofa", "home")):
            conn.execute(text(
                "INSERT INTO products (product_id, title, category, price, created_at) "
                "VALUES (:p, :p, :c, 1, :t)"), {"p": pid, "c": category, "t": T0})
        n = 0
        for u in range(30):
            # Coffee weekly for ten weeks, a sofa once; tea twice, long ago. The last
            # two weeks are the test period.
            buys = [("coffee", 7 * w + u % 3) for w in range(10)] + [("sofa", u)]
            buys += [("tea", 1), ("tea", 3)]
            for product, day in buys:
                n += 1
                conn.execute(text(
                    "INSERT INTO events (event_id, user_id, product_id, event_type, "
                    "occurred_at) VALUES (:e, :u, :p, 'purchase', :t)"),
                    {"e": f"e{n}", "u": f"u{u}", "p": product,
                     "t": T0 + timedelta(days=day, hours=u % 5)})
    result = evaluate_buy_again(db, Settings.from_env(), EvaluationOptions(test_days=14))
    assert result.n_scored == 30
    assert result.n_shoppers_with_purchases == 30
    ours, base = result.summaries[OURS], result.summaries[BASELINE]
    # Coffee, the one repurchase, is first in every list: a perfect score for both here.
    assert ours["hit_rate@10"] == 1.0 and ours["ndcg@10"] == 1.0
    assert base["hit_rate@10"] == 1.0
    assert ours["empty"] == 0.0
    report = markdown(result)
    assert "## Buy it again" in report and f"| {OURS} |" in report


def test_the_command_scores_buy_again_alone(
    db: Database, tmp_path: Path, run_cli: Callable[[list[str]], int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    test_shoppers_who_buy_again_are_scored_on_what_they_bought_again(db)
    assert run_cli(["evaluate", "--buy-again", "--out", str(tmp_path / "out")]) == 0
    assert run_cli(["evaluate", "--buy-again", "--search"]) == 2
    assert f"| {OURS} |" in capsys.readouterr().out
    assert "## Buy it again" in (tmp_path / "out" / "buy_again.md").read_text()
