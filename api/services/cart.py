"""Cart complements for one request: the cart (named, or the session's), what the shopper
hid, and the retrieval over the live index; Postgres alone when the index cannot answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from api.resources import Resources
from api.services.similar import asked_for, embedder, with_fallback
from models.history import session_cart
from retrieval.cart import cart_complements
from retrieval.fallback import text_neighbours
from retrieval.filters import ItemFilters
from retrieval.results import ListResult, without

MAX_CART = 50
"""Products of a cart considered: a cart of hundreds is a wholesale order, not a basket."""


def cart_of(resources: Resources, items: Sequence[str], session_id: str | None) -> list[str]:
    """The cart asked about: the items named, then the session's cart, no product twice."""
    named = list(dict.fromkeys(items))
    if session_id is not None:
        named += [p for p in session_cart(resources.database, session_id, MAX_CART)
                  if p not in named]
    return named[:MAX_CART]


def complements(resources: Resources, cart: Sequence[str], limit: int, filters: ItemFilters,
                blocked: frozenset[str]) -> ListResult:
    """What goes with the cart; in stock unless the request says otherwise. With no
    index, Postgres's text neighbours of the cart's first product, other subcategories
    first."""
    if filters.in_stock is None:
        filters = dataclasses.replace(filters, in_stock=True)
    n = asked_for(limit, blocked)
    return without(with_fallback(
        resources, "cart",
        lambda view: cart_complements(resources.store, resources.settings, view, cart, limit,
                                      filters, blocked, embedder(resources)),
        lambda: text_neighbours(resources.database, resources.lexical, cart[0], n, filters,
                                other_subcategories_first=True)
        if cart else empty_cart()), frozenset((*blocked, *cart)), limit)


def empty_cart() -> ListResult:
    """The answer for a cart with nothing in it."""
    return ListResult([], {}, "empty_cart", None)
