"""Offline evaluation metrics for ranked lists. Pure: ids and arrays in, floats out.

Conventions shared by every per-list metric:

- ``recommended`` is a ranked sequence of ids, best first; only its first ``k`` positions
  count, and positions beyond the end of a short list count as empty slots.
- A repeated id earns nothing after its first occurrence but still takes its position: a
  list that repeats an item wasted a slot the user would have seen, and moving the later
  items up instead would reward the repetition.
- ``relevant`` is a set of ids (binary relevance) or a mapping id → gain (graded relevance,
  gains finite and ≥ 0). Where a metric is binary, the ids of a mapping with a positive gain
  are the relevant ones, so the test sets of a split can be passed to every metric as they
  are.
- An empty list or an empty relevant set scores 0.0; ``k <= 0`` raises ValueError.

Per-user rows from :func:`ranking_metrics` are averaged over users by :func:`summarise`,
which also gives each mean's standard error.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt

Relevant = AbstractSet[str] | Mapping[str, float]
"""Binary relevance (a set of ids) or graded relevance (id → non-negative gain)."""

SE_SUFFIX = "_se"
"""Suffix of the standard-error entries that :func:`summarise` adds beside each mean."""

N_USERS = "n_users"
"""Key under which :func:`summarise` reports how many users were averaged."""


def _check_k(k: int) -> None:
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")


def _gains(relevant: Relevant) -> dict[str, float]:
    """Relevant id → gain, keeping only positive gains; a set gives every id gain 1."""
    if not isinstance(relevant, Mapping):
        return dict.fromkeys(relevant, 1.0)
    gains: dict[str, float] = {}
    for item, gain in relevant.items():
        value = float(gain)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"gain of {item!r} must be finite and non-negative, got {gain}")
        if value > 0:
            gains[item] = value
    return gains


def _relevant_ids(relevant: Relevant) -> AbstractSet[str]:
    if isinstance(relevant, Mapping):
        return _gains(relevant).keys()
    return relevant


def _first_occurrences(recommended: Sequence[str], k: int) -> Iterator[tuple[int, str]]:
    """(0-based position, id) of each id's first occurrence within the first k positions."""
    seen: set[str] = set()
    for position, item in enumerate(islice(recommended, k)):
        if item not in seen:
            seen.add(item)
            yield position, item


def _hit_positions(recommended: Sequence[str], relevant: AbstractSet[str], k: int) -> list[int]:
    return [pos for pos, item in _first_occurrences(recommended, k) if item in relevant]


def precision_at_k(recommended: Sequence[str], relevant: Relevant, k: int) -> float:
    """Share of the k slots that hold a relevant item: hits / k.

    The denominator is k even when the list is shorter, so a recommender that returns too
    few items is charged for the empty slots rather than rewarded for saying less.
    """
    _check_k(k)
    return len(_hit_positions(recommended, _relevant_ids(relevant), k)) / k


def recall_at_k(recommended: Sequence[str], relevant: Relevant, k: int) -> float:
    """Share of the relevant items found in the first k: hits / |relevant|.

    The standard definition, with |relevant| and not min(|relevant|, k) as denominator: a
    user with more relevant items than k cannot reach 1, which keeps recall comparable
    across k. 0.0 when nothing is relevant.
    """
    _check_k(k)
    ids = _relevant_ids(relevant)
    if not ids:
        return 0.0
    return len(_hit_positions(recommended, ids, k)) / len(ids)


def hit_rate_at_k(recommended: Sequence[str], relevant: Relevant, k: int) -> float:
    """1.0 if any of the first k items is relevant, else 0.0."""
    _check_k(k)
    return 1.0 if _hit_positions(recommended, _relevant_ids(relevant), k) else 0.0


def average_precision_at_k(recommended: Sequence[str], relevant: Relevant, k: int) -> float:
    """AP@k: the mean of precision@i over the positions i ≤ k that hold a relevant item.

    The sum of those precisions is divided by min(|relevant|, k), the most hits the k slots
    can hold, so a list that fills all its slots with relevant items scores 1 even when the
    user has more relevant items than k. Averaged over users this is MAP@k. 0.0 when nothing
    is relevant.
    """
    _check_k(k)
    ids = _relevant_ids(relevant)
    if not ids:
        return 0.0
    hits = _hit_positions(recommended, ids, k)
    total = sum((rank + 1) / (position + 1) for rank, position in enumerate(hits))
    return total / min(len(ids), k)


def ndcg_at_k(recommended: Sequence[str], relevant: Relevant, k: int) -> float:
    """Normalised discounted cumulative gain at k, with a log2 position discount.

    DCG@k = Σ gain(item at position i) / log2(i + 1) over positions i = 1..k; a set gives
    each relevant id gain 1 (binary NDCG), a mapping gives its gains (graded NDCG). Gains
    are used as given (linear); pass 2**grade - 1 for the exponential form. The ideal DCG
    comes from the best possible ordering of the relevant items, cut at k, so a perfect
    ranking scores 1. 0.0 when nothing is relevant.
    """
    _check_k(k)
    gains = _gains(relevant)
    if not gains:
        return 0.0
    dcg = sum(
        gains[item] / math.log2(position + 2)
        for position, item in _first_occurrences(recommended, k)
        if item in gains
    )
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(position + 2) for position, gain in enumerate(ideal))
    return dcg / idcg


def reciprocal_rank(recommended: Sequence[str], relevant: Relevant, k: int | None = None) -> float:
    """1 / rank of the first relevant item (rank 1 = first), 0.0 if there is none.

    Cut at k when k is given (MRR@k), otherwise the whole list counts. Averaged over
    queries or users this is MRR.
    """
    if k is None:
        k = len(recommended)
        if k == 0:
            return 0.0
    _check_k(k)
    hits = _hit_positions(recommended, _relevant_ids(relevant), k)
    return 1.0 / (hits[0] + 1) if hits else 0.0


def ranking_metrics(recommended: Sequence[str], relevant: Relevant, k: int) -> dict[str, float]:
    """One user's accuracy metrics at k, keyed e.g. ``"ndcg@10"``, ready for :func:`summarise`.

    Keys: precision@k, recall@k, ndcg@k, map@k (this user's AP@k; its mean over users is
    MAP), mrr@k (reciprocal rank cut at k) and hit_rate@k.
    """
    return {
        f"precision@{k}": precision_at_k(recommended, relevant, k),
        f"recall@{k}": recall_at_k(recommended, relevant, k),
        f"ndcg@{k}": ndcg_at_k(recommended, relevant, k),
        f"map@{k}": average_precision_at_k(recommended, relevant, k),
        f"mrr@{k}": reciprocal_rank(recommended, relevant, k),
        f"hit_rate@{k}": hit_rate_at_k(recommended, relevant, k),
    }


def catalog_coverage(lists: Sequence[Sequence[str]], catalog_size: int) -> float:
    """Share of the catalog that appears in at least one list: distinct ids / catalog_size.

    Pass the lists as shown (already cut at k). Ids are expected to come from the catalog;
    more distinct ids than the catalog holds means the two disagree and raises ValueError.
    """
    if catalog_size <= 0:
        raise ValueError(f"catalog_size must be positive, got {catalog_size}")
    distinct = {item for items in lists for item in items}
    if len(distinct) > catalog_size:
        raise ValueError(f"{len(distinct)} distinct ids in a catalog of {catalog_size}")
    return len(distinct) / catalog_size


def intra_list_diversity(vectors: npt.NDArray[np.floating[Any]]) -> float:
    """Mean pairwise cosine distance (1 − cosine similarity) between the items of one list.

    vectors: (n_items, dim) float, usually float32, one row per recommended item in list
             order. Computed in float64; the input is not modified.

    0.0 for fewer than two items. Rows are normalised first, so the scale of an embedding
    does not matter. A zero row (an item without a vector) has no direction; it is taken
    as orthogonal to every other row (similarity 0), as scikit-learn's cosine similarity
    does, rather than dividing by zero. The result lies in [0, 2], and in [0, 1] for
    embeddings with no negative similarities.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"vectors must be 2-D (n_items, dim), got shape {x.shape}")
    n = x.shape[0]
    if n < 2:
        return 0.0
    if not np.all(np.isfinite(x)):
        raise ValueError("vectors must be finite")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    similarity = np.clip(unit @ unit.T, -1.0, 1.0)
    upper = np.triu_indices(n, k=1)
    return float(np.mean(1.0 - similarity[upper]))


def novelty(recommended: Sequence[str], popularity: Mapping[str, float], n_users: int) -> float:
    """Mean self-information −log2 p(i) of the distinct items in a list, in bits.

    popularity: item id → how many of the n_users training users interacted with it
                (counts may be fractional, e.g. weighted); missing ids count 0.

    p(i) is add-one smoothed, p(i) = (count + 1) / (n_users + 1), so that an item no one
    has seen yet scores log2(n_users + 1) bits instead of infinity, and an item every user
    knows scores 0. Counts above n_users (raw event counts rather than users) are capped at
    n_users so that p never exceeds 1. Repeated ids count once; 0.0 for an empty list.
    """
    if n_users <= 0:
        raise ValueError(f"n_users must be positive, got {n_users}")
    items = list(dict.fromkeys(recommended))
    if not items:
        return 0.0
    total = 0.0
    for item in items:
        count = float(popularity.get(item, 0.0))
        if not math.isfinite(count) or count < 0:
            raise ValueError(f"popularity of {item!r} must be finite and non-negative")
        p = (min(count, n_users) + 1.0) / (n_users + 1.0)
        total -= math.log2(p)
    return total / len(items)


def summarise(per_user_rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Average per-user metric rows into a summary: the mean over users and its standard error.

    Every row must have the same metric names. For each name the summary holds the mean
    under the name and its standard error, sample std (ddof=1) / sqrt(n_users), under the
    name + ``"_se"``, so a report can print ``ndcg@10 0.213 ± 0.004``; ``"n_users"`` holds
    how many rows were averaged. The standard error is NaN for a single user: one value says
    nothing about spread. An empty input gives ``{"n_users": 0.0}``. Non-finite values
    raise ValueError rather than silently poisoning a mean.
    """
    summary: dict[str, float] = {N_USERS: float(len(per_user_rows))}
    if not per_user_rows:
        return summary
    names = list(per_user_rows[0])
    for name in names:
        if name == N_USERS or name.endswith(SE_SUFFIX):
            raise ValueError(f"metric name {name!r} collides with the summary's own keys")
    expected = set(names)
    for row in per_user_rows:
        if set(row) != expected:
            raise ValueError(f"rows disagree on metric names: {sorted(expected ^ set(row))}")
    n = len(per_user_rows)
    for name in names:
        values = np.array([row[name] for row in per_user_rows], dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} has non-finite values")
        summary[name] = float(values.mean())
        summary[name + SE_SUFFIX] = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return summary
