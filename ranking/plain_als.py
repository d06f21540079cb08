"""Plain ALS's own ranking: the shopper's factors against every product's, what the
shopper already touched left out, nothing else (no candidates, rules, caps or blend):
what the library's recommend() answers, and what a shop running ALS alone would show. The
baseline `lodestar tune` and `lodestar evaluate` hold the hybrid against. Pure."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import numpy.typing as npt


def top_k(user: npt.NDArray[np.float32], items: npt.NDArray[np.float32],
          seen: Collection[int], k: int) -> npt.NDArray[np.int64]:
    """Row indices of `items` ((n, f)) best for `user` ((f,)), best first: at most `k`,
    none of `seen`."""
    scores = items @ user
    if seen:
        scores[np.fromiter(seen, dtype=np.int64, count=len(seen))] = -np.inf
    top = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")]
    kept: npt.NDArray[np.int64] = top[np.isfinite(scores[top])].astype(np.int64)
    return kept
