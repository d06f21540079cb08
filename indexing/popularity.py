"""Time-decayed popularity of products, computed in Postgres from the events."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from indexing.collections import CatalogRow
from indexing.interactions import resolve_as_of
from indexing.live_catalog import catalog_rows
from models.db import Database
from models.settings import Settings

_POPULARITY = text(
    """
    SELECT e.product_id, e.device_type,
           SUM(CASE e.event_type
                 WHEN 'view' THEN :w_view WHEN 'click' THEN :w_click
                 WHEN 'add_to_cart' THEN :w_cart WHEN 'purchase' THEN :w_purchase
               END
               * exp(-:rate * EXTRACT(EPOCH FROM (CAST(:as_of AS timestamptz) - e.occurred_at))
                     / 86400.0))
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


def decayed_popularity(
    database: Database, settings: Settings, as_of: datetime | None
) -> dict[str, float]:
    """Event-weighted popularity per product with a half-life (a setting), as of `as_of`."""
    return popularity_by_device(database, settings, as_of).overall


def popularity_by_device(
    database: Database, settings: Settings, as_of: datetime | None,
    withheld: Sequence[str] = (),
) -> Popularity:
    """Event-weighted popularity with a half-life (a setting), as of `as_of`, overall and
    split by the events' device type (events without one count only overall)."""
    if as_of is None:
        return Popularity({}, {})
    weights = settings.event_weights()
    rate = math.log(2) / settings.popularity_half_life_days
    with database.engine.connect() as conn:
        rows = conn.execute(
            _POPULARITY,
            {
                "as_of": as_of.isoformat(),
                "rate": rate,
                "w_view": weights["view"],
                "w_click": weights["click"],
                "w_cart": weights["add_to_cart"],
                "w_purchase": weights["purchase"],
                "window_days": settings.event_window_days,
                "withheld": list(withheld),
            },
        ).all()
    overall: dict[str, float] = {}
    by_device: dict[str, dict[str, float]] = {}
    for pid, device, score in rows:
        overall[str(pid)] = overall.get(str(pid), 0.0) + float(score)
        if device:
            by_device.setdefault(str(pid), {})[str(device)] = float(score)
    return Popularity(overall, by_device)


def popular_in_stock(database: Database, settings: Settings,
                     limit: int) -> list[tuple[CatalogRow, float]]:
    """The most popular in-stock products straight from Postgres, with their decayed
    popularity as a reindex would compute it: what serves when no index can."""
    overall = popularity_by_device(database, settings, resolve_as_of(database, settings)).overall
    ranked = sorted(overall, key=lambda pid: (-overall[pid], pid))
    out: list[tuple[CatalogRow, float]] = []
    # Most popular products are in stock: read the catalog a couple of screens at a time.
    step = max(2 * limit, 1)
    for start in range(0, len(ranked), step):
        rows = {r.product_id: r for r in catalog_rows(database, ranked[start:start + step])}
        for pid in ranked[start:start + step]:
            row = rows.get(pid)
            if row is not None and row.in_stock:
                out.append((row, overall[pid]))
                if len(out) == limit:
                    return out
    return out


POPULAR_POOL = 500  # enough for a request's filters to leave a full list


class PopularInStock:
    """The popular in-stock list (`POPULAR_POOL` products), read from Postgres at most
    once per `ttl` seconds: what the stale-model guard serves from."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._rows: list[tuple[CatalogRow, float]] | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def rows(self, database: Database, settings: Settings) -> list[tuple[CatalogRow, float]]:
        with self._lock:
            if self._rows is None or time.monotonic() - self._read_at > self.ttl:
                self._rows = popular_in_stock(database, settings, POPULAR_POOL)
                self._read_at = time.monotonic()
            return self._rows
