"""The catalog in Postgres: one record shape for reading a product, one for writing it, and
the SQL of both."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from models.db import Database

_COLUMNS = ("product_id, title, description, category, subcategory, brand, price, tags, "
            "in_stock, promoted, created_at")


@dataclass(frozen=True)
class CatalogRow:
    """A product as the catalog holds it."""

    product_id: str
    title: str
    description: str
    category: str
    subcategory: str
    brand: str
    price: Decimal | float
    tags: Sequence[str]
    in_stock: bool
    promoted: bool
    created_at: datetime


@dataclass(frozen=True)
class ProductUpsert:
    """A validated write of one product. ``created_at`` None leaves the creation time to
    the catalog: now for a new product, unchanged for an existing one."""

    product_id: str
    title: str
    description: str
    category: str
    subcategory: str
    brand: str
    price: Decimal
    tags: Sequence[str]
    in_stock: bool
    promoted: bool
    created_at: datetime | None = None


def _row(values: Sequence[Any]) -> CatalogRow:
    pid, title, description, category, subcategory, brand, price, tags, stock, promoted, \
        created = values
    return CatalogRow(str(pid), title, description or "", category, subcategory or "",
                      brand or "", price, list(tags or ()), bool(stock), bool(promoted), created)


def catalog_rows(database: Database, product_ids: Sequence[str] | None = None,
                 updated_since: datetime | None = None) -> list[CatalogRow]:
    """Products by id, or those updated at or after `updated_since`, or all; by id."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if product_ids is not None:
        where.append("product_id = ANY(:ids)")
        params["ids"] = list(product_ids)
    if updated_since is not None:
        where.append("updated_at >= :since")
        params["since"] = updated_since
    sql = f"SELECT {_COLUMNS} FROM products"
    if where:
        sql += " WHERE " + " AND ".join(where)
    with database.engine.connect() as conn:
        return [_row(r) for r in conn.execute(text(sql + " ORDER BY product_id"), params)]


def product_row(database: Database, product_id: str) -> CatalogRow | None:
    """One product, or None."""
    rows = catalog_rows(database, [product_id])
    return rows[0] if rows else None


def catalog_page(database: Database, category: str | None, brand: str | None, limit: int,
                 offset: int) -> tuple[list[CatalogRow], int]:
    """A page of the catalog in product_id order, and how many products match."""
    conditions = ["TRUE"]
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if category is not None:
        conditions.append("category = :category")
        params["category"] = category
    if brand is not None:
        conditions.append("brand = :brand")
        params["brand"] = brand
    where = " AND ".join(conditions)
    with database.engine.connect() as conn:
        total = conn.execute(text(f"SELECT count(*) FROM products WHERE {where}"),
                             params).scalar_one()
        rows = conn.execute(text(f"SELECT {_COLUMNS} FROM products WHERE {where}"
                                 " ORDER BY product_id LIMIT :limit OFFSET :offset"), params)
        return [_row(r) for r in rows], int(total)


def searchable_fields(database: Database) -> Iterator[tuple[str, str, str, str, list[str]]]:
    """(title, brand, category, subcategory, tags) of every product, streamed: the words
    that search corrects typos towards."""
    with database.engine.connect() as conn:
        rows = conn.execution_options(yield_per=5_000).execute(text(
            "SELECT title, brand, category, subcategory, tags FROM products"))
        for title, brand, category, subcategory, tags in rows:
            yield title, brand or "", category, subcategory or "", list(tags or ())


def category_counts(database: Database) -> list[tuple[str, int]]:
    """(category, products) for every category, by name."""
    with database.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT category, count(*) FROM products GROUP BY category ORDER BY category"))
        return [(str(name), int(n)) for name, n in rows]


_UPSERT = text(f"""
    INSERT INTO products (product_id, title, description, category, subcategory, brand, price,
                          tags, in_stock, promoted, created_at, updated_at)
    VALUES (:product_id, :title, :description, :category, :subcategory, :brand, :price, :tags,
            :in_stock, :promoted, COALESCE(CAST(:created_at AS timestamptz), now()), now())
    ON CONFLICT (shop_id, product_id) DO UPDATE SET
        title = EXCLUDED.title, description = EXCLUDED.description,
        category = EXCLUDED.category, subcategory = EXCLUDED.subcategory,
        brand = EXCLUDED.brand, price = EXCLUDED.price, tags = EXCLUDED.tags,
        in_stock = EXCLUDED.in_stock, promoted = EXCLUDED.promoted,
        created_at = COALESCE(CAST(:created_at AS timestamptz), products.created_at),
        updated_at = now()
    RETURNING {_COLUMNS}, (xmax = 0) AS inserted
""")


def upsert_products(conn: Connection, products: Sequence[ProductUpsert]
                    ) -> list[tuple[CatalogRow, bool]]:
    """Write the products in the caller's transaction; each stored row and whether it was
    created. A product written again is no longer deleted (its tombstone goes)."""
    out = []
    for p in products:
        row = conn.execute(_UPSERT, {
            "product_id": p.product_id, "title": p.title, "description": p.description,
            "category": p.category, "subcategory": p.subcategory, "brand": p.brand,
            "price": p.price, "tags": list(p.tags), "in_stock": p.in_stock,
            "promoted": p.promoted,
            "created_at": p.created_at.isoformat() if p.created_at else None,
        }).one()
        out.append((_row(row[:-1]), bool(row[-1])))
    conn.execute(text("DELETE FROM deleted_products WHERE product_id = ANY(:ids)"),
                 {"ids": [p.product_id for p in products]})
    return out


def delete_product(conn: Connection, product_id: str) -> bool:
    """Delete a product in the caller's transaction and leave a tombstone, so that a
    version built before the deletion drops it when it is switched in. False if unknown."""
    gone = conn.execute(text("DELETE FROM products WHERE product_id = :p"),
                        {"p": product_id}).rowcount
    if not gone:
        return False
    conn.execute(text(
        "INSERT INTO deleted_products (product_id) VALUES (:p) "
        "ON CONFLICT (shop_id, product_id) DO UPDATE SET deleted_at = now()"), {"p": product_id})
    return True


def product_ids(database: Database) -> set[str]:
    """Every product id in the catalog."""
    with database.engine.connect() as conn:
        return {str(r[0]) for r in conn.execute(text("SELECT product_id FROM products"))}


def deleted_since(database: Database, since: datetime) -> set[str]:
    """Products deleted at or after `since`."""
    with database.engine.connect() as conn:
        return {str(r[0]) for r in conn.execute(text(
            "SELECT product_id FROM deleted_products WHERE deleted_at >= :since"),
            {"since": since})}
