"""Cart complements over one index version: the basket companions of every product in the
cart (their `bought_with` payloads), filtered by the store, scored by ranking.cart; text
neighbours of other subcategories fill the list when companions run short."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from indexing.collections import TEXT
from indexing.vectorstore.port import Filter, Query, VectorStore, point_id
from models.settings import Settings
from models.timing import timed
from ranking import cart as core
from ranking import lists
from retrieval.filters import ItemFilters
from retrieval.lists import FILL_OVERFETCH, companions_of_payload
from retrieval.live_index import IndexView
from retrieval.results import SHOWN_FIELDS, ListResult, ShownProduct, listed
from retrieval.similar import Embed

_CART_FIELDS = ("product_id", "subcategory", "bought_with", "bought_with_scores")
_SHOWN = (*SHOWN_FIELDS, "subcategory", "popularity")


@timed("rank")
def cart_complements(store: VectorStore, settings: Settings, index: IndexView,
                     cart: Sequence[str], limit: int, filters: ItemFilters,
                     blocked: Collection[str], embed_missing: Embed) -> ListResult:
    """What goes with the whole cart, best first; none of it in the cart or hidden or
    disliked by the shopper, and no text neighbour of a subcategory the cart has.
    `embed_missing` gives the text vector (and raises for an unknown product) of a cart
    product the index lacks."""
    records = {r.id: r for r in store.retrieve(index.items, [point_id(p) for p in cart],
                                                vectors=[TEXT], payload_fields=_CART_FIELDS)}
    subcategory_of: dict[str, str] = {}
    companions: dict[str, dict[str, float]] = {}
    texts = {}
    for product in cart:
        record = records.get(point_id(product))
        if record is None or TEXT not in record.vectors:
            vector, row = embed_missing(product)
            texts[product], subcategory_of[product] = vector, row.subcategory
            continue
        payload = record.payload or {}
        texts[product] = record.vectors[TEXT]
        subcategory_of[product] = str(payload.get("subcategory", ""))
        companions[product] = companions_of_payload(payload)
    never = frozenset(point_id(p) for p in (*cart, *blocked))
    flt = filters.to_filter(exclude=never)
    shown: dict[str, ShownProduct] = {}
    popularity: dict[str, float] = {}
    wanted = sorted({c for found in companions.values() for c in found})
    if wanted:
        hits = store.top_by(index.items, "popularity", len(wanted),
                            Filter(equals=flt.equals, any_of={"product_id": wanted},
                                   ranges=flt.ranges, exclude_ids=flt.exclude_ids),
                            payload_fields=_SHOWN)
        for h in hits:
            if h.payload:
                pid = str(h.payload["product_id"])
                shown[pid] = ShownProduct.of_payload(h.payload)
                popularity[pid] = float(h.payload.get("popularity", 0.0))
    items = core.complements(companions, popularity, frozenset(cart), frozenset(shown),
                             limit)
    from_companions = len(items)
    if len(items) < limit and texts:
        slots = limit - len(items)
        queries = [Query(vector, TEXT, max(settings.similar.candidates, FILL_OVERFETCH * slots),
                         filters.to_filter(never | {point_id(i.product_id) for i in items}),
                         with_payload=True, payload_fields=_SHOWN,
                         hnsw_ef=settings.serving.hnsw_ef) for vector in texts.values()]
        neighbours = []
        for anchor, hits in zip(texts, store.query_batch(index.items, queries), strict=True):
            for h in hits:
                if h.payload:
                    pid = str(h.payload["product_id"])
                    shown.setdefault(pid, ShownProduct.of_payload(h.payload))
                    neighbours.append((anchor, pid, str(h.payload.get("subcategory", "")),
                                       h.score))
        items += core.content_fill(neighbours, subcategory_of, frozenset(cart),
                                   {i.product_id for i in items}, slots)
    return listed(items, shown, lists.bought_together_strategy(from_companions, len(items)),
                  index.version)
