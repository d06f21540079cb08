"""Lists about a product or the shop over one index version: bought together, and trending.
What they retrieve is here; how they are ordered and explained is ranking.lists.

**Bought together.** A product's basket companions are computed at reindex
(indexing/cooccurrence.py) and stored best first in its payload (`bought_with`, with
`bought_with_scores`). The companions are fetched in one call to the store restricted to
their ids plus the request's filters, so filters are applied by the store as everywhere
else. When they do not fill the list, the product's nearest text neighbours fill it; the
port has no "not equal" condition, so the preference for other subcategories is applied
to an over-fetched neighbour list (:data:`FILL_OVERFETCH` times the free slots, at least
LODESTAR_SIMILAR_CANDIDATES). A product in Postgres but not yet indexed has no companions
yet and is embedded on the fly.

**Trending.** The store's order-by-popularity query, in stock, with the filters inside it;
without a category, :data:`TRENDING_OVERFETCH` times the list, so the caps can skip some.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from indexing.collections import TEXT
from indexing.vectorstore.port import Filter, Query, VectorStore, point_id
from models.settings import Settings
from models.timing import timed
from ranking import lists
from retrieval.filters import ItemFilters
from retrieval.item_cache import candidate_of
from retrieval.live_index import IndexView
from retrieval.results import SHOWN_FIELDS, ListResult, ShownProduct, listed
from retrieval.similar import Embed

Vector = npt.NDArray[np.float32]

FILL_OVERFETCH = 5
"""Text neighbours fetched per free slot, so that enough of another subcategory are seen."""
TRENDING_OVERFETCH = 5
"""Popular items fetched per slot without a category filter, so the caps can skip some."""

_FILL_FIELDS = (*SHOWN_FIELDS, "subcategory")


@timed("rank")
def bought_together(store: VectorStore, settings: Settings, index: IndexView, product_id: str,
                    limit: int, filters: ItemFilters,
                    embed_missing: Embed) -> ListResult:
    """The product's basket companions that pass the filters, best first, topped up with
    text neighbours of another subcategory when they are too few."""
    pid = point_id(product_id)
    records = store.retrieve(index.items, [pid], vectors=[TEXT], with_payload=True)
    text_vec: Vector | None = records[0].vectors.get(TEXT) if records else None
    payload: Mapping[str, Any] = (records[0].payload or {}) if records else {}
    subcategory = str(payload.get("subcategory", ""))
    if text_vec is None:
        text_vec, row = embed_missing(product_id)
        subcategory = row.subcategory

    companions = companions_of_payload(payload)
    shown: dict[str, ShownProduct] = {}
    items = []
    if companions:
        flt = filters.to_filter(exclude=frozenset({pid}))
        # The port's filtered fetch is an order-by query; the order is redone by ranking,
        # and `len(companions)` as the limit returns every one passing.
        hits = store.top_by(
            index.items, "popularity", len(companions),
            Filter(equals=flt.equals, any_of={"product_id": list(companions)},
                   ranges=flt.ranges, exclude_ids=flt.exclude_ids),
            payload_fields=SHOWN_FIELDS)
        shown.update({str(h.payload["product_id"]): ShownProduct.of_payload(h.payload)
                      for h in hits if h.payload})
        items = lists.companions_first(companions, list(shown), product_id, limit)
    from_companions = len(items)
    if len(items) < limit:
        listed_ids = frozenset({pid, *(point_id(i.product_id) for i in items)})
        slots = limit - len(items)
        hits = store.query(index.items, Query(
            text_vec, TEXT, max(settings.similar.candidates, FILL_OVERFETCH * slots),
            filters.to_filter(listed_ids), with_payload=True, payload_fields=_FILL_FIELDS,
            hnsw_ef=settings.serving.hnsw_ef))
        neighbours = [(str(h.payload["product_id"]), str(h.payload.get("subcategory", "")),
                       h.score) for h in hits if h.payload]
        shown.update({str(h.payload["product_id"]): ShownProduct.of_payload(h.payload)
                      for h in hits if h.payload})
        items += lists.content_fill(neighbours, subcategory, product_id, slots)
    strategy = lists.bought_together_strategy(from_companions, len(items))
    return listed(items, shown, strategy, index.version)


def companions_of_payload(payload: Mapping[str, Any]) -> dict[str, float]:
    """Companion product id -> co-purchase score, from an item's payload (empty for an
    index built before companions were stored)."""
    ids = payload.get("bought_with") or []
    scores = payload.get("bought_with_scores") or []
    return {str(p): float(s) for p, s in zip(ids, scores, strict=False)}


def trending(store: VectorStore, index: IndexView, limit: int,
             filters: ItemFilters) -> ListResult:
    """The most popular in-stock items passing the filters, most popular first, with at
    most a few per category at the top when no category is asked for."""
    fetch = limit * TRENDING_OVERFETCH if filters.category is None else limit
    in_stock = dataclasses.replace(filters, in_stock=True)
    hits = store.top_by(index.items, "popularity", fetch, in_stock.to_filter(),
                        payload_fields=(*SHOWN_FIELDS, "popularity"))
    payloads = [h.payload for h in hits if h.payload is not None]
    items = lists.trending([candidate_of(p) for p in payloads], filters.category, limit,
                           time.time())
    shown = {str(p["product_id"]): ShownProduct.of_payload(p) for p in payloads}
    return listed(items, shown, lists.TRENDING, index.version)
