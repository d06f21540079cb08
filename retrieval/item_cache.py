"""In-memory caches of one index version: what ranking reads of each product, and shoppers'
folded-in CF vectors.

Ranking scores every candidate of a request on every signal and diversifies on text
vectors, so one request needs the vectors and attributes of a few hundred products.
Reading them back from the engine costs far more (conversion of vectors and payloads to
Python) than the queries that found the products, and a shop's candidates are mostly the
same few thousand products, so each process keeps what it has read, least recently used
out first. Queries then return ids and scores only.

What is cached is what does not change between reindexes unless the product itself is
edited: text vector, CF factors, category, brand, creation time, promotion and the
version's popularity. Stock and price are never read from here (stock and price filters
run inside every query, and a response reads its items' payloads afresh). A cache
belongs to one index version; whoever rewrites or deletes a product calls
:meth:`ItemCache.forget`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from cachetools import LRUCache

from indexing.collections import CF_RAW, RANKING_FIELDS, TEXT
from indexing.vectorstore.port import Filter, VectorStore, point_id
from ranking.candidates import Candidate

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class CachedItem:
    candidate: Candidate
    text: Vector | None
    factors: Vector | None  # None: the product had no interactions at the last reindex


@dataclass(frozen=True)
class ItemRows:
    """Vectors of some cached items as matrices, rows in the order given."""

    texts: Vector  # (n, d); a zero row where there is no text vector
    factors: Vector  # (n, k); a zero row where there are no factors
    has_factors: npt.NDArray[np.bool_]  # (n,)


def candidate_of(payload: Mapping[str, Any]) -> Candidate:
    """The ranking record of a product from its payload."""
    return Candidate(
        product_id=str(payload["product_id"]),
        category=str(payload.get("category", "")),
        brand=str(payload.get("brand", "")),
        price=float(payload.get("price", 0.0)),
        in_stock=bool(payload.get("in_stock", True)),
        promoted=bool(payload.get("promoted", False)),
        created_at=float(payload.get("created_at", 0.0)),
        popularity=float(payload.get("popularity", 0.0)),
    )


class ItemCache:
    """Cached items by point id, read through from the items collection.

    capacity: the most products kept (about 2 KB each at 384 + 64 dimensions); 0 keeps
    none beyond the current call. Safe to share between request threads.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be non-negative, got {capacity}")
        self.capacity = capacity
        self._entries: LRUCache[int, CachedItem] = LRUCache(maxsize=max(capacity, 1))
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, store: VectorStore, collection: str,
            ids: Sequence[int]) -> list[CachedItem | None]:
        """The items with these point ids, in order; None where the index has none."""
        found: dict[int, CachedItem] = {}
        with self._lock:
            for i in ids:
                entry = self._entries.get(i)
                if entry is not None:
                    found[i] = entry
        missing = [i for i in dict.fromkeys(ids) if i not in found]
        if missing:
            read = self._read(store, collection, missing)
            found.update(read)
            if self.capacity > 0:
                with self._lock:
                    self._entries.update(read)
        return [found.get(i) for i in ids]

    def get_products(self, store: VectorStore, collection: str,
                     product_ids: Sequence[str]) -> list[CachedItem | None]:
        return self.get(store, collection, [point_id(p) for p in product_ids])

    def forget(self, product_ids: Iterable[str]) -> None:
        """Drop products that were rewritten or deleted."""
        with self._lock:
            for pid in product_ids:
                self._entries.pop(point_id(pid), None)

    @staticmethod
    def rows(items: Sequence[CachedItem | None]) -> ItemRows:
        """The items' vectors as matrices; a zero row for an item or vector that is missing."""
        text_dim = next((it.text.shape[0] for it in items if it and it.text is not None), 1)
        cf_dim = next((it.factors.shape[0] for it in items
                       if it and it.factors is not None), 1)
        texts = np.zeros((len(items), text_dim), dtype=np.float32)
        factors = np.zeros((len(items), cf_dim), dtype=np.float32)
        has = np.zeros(len(items), dtype=bool)
        for row, item in enumerate(items):
            if item is None:
                continue
            if item.text is not None and item.text.shape[0] == text_dim:
                texts[row] = item.text
            if item.factors is not None and item.factors.shape[0] == cf_dim:
                factors[row] = item.factors
                has[row] = True
        return ItemRows(texts, factors, has)

    def _read(self, store: VectorStore, collection: str,
              ids: Sequence[int]) -> dict[int, CachedItem]:
        out: dict[int, CachedItem] = {}
        for record in store.retrieve(collection, ids, vectors=[TEXT, CF_RAW],
                                     payload_fields=RANKING_FIELDS):
            if not record.payload or "product_id" not in record.payload:
                continue
            out[record.id] = CachedItem(candidate_of(record.payload),
                                        record.vectors.get(TEXT), record.vectors.get(CF_RAW))
        return out


class UserVectors:
    """Shoppers' CF vectors folded in at read time for events the index has not seen, kept
    per process (least recently used out first) so that a request never writes them back:
    a read must not change stored state. Keyed by the shopper and their newest event, so a
    new event makes a new entry. Safe to share between request threads."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: LRUCache[tuple[str, float, int], Vector] = LRUCache(
            maxsize=max(capacity, 1))
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[str, float, int]) -> Vector | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple[str, float, int], vector: Vector) -> None:
        if self.capacity > 0:
            with self._lock:
                self._entries[key] = vector

    def forget(self, user_id: str) -> None:
        """Drop every vector kept for a shopper (erased)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == user_id]:
                del self._entries[key]


class LearntItems:
    """Which products of one index version have CF factors of their own (learnt from
    events), as a sorted id array read once per process (about 80 ms for 80,000 products
    in process, 8 bytes each). Similar items ask it about a few dozen neighbours a
    request; reading their `has_cf` payloads instead took about as long as the vector
    queries. Products rewritten here since are asked of the engine again, since a rewrite
    may change that; a product added after the reindex never has factors of its own."""

    def __init__(self) -> None:
        self._ids: npt.NDArray[np.int64] | None = None
        self._rewritten: set[int] = set()
        self._lock = threading.Lock()

    def load(self, store: VectorStore, collection: str) -> None:
        """Read the ids now (at warm-up) rather than on the first request."""
        self._loaded(store, collection)

    def among(self, store: VectorStore, collection: str, ids: Sequence[int]) -> set[int]:
        """Those of `ids` that have factors of their own."""
        known = self._loaded(store, collection)
        if not ids:
            return set()
        with self._lock:
            recheck = [i for i in ids if i in self._rewritten]
        asked = np.asarray([i for i in ids if i not in recheck] if recheck else ids,
                           dtype=np.int64)
        found: set[int] = set()
        if known.size and asked.size:
            at = np.minimum(np.searchsorted(known, asked), known.size - 1)
            found = {int(i) for i in asked[known[at] == asked]}
        if recheck:
            found |= {r.id for r in store.retrieve(collection, recheck,
                                                   payload_fields=("has_cf",))
                      if r.payload and r.payload.get("has_cf")}
        return found

    def forget(self, product_ids: Iterable[str]) -> None:
        """Products were rewritten or deleted: ask the engine about them from now on."""
        with self._lock:
            self._rewritten.update(point_id(p) for p in product_ids)

    def _loaded(self, store: VectorStore, collection: str) -> npt.NDArray[np.int64]:
        with self._lock:
            if self._ids is None:
                self._ids = store.ids(collection, Filter(equals={"has_cf": True}))
            return self._ids
