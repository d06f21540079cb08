"""Offline evaluation through the real stack: the tiny shop in Postgres, the Qdrant engine,
the encoder, and the recommender the API serves."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from api.cli import main
from data.demo_shop import ShopSpec, generate_shop
from evaluation.cold_items import STRATEGIES as COLD_STRATEGIES
from evaluation.cold_items import ColdItemsOptions, evaluate_cold_items
from evaluation.cold_items import write_reports as cold_reports
from evaluation.recommendations import (
    STRATEGIES,
    STRATEGY_LABELS,
    EvaluationOptions,
    NotEnoughEvents,
    evaluate,
)
from evaluation.report import BUCKET_TITLES, MISSING, write_reports
from indexing.encoder import SentenceEncoder
from indexing.pipeline import reindex
from indexing.vectorstore import VectorStore
from models import index_versions
from models.db import Database
from models.settings import Settings
from ranking.split import COLD_START_BUCKETS
from tests.shop import fill_tiny_shop

BOUNDED = ("precision@10", "recall@10", "ndcg@10", "map@10", "hit_rate@10", "mrr@10",
           "coverage", "served", "within_caps")


def _versions(db: Database) -> list[tuple[int, str, str, str]]:
    return [(v.version, v.status, v.items_collection, v.users_collection)
            for v in index_versions.all_versions(db)]


def test_evaluate_scores_every_strategy_per_bucket_and_leaves_the_live_index_alone(
    db: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder,
    tmp_path: Path,
) -> None:
    fill_tiny_shop(db)
    live = reindex(db, store, settings, encoder)
    versions, collections = _versions(db), store.list_collections()

    result = evaluate(db, store, settings, encoder, EvaluationOptions(max_users=60))

    # The train-only collections are gone and no index version was created or moved.
    assert store.list_collections() == collections
    assert _versions(db) == versions
    assert store.resolve_alias(settings.storage.items_alias) == live.items_collection

    info = result.split
    assert info.kind == "test"
    assert info.n_train_events + info.n_scored_events == info.n_events
    assert 0 < info.n_users_in_both <= info.n_train_users
    assert set(result.buckets) == set(COLD_START_BUCKETS)
    for bucket in COLD_START_BUCKETS:
        population, scored = result.bucket_sizes[bucket]
        assert scored == min(population, 60)
    groups = [result.overall, *result.buckets.values()]
    for group in groups:
        assert set(group) == set(STRATEGIES)
        for scores in group.values():
            if scores is None:
                continue
            for name in BOUNDED:
                assert 0.0 <= scores[name] <= 1.0, name
            assert 0.0 <= scores["ild"] <= 2.0
            assert scores["novelty"] >= 0.0
    # The hybrid and popularity answer everyone; shoppers with no history have nothing
    # for content or CF to start from.
    assert all(result.overall[s] is not None for s in STRATEGIES)
    assert result.overall["hybrid"] is not None and result.overall["hybrid"]["served"] == 1.0
    if result.bucket_sizes["0"][1]:
        assert result.buckets["0"]["content"] is None
        assert result.buckets["0"]["cf"] is None
        assert result.routes["0"] == {"popular": result.bucket_sizes["0"][1]}

    written = write_reports(result, tmp_path / "report", with_json=True)
    md, png, js = (tmp_path / "report" / name
                   for name in ("evaluation.md", "evaluation.png", "evaluation.json"))
    assert written == [md, png, js]
    report = md.read_text(encoding="utf-8")
    for label in STRATEGY_LABELS.values():
        assert f"| {label} |" in report
    for title in BUCKET_TITLES.values():
        assert title in report
    if result.bucket_sizes["0"][1]:
        assert MISSING in report
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    body = json.loads(js.read_text(encoding="utf-8"))
    assert body["split"]["kind"] == "test"
    assert set(body["buckets"]) == set(COLD_START_BUCKETS)
    assert set(body["overall"]) == set(STRATEGIES)

    # The validation split scores the period before the test cut, as long as the test
    # period, and reads nothing at or after the test cut.
    validation = evaluate(db, store, settings, encoder,
                          EvaluationOptions(max_users=20, validation=True)).split
    assert validation.kind == "validation"
    assert validation.scored_until == info.cut
    assert (validation.scored_until - validation.cut).total_seconds() == 14 * 86_400
    assert validation.n_events == info.n_train_events
    assert store.list_collections() == collections


def test_too_few_events_are_refused_with_one_line_and_exit_code_2(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], encoder: SentenceEncoder, store: VectorStore,
    settings: Settings,
) -> None:
    generate_shop(db, ShopSpec(products=20, users=3, events=4, seed=1), replace=True)
    with pytest.raises(NotEnoughEvents, match="too few events"):
        evaluate(db, store, settings, encoder, EvaluationOptions())

    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("LODESTAR_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.delenv("QDRANT_URL", raising=False)
    try:
        assert main(["evaluate"]) == 2
    finally:
        # The CLI configured logging onto this test's captured stream; let it go.
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("lodestar: too few events to split")


def test_cold_items_evaluation_withholds_products_and_leaves_nothing_behind(
    db: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    fill_tiny_shop(db)
    before = store.list_collections()
    result = evaluate_cold_items(db, store, settings, encoder,
                                 ColdItemsOptions(test_days=14, n_items=30, seed=1))
    assert store.list_collections() == before
    assert 0 < result.n_withheld <= 30 and result.n_withheld <= result.n_candidates
    assert result.n_users > 0
    assert set(result.scores) == set(COLD_STRATEGIES)
    for scores in result.scores.values():
        for name in ("recall@10", "ndcg@10", "hit_rate@10", "items_reached"):
            assert 0.0 <= scores[name] <= 1.0
    # Random insertion puts a withheld product in nearly every list; without inherited
    # factors nothing but that slot can surface them, so it reaches at least as many.
    assert (result.scores["random insertion"]["items_reached"]
            >= result.scores["no bootstrapping"]["items_reached"])
    written = cold_reports(result, tmp_path, with_json=True)
    assert json.loads(written[1].read_text())["n_withheld"] == result.n_withheld
    assert "| bootstrapped |" in written[0].read_text()
    # The same through the command line.
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("LODESTAR_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.delenv("QDRANT_URL", raising=False)
    try:
        assert main(["evaluate", "--cold-items", "--cold-n", "20",
                     "--out", str(tmp_path / "out")]) == 0
    finally:
        logging.getLogger().handlers.clear()
    assert (tmp_path / "out" / "cold_items.md").exists()
