"""Admin writes to the catalog: validated, written to Postgres and the serving index together.

A write is validated whole before anything is stored (a batch with one bad product
stores nothing and names every fault). Postgres and the vector store are written inside
one database transaction: if the vector store refuses, the transaction rolls back and
the catalog is as it was. What the request's process had cached about the products is
forgotten, so its next ranking reads them afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from api.errors import ApiError, NotFound
from api.resources import Resources
from data.parsers import (
    parse_datetime,
    parse_identifier,
    parse_label,
    parse_long_text,
    parse_price,
    parse_required_label,
    parse_title,
)
from indexing.live_catalog import index_products, remove_products, serving_collections
from models import catalog
from models.catalog import CatalogRow, ProductUpsert
from ranking.spelling import words_of
from retrieval.search import vocabulary_text

MAX_TAGS = 50


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    """A product as an admin writes it. `created_at` defaults to now for a new product and
    stays as it was for an existing one."""

    title: str
    category: str
    price: float | str
    subcategory: str = ""
    brand: str = ""
    description: str = ""
    tags: list[str] = []
    in_stock: bool = True
    promoted: bool = False
    created_at: str | None = None
    product_id: str | None = None  # required in a batch; optional (must match) in a PUT


class ProductBatch(msgspec.Struct, forbid_unknown_fields=True):
    products: list[ProductIn]


class ProductInvalid(ApiError):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        first = problems[0]
        where = f"products[{first['index']}]." if "index" in first else ""
        super().__init__(400, "invalid_product",
                         f"{where}{first['field']}: {first['message']}"
                         + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                         {"problems": problems})


def validate(raw: ProductIn, product_id: str | None, index: int | None = None) -> ProductUpsert:
    """Check one product; raises ProductInvalid naming every field at fault."""
    problems: list[dict[str, Any]] = []

    def check(name: str, parse: Callable[[str], Any], value: str) -> Any:
        try:
            return parse(value)
        except ValueError as exc:
            problem: dict[str, Any] = {"field": name, "message": str(exc)}
            if index is not None:
                problem["index"] = index
            problems.append(problem)
            return None

    if product_id is not None and raw.product_id not in (None, product_id):
        check("product_id", _refuse(f"{raw.product_id!r} differs from the path's "
                                    f"{product_id!r}"), "")
    pid = check("product_id", parse_identifier, product_id or raw.product_id or "")
    title = check("title", parse_title, raw.title)
    category = check("category", parse_required_label, raw.category)
    subcategory = check("subcategory", parse_label, raw.subcategory)
    brand = check("brand", parse_label, raw.brand)
    price = check("price", parse_price, str(raw.price))
    description = check("description", parse_long_text, raw.description)
    tags: list[str] = []
    if len(raw.tags) > MAX_TAGS:
        check("tags", _refuse(f"at most {MAX_TAGS} tags"), "")
    for tag in raw.tags:
        clean = check("tags", parse_label, tag)
        if clean and clean not in tags:
            tags.append(clean)
    created = check("created_at", parse_datetime, raw.created_at) if raw.created_at else None
    if problems:
        raise ProductInvalid(problems)
    return ProductUpsert(product_id=pid, title=title, description=description,
                         category=category, subcategory=subcategory, brand=brand,
                         price=Decimal(price), tags=tags, in_stock=raw.in_stock,
                         promoted=raw.promoted, created_at=created)


def validate_batch(batch: Sequence[ProductIn]) -> list[ProductUpsert]:
    """Every product of a batch checked; ProductInvalid lists the faults of all of them."""
    valid: list[ProductUpsert] = []
    problems: list[dict[str, Any]] = []
    for i, raw in enumerate(batch):
        try:
            valid.append(validate(raw, None, i))
        except ProductInvalid as exc:
            problems += exc.extra["problems"] if isinstance(exc.extra, dict) else []
    if problems:
        raise ProductInvalid(problems)
    ids = [p.product_id for p in valid]
    repeated = sorted({p for p in ids if ids.count(p) > 1})
    if repeated:
        raise ProductInvalid([{"field": "product_id",
                               "message": f"{repeated[0]!r} appears more than once"}])
    return valid


def _refuse(message: str) -> Callable[[str], Any]:
    def parse(_: str) -> Any:
        raise ValueError(message)
    return parse


@dataclass(frozen=True)
class Written:
    rows: list[CatalogRow]
    created: list[bool]
    indexed_into: list[str]


def upsert_products(resources: Resources, products: Sequence[ProductUpsert]) -> Written:
    """Store the products and index them into every serving collection, all or nothing."""
    database, store = resources.database, resources.store
    with database.engine.begin() as conn:
        stored = catalog.upsert_products(conn, products)
        rows = [row for row, _ in stored]
        created = [new for _, new in stored]
        targets = serving_collections(database, store)
        # Inside the transaction: if the store fails, Postgres keeps the old rows.
        written = index_products(database, store, resources.settings, resources.encoder,
                                 targets, rows)
    _forget(resources, [r.product_id for r in rows])
    vocabulary = resources.vocabulary_if_loaded()
    if vocabulary is not None:
        vocabulary.add(w for r in rows for w in set(words_of(vocabulary_text(
            r.title, r.brand, r.category, r.subcategory, r.tags))))
    return Written(rows, created, written)


def delete_product(resources: Resources, product_id: str) -> list[str]:
    """Remove the product from Postgres and every serving collection; its events stay."""
    database, store = resources.database, resources.store
    with database.engine.begin() as conn:
        if not catalog.delete_product(conn, product_id):
            raise NotFound("product", product_id)
        written = remove_products(store, serving_collections(database, store), [product_id])
    _forget(resources, [product_id])
    return written


def _forget(resources: Resources, product_ids: Sequence[str]) -> None:
    view = resources.index.view
    if view is not None:
        view.items_cache.forget(product_ids)
        view.learnt.forget(product_ids)
