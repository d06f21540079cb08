"""Shops that are not like the demo: histories decades long, most products without events,
shoppers who buy the same thing again and again."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text

from indexing.encoder import SentenceEncoder
from indexing.interactions import load_interactions
from indexing.pipeline import reindex
from indexing.popularity import popularity_by_device
from indexing.vectorstore import VectorStore
from models import index_versions
from models.db import Database
from models.history import load_history
from models.settings import Settings
from retrieval.filters import ItemFilters
from retrieval.live_index import view_of
from retrieval.recommender import Recommender, RecRequest
from retrieval.similar import similar_items
from tests.shop import fill_tiny_shop


@pytest.fixture
def long_history(db: Database) -> Database:
    """The tiny shop with half its events moved back 25 years: a history that starts in the
    year the oldest ratings of public data sets do."""
    fill_tiny_shop(db)
    with db.engine.begin() as conn:
        conn.execute(text(
            "UPDATE events SET occurred_at = occurred_at - interval '25 years' "
            "WHERE abs(hashtext(event_id)) % 2 = 0"))
    return db


@pytest.mark.parametrize("decay_per_day", [0.0, 0.01, 1.0])
def test_a_25_year_history_reindexes_whatever_the_decay(
    long_history: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder,
    decay_per_day: float,
) -> None:
    everything = settings.replace(event_window_days=0, decay_per_day=decay_per_day)
    result = reindex(long_history, store, everything, encoder)
    assert index_versions.live_version(long_history) is not None
    assert result.n_items_with_cf > 0
    # Ancient events weigh next to nothing, and never something that is not a number.
    interactions = load_interactions(long_history, everything)
    assert interactions.n_events > 0
    values = interactions.matrix.data
    assert (values >= 0).all() and (values < float("inf")).all()
    live = index_versions.live_version(long_history)
    assert live is not None
    popularity = popularity_by_device(long_history, everything, live.as_of).overall
    assert popularity and all(0 <= p < float("inf") for p in popularity.values())


@pytest.fixture
def sparse_catalog(db: Database) -> Database:
    """Most products never seen by a shopper: the tiny shop's events kept on 30 products,
    and 1,100 more products with none (2% of the catalog has events)."""
    fill_tiny_shop(db)
    with db.engine.begin() as conn:
        keep = [r[0] for r in conn.execute(text(
            "SELECT product_id FROM events GROUP BY 1 ORDER BY count(*) DESC LIMIT 30"))]
        conn.execute(text("DELETE FROM events WHERE product_id <> ALL(:keep)"), {"keep": keep})
        conn.execute(text(
            "INSERT INTO products (product_id, title, category, subcategory, brand, price, "
            "description, created_at) SELECT 'QUIET-' || n, 'Quiet product ' || n || ' ' || "
            "(ARRAY['lamp', 'kettle', 'jacket', 'speaker', 'mug'])[1 + n % 5], "
            "(ARRAY['Home', 'Kitchen', 'Outdoor', 'Audio', 'Kitchen'])[1 + n % 5], '', "
            "'Quietco', 10 + n % 90, 'Never bought yet', now() - interval '30 days' "
            "FROM generate_series(1, 1100) AS n"))
    return db


def test_a_catalog_where_most_products_have_no_events_indexes_and_serves(
    sparse_catalog: Database, store: VectorStore, settings: Settings,
    encoder: SentenceEncoder,
) -> None:
    result = reindex(sparse_catalog, store, settings, encoder)
    assert result.n_items == 1500
    assert result.n_items_with_cf <= 30
    view = view_of(sparse_catalog, index_versions.live_version(sparse_catalog))  # type: ignore[arg-type]
    # A product nobody touched is similar to others by its text.
    similar = similar_items(store, settings, view, "QUIET-7", 5, ItemFilters(),
                            embed_missing=lambda pid: (_ for _ in ()).throw(KeyError(pid)))
    assert similar.strategy == "text" and len(similar.items) == 5
    # Shoppers of the few products with events get recommendations; new ones popular items.
    with sparse_catalog.engine.connect() as conn:
        shopper = conn.execute(text(
            "SELECT user_id FROM events GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar()
    recommender = Recommender(store, settings, view)
    for user in (shopper, "NEVER-SEEN"):
        history = load_history(sparse_catalog, user, None, None, 200)
        assert recommender.recommend(history, RecRequest(limit=10)).items


def test_shoppers_who_buy_the_same_thing_every_month(
    db: Database, store: VectorStore, settings: Settings, encoder: SentenceEncoder
) -> None:
    fill_tiny_shop(db)
    with db.engine.begin() as conn:
        product, category = conn.execute(text(
            "SELECT p.product_id, p.category FROM events e JOIN products p USING (product_id) "
            "WHERE p.in_stock GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1")).one()
        # 200 shoppers, each buying it every month for two years, up to the newest event.
        conn.execute(text(
            "INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at) "
            "SELECT 'REPEAT-' || u || '-' || m, 'REPEAT-' || u, :p, 'purchase', "
            "(SELECT max(occurred_at) FROM events) - make_interval(days => 30 * m) "
            "FROM generate_series(1, 200) AS u, generate_series(0, 23) AS m"),
            {"p": product})
    everything = settings.replace(event_window_days=0)
    reindex(db, store, everything, encoder)
    view = view_of(db, index_versions.live_version(db))  # type: ignore[arg-type]
    history = load_history(db, "REPEAT-1", None, None, 200)
    assert len(history.events) == 24
    once = Recommender(store, everything, view).recommend(history, RecRequest(limit=10))
    assert once.items and product not in once.product_ids  # bought: not shown again
    consumable = everything.replace(rec_consumable_categories=category)
    again = Recommender(store, consumable, view).recommend(history, RecRequest(limit=10))
    assert again.items
    # A shopper with more events than the history reads still never gets back what they
    # bought before the newest ones: the window's purchases are read beyond the limit.
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at) "
            "SELECT 'DEEP-old', 'DEEP', :p, 'purchase', max(occurred_at) - interval '90 days' "
            "FROM events"), {"p": product})
        conn.execute(text(
            "INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at) "
            "SELECT 'DEEP-' || product_id, 'DEEP', product_id, 'view', "
            "(SELECT max(occurred_at) FROM events) "
            "FROM products WHERE product_id <> :p ORDER BY product_id LIMIT 6"), {"p": product})
    deep = load_history(db, "DEEP", None, None, 5)
    assert product not in {e.product_id for e in deep.events} and product in deep.bought
    unaware = dataclasses.replace(deep, touched=frozenset(), bought=frozenset())
    recommender = Recommender(store, everything, view)
    assert product in recommender.recommend(unaware, RecRequest(limit=10)).product_ids
    kept = recommender.recommend(deep, RecRequest(limit=10))
    assert kept.items and product not in kept.product_ids
