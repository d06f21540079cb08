"""The filters a list request may carry, and how each retriever applies them.

Every list endpoint takes the same filters (category, subcategory, brand, price range,
stock). They run inside the vector query (:meth:`ItemFilters.to_filter`), inside the
lexical retriever's SQL (:func:`sql_filter`, generated from the same store filter so that
both retrievers honour exactly the same conditions), and over catalog rows where Postgres
answers alone (:meth:`ItemFilters.admits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from indexing.vectorstore.port import Filter, Range


class Filterable(Protocol):
    """What :meth:`ItemFilters.admits` reads of a product."""

    @property
    def category(self) -> str: ...
    @property
    def subcategory(self) -> str: ...
    @property
    def brand(self) -> str: ...
    @property
    def price(self) -> Decimal | float: ...
    @property
    def in_stock(self) -> bool: ...


@dataclass(frozen=True)
class ItemFilters:
    """Filters of one list request; None means "any". Raises ValueError (naming
    `min_price`) when the price range is empty."""

    category: str | None = None
    subcategory: str | None = None
    brand: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool | None = None

    def __post_init__(self) -> None:
        if (self.min_price is not None and self.max_price is not None
                and self.min_price > self.max_price):
            raise ValueError("min_price must not exceed max_price")

    def to_filter(self, exclude: frozenset[int] = frozenset()) -> Filter:
        """The conditions as the vector store takes them, `exclude` point ids left out."""
        equals: dict[str, str | bool | int] = {}
        for name in ("category", "subcategory", "brand", "in_stock"):
            value = getattr(self, name)
            if value is not None:
                equals[name] = value
        ranges = {}
        if self.min_price is not None or self.max_price is not None:
            ranges["price"] = Range(gte=self.min_price, lte=self.max_price)
        return Filter(equals=equals, ranges=ranges, exclude_ids=exclude)

    def admits(self, product: Filterable) -> bool:
        """Whether one product passes (for lists answered from Postgres rows)."""
        price = float(product.price)
        return ((self.category is None or product.category == self.category)
                and (self.subcategory is None or product.subcategory == self.subcategory)
                and (self.brand is None or product.brand == self.brand)
                and (self.min_price is None or price >= self.min_price)
                and (self.max_price is None or price <= self.max_price)
                and (self.in_stock is None or product.in_stock == self.in_stock))


# Columns a filter may name, and how SQL spells each condition. Only these: a filter key
# is never pasted into SQL unchecked.
_EQUALS_COLUMNS = {"category": "category", "subcategory": "subcategory", "brand": "brand",
                   "in_stock": "in_stock"}
_RANGE_COLUMNS = {"price": "price"}


def sql_filter(filter: Filter) -> tuple[str, dict[str, Any]]:
    """The WHERE conditions (joined by AND, or "TRUE") and bound parameters of a store
    filter over the products table, so that a Postgres retriever honours exactly what the
    vector query does. Raises ValueError for a condition SQL cannot state."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for i, (key, value) in enumerate(sorted(filter.equals.items())):
        if key not in _EQUALS_COLUMNS:
            raise ValueError(f"search cannot filter on {key!r}")
        clauses.append(f"{_EQUALS_COLUMNS[key]} = :eq{i}")
        params[f"eq{i}"] = value
    for i, (key, values) in enumerate(sorted(filter.any_of.items())):
        if key not in _EQUALS_COLUMNS:
            raise ValueError(f"search cannot filter on {key!r}")
        clauses.append(f"{_EQUALS_COLUMNS[key]} = ANY(:any{i})")
        params[f"any{i}"] = list(values)
    for i, (key, bounds) in enumerate(sorted(filter.ranges.items())):
        if key not in _RANGE_COLUMNS:
            raise ValueError(f"search cannot filter on a range of {key!r}")
        if bounds.gte is not None:
            clauses.append(f"{_RANGE_COLUMNS[key]} >= :gte{i}")
            params[f"gte{i}"] = bounds.gte
        if bounds.lte is not None:
            clauses.append(f"{_RANGE_COLUMNS[key]} <= :lte{i}")
            params[f"lte{i}"] = bounds.lte
    if filter.exclude_ids:
        raise ValueError("search filters do not exclude point ids")
    return (" AND ".join(clauses) or "TRUE"), params
