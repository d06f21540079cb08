"""Bodies the HTTP API returns: msgspec Structs, never ORM rows or loose dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class ErrorBody(msgspec.Struct):
    code: str
    message: str
    details: Any = None


class ErrorResponse(msgspec.Struct):
    error: ErrorBody


class Product(msgspec.Struct):
    product_id: str
    title: str
    description: str
    category: str
    subcategory: str
    brand: str
    price: float
    tags: list[str]
    in_stock: bool
    promoted: bool
    created_at: datetime


class ProductPage(msgspec.Struct):
    items: list[Product]
    total: int
    limit: int
    offset: int
    request_id: str


class ListItem(msgspec.Struct):
    """One entry of a ranked list."""

    product_id: str
    score: float
    title: str
    category: str
    brand: str
    price: float
    in_stock: bool


class SimilarResponse(msgspec.Struct):
    product_id: str
    items: list[ListItem]
    strategy: str
    model_version: int | None
    request_id: str


class CategoryCount(msgspec.Struct):
    name: str
    count: int


class CategoryList(msgspec.Struct):
    items: list[CategoryCount]


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    ready: bool
    postgres: bool
    vector_store: bool
    index_version: int | None
    missing: list[str]
