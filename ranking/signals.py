"""Each ranking signal computed for every candidate, not only for those a retriever found.

Retrieval decides which products are considered; it should not decide how they score.
A product that the CF retriever did not return in its top 50 still has a CF score, and
a product found only by popularity may be close in text to what the shopper viewed.
Scoring every candidate on every signal makes the blend a real mix of signals instead of
a mix of top-list memberships, where a product missing from one list would take the
bottom of that signal's scale. Pure: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
Scores = npt.NDArray[np.float32]


def _unit_rows(x: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    rows = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    out: npt.NDArray[np.float64] = np.divide(rows, norms, out=np.zeros_like(rows),
                                             where=norms > 0)
    return out


def anchor_similarity(
    texts: npt.NDArray[np.floating],
    anchors: npt.NDArray[np.floating],
    anchor_weights: npt.NDArray[np.floating],
) -> Scores:
    """How close each candidate is to the items that stand for the shopper's interest.

    texts:          (n, d) candidate text vectors; a zero row (no vector) scores 0.
    anchors:        (m, d) text vectors of the anchor items (viewed, carted, bought).
    anchor_weights: (m,) non-negative: how much each anchor matters (event type, recency).

    score(c) = max_j cos(c, a_j) · sqrt(w_j / max w): the best match among the anchors,
    damped for weak anchors. The square root keeps a product close to a once-viewed item
    from being worth nothing next to a bought one; the max (rather than a sum) keeps a
    shopper with many views of one kind of product from drowning the others. Returns (n,)
    float32; all zeros when there are no anchors.
    """
    n = np.asarray(texts).shape[0]
    w = np.asarray(anchor_weights, dtype=np.float64)
    a = np.asarray(anchors)
    if a.ndim != 2 or w.shape != (a.shape[0],):
        raise ValueError(f"anchors {a.shape} and weights {w.shape} do not match")
    if a.shape[0] == 0 or not np.any(w > 0):
        return np.zeros(n, dtype=np.float32)
    if np.any(w < 0):
        raise ValueError("anchor weights must be non-negative")
    scale = np.sqrt(w / w.max())
    similarity = _unit_rows(texts) @ _unit_rows(a).T  # (n, m)
    best: Scores = np.max(similarity * scale[None, :], axis=1).astype(np.float32)
    return best


def factor_scores(
    factors: npt.NDArray[np.floating],
    has_factors: npt.NDArray[np.bool_],
    vector: npt.NDArray[np.floating],
) -> Scores:
    """The dot product of a shopper's CF vector with each candidate's item factors.

    factors:     (n, k) item factors; rows where ``has_factors`` is False are ignored.
    has_factors: (n,) bool: False for a product with no interactions at the last
                 reindex, which has no CF score at all (NaN), rather than a score of 0.
    vector:      (k,) the shopper's vector (or the mean of similar shoppers' vectors).

    Returns (n,) float32, NaN where the product has no factors.
    """
    f = np.asarray(factors, dtype=np.float32)
    has = np.asarray(has_factors, dtype=bool)
    v = np.asarray(vector, dtype=np.float32)
    if f.ndim != 2 or has.shape != (f.shape[0],) or v.shape != (f.shape[1],):
        raise ValueError(f"factors {f.shape}, has_factors {has.shape}, vector {v.shape}")
    return np.where(has, f @ v, np.nan).astype(np.float32)
