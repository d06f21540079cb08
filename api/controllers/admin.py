"""What the admin catalog endpoints answer (the handlers live on ProductController, which
owns the /v1/products paths)."""

from __future__ import annotations

import msgspec

from api import schemas
from api.errors import ApiError


class ProductWrite(msgspec.Struct):
    product: schemas.Product
    created: bool
    indexed_into: list[str]


class BatchWrite(msgspec.Struct):
    created: int
    updated: int
    indexed_into: list[str]
    products: list[schemas.Product]


class TooManyProducts(ApiError):
    def __init__(self, n: int, most: int) -> None:
        super().__init__(413, "payload_too_large",
                         f"products: {n} in one request, at most {most}", {"most": most})


class ProductDeleted(msgspec.Struct):
    deleted: str
    removed_from: list[str]
