"""Similar items over one index version: the product's text and CF neighbours, each a
filtered vector query, scored by the pure core (ranking.similar).

A product with no CF vector (no events yet) is answered from text alone; one added to
Postgres after the last reindex is embedded on the fly by `embed_missing`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from indexing.collections import CF, TEXT
from indexing.vectorstore.port import Hit, Query, VectorStore, point_id
from models.catalog import CatalogRow
from models.settings import Settings
from models.timing import timed
from ranking import similar
from retrieval.filters import ItemFilters
from retrieval.live_index import IndexView
from retrieval.results import ListResult, ShownProduct, listed

Vector = npt.NDArray[np.float32]
Embed = Callable[[str], tuple[Vector, CatalogRow]]
"""Gives the text vector and catalog row of a product the index does not hold yet
(retrieval.unindexed)."""

# Neighbour hits carry what the response shows and whether the product has CF factors.
_NEIGHBOUR_FIELDS = ("product_id", "title", "category", "brand", "price", "in_stock", "has_cf")


@timed("rank")
def similar_items(store: VectorStore, settings: Settings, index: IndexView, product_id: str,
                  limit: int, filters: ItemFilters,
                  embed_missing: Embed) -> ListResult:
    """The products most like `product_id` that pass `filters`, the product itself left
    out. `embed_missing(product_id)` gives the text vector of a product the index does not
    hold yet (and raises for an unknown one)."""
    pid = point_id(product_id)
    records = store.retrieve(index.items, [pid], vectors=[TEXT, CF], with_payload=False)
    stored_text = records[0].vectors.get(TEXT) if records else None
    cf_vec = records[0].vectors.get(CF) if records else None
    text_vec = stored_text if stored_text is not None else embed_missing(product_id)[0]

    options = settings.similar
    candidates = max(options.candidates, limit)
    flt = filters.to_filter(exclude=frozenset({pid}))
    use_cf = cf_vec is not None and options.cf_weight > 0

    def query(vector: Vector, using: str) -> Query:
        return Query(vector, using, candidates, flt, with_payload=True,
                     payload_fields=_NEIGHBOUR_FIELDS, hnsw_ef=settings.serving.hnsw_ef)

    queries = [query(text_vec, TEXT)]
    if cf_vec is not None and use_cf:
        queries.append(query(cf_vec, CF))
    results = store.query_batch(index.items, queries)
    shown: dict[str, ShownProduct] = {}
    with_cf: set[str] = set()
    for hits in results:
        for hit in hits:
            if hit.payload is not None and hit.payload["product_id"] not in shown:
                product = ShownProduct.of_payload(hit.payload)
                shown[product.product_id] = product
                if hit.payload.get("has_cf"):
                    with_cf.add(product.product_id)

    def scored(hits: list[Hit]) -> list[tuple[str, float]]:
        return [(str(h.payload["product_id"]), h.score) for h in hits if h.payload]

    items = similar.similar_items(scored(results[0]),
                                  scored(results[1]) if len(results) > 1 else None,
                                  with_cf, options.text_weight, options.cf_weight, limit)
    return listed(items, shown, similar.strategy(use_cf), index.version)
