"""Search through the real Postgres and engine: the full-text columns the migration
generates, the lexical retriever's weighting and filters, and the search evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from api.cli import main
from evaluation.search import GRADED_MODES, SearchEvalOptions, evaluate_search
from indexing.encoder import SentenceEncoder
from indexing.pipeline import reindex
from indexing.vectorstore import VectorStore, open_vector_store
from indexing.vectorstore.port import Filter, Range
from models import index_versions
from models.db import Database
from models.settings import Settings
from ranking.query import fold
from retrieval.search import LexicalRetriever, catalog_vocabulary, understand
from tests.shop import fill_tiny_shop


def _add(db: Database, pid: str, title: str = "Plain Item", brand: str = "Acme",
         category: str = "Home", subcategory: str = "Misc", tags: tuple[str, ...] = (),
         description: str = "", price: float = 10.0, in_stock: bool = True) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO products (product_id, title, description, category, subcategory,"
            " brand, price, tags, in_stock, created_at) VALUES (:p, :t, :d, :c, :s, :b, :price,"
            " :tags, :stock, now())"),
            {"p": pid, "t": title, "d": description, "c": category, "s": subcategory,
             "b": brand, "price": price, "tags": list(tags), "stock": in_stock})


@pytest.mark.parametrize("word", ["CAFÉ Crème", "Łódź", "ÅNGSTRÖM", "naïve façade", "Señor"])
def test_postgres_folds_as_queries_are_folded(db: Database, word: str) -> None:
    with db.engine.connect() as conn:
        folded = conn.execute(text("SELECT lodestar_fold(:w)"), {"w": word}).scalar_one()
    assert folded == fold(word)


def test_fields_weigh_title_brand_category_tags_description(db: Database,
                                                           settings: Settings) -> None:
    _add(db, "in-description", description="a sturdy kayak for lakes")
    _add(db, "in-tags", tags=("kayak",))
    _add(db, "in-category", category="Kayak Gear")
    _add(db, "in-brand", brand="Kayak Works")
    _add(db, "in-title", title="Touring Kayak")
    _add(db, "elsewhere", title="Tent")
    found = LexicalRetriever(db, settings).search(("kayak",), Filter(), 10)
    assert [p for p, _ in found] == ["in-title", "in-brand", "in-category", "in-tags",
                                     "in-description"]


def test_every_word_beats_some_words_and_accents_match(db: Database,
                                                      settings: Settings) -> None:
    _add(db, "both", title="Crème Brûlée Torch", description="for the kitchen")
    _add(db, "one", title="Blow Torch Torch Torch")
    _add(db, "none", title="Garden Hose")
    retriever = LexicalRetriever(db, settings)
    vocabulary = catalog_vocabulary(db, settings)
    query = understand("creme TORCHES", vocabulary, 200)  # stemmed, folded
    found = [p for p, _ in retriever.search(query.terms, Filter(), 10)]
    assert found == ["both", "one"]


def test_sku_in_the_title_field_and_filters(db: Database, settings: Settings) -> None:
    _add(db, "SKU-991", title="Trail Lamp", category="Outdoor", price=40.0)
    _add(db, "lamp-cheap", title="Trail Lamp", category="Outdoor", price=9.0)
    _add(db, "lamp-out", title="Trail Lamp", category="Outdoor", price=20.0, in_stock=False)
    _add(db, "lamp-home", title="Trail Lamp", category="Home", price=20.0)
    retriever = LexicalRetriever(db, settings)
    assert next(p for p, _ in retriever.search(("sku-991",), Filter(), 5)) == "SKU-991"
    found = retriever.search(("lamp",), Filter(equals={"category": "Outdoor", "in_stock": True},
                                               ranges={"price": Range(gte=10.0)}), 10)
    assert [p for p, _ in found] == ["SKU-991"]
    with pytest.raises(ValueError, match="cannot filter on 'description'"):
        retriever.search(("lamp",), Filter(equals={"description": "x"}), 5)


def test_a_product_updated_in_postgres_is_found_by_its_new_words(db: Database,
                                                                settings: Settings) -> None:
    _add(db, "p1", title="Old Name")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE products SET title = 'Harbour Lantern' WHERE product_id='p1'"))
    found = LexicalRetriever(db, settings).search(("lantern",), Filter(), 5)
    assert [p for p, _ in found] == ["p1"]


def test_evaluate_search_scores_all_strategies_and_leaves_the_index_alone(
    db: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder,
    tmp_path: Path,
) -> None:
    fill_tiny_shop(db)
    reindex(db, store, settings, encoder)
    before = [(v.version, v.status) for v in index_versions.all_versions(db)]
    collections = sorted(store.list_collections())
    result = evaluate_search(db, store, settings, encoder,
                             SearchEvalOptions(n_queries=40, max_users=40, seed=3))
    assert [(v.version, v.status) for v in index_versions.all_versions(db)] == before
    assert sorted(store.list_collections()) == collections
    assert result.n_cases["graded"] == 40
    assert result.n_cases["purchases"] > 0
    for mode in GRADED_MODES:
        for metric in ("ndcg", "mrr"):
            assert 0.0 <= result.graded[mode][metric] <= 1.0
    assert set(result.purchases) == {"fused", "personal"}
    assert len(result.checks()) == 4
    # Exact-product queries find their product most of the time even on a tiny shop.
    assert result.graded_by_kind["exact"]["fused"]["ndcg"] > 0.3


def test_cli_writes_the_search_report(db: Database, settings: Settings,
                                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                      encoder: SentenceEncoder) -> None:
    fill_tiny_shop(db)
    store = open_vector_store(settings)
    try:
        reindex(db, store, settings, encoder)
    finally:
        store.close()
    monkeypatch.setenv("LODESTAR_DATA_DIR", str(settings.storage.data_dir))
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("LODESTAR_ALS_ITERATIONS", "5")
    out = tmp_path / "reports"
    assert main(["evaluate", "--search", "--queries", "20", "--max-users", "20",
                 "--out", str(out), "--json"]) == 0
    body = json.loads((out / "search.json").read_text())
    assert set(body["graded"]) == set(GRADED_MODES)
    assert "fused + personal" in (out / "search.md").read_text()
    assert main(["evaluate", "--search", "--cold-items"]) == 2
