"""The reindex through the real stack: embedded Postgres, the Qdrant engine, the encoder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import text

from indexing.collections import CF, CF_RAW, TEXT
from indexing.encoder import SentenceEncoder
from indexing.interactions import load_interactions
from indexing.pipeline import ReindexBusy, RollbackRefused, reindex, rollback
from indexing.vectorstore import VectorStore, open_vector_store
from indexing.vectorstore.port import Filter, Query, point_id
from models import index_versions
from models.db import Database
from models.settings import Settings
from tests.shop import fill_tiny_shop


@pytest.fixture
def shop(db: Database) -> Database:
    fill_tiny_shop(db)
    return db


def count(db: Database, sql: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


def test_reindex_indexes_every_product_and_switches_the_alias(
    shop: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder
) -> None:
    result = reindex(shop, store, settings, encoder)

    live = index_versions.live_version(shop)
    assert live is not None and live.version == result.version
    assert store.resolve_alias(settings.storage.items_alias) == result.items_collection
    assert store.count(result.items_collection) == count(shop, "SELECT count(*) FROM products")
    assert set(live.timings) >= {"embed", "als", "write_items", "switch"}
    # Every product has a text vector; exactly those with events in the window have CF.
    assert 0 < result.n_items_with_cf < result.n_items
    never_seen = count(shop, "SELECT count(*) FROM products p WHERE NOT EXISTS "
                       "(SELECT 1 FROM events e WHERE e.product_id = p.product_id)")
    assert result.n_items - result.n_items_with_cf >= never_seen


def test_product_without_events_gets_a_text_vector_but_no_cf(
    shop: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder
) -> None:
    with shop.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO products (product_id, title, category, price, created_at) "
            "VALUES ('NEW-1', 'Brand new trail running shoe', 'Sports', 99, now())"))
    result = reindex(shop, store, settings, encoder)
    record = store.retrieve(result.items_collection, [point_id("NEW-1")],
                            vectors=[TEXT, CF, CF_RAW])[0]
    assert TEXT in record.vectors
    assert CF not in record.vectors
    assert record.payload is not None and record.payload["has_cf"] is False
    # It inherits raw factors from its text neighbours, so recommendations can find it.
    assert record.payload["cf_bootstrapped"] is True
    inherited = record.vectors[CF_RAW]
    neighbours = store.query(result.items_collection, Query(
        record.vectors[TEXT], TEXT, 20, Filter(equals={"has_cf": True}), with_payload=False))
    learnt = store.retrieve(result.items_collection, [h.id for h in neighbours],
                            vectors=[CF_RAW], with_payload=False)
    weights = np.array([max(h.score, 0.0) for h in neighbours])
    expected = weights @ np.stack([r.vectors[CF_RAW] for r in learnt]) / weights.sum()
    assert np.allclose(inherited, expected, atol=1e-4)


def test_second_reindex_embeds_nothing_new(
    shop: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder
) -> None:
    first = reindex(shop, store, settings, encoder)
    second = reindex(shop, store, settings, encoder)
    assert first.embedded > 0
    assert second.embedded == 0
    assert second.version == first.version + 1
    statuses = {v.version: v.status for v in index_versions.all_versions(shop)}
    assert statuses == {first.version: "retired", second.version: "live"}


def test_old_versions_beyond_the_kept_number_are_dropped(
    shop: Database, settings: Settings, encoder: SentenceEncoder
) -> None:
    keep_two = settings.replace(als_iterations=2, versions_to_keep=2)
    store = open_vector_store(keep_two)
    try:
        results = [reindex(shop, store, keep_two, encoder) for _ in range(3)]
        names = store.list_collections()
        assert results[0].items_collection not in names
        assert results[1].items_collection in names
        assert results[2].items_collection in names
    finally:
        store.close()


class FailingAliasStore:
    """The real store, except that switching the alias fails: a crash at the last step."""

    def __init__(self, inner: VectorStore) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def set_alias(self, alias: str, collection: str) -> None:
        raise RuntimeError("disk full")


def test_failed_reindex_leaves_the_live_version_serving(
    shop: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder
) -> None:
    good = reindex(shop, store, settings, encoder)
    with pytest.raises(RuntimeError, match="disk full"):
        reindex(shop, FailingAliasStore(store), settings, encoder)  # type: ignore[arg-type]
    live = index_versions.live_version(shop)
    assert live is not None and live.version == good.version
    assert store.resolve_alias(settings.storage.items_alias) == good.items_collection
    failed = [v for v in index_versions.all_versions(shop) if v.status == "failed"]
    assert len(failed) == 1
    assert failed[0].items_collection not in store.list_collections()


def test_a_second_reindex_while_one_runs_is_refused(
    shop: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder
) -> None:
    with index_versions.reindex_lock(shop) as held:
        assert held
        with pytest.raises(ReindexBusy):
            reindex(shop, store, settings, encoder)


def test_leftovers_of_an_interrupted_reindex_are_cleaned_up(
    shop: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder
) -> None:
    crashed = index_versions.start_version(shop, settings.storage.collection_prefix, {})
    from indexing.collections import items_spec

    store.create_collection(crashed.items_collection, items_spec(encoder.dim, 64))
    reindex(shop, store, settings, encoder)
    assert crashed.items_collection not in store.list_collections()
    statuses = {v.version: v.status for v in index_versions.all_versions(shop)}
    assert statuses[crashed.version] == "failed"


def test_window_and_decay_are_measured_from_the_newest_event_not_the_clock(
    db: Database, settings: Settings
) -> None:
    long_ago = datetime(2019, 5, 1, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO products (product_id, title, category, price, created_at) VALUES "
            "('A', 'a', 'c', 1, :t), ('B', 'b', 'c', 1, :t)"), {"t": long_ago})
        rows = [("e1", "u1", "A", "purchase", long_ago),
                ("e2", "u1", "B", "view", long_ago - timedelta(days=10)),
                ("e3", "u2", "B", "view", long_ago - timedelta(days=200))]
        for eid, uid, pid, kind, when in rows:
            conn.execute(text(
                "INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at) "
                "VALUES (:e, :u, :p, :k, :t)"),
                {"e": eid, "u": uid, "p": pid, "k": kind, "t": when})
    interactions = load_interactions(db, settings)
    # Years before the wall clock, yet inside the 90-day window of the newest event.
    assert interactions.users == ["u1"]
    assert interactions.as_of == long_ago
    weights = dict(zip(interactions.items, interactions.matrix.toarray()[0], strict=True))
    assert weights["A"] == pytest.approx(5.0)
    assert weights["B"] == pytest.approx(1.0 * 2.718281828 ** (-0.01 * 10), rel=1e-4)

    everything = load_interactions(db, Settings.from_env(event_window_days=0, decay_per_day=0))
    assert everything.users == ["u1", "u2"]
    assert everything.matrix.toarray().max() == pytest.approx(5.0)


def test_catalog_writes_during_a_reindex_reach_the_new_version(
    shop: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder
) -> None:
    with shop.engine.connect() as conn:
        doomed = conn.execute(text("SELECT product_id FROM products ORDER BY 1 LIMIT 1")).scalar()
    written = []

    def meanwhile(stage: str, done: int, total: int) -> None:
        # The build read the catalog long ago: a shop keeps editing it.
        if stage == "write_items" and not written:
            with shop.engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO products (product_id, title, category, price, created_at) "
                    "VALUES ('MID-BUILD', 'Lantern added mid-build', 'Lighting', 30, now())"))
                conn.execute(text("DELETE FROM products WHERE product_id = :p"), {"p": doomed})
            written.append(stage)

    result = reindex(shop, store, settings, encoder, progress=meanwhile)
    assert written
    ids = {r.id for r in store.retrieve(result.items_collection,
                                        [point_id("MID-BUILD"), point_id(str(doomed))])}
    assert ids == {point_id("MID-BUILD")}
    assert result.timings["catch_up"] >= 0


def test_rollback_serves_the_previous_version_again(
    shop: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder
) -> None:
    def top_by_popularity() -> list[int]:
        return [h.id for h in store.top_by(settings.storage.items_alias, "popularity", 5)]

    first = reindex(shop, store, settings, encoder)
    with pytest.raises(RollbackRefused, match="no earlier version"):
        rollback(shop, store, settings)
    before = top_by_popularity()
    # The next version sees different data: the most popular products lose their events.
    with shop.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE product_id IN (SELECT product_id FROM "
                          "events GROUP BY 1 ORDER BY count(*) DESC LIMIT 3)"))
    second = reindex(shop, store, settings, encoder)
    assert top_by_popularity() != before

    back = rollback(shop, store, settings)
    assert back.version == first.version
    assert store.resolve_alias(settings.storage.items_alias) == first.items_collection
    assert top_by_popularity() == before
    statuses = {v.version: v.status for v in index_versions.all_versions(shop)}
    assert statuses == {first.version: "live", second.version: "retired"}
    # And forward again, by number.
    assert rollback(shop, store, settings, second.version).version == second.version
    with pytest.raises(RollbackRefused, match="already live"):
        rollback(shop, store, settings, second.version)
    with pytest.raises(RollbackRefused, match="no version 999"):
        rollback(shop, store, settings, 999)
