"""`lodestar tune` on the tiny shop: the validation window only, the current settings as
the first trial, the winner stored per shop and applied by the next reindex."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from evaluation.recommendations import EvaluationOptions, choose_split, load_events
from evaluation.tune import K, TuneOptions, candidates, tune
from indexing.encoder import SentenceEncoder
from indexing.pipeline import reindex
from indexing.vectorstore import VectorStore
from models import index_versions, tuning
from models.db import Database
from models.settings import Settings
from retrieval.live_index import LiveIndex
from tests.shop import fill_tiny_shop


def test_the_search_reads_the_validation_window_and_starts_from_the_current_settings(
    db: Database, settings: Settings,
) -> None:
    fill_tiny_shop(db)
    result = tune(db, settings, TuneOptions(trials=3, max_users=200))
    _, _, test = choose_split(load_events(db), EvaluationOptions())
    # Scored up to the test cut, never after it; trained before a cut as much earlier.
    assert result.scored_until == test.cut.isoformat()
    assert result.cut == (test.cut - timedelta(days=14)).isoformat()
    assert len(result.trials) == 3 and result.stopped_by == "trials"
    first = result.trials[0].values
    assert first == {"als_factors": settings.training.als_factors,
                     "als_regularization": settings.training.als_regularization,
                     "als_alpha": settings.training.als_alpha,
                     "als_iterations": settings.training.als_iterations}
    assert result.best.scores[f"ndcg@{K}"] >= result.current.scores[f"ndcg@{K}"]
    assert all(0 <= t.scores[f"ndcg@{K}"] <= 1 for t in result.trials)
    # A budget stops starting trials (the first always runs).
    quick = tune(db, settings, TuneOptions(trials=50, budget_seconds=1e-6, max_users=50))
    assert len(quick.trials) == 1 and quick.stopped_by == "budget"


def test_the_grid_is_seeded_and_the_current_settings_come_first() -> None:
    current = {"als_factors": 64, "als_regularization": 0.1, "als_alpha": 40.0,
               "als_iterations": 20}
    assert candidates(current, 3) == candidates(current, 3)
    assert candidates(current, 3)[0] == current
    assert candidates(current, 3)[1:5] != candidates(current, 4)[1:5]
    assert current not in candidates(current, 3)[1:]
    with pytest.raises(ValueError, match="trials"):
        TuneOptions(trials=0)


def test_the_winner_is_stored_for_the_shop_and_the_next_reindex_trains_with_it(
    db: Database, settings: Settings, store: VectorStore, encoder: SentenceEncoder,
    run_cli: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str],
) -> None:
    fill_tiny_shop(db)
    assert run_cli(["tune", "--trials", "2", "--max-users", "100"]) == 0
    assert run_cli(["tune", "--trials", "0"]) == 2
    assert "Tuning ALS on the validation window" in capsys.readouterr().out
    stored = tuning.load(db)
    assert stored is not None and set(stored) == {"als_factors", "als_regularization",
                                                  "als_alpha", "als_iterations"}
    # Make the stored winner one the configured settings are not, to see it applied.
    tuning.save(db, {**stored, "als_alpha": 7.5, "als_factors": 16}, {"trials": []})
    reindex(db, store, settings, encoder)
    live = index_versions.live_version(db)
    assert live is not None and live.settings is not None
    assert live.settings["als_alpha"] == 7.5 and live.settings["als_factors"] == 16
    index = LiveIndex(db)
    index.refresh()
    assert index.view is not None and index.view.als_alpha == 7.5
    assert tuning.clear(db) and tuning.load(db) is None and not tuning.clear(db)


def test_evaluate_scores_the_tuned_settings_beside_the_configured_ones(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str],
) -> None:
    fill_tiny_shop(db)
    tuning.save(db, {"als_factors": 16, "als_regularization": 0.1, "als_alpha": 5.0,
                     "als_iterations": 5}, {"trials": []})
    monkeypatch.setenv("LODESTAR_ALS_ITERATIONS", "5")
    out = tmp_path / "out"
    assert run_cli(["evaluate", "--max-users", "30", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "# With the shop's tuned settings" in printed
    assert (out / "evaluation.md").exists() and (out / "tuned" / "evaluation.md").exists()
    assert (out / "buy_again.md").exists() and (out / "cart.md").exists()
