"""A tiny shop shared by tests that need data: generated once, small enough for seconds."""

from __future__ import annotations

from sqlalchemy import text

from data.demo_shop import ShopSpec, generate_shop
from models.db import Database

TINY = ShopSpec(products=400, users=150, events=6_000, seed=11)


def fill_tiny_shop(database: Database) -> None:
    generate_shop(database, TINY, replace=True)


def popular_product(database: Database, with_category: bool = False) -> tuple[str, str]:
    """The product with the most events, and its category."""
    with database.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT p.product_id, p.category FROM events e JOIN products p USING (product_id) "
            "GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1")).one()
    return str(row[0]), str(row[1])
