"""What every ranked list is made of: products in order, each with its score and reason.

Similar items, recommendations, bought together, trending, the fallback and search all
end in a list of :class:`RankedItem`; retrieval adds what a response shows of each product
and the API presents them through one mapper. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from ranking.reasons import Reason, SearchReason


@dataclass(frozen=True, slots=True)
class RankedItem:
    """One entry of a ranked list.

    ``score`` is the surface's own score (a fused similarity, a blended relevance, a
    popularity, a search relevance); ``reason`` says why the product is there, None where
    the surface gives none (similar items).
    """

    product_id: str
    score: float
    reason: Reason | SearchReason | None = None
