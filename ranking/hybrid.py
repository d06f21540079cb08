"""The arithmetic of the recommendation blend: the CF weight α as history grows, min–max
normalisation, and the weighted blend over the signals each candidate has. Which signals
a request blends, and with what weights, is ranking.recommend's decision.

Scores from different retrievers live on different scales (a CF dot product, a cosine
similarity, an interaction count), so each signal is min–max normalised over the
candidates of one request before it is weighted. A candidate a retriever did not return
is handled like :func:`ranking.fusion.weighted_score_fusion` handles a missing signal:
it drops out of the weighted mean, so an item without CF history is ranked on its text
instead of being punished for being new. Pure: arrays in, arrays out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ranking.fusion import weighted_score_fusion

Scores = npt.NDArray[np.float32]


def cf_weight(
    n_interactions: int,
    *,
    alpha_min: float = 0.3,
    alpha_max: float = 0.7,
    saturation: float = 20.0,
) -> float:
    """The weight α of the CF score for a user with ``n_interactions`` interactions.

    α(n) = alpha_min + (alpha_max − alpha_min) · (1 − exp(−n / saturation))

    The more history behind a user's CF vector, the more it is trusted over content
    similarity. α starts at alpha_min for no history, rises fastest at first (the first
    interactions teach CF the most), reaches about 63% of the way to alpha_max at
    ``n = saturation`` and 95% at ``3 · saturation``, and never exceeds alpha_max. With
    the defaults: 0.30 at n=0, 0.40 at 6, 0.55 at 20, 0.68 at 60. A smooth curve rather
    than a linear ramp that stops at a cap, so no interaction count makes a jump.

    Raises ValueError for a negative count, a non-positive saturation, or weights not
    ordered 0 <= alpha_min <= alpha_max <= 1.
    """
    if n_interactions < 0:
        raise ValueError(f"n_interactions must be non-negative, got {n_interactions}")
    if not 0.0 <= alpha_min <= alpha_max <= 1.0:
        raise ValueError(f"need 0 <= alpha_min <= alpha_max <= 1, got {alpha_min} and {alpha_max}")
    if not saturation > 0:
        raise ValueError(f"saturation must be positive, got {saturation}")
    grown = 1.0 - math.exp(-n_interactions / saturation)
    return alpha_min + (alpha_max - alpha_min) * grown


def normalise(scores: npt.NDArray[np.floating]) -> Scores:
    """Min–max scale the finite scores to [0, 1]; (n,) float in, (n,) float32 out.

    The lowest finite score maps to 0 and the highest to 1. When every finite score is
    equal there is no spread to scale, and each maps to 1.0: the retriever found them
    all, equally. NaN (not returned) stays NaN, and so does ±inf, which has no place on
    a finite scale. Computed in float64; the input is not modified.
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"scores must be 1-D, got shape {x.shape}")
    finite = np.isfinite(x)
    out = np.full(x.shape, np.nan, dtype=np.float64)
    if finite.any():
        low = x[finite].min()
        spread = x[finite].max() - low
        out[finite] = (x[finite] - low) / spread if spread > 0 else 1.0
    return out.astype(np.float32)


def blend(
    scores_by_retriever: npt.NDArray[np.floating],
    weights: Sequence[float] | npt.NDArray[np.floating],
    *,
    available: npt.NDArray[np.bool_] | None = None,
) -> Scores:
    """Weighted blend of each retriever's normalised scores over the signals present.

    scores_by_retriever: (n_candidates, n_retrievers) float; NaN where the retriever did
                         not return the candidate (as :meth:`CandidatePool.matrix` gives).
    weights:             (n_retrievers,) non-negative.
    available:           optional (n_candidates, n_retrievers) bool. By default a NaN
                         means the candidate lacks that signal, and the signal drops out of
                         its weighted mean (the remaining weights are renormalised). Where
                         ``available`` is True but the score is NaN, the candidate has the
                         signal but fell outside the retriever's top list, so it takes the
                         bottom of the normalised scale, 0.0, instead of dropping out.

    Each column is min–max normalised (see :func:`normalise`) before weighting, so a
    weight means the same whatever the retriever's scale. Returns (n_candidates,)
    float32 in [0, 1]; a candidate with no signal of positive weight gets -inf, so it
    sinks below every candidate that has one.
    """
    x = np.asarray(scores_by_retriever, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"scores_by_retriever must be 2-D, got shape {x.shape}")
    n, r = x.shape
    w = np.asarray(weights, dtype=np.float32)
    if w.shape != (r,):
        raise ValueError(f"expected {r} weights, got shape {w.shape}")
    normalised = np.empty((n, r), dtype=np.float32)
    for col in range(r):
        normalised[:, col] = normalise(x[:, col])
    missing = np.isnan(normalised)
    if available is None:
        has_signal = ~missing
    else:
        has_signal = np.asarray(available, dtype=bool)
        if has_signal.shape != (n, r):
            raise ValueError(f"available has shape {has_signal.shape}, expected {(n, r)}")
    filled = np.where(missing & has_signal, np.float32(0.0), normalised)
    return weighted_score_fusion(filled, has_signal, [float(value) for value in w])
