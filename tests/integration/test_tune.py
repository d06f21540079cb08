"""`lodestar tune` on the tiny shop: the validation window only, the current settings as
the first trial of each phase, the winner stored per shop, trained with by the next
reindex and served with (the blend) once that version is live."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.resources import Resources
from evaluation.recommendations import EvaluationOptions, choose_split, load_events
from evaluation.tune import BLEND_SPACE, K, TuneOptions, beats, blend_steps, candidates, tune
from indexing.encoder import SentenceEncoder
from indexing.pipeline import reindex
from indexing.vectorstore import VectorStore
from models import experiments, index_versions, tuning
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
    # Without a store and an encoder there is no index to try blends over.
    assert result.blend is None and result.blend_skipped is not None
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
    assert run_cli(["tune", "--trials", "2", "--blend-trials", "2", "--max-users", "100"]) == 0
    assert run_cli(["tune", "--trials", "0"]) == 2
    assert run_cli(["tune", "--blend-trials", "-1"]) == 2
    printed = capsys.readouterr().out
    assert "Tuning ALS on the validation window" in printed
    assert "Tuning the hybrid's blend" in printed
    stored = tuning.load(db)
    assert stored is not None and set(stored) == {"als_factors", "als_regularization",
                                                  "als_alpha", "als_iterations", *BLEND_SPACE}
    # Make the stored winner one the configured settings are not, to see it applied.
    tuning.save(db, {**stored, "als_alpha": 7.5, "als_factors": 16,
                     "rec_popularity_weight": 1.75}, {"trials": []})
    reindex(db, store, settings, encoder)
    live = index_versions.live_version(db)
    assert live is not None and live.settings is not None
    assert live.settings["als_alpha"] == 7.5 and live.settings["als_factors"] == 16
    assert tuning.recorded(live.settings)["rec_popularity_weight"] == 1.75
    index = LiveIndex(db)
    index.refresh()
    assert index.view is not None and index.view.als_alpha == 7.5
    assert index.view.tuned_serving["rec_popularity_weight"] == 1.75
    assert "als_alpha" not in index.view.tuned_serving  # used by training, not serving
    # A later search starts from what the shop runs now: one trial a phase keeps it.
    winner = tuning.load(db)
    assert run_cli(["tune", "--trials", "1", "--blend-trials", "1", "--max-users", "50"]) == 0
    assert tuning.load(db) == winner
    assert tuning.clear(db) and tuning.load(db) is None and not tuning.clear(db)


def test_the_blend_search_moves_one_weight_at_a_time_from_the_current_blend(
    db: Database, settings: Settings, store: VectorStore, encoder: SentenceEncoder,
) -> None:
    fill_tiny_shop(db)
    before = set(store.list_collections())
    result = tune(db, settings, TuneOptions(trials=1, blend_trials=5, max_users=100),
                  store=store, encoder=encoder)
    blend = result.blend
    assert blend is not None and 1 < len(blend.trials) <= 5
    rec = settings.rec
    assert blend.current.values == {
        "rec_popularity_weight": rec.popularity_weight, "rec_alpha_max": rec.alpha_max,
        "rec_alpha_min": rec.alpha_min, "rec_content_weight": rec.content_weight,
        "rec_copurchase_weight": rec.copurchase_weight}
    assert blend.current.kept
    best = blend.current.values
    for trial in blend.trials[1:]:
        moved = [n for n in BLEND_SPACE if trial.values[n] != best[n]]
        assert len(moved) == 1 and trial.values[moved[0]] in BLEND_SPACE[moved[0]]
        assert trial.values["rec_alpha_min"] <= trial.values["rec_alpha_max"]
        assert 0 <= trial.scores[f"ndcg@{K}"] <= 1
        if trial.kept:
            best = trial.values
    assert blend.best.values == best
    assert result.winner == {**result.best.values, **best}
    # The index it scored over was its own, dropped afterwards; no version was made.
    assert set(store.list_collections()) == before
    assert index_versions.live_version(db) is None


def test_a_blend_is_kept_only_when_it_wins_by_more_than_its_noise() -> None:
    steady = [0.2, 0.4, 0.0, 0.6] * 50
    assert beats([x + 0.05 for x in steady], steady)
    assert not beats(steady, steady)  # a tie keeps the best so far
    # A higher mean made of one lucky shopper among many is noise.
    lucky = [*steady[:-1], steady[-1] + 1.0]
    assert sum(lucky) > sum(steady) and not beats(lucky, steady)


def test_blend_steps_leave_out_what_was_tried_and_backwards_cf_ranges() -> None:
    best = {"rec_popularity_weight": 0.5, "rec_alpha_max": 0.4, "rec_alpha_min": 0.3,
            "rec_content_weight": 0.6, "rec_copurchase_weight": 0.2}
    tried: set[tuple[tuple[str, float], ...]] = set()
    steps = blend_steps(best, ["rec_alpha_min"], tried)
    assert [s["rec_alpha_min"] for s in steps] == [0.1]  # 0.3 is best, 0.5 > alpha_max
    assert blend_steps(best, ["rec_alpha_min"], tried) == []


def test_servers_rank_with_the_live_versions_tuned_blend_and_experiments_build_on_it(
    db: Database, settings: Settings, store: VectorStore, encoder: SentenceEncoder,
) -> None:
    fill_tiny_shop(db)
    reindex(db, store, settings, encoder)
    index = LiveIndex(db)
    index.refresh()
    resources = Resources(settings=settings, database=db, store=store, index=index)
    assert resources.settings is settings  # untuned: the configured settings
    tuning.save(db, {"rec_popularity_weight": 1.75, "rec_alpha_max": 0.9}, {"trials": []})
    assert resources.settings.rec.popularity_weight == settings.rec.popularity_weight
    reindex(db, store, settings, encoder)  # the tuned blend serves from the next version
    assert resources.refresh_index()
    served = resources.settings
    assert served.rec.popularity_weight == 1.75 and served.rec.alpha_max == 0.9
    assert resources.settings is served  # made once per version
    assert resources.base_settings is settings
    # An experiment's variant overrides the shop's settings, tuned ones included.
    experiments.create(db, "pop", "recommendations", "ab", (
        experiments.Variant("control", 0.5), experiments.Variant(
            "more", 0.5, {"rec_content_weight": 0.9})), 100, datetime.now(UTC), None)
    live = resources.experiments.running(db, "recommendations", datetime.now(UTC),
                                         resources.shop_settings)
    assert live is not None
    control, more = live.settings
    assert control.rec.popularity_weight == 1.75 and more.rec.popularity_weight == 1.75
    assert more.rec.content_weight == 0.9
    with resources.using(more):
        assert resources.settings is more
    resources.exposures.close()


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


def test_reindex_tune_tunes_first_and_the_new_version_serves_the_winner(
    db: Database, run_cli: Callable[[list[str]], int],
) -> None:
    fill_tiny_shop(db)
    assert run_cli(["reindex", "--tune"]) == 0
    stored = tuning.load(db)
    live = index_versions.live_version(db)
    assert stored is not None and live is not None
    assert tuning.recorded(live.settings) == stored
    assert {name: live.settings[name] for name in stored} == stored
