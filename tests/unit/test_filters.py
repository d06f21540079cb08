"""The one filter set of the list endpoints, as each retriever applies it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from indexing.vectorstore.port import Filter, Range
from retrieval.filters import ItemFilters, sql_filter


class Row:
    def __init__(self, category: str = "Audio", subcategory: str = "Headphones",
                 brand: str = "Voltra", price: Decimal | float = Decimal("59.90"),
                 in_stock: bool = True) -> None:
        self.category, self.subcategory, self.brand = category, subcategory, brand
        self.price, self.in_stock = price, in_stock


def test_an_empty_price_range_is_refused() -> None:
    with pytest.raises(ValueError, match="min_price"):
        ItemFilters(min_price=10, max_price=5)
    assert ItemFilters(min_price=5, max_price=5).max_price == 5


def test_the_store_filter_holds_every_condition() -> None:
    flt = ItemFilters("Audio", "Headphones", "Voltra", 10, 100, True).to_filter(
        exclude=frozenset({7}))
    assert flt == Filter(equals={"category": "Audio", "subcategory": "Headphones",
                                 "brand": "Voltra", "in_stock": True},
                         ranges={"price": Range(10, 100)}, exclude_ids=frozenset({7}))
    assert ItemFilters().to_filter().is_empty()


def test_rows_pass_as_the_store_would_let_them() -> None:
    assert ItemFilters().admits(Row())
    assert ItemFilters(category="Audio", max_price=59.9).admits(Row())
    assert not ItemFilters(min_price=60).admits(Row())
    assert not ItemFilters(subcategory="Speakers").admits(Row())
    assert not ItemFilters(in_stock=False).admits(Row())
    assert ItemFilters(in_stock=False).admits(Row(in_stock=False))


def test_sql_states_the_same_conditions_with_bound_values() -> None:
    where, params = sql_filter(ItemFilters("Audio", None, "Voltra", 10, None, True).to_filter())
    assert where == "brand = :eq0 AND category = :eq1 AND in_stock = :eq2 AND price >= :gte0"
    assert params == {"eq0": "Voltra", "eq1": "Audio", "eq2": True, "gte0": 10}
    assert sql_filter(Filter()) == ("TRUE", {})
    with pytest.raises(ValueError, match="cannot filter"):
        sql_filter(Filter(equals={"title; DROP TABLE products": "x"}))
    with pytest.raises(ValueError, match="point ids"):
        sql_filter(Filter(exclude_ids=frozenset({1})))
