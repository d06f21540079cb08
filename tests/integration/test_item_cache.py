"""The in-memory item cache against the real embedded engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from indexing.collections import CF_RAW, TEXT, items_spec
from indexing.vectorstore import Point, VectorStore
from indexing.vectorstore.edge import EdgeVectorStore
from indexing.vectorstore.port import point_id
from retrieval.item_cache import ItemCache, LearntItems

ITEMS = "items_v1"


def _point(pid: str, text: list[float], cf: list[float] | None, brand: str = "b") -> Point:
    vectors = {TEXT: np.array(text, dtype=np.float32)}
    if cf is not None:
        vectors[CF_RAW] = np.array(cf, dtype=np.float32)
    payload = {"product_id": pid, "category": "c", "brand": brand, "price": 9.5,
               "has_cf": cf is not None,
               "in_stock": True, "promoted": False, "created_at": 1.0, "popularity": 3.0,
               "tags": ["not", "read"]}
    return Point(point_id(pid), vectors, payload)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[VectorStore]:
    s = EdgeVectorStore(tmp_path / "qdrant")
    s.create_collection(ITEMS, items_spec(3, 2))
    s.upsert(ITEMS, [_point("A", [1, 0, 0], [1, 2]), _point("B", [0, 1, 0], None),
                     _point("C", [0, 0, 1], [3, 4])])
    yield s
    s.close()


def test_items_follow_the_ids_asked_for(store: VectorStore) -> None:
    got = ItemCache(10).get_products(store, ITEMS, ["C", "missing", "A", "B"])
    assert [None if g is None else g.candidate.product_id for g in got] == ["C", None, "A", "B"]
    assert got[2] is not None and got[2].candidate.popularity == 3.0
    present = [g for g in got if g is not None]
    rows = ItemCache.rows(present)
    assert rows.has_factors.tolist() == [True, True, False]
    assert rows.texts.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    assert rows.factors.tolist() == [[3, 4], [1, 2], [0, 0]]


def test_cached_items_are_served_without_the_store_until_forgotten(
    store: VectorStore,
) -> None:
    cache = ItemCache(10)
    cache.get_products(store, ITEMS, ["A", "C"])
    store.upsert(ITEMS, [_point("A", [0, 1, 1], [5, 5], brand="new")])
    # The cache is what a version's items were when read: a rewrite must be forgotten.
    stale = cache.get_products(store, ITEMS, ["A"])[0]
    assert stale is not None and stale.candidate.brand == "b"
    cache.forget(["A"])
    fresh = cache.get_products(store, ITEMS, ["A"])[0]
    assert fresh is not None and fresh.candidate.brand == "new"
    assert fresh.factors is not None and fresh.factors.tolist() == [5, 5]


def test_the_least_recently_used_item_leaves_first(store: VectorStore) -> None:
    cache = ItemCache(2)
    cache.get_products(store, ITEMS, ["A", "B"])
    cache.get_products(store, ITEMS, ["A"])  # A is now more recent than B
    cache.get_products(store, ITEMS, ["C"])
    assert len(cache) == 2
    store.delete(ITEMS, [point_id("A"), point_id("B")])
    # A is still cached; B was evicted and is gone from the store.
    got = cache.get_products(store, ITEMS, ["A", "B"])
    assert got[0] is not None and got[1] is None


def test_capacity_zero_keeps_nothing(store: VectorStore) -> None:
    cache = ItemCache(0)
    assert cache.get_products(store, ITEMS, ["A"])[0] is not None
    assert len(cache) == 0
    with pytest.raises(ValueError, match="capacity"):
        ItemCache(-1)


def test_learnt_items_are_read_once_and_asked_again_once_rewritten(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch,
) -> None:
    learnt = LearntItems()
    learnt.load(store, ITEMS)
    asked = [point_id(p) for p in ("A", "B", "C", "missing")]
    assert learnt.among(store, ITEMS, asked) == {point_id("A"), point_id("C")}
    assert learnt.among(store, ITEMS, []) == set()
    # Loaded once: later questions need no listing of the collection.
    monkeypatch.setattr(store, "ids", lambda *a, **k: pytest.fail("listed again"))
    # A rewrite here may change whether a product has factors: it is asked of the engine.
    store.upsert(ITEMS, [_point("A", [1, 0, 0], None), _point("B", [0, 1, 0], [1, 1])])
    assert learnt.among(store, ITEMS, asked) == {point_id("A"), point_id("C")}
    learnt.forget(["A", "B"])
    assert learnt.among(store, ITEMS, asked) == {point_id("B"), point_id("C")}
