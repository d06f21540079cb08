"""Each event type's weight, in SQL: the sums that training and popularity run in Postgres.

The weights come from settings (`TrainingSettings.event_weights`); negative feedback
(dislike, return, hide) weighs below zero, so that it counts against a product.
"""

from __future__ import annotations

from collections.abc import Mapping

from models.tables import EVENT_TYPES


def weight_case(column: str) -> str:
    """SQL for the weight of the event type in `column`, one bound parameter per type."""
    whens = " ".join(f"WHEN '{kind}' THEN :w_{kind}" for kind in EVENT_TYPES)
    return f"(CASE {column} {whens} ELSE 0 END)"


def weight_params(weights: Mapping[str, float]) -> dict[str, float]:
    """The bound parameters of `weight_case`: every type's weight (0 for one not given)."""
    return {f"w_{kind}": float(weights.get(kind, 0.0)) for kind in EVENT_TYPES}
