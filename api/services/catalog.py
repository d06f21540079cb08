"""Catalog reads from Postgres."""

from __future__ import annotations

from sqlalchemy import func, select

from api import schemas
from indexing.collections import CatalogRow
from models.db import Database
from models.tables import Product


def to_schema(row: Product) -> schemas.Product:
    return schemas.Product(
        product_id=row.product_id,
        title=row.title,
        description=row.description,
        category=row.category,
        subcategory=row.subcategory,
        brand=row.brand,
        price=float(row.price),
        tags=list(row.tags or []),
        in_stock=row.in_stock,
        promoted=row.promoted,
        created_at=row.created_at,
    )


def to_schema_row(row: CatalogRow) -> schemas.Product:
    return schemas.Product(
        product_id=row.product_id, title=row.title, description=row.description or "",
        category=row.category, subcategory=row.subcategory or "", brand=row.brand or "",
        price=float(row.price), tags=list(row.tags or []), in_stock=row.in_stock,
        promoted=row.promoted, created_at=row.created_at)


def get_product(database: Database, product_id: str) -> schemas.Product | None:
    with database.session() as session:
        row = session.get(Product, product_id)
        return to_schema(row) if row else None


def category_counts(database: Database) -> list[schemas.CategoryCount]:
    with database.session() as session:
        rows = session.execute(
            select(Product.category, func.count()).group_by(Product.category)
            .order_by(Product.category)
        ).all()
        return [schemas.CategoryCount(name=name, count=int(n)) for name, n in rows]


def list_products(
    database: Database, category: str | None, brand: str | None, limit: int, offset: int
) -> tuple[list[schemas.Product], int]:
    """A page of the catalog in product_id order, and how many products match."""
    conditions = []
    if category is not None:
        conditions.append(Product.category == category)
    if brand is not None:
        conditions.append(Product.brand == brand)
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(Product).where(*conditions)) or 0
        rows = session.scalars(
            select(Product).where(*conditions).order_by(Product.product_id)
            .limit(limit).offset(offset)
        ).all()
        return [to_schema(r) for r in rows], int(total)
