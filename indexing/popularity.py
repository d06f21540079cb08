"""Time-decayed popularity of products, computed in Postgres from the events."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from indexing.decay import decay_factor
from indexing.event_weights import weight_case, weight_params
from models.db import Database
from models.settings import Settings

_AGE_SECONDS = "EXTRACT(EPOCH FROM (CAST(:as_of AS timestamptz) - e.occurred_at))"
_POPULARITY = text(
    f"""
    SELECT e.product_id, e.device_type,
           SUM({weight_case('e.event_type')}
               * {decay_factor(":rate", _AGE_SECONDS)})
    FROM events e
    WHERE e.occurred_at <= CAST(:as_of AS timestamptz)
      AND (:window_days = 0
           OR e.occurred_at > CAST(:as_of AS timestamptz) - make_interval(days => :window_days))
      AND e.product_id <> ALL(CAST(:withheld AS text[]))
    GROUP BY e.product_id, e.device_type
    """
)


@dataclass(frozen=True)
class Popularity:
    """Decayed popularity per product, overall and per device type of the events."""

    overall: dict[str, float]
    by_device: dict[str, dict[str, float]]  # product id -> device type -> popularity


def popularity_by_device(
    database: Database, settings: Settings, as_of: datetime | None,
    withheld: Sequence[str] = (),
) -> Popularity:
    """Event-weighted popularity with a half-life (a setting), as of `as_of`, overall and
    split by the events' device type (events without one count only overall)."""
    if as_of is None:
        return Popularity({}, {})
    weights = settings.training.event_weights()
    rate = math.log(2) / settings.training.popularity_half_life_days
    with database.engine.connect() as conn:
        rows = conn.execute(
            _POPULARITY,
            {
                "as_of": as_of.isoformat(),
                "rate": rate,
                **weight_params(weights),
                "window_days": settings.training.event_window_days,
                "withheld": list(withheld),
            },
        ).all()
    overall: dict[str, float] = {}
    by_device: dict[str, dict[str, float]] = {}
    for pid, device, score in rows:
        overall[str(pid)] = overall.get(str(pid), 0.0) + float(score)
        if device:
            by_device.setdefault(str(pid), {})[str(device)] = max(float(score), 0.0)
    # Returns and dislikes weigh against a product; more of them than of interest leaves it
    # unpopular, not below unpopular (ranking takes popularity as a non-negative signal).
    return Popularity({pid: max(value, 0.0) for pid, value in overall.items()}, by_device)
