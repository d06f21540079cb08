"""Maximal Marginal Relevance: re-rank for relevance without near-duplicates.

A list of the ten highest-scoring items is often ten variants of one product. MMR picks
items one at a time, each time the one that best trades its relevance against its
similarity to what is already picked (Carbonell & Goldstein, 1998):

    next = argmax over unpicked i of  λ · relevance(i) − (1 − λ) · max over picked j of sim(i, j)

Pure: arrays in, indices out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def mmr(
    scores: npt.NDArray[np.floating],
    vectors: npt.NDArray[np.floating],
    k: int,
    lambda_: float = 0.7,
) -> list[int]:
    """Indices of up to k candidates in MMR order, best first.

    scores:  (n_candidates,) float32, higher is more relevant. Min–max normalised to
             [0, 1] first, so that λ weighs relevance against cosine similarity (also at
             most 1) the same way whatever the scale of the scores.
    vectors: (n_candidates, dim) float32, e.g. text embeddings; rows are normalised, so
             similarity is the cosine. A zero row has no direction and counts as
             dissimilar (similarity 0) to everything.
    k:       how many to pick; k > n_candidates returns every candidate.
    lambda_: in [0, 1]. 1 keeps score order; 0 picks the most relevant item first and
             then only looks at dissimilarity.

    Ties go to the lower index, so pass candidates in a deterministic order (by product
    id, or by score then id). Candidates whose score is not finite (NaN, or the -inf that
    fusion gives a candidate with no signal) are never picked, as in
    :func:`ranking.fusion.top_k`. Each pick updates a running max-similarity array with one
    matrix–vector product, so the cost is O(k · n · dim). Inputs are not modified.
    """
    s = np.asarray(scores, dtype=np.float64)
    v = np.asarray(vectors, dtype=np.float32)
    if s.ndim != 1 or v.ndim != 2 or v.shape[0] != s.shape[0]:
        raise ValueError(f"need scores (n,) and vectors (n, dim), got {s.shape} and {v.shape}")
    if not 0.0 <= lambda_ <= 1.0:
        raise ValueError(f"lambda_ must lie in [0, 1], got {lambda_}")
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    if not np.all(np.isfinite(v)):
        raise ValueError("vectors must be finite")

    eligible = np.isfinite(s)
    n_picks = min(k, int(eligible.sum()))
    if n_picks == 0:
        return []
    relevance = np.zeros_like(s)
    low, high = s[eligible].min(), s[eligible].max()
    relevance[eligible] = (s[eligible] - low) / (high - low) if high > low else 1.0

    norms = np.linalg.norm(v, axis=1, keepdims=True)
    unit = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)

    # Once an index is picked or found ineligible its objective is pinned at -inf.
    blocked = ~eligible
    max_similarity = np.zeros_like(s)
    picked: list[int] = []
    for step in range(n_picks):
        if step == 0:
            objective = relevance.copy()
        else:
            objective = lambda_ * relevance - (1.0 - lambda_) * max_similarity
        objective[blocked] = -np.inf
        best = int(np.argmax(objective))
        picked.append(best)
        blocked[best] = True
        similarity = (unit @ unit[best]).astype(np.float64)
        max_similarity = similarity if step == 0 else np.maximum(max_similarity, similarity)
    return picked
