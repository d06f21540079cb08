"""The home page's rows for a shopper: what each row is about, and no product twice.
Pure: the API fetches each row's list and hands it here.

Rows, in order: "Picked for you" (the shopper's recommendations), "Because you viewed X"
for the product the shopper cares most about right now (the session's latest, else their
strongest by weighted, decayed events) with its similar items, and "Trending in Y" for
that product's category (or trending overall).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence

from ranking.history import ShopperHistory, anchors, item_confidences, session_anchors
from ranking.reasons import Reason, ReasonKind
from ranking.results import RankedItem


def focus_product(history: ShopperHistory, weights: Mapping[str, float],
                  decay_per_day: float) -> str | None:
    """The product a "Because you viewed" row is about, or None for a shopper with no
    events."""
    blocked = history.blocked
    confidences = item_confidences(history.events, weights, decay_per_day,
                                   history.newest or 0.0)
    focus = ([(p, w) for p, w in session_anchors(history.session_events, 1)
              if p not in blocked]
             or anchors({p: c for p, c in confidences.items() if p not in blocked}, 1))
    return focus[0][0] if focus else None


def unseen(items: Sequence[RankedItem], shown: Collection[str], n: int) -> list[RankedItem]:
    """The first n items that no earlier row showed."""
    return [item for item in items if item.product_id not in shown][:n]


def because_you_viewed(items: Sequence[RankedItem], anchor: str) -> list[RankedItem]:
    """Similar items of the anchor, each explained by it."""
    reason = Reason(ReasonKind.BECAUSE_YOU_VIEWED, product_id=anchor)
    return [dataclasses.replace(item, reason=reason) for item in items]
