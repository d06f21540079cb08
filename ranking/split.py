"""The temporal train/test split of offline evaluation. Pure: event arrays in, a Split out.

Recommenders are judged on the future: a model is trained on the events before a cut time
and asked to predict what each user did at or after it. A random split would let the model
learn from a user's later behaviour and flatter every strategy that memorises.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Cut = np.datetime64 | float
"""A cut time: np.datetime64 when event times are datetime64, else a number."""

COLD_START_BUCKETS = ("0", "1-2", "3-5", "6+")
"""Cold-start buckets by interactions in train, in order, as cold-start routing uses them."""


def cold_start_bucket(n: int) -> str:
    """The cold-start bucket of a user with n training interactions: "0", "1-2", "3-5", "6+"."""
    if n < 0:
        raise ValueError(f"an interaction count cannot be negative, got {n}")
    if n == 0:
        return "0"
    if n <= 2:
        return "1-2"
    if n <= 5:
        return "3-5"
    return "6+"


@dataclass(frozen=True, slots=True)
class Split:
    """The events on either side of a cut, and what each user did after it.

    train:        (n_events,) bool, read-only; events strictly before the cut.
    test:         (n_events,) bool, read-only; events at or after the cut (= ~train).
    test_gains:   user → {item → relevance} for each user with at least one relevant test
                  item; the relevance is the strongest event weight the user gave the item
                  in test (1.0 for every item when no event types were given).
    test_items:   user → the ids of test_gains[user]: the relevant set of binary metrics.
    train_counts: user → number of train events, for every user in the data (0 for users
                  seen only in test): the count that cold-start buckets are drawn from.
    test_users:   sorted users with at least one relevant test item, whatever their
                  history; the population of a per-bucket report, bucket "0" included.
    users_in_both: sorted users with at least one train event and at least one relevant
                  test item: the users a model trained on train can be scored on.
    """

    cut: Cut
    train: npt.NDArray[np.bool_]
    test: npt.NDArray[np.bool_]
    test_gains: dict[str, dict[str, float]]
    test_items: dict[str, frozenset[str]]
    train_counts: dict[str, int]
    test_users: tuple[str, ...]
    users_in_both: tuple[str, ...]

    def bucket(self, user: str) -> str:
        """The cold-start bucket of a user, from their train events (unknown users: "0")."""
        return cold_start_bucket(self.train_counts.get(user, 0))

    def test_users_by_bucket(self) -> dict[str, tuple[str, ...]]:
        """Test users grouped by cold-start bucket; every bucket is present, in order."""
        groups: dict[str, list[str]] = {name: [] for name in COLD_START_BUCKETS}
        for user in self.test_users:
            groups[self.bucket(user)].append(user)
        return {name: tuple(users) for name, users in groups.items()}


def _one_d(name: str, values: npt.ArrayLike) -> npt.NDArray[Any]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    return array


def _checked_times(times: npt.ArrayLike) -> npt.NDArray[Any]:
    t = _one_d("times", times)
    if t.dtype.kind == "M":
        if np.any(np.isnat(t)):
            raise ValueError("times must not contain NaT")
    elif t.dtype.kind in "fiu":
        if not np.all(np.isfinite(t)):
            raise ValueError("times must be finite")
    else:
        raise ValueError(f"times must be datetime64 or numeric, got dtype {t.dtype}")
    return t


def _as_cut(times: npt.NDArray[Any], cut: Cut) -> Cut:
    if times.dtype.kind == "M":
        if not isinstance(cut, np.datetime64):
            raise ValueError("cut must be a numpy datetime64 when times are datetime64")
        return cut
    if isinstance(cut, np.datetime64):
        raise ValueError("cut must be a number when times are numeric")
    value = float(cut)
    if math.isnan(value):
        raise ValueError("cut must not be NaN")
    return value


def _event_weights(
    n: int,
    event_types: npt.ArrayLike | None,
    relevance: Mapping[str, float] | None,
) -> list[float]:
    if event_types is None:
        if relevance is not None:
            raise ValueError("relevance weights were given without event_types")
        return [1.0] * n
    if relevance is None:
        raise ValueError("event_types were given without relevance weights")
    types = _one_d("event_types", event_types)
    if len(types) != n:
        raise ValueError(f"event_types has {len(types)} entries for {n} events")
    for name, weight in relevance.items():
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"relevance of {name!r} must be finite and non-negative")
    names = types.tolist()
    unknown = sorted({str(name) for name in names} - set(relevance))
    if unknown:
        raise ValueError(f"no relevance weight for event types {unknown}")
    return [float(relevance[str(name)]) for name in names]


def temporal_split(
    user_ids: npt.ArrayLike,
    item_ids: npt.ArrayLike,
    times: npt.ArrayLike,
    cut: Cut,
    *,
    event_types: npt.ArrayLike | None = None,
    relevance: Mapping[str, float] | None = None,
    exclude_seen: bool = True,
) -> Split:
    """Split events at a cut time: train strictly before it, test at or after it.

    user_ids, item_ids: (n_events,) str or object arrays of ids.
    times:       (n_events,) datetime64 (any unit) or float/int; no NaT or NaN.
    cut:         np.datetime64 for datetime64 times, a number for numeric times.
    event_types: optional (n_events,) str/object event type names; with it, ``relevance``
                 (event type → non-negative weight, e.g. purchase 5 > add_to_cart 3 >
                 click 2 > view 1) must name every type present, and each test item's
                 relevance is the strongest weight among the user's test events on it. A
                 weight of 0 makes an event type count for nothing, e.g. to judge on
                 purchases alone. Without event types every test item has relevance 1.
    exclude_seen: drop from a user's test set the items they already interacted with in
                 train (default). Otherwise a model is rewarded for recommending what the
                 user already viewed or bought, which any history replay does trivially
                 and which is not the discovery we want to measure.

    Inputs are not modified. Users and items in the output are plain str.
    """
    users = _one_d("user_ids", user_ids).tolist()
    items = _one_d("item_ids", item_ids).tolist()
    t = _checked_times(times)
    n = len(t)
    if len(users) != n or len(items) != n:
        raise ValueError(
            f"user_ids ({len(users)}), item_ids ({len(items)}) and times ({n}) differ in length"
        )
    weights = _event_weights(n, event_types, relevance)
    cut_value = _as_cut(t, cut)

    train = np.asarray(t < cut_value, dtype=np.bool_)
    test = ~train
    train.setflags(write=False)
    test.setflags(write=False)
    in_train = train.tolist()

    counts = Counter(str(u) for u, before in zip(users, in_train, strict=True) if before)
    train_counts = {user: counts.get(user, 0) for user in sorted({str(u) for u in users})}
    seen = (
        {(str(u), str(i)) for u, i, before in zip(users, items, in_train, strict=True) if before}
        if exclude_seen
        else set()
    )

    gains: dict[str, dict[str, float]] = {}
    for user, item, weight, before in zip(users, items, weights, in_train, strict=True):
        key = (str(user), str(item))
        if before or weight <= 0 or key in seen:
            continue
        per_user = gains.setdefault(key[0], {})
        per_user[key[1]] = max(per_user.get(key[1], 0.0), weight)

    test_gains = {user: dict(sorted(gains[user].items())) for user in sorted(gains)}
    test_users = tuple(test_gains)
    return Split(
        cut=cut_value,
        train=train,
        test=test,
        test_gains=test_gains,
        test_items={user: frozenset(g) for user, g in test_gains.items()},
        train_counts=train_counts,
        test_users=test_users,
        users_in_both=tuple(user for user in test_users if train_counts[user] > 0),
    )


def validation_cut(times: npt.ArrayLike, fraction: float) -> Cut:
    """A cut time after which roughly the last ``fraction`` of the events fall.

    times: (n_events,) datetime64 or numeric, at least two events; fraction in (0, 1).

    Meant for tuning: call it on the train events of the real split only (e.g.
    ``validation_cut(times[split.train], 0.1)``) and split those again, so that no choice
    is ever made by looking at the test period. The cut is the time of the
    round(fraction · n)-th event from the end (at least one event after, at least one
    before by position); events tied with it go after the cut too, hence "roughly".
    Returns np.datetime64 for datetime64 times, else a float.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    t = _checked_times(times)
    n = len(t)
    if n < 2:
        raise ValueError(f"need at least two events to choose a cut, got {n}")
    after = min(max(1, round(fraction * n)), n - 1)
    value = np.sort(t)[n - after]
    if t.dtype.kind == "M":
        return np.datetime64(value)
    return float(value)
