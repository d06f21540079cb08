"""A shopper's recent events, and what ranking reads off them. Pure: records in, records out.

The API builds a history from Postgres; the offline evaluator builds one from the
training side of a time split; both hand it to the same recommender.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

BLOCKING_EVENTS = frozenset({"dislike", "hide"})
"""A shopper who did one of these never sees that product again, on any surface."""
NEGATIVE_EVENTS = BLOCKING_EVENTS | {"return"}
"""Feedback against a product: it weighs below zero in training and is never an anchor."""


@dataclass(frozen=True, slots=True)
class Interaction:
    """One event: what, how, when (epoch seconds)."""

    product_id: str
    event_type: str
    at: float


@dataclass(frozen=True, slots=True)
class ShopperHistory:
    """Events of a shopper within the window, and of their current session.

    events:         the shopper's events, any order.
    session_events: the live session's events (an anonymous shopper has only these).
    device_type:    the device the shopper is on, when known.
    """

    user_id: str | None
    events: Sequence[Interaction] = ()
    session_events: Sequence[Interaction] = ()
    device_type: str | None = None
    # Products the shopper hid or disliked at any time, beyond the window and the limit
    # that bound `events`.
    hidden: frozenset[str] = frozenset()
    # Every product the shopper touched within the window, and those they bought, also
    # beyond the limit that bounds `events` (filled only where the limit cut some off): a
    # shopper with years of events must not be offered what they already have.
    touched: frozenset[str] = frozenset()
    bought: frozenset[str] = frozenset()

    @property
    def blocked(self) -> frozenset[str]:
        """What this shopper must never be shown: hidden or disliked, ever or just now."""
        return self.hidden | frozenset(
            e.product_id for e in (*self.events, *self.session_events)
            if e.event_type in BLOCKING_EVENTS)

    @property
    def n_interactions(self) -> int:
        """Events of the shopper, the count cold-start routing goes by."""
        return len(self.events)

    @property
    def newest(self) -> float | None:
        times = [e.at for e in (*self.events, *self.session_events)]
        return max(times) if times else None


def item_confidences(
    events: Sequence[Interaction],
    weights: Mapping[str, float],
    decay_per_day: float,
    reference: float,
) -> dict[str, float]:
    """Summed weight × exp(−decay · age_days) per product, as the trainer aggregates it.

    Unknown event types weigh nothing; negative feedback weighs below zero, so a product's
    sum may be negative (the trainer reads that as "not wanted", with that confidence).
    Ages are measured back from `reference` and events after it count as age 0.
    """
    out: dict[str, float] = {}
    for e in events:
        w = weights.get(e.event_type, 0.0)
        if w == 0:
            continue
        age_days = max(0.0, reference - e.at) / 86400.0
        out[e.product_id] = out.get(e.product_id, 0.0) + w * math.exp(-decay_per_day * age_days)
    return out


def anchors(confidences: Mapping[str, float], n: int) -> list[tuple[str, float]]:
    """The n products the shopper cares most about, strongest first (ties by id); a product
    whose feedback sums to zero or below is no anchor."""
    ranked = sorted(((p, c) for p, c in confidences.items() if c > 0),
                    key=lambda kv: (-kv[1], kv[0]))
    return ranked[:n]


def session_anchors(session_events: Sequence[Interaction], n: int) -> list[tuple[str, float]]:
    """The session's last n distinct products, most recent first, weighted 1, ½, ⅓, …;
    a product the session gave negative feedback on (hid, disliked, returned) is none."""
    against = {e.product_id for e in session_events if e.event_type in NEGATIVE_EVENTS}
    seen: list[str] = []
    for e in sorted(session_events, key=lambda e: (-e.at, e.product_id)):
        if e.product_id not in seen and e.product_id not in against:
            seen.append(e.product_id)
        if len(seen) == n:
            break
    return [(pid, 1.0 / (i + 1)) for i, pid in enumerate(seen)]


def purchased(history: ShopperHistory) -> frozenset[str]:
    return history.bought | frozenset(
        e.product_id for e in (*history.events, *history.session_events)
        if e.event_type == "purchase"
    )
