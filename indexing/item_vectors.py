"""An in-memory cache of the items' text vectors and CF factors, per index version.

Ranking scores every candidate of a request on every signal and diversifies on text
vectors, so one request needs the vectors of a few hundred products. Reading a vector
back from the engine costs far more in conversion to Python than the query that found
the product, and a shop's candidates are mostly the same few thousand popular products,
so each process keeps the vectors it has read, least recently used out first.

A cache belongs to one index version (the collections of another version hold other
factors). Within a version a product's vectors change only when its text is re-embedded
or it is deleted; whoever writes that calls :meth:`ItemVectors.forget`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from indexing.collections import CF_RAW, TEXT
from indexing.vectorstore.port import VectorStore, point_id

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class CandidateVectors:
    """Rows aligned with the product ids asked for."""

    texts: Vector  # (n, d); a zero row for a product the index does not hold
    factors: Vector  # (n, k); a zero row where the product has no CF factors
    has_factors: npt.NDArray[np.bool_]  # (n,)
    found: npt.NDArray[np.bool_]  # (n,) whether the index holds the product at all


_Entry = tuple[Vector | None, Vector | None]  # (text, factors)


class ItemVectors:
    """Text vectors and CF factors by product, read through from the items collection.

    capacity: the most products kept (about 1.8 KB each at 384 + 64 dimensions); 0 keeps
    none beyond the current call. Safe to share between request threads.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be non-negative, got {capacity}")
        self.capacity = capacity
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._text_dim = 0
        self._cf_dim = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, store: VectorStore, collection: str,
            product_ids: Sequence[str]) -> CandidateVectors:
        """The vectors of `product_ids`, reading the ones not cached in one retrieve."""
        found: dict[str, _Entry] = {}
        with self._lock:
            for pid in product_ids:
                entry = self._entries.get(pid)
                if entry is not None:
                    self._entries.move_to_end(pid)
                    found[pid] = entry
        missing = [pid for pid in dict.fromkeys(product_ids) if pid not in found]
        if missing:
            read = self._read(store, collection, missing)
            found.update(read)
            self._remember(read)
        return self._stack(product_ids, found)

    def forget(self, product_ids: Iterable[str]) -> None:
        """Drop products whose vectors were rewritten or deleted."""
        with self._lock:
            for pid in product_ids:
                self._entries.pop(pid, None)

    def _read(self, store: VectorStore, collection: str,
              product_ids: Sequence[str]) -> dict[str, _Entry]:
        ids = [point_id(p) for p in product_ids]
        records = {r.id: r for r in store.retrieve(collection, ids, vectors=[TEXT, CF_RAW],
                                                   with_payload=False)}
        out: dict[str, _Entry] = {}
        for pid, pid_point in zip(product_ids, ids, strict=True):
            record = records.get(pid_point)
            if record is None:
                continue
            text = record.vectors.get(TEXT)
            factors = record.vectors.get(CF_RAW)
            if text is not None:
                self._text_dim = text.shape[0]
            if factors is not None:
                self._cf_dim = factors.shape[0]
            out[pid] = (text, factors)
        return out

    def _remember(self, entries: dict[str, _Entry]) -> None:
        if self.capacity == 0:
            return
        with self._lock:
            for pid, entry in entries.items():
                self._entries[pid] = entry
                self._entries.move_to_end(pid)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def _stack(self, product_ids: Sequence[str], entries: dict[str, _Entry]) -> CandidateVectors:
        n = len(product_ids)
        texts = np.zeros((n, max(self._text_dim, 1)), dtype=np.float32)
        factors = np.zeros((n, max(self._cf_dim, 1)), dtype=np.float32)
        has = np.zeros(n, dtype=bool)
        found = np.zeros(n, dtype=bool)
        for i, pid in enumerate(product_ids):
            entry = entries.get(pid)
            if entry is None:
                continue
            found[i] = True
            text, cf = entry
            if text is not None and text.shape[0] == texts.shape[1]:
                texts[i] = text
            if cf is not None and cf.shape[0] == factors.shape[1]:
                factors[i] = cf
                has[i] = True
        return CandidateVectors(texts, factors, has, found)
