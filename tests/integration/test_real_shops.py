"""Shops that are not like the demo: histories decades long, most products without events,
shoppers who buy the same thing again and again."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from indexing.encoder import SentenceEncoder
from indexing.interactions import load_interactions
from indexing.pipeline import reindex
from indexing.popularity import popularity_by_device
from indexing.vectorstore import VectorStore
from models import index_versions
from models.db import Database
from models.settings import Settings
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
