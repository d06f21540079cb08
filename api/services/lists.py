"""Lists about a product or the shop for one request: bought together, and trending; each
from Postgres alone when the index cannot answer."""

from __future__ import annotations

import dataclasses
import time

from api.resources import Resources
from api.services.similar import asked_for, embedder, with_fallback
from retrieval import lists
from retrieval.fallback import text_neighbours, trending_list
from retrieval.filters import ItemFilters
from retrieval.results import ListResult, without


def bought_together(resources: Resources, product_id: str, limit: int,
                    filters: ItemFilters, blocked: frozenset[str] = frozenset()) -> ListResult:
    """Companions first, then related products of other subcategories; in stock unless
    the request asks for out-of-stock ones (`in_stock=false`). `blocked`: products the
    shopper looking hid or disliked, never shown to them."""
    if filters.in_stock is None:
        filters = dataclasses.replace(filters, in_stock=True)
    n = asked_for(limit, blocked)
    return without(with_fallback(
        resources, "bought_together",
        lambda view: lists.bought_together(resources.store, resources.settings, view,
                                           product_id, n, filters, embedder(resources)),
        lambda: text_neighbours(resources.database, resources.lexical, product_id, n,
                                filters, other_subcategories_first=True)), blocked, limit)


def trending(resources: Resources, limit: int, filters: ItemFilters) -> ListResult:
    """The most popular in-stock products now."""
    return with_fallback(
        resources, "trending",
        lambda view: lists.trending(resources.store, view, limit, filters),
        lambda: trending_list(resources.fallback.rows(resources.database, resources.settings),
                              filters, limit, time.time()))
