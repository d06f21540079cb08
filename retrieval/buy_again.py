"""Buy it again over one index version: the shopper's past purchases, what the index learnt
about buying each again (its `repurchase_*` payload), scored by ranking.buy_again."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from indexing.repurchase import buy_again_settings
from indexing.vectorstore.port import VectorStore, point_id
from models.catalog import CatalogRow
from models.settings import Settings
from models.timing import timed
from ranking.buy_again import PastPurchases, Repurchase, buy_again, frequency_recency
from ranking.reasons import Reason, ReasonKind
from ranking.results import RankedItem
from retrieval.live_index import IndexView
from retrieval.results import SHOWN_FIELDS, ListResult, ShownProduct, listed, shown_of

STRATEGY = "buy_again"
BASELINE = "frequency_recency"
_FIELDS = (*SHOWN_FIELDS, "repurchase_rate", "repurchase_days")


def _explained(items: Sequence[RankedItem]) -> list[RankedItem]:
    return [RankedItem(i.product_id, i.score,
                       Reason(ReasonKind.BUY_AGAIN, product_id=i.product_id)) for i in items]


@timed("rank")
def buy_again_list(store: VectorStore, settings: Settings, index: IndexView,
                   purchases: Sequence[PastPurchases], blocked: Collection[str], limit: int,
                   now: float) -> ListResult:
    """The shopper's past purchases most likely needed now, in stock, none they hid or
    disliked."""
    records = store.retrieve(index.items, [point_id(p.product_id) for p in purchases],
                             payload_fields=_FIELDS)
    stats = {str(r.payload["product_id"]): Repurchase(float(r.payload.get("repurchase_rate", 0)),
                                                     float(r.payload.get("repurchase_days", 0)))
             for r in records if r.payload and r.payload.get("in_stock")
             and str(r.payload.get("product_id")) not in blocked}
    eligible = [p for p in purchases if p.product_id in stats]
    ranked = buy_again(eligible, stats, now, limit, buy_again_settings(settings))
    return listed(_explained(ranked), shown_of(records), STRATEGY, index.version)


def buy_again_from_catalog(rows: Sequence[CatalogRow], purchases: Sequence[PastPurchases],
                           blocked: Collection[str], limit: int, now: float) -> ListResult:
    """Without an index (none yet, or the vector store failing) nothing says how often a
    product is bought again: the shopper's in-stock past purchases by frequency and
    recency, from the catalog's rows (`strategy` says so)."""
    shown = {r.product_id: ShownProduct.of_row(r) for r in rows
             if r.in_stock and r.product_id not in blocked}
    ranked = frequency_recency([p for p in purchases if p.product_id in shown], now, limit)
    return listed(_explained(ranked), shown, BASELINE, None)
