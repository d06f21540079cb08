"""Catalog browsing and similar items."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from api import schemas
from api.errors import BadParameter, NotFound
from api.resources import Resources
from api.services import catalog
from api.services.similar import ItemFilters, similar_items

Res = NamedDependency[Resources]
Limit = Annotated[int, QueryParameter(ge=1, description="How many items to return.")]
Price = Annotated[float | None, QueryParameter(ge=0, description="Price bound, inclusive.")]
Text = FromQuery[str | None]


def request_id() -> str:
    return uuid.uuid4().hex


def check_limit(resources: Res, limit: int) -> None:
    if limit > resources.settings.max_limit:
        raise BadParameter("limit", f"must be at most {resources.settings.max_limit}")


class ProductController(Controller):
    path = "/v1/products"
    tags = ["products"]

    @get("/", sync_to_thread=True)
    def list_products(
        self,
        resources: Res,
        category: Text = None,
        brand: Text = None,
        limit: Limit = 20,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> schemas.ProductPage:
        """Browse the catalog, optionally by category and brand, in product_id order."""
        check_limit(resources, limit)
        items, total = catalog.list_products(resources.database, category, brand, limit, offset)
        return schemas.ProductPage(items=items, total=total, limit=limit, offset=offset,
                                   request_id=request_id())

    @get("/{product_id:str}", sync_to_thread=True)
    def get_product(self, resources: Res, product_id: FromPath[str]) -> schemas.Product:
        """One product from the catalog."""
        product = catalog.get_product(resources.database, product_id)
        if product is None:
            raise NotFound("product", product_id)
        return product

    @get("/{product_id:str}/similar", sync_to_thread=True)
    def similar(
        self,
        resources: Res,
        product_id: FromPath[str],
        limit: Limit = 10,
        category: Text = None,
        subcategory: Text = None,
        brand: Text = None,
        min_price: Price = None,
        max_price: Price = None,
        in_stock: FromQuery[bool | None] = None,
    ) -> schemas.SimilarResponse:
        """Products most like this one by text and by shoppers' behaviour, the product
        itself excluded; filters run inside the vector query."""
        check_limit(resources, limit)
        if min_price is not None and max_price is not None and min_price > max_price:
            raise BadParameter("min_price", "must not exceed max_price")
        filters = ItemFilters(category, subcategory, brand, min_price, max_price, in_stock)
        result = similar_items(resources, product_id, limit, filters)
        return schemas.SimilarResponse(
            product_id=product_id,
            items=result.items,
            strategy=result.strategy,
            model_version=result.version,
            request_id=request_id(),
        )
