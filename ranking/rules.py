"""Business rules applied around ranking: what may be shown, what is boosted, how varied.

Three steps, in the order a service applies them:

1. :func:`filter_candidates` drops what must never be shown (out of stock, excluded,
   already bought);
2. :func:`boost` raises the scores of new arrivals (an exploration bonus that fades
   over their first days) and promoted products;
3. :func:`apply_caps` takes the final ranking and keeps any one category or brand from
   filling the top of the list.

Every threshold lives in a :class:`RuleSet` that the caller builds from settings and the
request; nothing here reads the clock. Pure: records in, records out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ranking.candidates import Candidate

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSet:
    """The business rules of one request.

    now:                   the request time, epoch seconds; ages are measured from it.
    exclude_ids:           products never to show (e.g. the one on the current page).
    purchased_ids:         products the shopper has bought.
    drop_purchased:        whether bought products are left out.
    consumable_categories: categories whose products are bought again (coffee, printer
                           ink), so a purchase there does not rule the product out.
    max_per_category:      at most this many products of one category in the capped
                           window; None for no cap.
    max_per_brand:         the same per brand; None for no cap. An empty brand ("") is no
                           brand and never counts.
    cap_window:            the caps apply to the first cap_window positions, the part of
                           a carousel that is seen at once.
    new_item_days:         how long a new product gets the exploration bonus.
    new_boost:             the bonus on the day a product is created, fading linearly to 0
                           at new_item_days (the seed suggests 10–20%).
    promoted_boost:        the bonus of a promoted product.
    """

    now: float
    exclude_ids: frozenset[str] = frozenset()
    purchased_ids: frozenset[str] = frozenset()
    drop_purchased: bool = True
    consumable_categories: frozenset[str] = frozenset()
    max_per_category: int | None = 3
    max_per_brand: int | None = 2
    cap_window: int = 10
    new_item_days: float = 7.0
    new_boost: float = 0.15
    promoted_boost: float = 0.1

    def __post_init__(self) -> None:
        for name in ("max_per_category", "max_per_brand"):
            cap = getattr(self, name)
            if cap is not None and cap < 1:
                raise ValueError(f"{name} must be at least 1 (or None for no cap), got {cap}")
        if self.cap_window < 0:
            raise ValueError(f"cap_window must be non-negative, got {self.cap_window}")
        if self.new_item_days < 0:
            raise ValueError(f"new_item_days must be non-negative, got {self.new_item_days}")
        if self.new_boost < 0 or self.promoted_boost < 0:
            raise ValueError("boosts must be non-negative")


def filter_candidates(candidates: Sequence[Candidate], rules: RuleSet) -> list[Candidate]:
    """The candidates that may be shown, in their given order.

    Dropped: out-of-stock products (always: a recommendation that cannot be bought is a
    dead end), products in ``exclude_ids``, products in ``purchased_ids`` when
    ``drop_purchased`` is set unless their category is consumable, and repeats of a
    product id already kept (the first occurrence stays).
    """
    kept: list[Candidate] = []
    seen: set[str] = set()
    for candidate in candidates:
        pid = candidate.product_id
        if not candidate.in_stock or pid in rules.exclude_ids or pid in seen:
            continue
        if (
            rules.drop_purchased
            and pid in rules.purchased_ids
            and candidate.category not in rules.consumable_categories
        ):
            continue
        seen.add(pid)
        kept.append(candidate)
    return kept


def exploration_bonus(created_at: float, rules: RuleSet) -> float:
    """The new-item bonus of a product created at ``created_at`` (epoch seconds).

    ``new_boost`` for a product created now, falling linearly with age to 0 at
    ``new_item_days`` and staying 0 after. A creation time in the future (clock skew
    between writers) counts as age 0.
    """
    if rules.new_item_days <= 0:
        return 0.0
    age_days = max(0.0, (rules.now - created_at) / SECONDS_PER_DAY)
    return rules.new_boost * max(0.0, 1.0 - age_days / rules.new_item_days)


def boost(
    candidates: Sequence[Candidate],
    scores: npt.NDArray[np.floating],
    rules: RuleSet,
) -> npt.NDArray[np.float32]:
    """Scores after the new-item and promotion boosts; (n,) float in, (n,) float32 out.

    scores: (n_candidates,) float, aligned with ``candidates``.

    The boosts multiply: a score s becomes s · (1 + new) · (1 + promoted), so a boost is
    a share of the score it rewards and a weak candidate cannot be lifted past a strong
    one by a bonus alone. For a negative score (a raw similarity) the boost is applied to
    its magnitude, s + |s| · ((1 + new)(1 + promoted) − 1), so a boost never lowers a
    score. NaN and ±inf pass through. The input is not modified.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (len(candidates),):
        raise ValueError(f"scores has shape {s.shape}, expected ({len(candidates)},)")
    factor = np.array(
        [
            (1.0 + exploration_bonus(c.created_at, rules))
            * (1.0 + (rules.promoted_boost if c.promoted else 0.0))
            for c in candidates
        ],
        dtype=np.float64,
    )
    with np.errstate(invalid="ignore"):
        boosted = np.where(np.isfinite(s), s + np.abs(s) * (factor - 1.0), s)
    return boosted.astype(np.float32)


def apply_caps(ranked: Sequence[Candidate], rules: RuleSet, k: int) -> list[Candidate]:
    """The first k of ``ranked`` (best first) with the category and brand caps applied.

    Greedy, in rank order: a candidate takes the next position in the capped window
    (the first ``min(cap_window, k)`` positions) unless the window already holds
    ``max_per_category`` of its category or ``max_per_brand`` of its brand; otherwise it
    is skipped. Once the window is full, the caps no longer apply: the positions after it
    go to the remaining candidates in rank order, skipped ones included, since they
    outrank the ones never reached.

    If the caps leave the window short (a shopper whose candidates are all one brand),
    the skipped candidates fill it in rank order, so the list is never shorter than
    ``min(k, len(ranked))`` because of a cap: a full list beats a varied but empty one.
    Repeats of a product id are dropped. Raises ValueError for a negative k.
    """
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    unique: list[Candidate] = []
    seen: set[str] = set()
    for candidate in ranked:
        if candidate.product_id not in seen:
            seen.add(candidate.product_id)
            unique.append(candidate)
    window = min(rules.cap_window, k)
    taken: list[Candidate] = []
    taken_ids: set[str] = set()
    per_category: Counter[str] = Counter()
    per_brand: Counter[str] = Counter()
    for candidate in unique:
        if len(taken) >= window:
            break
        if rules.max_per_category is not None and (
            per_category[candidate.category] >= rules.max_per_category
        ):
            continue
        counts_brand = candidate.brand != ""
        if (
            counts_brand
            and rules.max_per_brand is not None
            and per_brand[candidate.brand] >= rules.max_per_brand
        ):
            continue
        taken.append(candidate)
        taken_ids.add(candidate.product_id)
        per_category[candidate.category] += 1
        if counts_brand:
            per_brand[candidate.brand] += 1
    rest = [c for c in unique if c.product_id not in taken_ids]
    return taken + rest[: max(0, k - len(taken))]
