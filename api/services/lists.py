"""Lists about a product or the shop for one request: bought together, and trending."""

from __future__ import annotations

import dataclasses

from api.resources import Resources
from api.services.similar import embedder, live_view
from retrieval import lists
from retrieval.filters import ItemFilters
from retrieval.results import ListResult


def bought_together(resources: Resources, product_id: str, limit: int,
                    filters: ItemFilters) -> ListResult:
    """Companions first, then related products of other subcategories; in stock unless
    the request asks for out-of-stock ones (`in_stock=false`)."""
    if filters.in_stock is None:
        filters = dataclasses.replace(filters, in_stock=True)
    return lists.bought_together(resources.store, resources.settings, live_view(resources),
                                 product_id, limit, filters, embedder(resources))


def trending(resources: Resources, limit: int, filters: ItemFilters) -> ListResult:
    """The most popular in-stock products now."""
    return lists.trending(resources.store, live_view(resources), limit, filters)
