"""Lists with reasons: products bought together with one product, and what is trending.

**Bought together.** A product's basket companions are computed at reindex
(indexing/cooccurrence.py) and stored best first in its payload (`bought_with`, with
`bought_with_scores`). The companions are fetched in one call to the store restricted to
their ids plus the request's filters, so filters are applied by the store as everywhere
else, and ranked by their co-purchase score (reason `bought_together`). Out-of-stock items
are left out unless the request asks otherwise: a companion that cannot be bought is a dead
end.

When the companions passing the filters do not fill the list (a new product, a rarely
bought one, or a narrow filter), the rest is filled by content: the product's nearest text
neighbours, the product and the companions already listed excluded. Neighbours from a
*different* subcategory come first: someone looking at a phone wants a case, not another
phone. The port has no "not equal" condition, so the preference is applied to an
over-fetched neighbour list (`FALLBACK_OVERFETCH` times the list, at least
`LODESTAR_SIMILAR_CANDIDATES`); same-subcategory neighbours fill in only where too few
others pass the filters. These items carry the reason `because_you_viewed` with the
product id: they are shown on the product's page for its sake, and no new reason kind is
needed. `strategy` names where the items came from: `co_purchase`, `co_purchase+content` or
`content` (also for an empty list, since the content fallback had the last word).

Scores mean what their reason says: the co-purchase score (n(a, b) / sqrt(n(a) · n(b)))
for companions, the text cosine similarity for content items. Companions always come
first, so scores decrease within each kind, not necessarily across the boundary.

A product in Postgres but not yet indexed has no companions yet and is embedded on the
fly, as similar items do. An unknown product is a 404.

**Trending.** In-stock items with the highest time-decayed popularity (event-weighted, with
a 7-day half-life, stored at reindex), through the store's order-by query with the filters
inside it; items with no events in the window (popularity 0) are never trending. Without a
category filter the top of the list is kept varied: `TRENDING_OVERFETCH` times the list is
fetched and at most `TRENDING_PER_CATEGORY` items of one category may take the first
`TRENDING_CAP_WINDOW` positions (ranking.rules.apply_caps; if the catalog has too few
categories the window is filled in popularity order rather than left short). With a
category filter the list is that category's most popular items, reason
`popular_in_category` with the category; without one, reason `trending`. Scores are the
popularity values.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from api import schemas
from api.errors import IndexUnavailable, NotFound
from api.resources import Resources
from api.services.catalog import get_product
from api.services.similar import ItemFilters, embed_product, list_item
from indexing.collections import TEXT
from indexing.item_cache import candidate_of
from indexing.vectorstore.port import Filter, Query, Vector, point_id
from ranking.candidates import ReasonKind
from ranking.rules import RuleSet, apply_caps

CO_PURCHASE = "co_purchase"
CONTENT = "content"
TRENDING = "trending"

FALLBACK_OVERFETCH = 5
"""Text neighbours fetched per free slot, so that enough of another subcategory are seen."""

TRENDING_OVERFETCH = 5
"""Popular items fetched per slot without a category filter, so the caps can skip some."""
TRENDING_PER_CATEGORY = 3
TRENDING_CAP_WINDOW = 10


@dataclass(frozen=True)
class ListResult:
    """A ranked list, where its items came from, and the index version that answered."""

    items: list[schemas.RankedItem]
    strategy: str
    version: int


def ranked_item(
    payload: Mapping[str, Any], score: float, reason: schemas.Reason
) -> schemas.RankedItem:
    """A list entry built from an item's payload, with why it is there."""
    fields = msgspec.structs.asdict(list_item(payload, score))
    return schemas.RankedItem(**fields, reason=reason)


def bought_together(
    resources: Resources, product_id: str, limit: int, filters: ItemFilters
) -> ListResult:
    """The product's basket companions that pass the filters, best first, topped up with
    text neighbours of another subcategory when they are too few (see the module doc)."""
    live = resources.index.live
    if live is None:
        raise IndexUnavailable()
    store = resources.store
    pid = point_id(product_id)
    records = store.retrieve(live.items_collection, [pid], vectors=[TEXT], with_payload=True)
    text_vec: Vector | None = None
    payload: Mapping[str, Any] = {}
    if records:
        text_vec = records[0].vectors.get(TEXT)
        payload = records[0].payload or {}
    subcategory = str(payload.get("subcategory", ""))
    if text_vec is None:
        # Added after the last reindex: no companions yet, and no vector until embedded.
        product = get_product(resources.database, product_id)
        if product is None:
            raise NotFound("product", product_id)
        text_vec = embed_product(resources, product)
        subcategory = product.subcategory

    companions = _companions(payload)
    items: list[schemas.RankedItem] = []
    if companions:
        flt = filters.to_filter(exclude=frozenset({pid}))
        # The port's filtered fetch is an order-by query; the order is redone below by
        # co-purchase score, and `len(companions)` as the limit returns every one passing.
        hits = store.top_by(
            live.items_collection, "popularity", len(companions),
            Filter(equals=flt.equals, any_of={"product_id": list(companions)},
                   ranges=flt.ranges, exclude_ids=flt.exclude_ids),
        )
        reason = schemas.Reason(kind=ReasonKind.BOUGHT_TOGETHER.value, product_id=product_id)
        found = {str(h.payload["product_id"]): h.payload for h in hits if h.payload}
        ranked = sorted(found, key=lambda p: (-companions[p], p))[:limit]
        items = [ranked_item(found[p], companions[p], reason) for p in ranked]
    from_companions = len(items)
    if len(items) < limit:
        listed = frozenset({pid, *(point_id(i.product_id) for i in items)})
        items += _content_fill(resources, live.items_collection, text_vec, subcategory,
                               product_id, limit - len(items), filters.to_filter(listed))
    if from_companions == 0:
        strategy = CONTENT
    elif len(items) > from_companions:
        strategy = f"{CO_PURCHASE}+{CONTENT}"
    else:
        strategy = CO_PURCHASE
    return ListResult(items, strategy, live.version)


def _companions(payload: Mapping[str, Any]) -> dict[str, float]:
    """Companion product id → co-purchase score, from an item's payload (empty for an
    index built before companions were stored)."""
    ids = payload.get("bought_with") or []
    scores = payload.get("bought_with_scores") or []
    return {str(p): float(s) for p, s in zip(ids, scores, strict=False)}


def _content_fill(
    resources: Resources, collection: str, text_vec: Vector, subcategory: str,
    product_id: str, slots: int, flt: Filter,
) -> list[schemas.RankedItem]:
    """Up to `slots` text neighbours passing `flt`, other subcategories first."""
    settings = resources.settings
    candidates = max(settings.similar_candidates, FALLBACK_OVERFETCH * slots)
    hits = resources.store.query(
        collection,
        Query(text_vec, TEXT, candidates, flt, with_payload=True, hnsw_ef=settings.hnsw_ef),
    )
    ordered = _best_first([(h.payload, h.score) for h in hits if h.payload is not None])
    other = [(p, s) for p, s in ordered if p.get("subcategory", "") != subcategory]
    same = [(p, s) for p, s in ordered if p.get("subcategory", "") == subcategory]
    reason = schemas.Reason(kind=ReasonKind.BECAUSE_YOU_VIEWED.value, product_id=product_id)
    return [ranked_item(p, s, reason) for p, s in (other + same)[:slots]]


def _best_first(
    scored: list[tuple[Mapping[str, Any], float]],
) -> list[tuple[Mapping[str, Any], float]]:
    """Highest score first, ties by product id, so that answers are deterministic."""
    return sorted(scored, key=lambda ps: (-ps[1], str(ps[0]["product_id"])))


def trending(resources: Resources, limit: int, filters: ItemFilters) -> ListResult:
    """The most popular in-stock items passing the filters, most popular first, with at
    most a few per category at the top when no category is asked for."""
    live = resources.index.live
    if live is None:
        raise IndexUnavailable()
    capped = filters.category is None
    fetch = limit * TRENDING_OVERFETCH if capped else limit
    hits = resources.store.top_by(live.items_collection, "popularity", fetch,
                                  dataclasses.replace(filters, in_stock=True).to_filter())
    ranked = _best_first([(h.payload, h.score) for h in hits
                          if h.payload is not None and h.score > 0])
    payloads = {str(p["product_id"]): p for p, _ in ranked}
    order = [dataclasses.replace(candidate_of(p), popularity=s) for p, s in ranked]
    if capped:
        rules = RuleSet(now=time.time(), max_per_category=TRENDING_PER_CATEGORY,
                        max_per_brand=None, cap_window=TRENDING_CAP_WINDOW)
        order = apply_caps(order, rules, limit)
    if filters.category is None:
        reason = schemas.Reason(kind=ReasonKind.TRENDING.value)
    else:
        reason = schemas.Reason(kind=ReasonKind.POPULAR_IN_CATEGORY.value,
                                category=filters.category)
    items = [ranked_item(payloads[c.product_id], c.popularity, reason) for c in order[:limit]]
    return ListResult(items, TRENDING, live.version)
