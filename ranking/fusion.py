"""Fusing the scores of several retrievers into one ranking. Pure: arrays in, arrays out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Scores = npt.NDArray[np.float32]


def weighted_score_fusion(
    scores: npt.NDArray[np.float32],
    available: npt.NDArray[np.bool_],
    weights: Sequence[float],
) -> Scores:
    """Weighted mean of each candidate's scores over the signals it has.

    scores:    (n_candidates, n_signals) float32; NaN where a retriever did not return the
               candidate although the candidate has that signal.
    available: (n_candidates, n_signals) bool; False where the candidate lacks the signal
               altogether (an item with no interactions has no CF vector).
    weights:   (n_signals,) non-negative.

    A missing score of an available signal is imputed with that retriever's lowest returned
    score: the candidate was not in its top list, so its true score is at most that. A
    signal the candidate lacks drops out of the mean, so an item without CF is ranked on
    text alone instead of being punished for having no history. Candidates with no
    available signal get -inf. Returns (n_candidates,) float32.
    """
    if scores.shape != available.shape:
        raise ValueError(f"scores {scores.shape} and available {available.shape} differ")
    n, k = scores.shape
    w = np.asarray(weights, dtype=np.float32)
    if w.shape != (k,):
        raise ValueError(f"expected {k} weights, got {w.shape[0]}")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    returned = ~np.isnan(scores)
    lowest = np.min(np.where(returned, scores, np.inf), axis=0)
    floors = np.where(returned.any(axis=0), lowest, 0)
    filled = np.where(returned, scores, floors[np.newaxis, :]).astype(np.float32)
    mask = available & (w[np.newaxis, :] > 0)
    numerator = (filled * w * mask).sum(axis=1)
    denominator = (w * mask).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fused = np.where(denominator > 0, numerator / denominator, -np.inf)
    return fused.astype(np.float32)


def top_k(
    ids: Sequence[str], scores: Scores, k: int
) -> list[tuple[str, float]]:
    """The k best (id, score), ties broken by id so that results are deterministic."""
    order = sorted(range(len(ids)), key=lambda i: (-float(scores[i]), ids[i]))
    return [(ids[i], float(scores[i])) for i in order[:k] if np.isfinite(scores[i])]
