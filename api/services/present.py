"""The one mapper from a surface's result to the items of a response.

Every list (similar items, recommendations, bought together, trending, the fallback,
search) is a `retrieval.results.ListResult`; its items become response items here, with
the product's shown fields, the score rounded for the wire, and the reason in the shape the
list's schema gives it.
"""

from __future__ import annotations

from typing import Any, TypeVar

from api import schemas
from ranking.reasons import Reason, SearchReason
from ranking.results import RankedItem
from retrieval.results import ListResult, ShownProduct

Item = TypeVar("Item", schemas.ListItem, schemas.RankedItem, schemas.SearchItem)

_SCORE_DIGITS = 6


def present(result: ListResult, as_: type[Item]) -> list[Item]:
    """The result's items as `as_` (ListItem: no reason; RankedItem: a list reason;
    SearchItem: a search reason), in order."""
    return [as_(**_fields(item, result.shown[item.product_id], as_)) for item in result.items]


def _fields(item: RankedItem, shown: ShownProduct, as_: type[schemas.ListItem]
            ) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "product_id": item.product_id,
        "score": round(item.score, _SCORE_DIGITS),
        "title": shown.title,
        "category": shown.category,
        "brand": shown.brand,
        "price": shown.price,
        "in_stock": shown.in_stock,
    }
    reason = item.reason
    if issubclass(as_, schemas.SearchItem):
        if not isinstance(reason, SearchReason):
            raise TypeError(f"a search item needs a search reason, got {reason!r}")
        fields["reason"] = schemas.SearchReason(reason.kind, list(reason.matched),
                                                list(reason.lifted_by))
    elif issubclass(as_, schemas.RankedItem):
        fields["reason"] = (schemas.Reason(reason.kind, reason.product_id, reason.category)
                            if isinstance(reason, Reason) else None)
    return fields
