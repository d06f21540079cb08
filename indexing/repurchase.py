"""How often, and how soon, each product is bought again: read from every shopper's
purchases at reindex and stored on the item (ranking.buy_again does the learning)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import text

from models.db import Database
from models.settings import Settings
from ranking.buy_again import BuyAgainSettings, Repurchase, repurchase_stats

# Each shopper's purchase times per product over the buy-again horizon (longer than the
# training window: a product bought every two months needs months of history to show it).
_PURCHASES = text(
    """
    SELECT e.user_id, e.product_id, p.category,
           array_agg(EXTRACT(EPOCH FROM e.occurred_at)::float8 ORDER BY e.occurred_at)
    FROM events e JOIN products p USING (product_id)
    WHERE e.event_type = 'purchase'
      AND e.occurred_at <= CAST(:as_of AS timestamptz)
      AND (:days = 0 OR e.occurred_at > CAST(:as_of AS timestamptz) - make_interval(days => :days))
      AND e.product_id <> ALL(CAST(:withheld AS text[]))
    GROUP BY e.user_id, e.product_id, p.category
    """
)


def buy_again_settings(settings: Settings) -> BuyAgainSettings:
    return BuyAgainSettings(min_rate=settings.rec.buy_again_min_rate,
                            horizon_days=settings.rec.buy_again_horizon_days)


def repurchases(database: Database, settings: Settings, as_of: datetime | None,
                withheld: Sequence[str] = ()) -> dict[str, Repurchase]:
    """Per product with purchases: its repurchase rate and typical interval in days."""
    if as_of is None:
        return {}

    def rows() -> Iterator[tuple[str, str, str, Sequence[float]]]:
        with database.engine.connect() as conn:
            for user, product, category, times in conn.execute(_PURCHASES, {
                    "as_of": as_of.isoformat(), "days": settings.rec.buy_again_history_days,
                    "withheld": list(withheld)}):
                yield str(user), str(product), str(category), list(times)

    return repurchase_stats(rows(), buy_again_settings(settings))
