"""Catalog reads for the API: products as the response shows them."""

from __future__ import annotations

from api import schemas
from models import catalog
from models.catalog import CatalogRow
from models.db import Database


def to_schema(row: CatalogRow) -> schemas.Product:
    """A catalog row as a response shows a product."""
    return schemas.Product(
        product_id=row.product_id, title=row.title, description=row.description,
        category=row.category, subcategory=row.subcategory, brand=row.brand,
        price=float(row.price), tags=list(row.tags), in_stock=row.in_stock,
        promoted=row.promoted, created_at=row.created_at)


def get_product(database: Database, product_id: str) -> schemas.Product | None:
    row = catalog.product_row(database, product_id)
    return to_schema(row) if row else None


def category_counts(database: Database) -> list[schemas.CategoryCount]:
    return [schemas.CategoryCount(name=name, count=n)
            for name, n in catalog.category_counts(database)]


def list_products(
    database: Database, category: str | None, brand: str | None, limit: int, offset: int
) -> tuple[list[schemas.Product], int]:
    """A page of the catalog in product_id order, and how many products match."""
    rows, total = catalog.catalog_page(database, category, brand, limit, offset)
    return [to_schema(r) for r in rows], total
