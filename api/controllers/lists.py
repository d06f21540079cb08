"""Lists with reasons: bought together with a product, and trending now."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from api import schemas
from api.controllers.products import Limit, Price, Res, Text, check_limit, request_id
from api.errors import BadParameter
from api.services import lists
from api.services.similar import ItemFilters


def check_prices(min_price: float | None, max_price: float | None) -> None:
    if min_price is not None and max_price is not None and min_price > max_price:
        raise BadParameter("min_price", "must not exceed max_price")


class ListsController(Controller):
    path = "/v1"
    tags = ["lists"]

    @get("/products/{product_id:str}/bought-together", sync_to_thread=True)
    def bought_together(
        self,
        resources: Res,
        product_id: FromPath[str],
        limit: Limit = 10,
        category: Text = None,
        subcategory: Text = None,
        brand: Text = None,
        min_price: Price = None,
        max_price: Price = None,
        in_stock: FromQuery[bool] = True,
    ) -> schemas.ListResponse:
        """Products often bought with this one, best first, topped up with related items
        of other subcategories when it has too few; only in-stock items unless
        `in_stock=false` (then only out-of-stock ones, as on similar items)."""
        check_limit(resources, limit)
        check_prices(min_price, max_price)
        filters = ItemFilters(category, subcategory, brand, min_price, max_price, in_stock)
        result = lists.bought_together(resources, product_id, limit, filters)
        return schemas.ListResponse(
            items=result.items,
            strategy=result.strategy,
            model_version=result.version,
            request_id=request_id(),
            product_id=product_id,
            category=category,
        )

    @get("/trending", sync_to_thread=True)
    def trending(
        self,
        resources: Res,
        limit: Limit = 10,
        category: Text = None,
        brand: Text = None,
        min_price: Price = None,
        max_price: Price = None,
    ) -> schemas.ListResponse:
        """The most popular in-stock products now (time-decayed popularity), at most three
        of one category in the top ten unless a category is asked for."""
        check_limit(resources, limit)
        check_prices(min_price, max_price)
        filters = ItemFilters(category=category, brand=brand, min_price=min_price,
                              max_price=max_price)
        result = lists.trending(resources, limit, filters)
        return schemas.ListResponse(
            items=result.items,
            strategy=result.strategy,
            model_version=result.version,
            request_id=request_id(),
            category=category,
        )
