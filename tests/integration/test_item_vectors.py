"""The in-memory vector cache against the real embedded engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from indexing.collections import CF_RAW, TEXT, items_spec
from indexing.item_vectors import ItemVectors
from indexing.vectorstore import Point, VectorStore
from indexing.vectorstore.edge import EdgeVectorStore
from indexing.vectorstore.port import point_id

ITEMS = "items_v1"


def _point(pid: str, text: list[float], cf: list[float] | None) -> Point:
    vectors = {TEXT: np.array(text, dtype=np.float32)}
    if cf is not None:
        vectors[CF_RAW] = np.array(cf, dtype=np.float32)
    return Point(point_id(pid), vectors, {"product_id": pid})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[VectorStore]:
    s = EdgeVectorStore(tmp_path / "qdrant")
    s.create_collection(ITEMS, items_spec(3, 2))
    s.upsert(ITEMS, [_point("A", [1, 0, 0], [1, 2]), _point("B", [0, 1, 0], None),
                     _point("C", [0, 0, 1], [3, 4])])
    yield s
    s.close()


def test_rows_follow_the_ids_asked_for(store: VectorStore) -> None:
    got = ItemVectors(10).get(store, ITEMS, ["C", "missing", "A", "B"])
    assert got.found.tolist() == [True, False, True, True]
    assert got.has_factors.tolist() == [True, False, True, False]
    assert got.texts.tolist() == [[0, 0, 1], [0, 0, 0], [1, 0, 0], [0, 1, 0]]
    assert got.factors.tolist() == [[3, 4], [0, 0], [1, 2], [0, 0]]


def test_cached_vectors_are_served_without_the_store_until_forgotten(
    store: VectorStore,
) -> None:
    cache = ItemVectors(10)
    cache.get(store, ITEMS, ["A", "C"])
    store.upsert(ITEMS, [_point("A", [0, 1, 1], [5, 5])])
    # The cache is what a version's vectors were when read: a rewrite must be forgotten.
    assert cache.get(store, ITEMS, ["A"]).factors.tolist() == [[1, 2]]
    cache.forget(["A"])
    assert cache.get(store, ITEMS, ["A"]).factors.tolist() == [[5, 5]]


def test_the_least_recently_used_product_leaves_first(store: VectorStore) -> None:
    cache = ItemVectors(2)
    cache.get(store, ITEMS, ["A", "B"])
    cache.get(store, ITEMS, ["A"])  # A is now more recent than B
    cache.get(store, ITEMS, ["C"])
    assert len(cache) == 2
    store.delete(ITEMS, [point_id("A"), point_id("B")])
    # A is still cached; B was evicted and is gone from the store.
    assert cache.get(store, ITEMS, ["A", "B"]).found.tolist() == [True, False]


def test_capacity_zero_keeps_nothing(store: VectorStore) -> None:
    cache = ItemVectors(0)
    assert cache.get(store, ITEMS, ["A"]).found.tolist() == [True]
    assert len(cache) == 0
    with pytest.raises(ValueError, match="capacity"):
        ItemVectors(-1)
