"""The similar-items score: text and CF neighbours of one product, fused. Pure.

Each retriever returns its nearest neighbours with a cosine similarity. The fused score is
the weighted mean of the two (:func:`ranking.fusion.weighted_score_fusion`): a neighbour
missing from one list takes that list's lowest score (its true score is at most that), and
a product with no CF vector (no events yet) is ranked on text alone rather than punished.
Ties break by product id, so answers are deterministic.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from ranking.fusion import top_k, weighted_score_fusion
from ranking.results import RankedItem

TEXT_ONLY = "text"
TEXT_AND_CF = "text+cf"


def similar_items(
    text: Sequence[tuple[str, float]],
    cf: Sequence[tuple[str, float]] | None,
    with_cf: Collection[str],
    text_weight: float,
    cf_weight: float,
    limit: int,
) -> list[RankedItem]:
    """The `limit` best neighbours by fused similarity, best first.

    text: (product id, cosine) from the text retriever.
    cf:   (product id, cosine) from the CF retriever, or None when it did not run (the
          product has no CF vector, or CF has no weight).
    with_cf: the candidates that have a CF vector at all; the others are scored on text.
    """
    lists = [text] if cf is None else [text, cf]
    ids = list(dict.fromkeys(pid for hits in lists for pid, _ in hits))
    if not ids:
        return []
    row = {pid: i for i, pid in enumerate(ids)}
    scores = np.full((len(ids), len(lists)), np.nan, dtype=np.float32)
    for j, hits in enumerate(lists):
        for pid, score in hits:
            scores[row[pid], j] = score
    available = np.ones((len(ids), len(lists)), dtype=bool)
    if cf is not None:
        available[:, 1] = [pid in with_cf for pid in ids]
    fused = weighted_score_fusion(scores, available, [text_weight, cf_weight][: len(lists)])
    return [RankedItem(pid, score) for pid, score in top_k(ids, fused, limit)]


def at_least_kth(items: Sequence[RankedItem], k: int) -> list[RankedItem]:
    """The items scoring at least the k-th best score: the k best, and any that tie with
    the k-th. Ranking on stand-in ids and breaking ties by product id afterwards among
    these gives exactly the k that ranking on product ids would have."""
    if k <= 0 or not items:
        return []
    kth = sorted((i.score for i in items), reverse=True)[min(k, len(items)) - 1]
    return [i for i in items if i.score >= kth]


def by_product_id(scored: Sequence[tuple[str, float]], k: int) -> list[RankedItem]:
    """The k best (product id, score), ties broken by product id."""
    best = sorted(scored, key=lambda item: (-item[1], item[0]))[:max(k, 0)]
    return [RankedItem(pid, score) for pid, score in best]


def strategy(used_cf: bool) -> str:
    """What `strategy` a similar-items answer reports: the signals it was ranked on."""
    return TEXT_AND_CF if used_cf else TEXT_ONLY
