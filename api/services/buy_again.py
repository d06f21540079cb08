"""Buy it again for one request: the shopper's purchases from Postgres, scored over the
live index, or from Postgres alone when the index cannot answer."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from api.resources import Resources
from api.services.similar import with_fallback
from models.catalog import catalog_rows
from models.history import hidden_products, past_purchases
from retrieval.buy_again import buy_again_from_catalog, buy_again_list
from retrieval.results import ListResult

MAX_PRODUCTS = 500
"""A shopper's most lately bought products considered (a 20-year history of a weekly shop
is thousands): bounds the request's reads."""


def buy_again(resources: Resources, user_id: str, limit: int,
              blocked: frozenset[str] | None = None, now: float | None = None) -> ListResult:
    """`blocked`: what the shopper hid or disliked, when the caller has read it already."""
    settings = resources.settings
    moment = time.time() if now is None else now
    days = settings.rec.buy_again_history_days
    since = datetime.fromtimestamp(moment, UTC) - timedelta(days=days) if days else None
    purchases = past_purchases(resources.database, user_id, since, MAX_PRODUCTS)
    if blocked is None:
        blocked = hidden_products(resources.database, user_id)
    return with_fallback(
        resources, "buy_again",
        lambda view: buy_again_list(resources.store, settings, view, purchases, blocked,
                                    limit, moment),
        lambda: buy_again_from_catalog(
            catalog_rows(resources.database, [p.product_id for p in purchases]),
            purchases, blocked, limit, moment))
