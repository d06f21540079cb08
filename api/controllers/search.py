"""Product search: `GET /v1/search`."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from api import schemas
from api.controllers.products import Limit, Price, Text, check_limit, request_id
from api.errors import BadParameter
from api.resources import Resources
from api.services.search import search
from api.services.similar import ItemFilters

Res = NamedDependency[Resources]
MAX_OFFSET = 1_000


class SearchController(Controller):
    path = "/v1/search"
    tags = ["search"]

    @get("/", sync_to_thread=True)
    def search(
        self,
        resources: Res,
        q: Annotated[str, QueryParameter(
            description="What the shopper typed. Case, accents and extra spaces do not "
                        "matter; a typo in a catalog word is corrected.")],
        user_id: Text = None,
        session_id: Text = None,
        limit: Limit = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET,
                                              description="Results to skip (paging).")] = 0,
        category: Text = None,
        brand: Text = None,
        min_price: Price = None,
        max_price: Price = None,
        in_stock: Annotated[bool | None, QueryParameter(
            description="true: only products in stock.")] = None,
    ) -> schemas.SearchResponse:
        """Products matching the query by its words (Postgres full-text) and its meaning
        (the text vectors), fused, then reordered for the shopper when `user_id` or
        `session_id` has history. Facet counts cover every matched product."""
        check_limit(resources, limit)
        if min_price is not None and max_price is not None and min_price > max_price:
            raise BadParameter("min_price", "must not exceed max_price")
        filters = ItemFilters(category=category, brand=brand, min_price=min_price,
                              max_price=max_price, in_stock=in_stock)
        return search(resources, q, limit, offset, filters, user_id=user_id,
                      session_id=session_id, request_id=request_id())
