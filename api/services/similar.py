"""Similar items for one request: the live index's view and retrieval, a 404 for a product
neither the index nor the catalog knows, and Postgres alone when the index cannot answer."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from api.errors import NotFound
from api.resources import Resources
from indexing.vectorstore.port import VectorStoreError
from models.catalog import CatalogRow
from models.history import hidden_products
from retrieval import similar
from retrieval.fallback import text_neighbours
from retrieval.filters import ItemFilters
from retrieval.live_index import IndexView
from retrieval.results import ListResult, without
from retrieval.unindexed import UnknownProduct, embed_unindexed

Vector = npt.NDArray[np.float32]
log = logging.getLogger(__name__)

_MAX_EXTRA = 100


def with_fallback(resources: Resources, surface: str,
                  indexed: Callable[[IndexView], ListResult],
                  fallback: Callable[[], ListResult]) -> ListResult:
    """The surface's list from the live index; with no live index, or a vector store that
    fails, its fallback from Postgres (counted per surface and cause), so that the request
    still succeeds. An unknown product is a 404 either way."""
    view = resources.index.view
    cause = "no_index"
    try:
        if view is not None:
            try:
                return indexed(view)
            except VectorStoreError:
                log.exception("vector store failed; answering %s from Postgres", surface)
                cause = "vector_store_failed"
        resources.metrics.list_fallbacks.labels(surface, cause).inc()
        return fallback()
    except UnknownProduct as exc:
        raise NotFound("product", exc.product_id) from None


def embedder(resources: Resources) -> similar.Embed:
    """How a product the index lacks is embedded for this request: from the catalog, on
    the fly (UnknownProduct when the catalog lacks it too)."""
    def embed(product_id: str) -> tuple[Vector, CatalogRow]:
        return embed_unindexed(resources.database, resources.encoder(), product_id)
    return embed


def similar_items(resources: Resources, product_id: str, limit: int,
                  filters: ItemFilters, blocked: frozenset[str] = frozenset()) -> ListResult:
    """`blocked`: products the shopper looking hid or disliked, never shown to them."""
    n = asked_for(limit, blocked)
    return without(with_fallback(
        resources, "similar",
        lambda view: similar.similar_items(resources.store, resources.settings, view,
                                           product_id, n, filters, embedder(resources)),
        lambda: text_neighbours(resources.database, resources.lexical, product_id, n,
                                filters, other_subcategories_first=False)), blocked, limit)


def asked_for(limit: int, blocked: frozenset[str]) -> int:
    """How many to ask a surface for so that `limit` remain once `blocked` are taken out
    (at most 100 extra: a list comes back shorter rather than ever showing one)."""
    return limit + min(len(blocked), _MAX_EXTRA)


def blocked_for(resources: Resources, user_id: str | None) -> frozenset[str]:
    """What the shopper looking (if named) hid or disliked; nothing to read for nobody."""
    return hidden_products(resources.database, user_id) if user_id else frozenset()
