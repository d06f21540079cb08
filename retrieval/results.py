"""The one result of every list surface: ranking's order plus what a response shows of each
product.

Similar items, recommendations, bought together, trending, the fallback and search each
retrieve candidates, have ranking order them, and return a :class:`ListResult`; the API
presents every one through the same mapper.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from indexing.vectorstore.port import Record, VectorStore, point_id
from models.catalog import CatalogRow
from ranking.results import RankedItem

# What a list response shows of a product. Price and stock change between reindexes, so
# these are read afresh from the live index for the final items of every list.
SHOWN_FIELDS = ("product_id", "title", "category", "brand", "price", "in_stock")


@dataclass(frozen=True, slots=True)
class ShownProduct:
    """What a list response shows of one product."""

    product_id: str
    title: str
    category: str
    brand: str
    price: float
    in_stock: bool

    @classmethod
    def of_payload(cls, payload: Mapping[str, Any]) -> ShownProduct:
        return cls(
            product_id=str(payload["product_id"]),
            title=str(payload.get("title", "")),
            category=str(payload.get("category", "")),
            brand=str(payload.get("brand", "")),
            price=float(payload.get("price", 0.0)),
            in_stock=bool(payload.get("in_stock", True)),
        )

    @classmethod
    def of_row(cls, row: CatalogRow) -> ShownProduct:
        return cls(row.product_id, row.title, row.category, row.brand, float(row.price),
                   row.in_stock)


@dataclass(frozen=True)
class ListResult:
    """A ranked list as a surface answers it.

    items:    ranking's order, each with its score and reason; every item has an entry in
              `shown` (an item whose product vanished meanwhile is dropped by `listed`).
    strategy: how the list was made (the cold-start route, `text+cf`, `fused`, ...).
    version:  the index version that answered; None when Postgres answered alone.
    total, facets: search only: products matched before paging, and their counts.
    """

    items: list[RankedItem]
    shown: Mapping[str, ShownProduct]
    strategy: str
    version: int | None
    total: int | None = None
    facets: Mapping[str, list[tuple[str, int]]] = field(default_factory=dict)
    personalised: bool = False

    @property
    def product_ids(self) -> list[str]:
        return [item.product_id for item in self.items]


def listed(items: Sequence[RankedItem], shown: Mapping[str, ShownProduct], strategy: str,
           version: int | None, **search: Any) -> ListResult:
    """A ListResult of the items that have something to show, in order."""
    return ListResult([i for i in items if i.product_id in shown], shown, strategy, version,
                      **search)


def without(result: ListResult, blocked: Collection[str], limit: int) -> ListResult:
    """The list with the products a shopper hid or disliked taken out, at most `limit`
    long (the surface was asked for more, so that it stays full)."""
    if not blocked:
        return dataclasses.replace(result, items=result.items[:limit])
    return dataclasses.replace(
        result, items=[i for i in result.items if i.product_id not in blocked][:limit])


def shown_of(records: Sequence[Record]) -> dict[str, ShownProduct]:
    """Product id -> what to show, from records read with (at least) SHOWN_FIELDS."""
    return {str(r.payload["product_id"]): ShownProduct.of_payload(r.payload)
            for r in records if r.payload and "product_id" in r.payload}


def read_shown(store: VectorStore, collection: str,
               product_ids: Sequence[str]) -> dict[str, ShownProduct]:
    """What to show of these products, read afresh from the collection (one call)."""
    if not product_ids:
        return {}
    records = store.retrieve(collection, [point_id(p) for p in product_ids],
                             payload_fields=SHOWN_FIELDS)
    return shown_of(records)
