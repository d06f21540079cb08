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
from retrieval.results import SHOWN_FIELDS, ListResult, listed, shown_of

Vector = npt.NDArray[np.float32]
Embed = Callable[[str], tuple[Vector, CatalogRow]]
"""Gives the text vector and catalog row of a product the index does not hold yet
(retrieval.unindexed)."""


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

    # Ids and scores only: reading payloads costs the engine more than the search itself
    # (about 0.45 ms per 30 hits); only the products shown are read in full, below.
    def query(vector: Vector, using: str) -> Query:
        return Query(vector, using, candidates, flt, with_payload=False,
                     hnsw_ef=settings.serving.hnsw_ef)

    queries = [query(text_vec, TEXT)]
    if cf_vec is not None and use_cf:
        queries.append(query(cf_vec, CF))
    results = store.query_batch(index.items, queries)
    text_hits, cf_hits = results[0], (results[1] if use_cf else None)
    with_cf = {h.id for h in cf_hits or ()}
    if use_cf:
        # Text neighbours missing from the CF list may still have CF vectors (ranked too
        # low there): the fusion treats them apart from products that have none.
        with_cf |= index.learnt.among(store, index.items,
                                      [h.id for h in text_hits if h.id not in with_cf])

    def scored(hits: list[Hit]) -> list[tuple[str, float]]:
        return [(str(h.id), h.score) for h in hits]

    # Ranked on point ids; the best `limit` and any tied with the last are then read and
    # ordered by product id, as ranking on product ids would have.
    fused = similar.similar_items(scored(text_hits),
                                  scored(cf_hits) if cf_hits is not None else None,
                                  {str(i) for i in with_cf}, options.text_weight,
                                  options.cf_weight, candidates * len(results))
    head = similar.at_least_kth(fused, limit)
    records = store.retrieve(index.items, [int(i.product_id) for i in head],
                             payload_fields=SHOWN_FIELDS)
    product_of = {r.id: str(r.payload["product_id"]) for r in records
                  if r.payload and "product_id" in r.payload}
    shown = shown_of(records)
    items = similar.by_product_id([(product_of[int(i.product_id)], i.score) for i in head
                                   if int(i.product_id) in product_of], limit)
    return listed(items, shown, similar.strategy(use_cf), index.version)
