"""The plain records that retrieval hands to ranking, and the pool that merges retrievers.

Retrievers (CF neighbours, text similarity, co-purchase, trending, ...) each return
products with a score and a reason. :class:`CandidatePool` gathers them into one row per
product, so that fusion sees a (n_candidates, n_retrievers) matrix with NaN where a
retriever did not return the product, and explanations can still say why each was found.
Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ranking.reasons import Reason


@dataclass(frozen=True, slots=True)
class Candidate:
    """What ranking needs to know about one product; ``created_at`` is epoch seconds.

    ``popularity`` is the recent interaction count (or weighted count) from the last
    reindex, used as a heavy-tailed prior. ``brand`` may be "" for an unbranded product.
    """

    product_id: str
    category: str
    brand: str
    price: float
    in_stock: bool
    promoted: bool
    created_at: float
    popularity: float


class CandidatePool:
    """Candidates from several retrievers, one entry per product.

    For each product the pool keeps the first :class:`Candidate` record it was given, the
    best score each retriever gave it, and the reason that came with that best score. A
    retriever may return the same product more than once (the "similar to what you
    viewed" retriever runs once per viewed item); the higher score wins, and on equal
    scores the smaller reason by :meth:`Reason.sort_key`, so the result does not depend on
    the order of calls.

    Products are listed in product-id order, which is the order of :meth:`matrix` rows,
    so that everything downstream breaks ties by id without sorting again.
    """

    __slots__ = ("_reasons", "_records", "_scores")

    def __init__(self) -> None:
        self._records: dict[str, Candidate] = {}
        self._scores: dict[str, dict[str, float]] = {}
        self._reasons: dict[str, dict[str, Reason]] = {}

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._records

    def add(self, retriever: str, candidate: Candidate, score: float, reason: Reason) -> None:
        """Record that ``retriever`` returned ``candidate`` with ``score`` for ``reason``.

        Raises ValueError for a non-finite score: a retriever that returns a product has
        a score for it, and a NaN here would read as "not returned" downstream.
        """
        value = float(score)
        if not math.isfinite(value):
            raise ValueError(f"score of {candidate.product_id!r} from {retriever!r} is {score}")
        pid = candidate.product_id
        self._records.setdefault(pid, candidate)
        scores = self._scores.setdefault(pid, {})
        reasons = self._reasons.setdefault(pid, {})
        previous = scores.get(retriever)
        if (
            previous is None
            or value > previous
            or (value == previous and reason.sort_key() < reasons[retriever].sort_key())
        ):
            scores[retriever] = value
            reasons[retriever] = reason

    @property
    def products(self) -> tuple[str, ...]:
        """Product ids in id order: the row order of :meth:`matrix` and :meth:`candidates`."""
        return tuple(sorted(self._records))

    def candidates(self) -> list[Candidate]:
        """The candidate records, in :attr:`products` order."""
        return [self._records[pid] for pid in self.products]

    def candidate(self, product_id: str) -> Candidate:
        """The record of one product; KeyError if no retriever returned it."""
        return self._records[product_id]

    def matrix(self, retrievers: Sequence[str]) -> npt.NDArray[np.float32]:
        """Scores as (n_products, len(retrievers)) float32, NaN where not returned.

        Rows follow :attr:`products`; columns follow ``retrievers``, which may name
        retrievers that returned nothing (an all-NaN column).
        """
        products = self.products
        out = np.full((len(products), len(retrievers)), np.nan, dtype=np.float32)
        for row, pid in enumerate(products):
            scores = self._scores[pid]
            for col, name in enumerate(retrievers):
                if name in scores:
                    out[row, col] = scores[name]
        return out

    def reasons(self, product_id: str) -> Mapping[str, Reason]:
        """Retriever → the reason behind its best score for this product (a copy)."""
        return dict(self._reasons[product_id])
