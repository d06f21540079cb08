"""Similar items: text and CF neighbours, filtered inside the vector query, fused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from api import schemas
from api.errors import IndexUnavailable, NotFound
from api.resources import Resources
from api.services.catalog import get_product
from indexing.collections import CF, TEXT
from indexing.text import product_text
from indexing.vectorstore.port import Filter, Hit, Query, Range, Vector, point_id
from ranking.fusion import top_k, weighted_score_fusion


@dataclass(frozen=True)
class ItemFilters:
    """Filters a list endpoint accepts; all run inside the vector query."""

    category: str | None = None
    subcategory: str | None = None
    brand: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool | None = None

    def to_filter(self, exclude: frozenset[int] = frozenset()) -> Filter:
        equals: dict[str, str | bool | int] = {}
        if self.category is not None:
            equals["category"] = self.category
        if self.subcategory is not None:
            equals["subcategory"] = self.subcategory
        if self.brand is not None:
            equals["brand"] = self.brand
        if self.in_stock is not None:
            equals["in_stock"] = self.in_stock
        ranges = {}
        if self.min_price is not None or self.max_price is not None:
            ranges["price"] = Range(gte=self.min_price, lte=self.max_price)
        return Filter(equals=equals, ranges=ranges, exclude_ids=exclude)


@dataclass(frozen=True)
class SimilarResult:
    items: list[schemas.ListItem]
    strategy: str
    version: int


def list_item(payload: Mapping[str, Any], score: float) -> schemas.ListItem:
    return schemas.ListItem(
        product_id=str(payload["product_id"]),
        score=round(score, 6),
        title=str(payload.get("title", "")),
        category=str(payload.get("category", "")),
        brand=str(payload.get("brand", "")),
        price=float(payload.get("price", 0.0)),
        in_stock=bool(payload.get("in_stock", True)),
    )


def similar_items(
    resources: Resources, product_id: str, limit: int, filters: ItemFilters
) -> SimilarResult:
    live = resources.index.live
    if live is None:
        raise IndexUnavailable()
    settings = resources.settings
    store = resources.store
    pid = point_id(product_id)
    records = store.retrieve(live.items_collection, [pid], vectors=[TEXT, CF], with_payload=False)
    cf_vec: Vector | None = None
    stored_text = records[0].vectors.get(TEXT) if records else None
    if records:
        cf_vec = records[0].vectors.get(CF)
    # Not in the index yet (added after the last reindex): embed it now, text only.
    text_vec = stored_text if stored_text is not None else _embed_unindexed(resources, product_id)

    candidates = max(settings.similar_candidates, limit)
    flt = filters.to_filter(exclude=frozenset({pid}))
    queries = [Query(text_vec, TEXT, candidates, flt, with_payload=True, hnsw_ef=settings.hnsw_ef)]
    use_cf = cf_vec is not None and settings.similar_cf_weight > 0
    if cf_vec is not None and use_cf:
        queries.append(Query(cf_vec, CF, candidates, flt, with_payload=True,
                             hnsw_ef=settings.hnsw_ef))
    results = store.query_batch(live.items_collection, queries)
    strategy = "text+cf" if use_cf else "text"
    return SimilarResult(_fuse(results, settings.similar_text_weight,
                               settings.similar_cf_weight, limit), strategy, live.version)


def _embed_unindexed(resources: Resources, product_id: str) -> Vector:
    product = get_product(resources.database, product_id)
    if product is None:
        raise NotFound("product", product_id)
    return embed_product(resources, product)


def embed_product(resources: Resources, product: schemas.Product) -> Vector:
    """The `text` vector of a product read from Postgres, computed now: for a product added
    after the last reindex, which the index does not hold yet."""
    text = product_text(product.title, product.brand, product.category, product.subcategory,
                        product.description, product.tags)
    vector: Vector = resources.encoder().encode([text])[0]
    return vector


def _fuse(
    results: list[list[Hit]], text_weight: float, cf_weight: float, limit: int
) -> list[schemas.ListItem]:
    payloads: dict[int, Mapping[str, Any]] = {}
    for hits in results:
        for hit in hits:
            if hit.payload is not None:
                payloads.setdefault(hit.id, hit.payload)
    ids = list(payloads)
    if not ids:
        return []
    row = {pid: i for i, pid in enumerate(ids)}
    n_signals = len(results)
    scores = np.full((len(ids), n_signals), np.nan, dtype=np.float32)
    for j, hits in enumerate(results):
        for hit in hits:
            scores[row[hit.id], j] = hit.score
    available = np.ones((len(ids), n_signals), dtype=bool)
    if n_signals > 1:
        available[:, 1] = [bool(payloads[pid].get("has_cf")) for pid in ids]
    weights = [text_weight, cf_weight][:n_signals]
    fused = weighted_score_fusion(scores, available, weights)
    product_ids = [str(payloads[pid]["product_id"]) for pid in ids]
    by_product = {str(payloads[pid]["product_id"]): payloads[pid] for pid in ids}
    return [list_item(by_product[p], s) for p, s in top_k(product_ids, fused, limit)]
