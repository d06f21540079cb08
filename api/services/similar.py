"""Similar items for one request: the live index's view, retrieval, and a 404 for a
product neither the index nor the catalog knows."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from api.errors import IndexUnavailable, NotFound
from api.resources import Resources
from models.catalog import CatalogRow
from retrieval import similar
from retrieval.filters import ItemFilters
from retrieval.live_index import IndexView
from retrieval.results import ListResult
from retrieval.unindexed import UnknownProduct, embed_unindexed

Vector = npt.NDArray[np.float32]


def live_view(resources: Resources) -> IndexView:
    """The live version's view; 503 when none is live."""
    view = resources.index.view
    if view is None:
        raise IndexUnavailable()
    return view


def embedder(resources: Resources) -> similar.Embed:
    """How a product the index lacks is embedded for this request: from the catalog, on
    the fly; 404 when the catalog lacks it too."""
    def embed(product_id: str) -> tuple[Vector, CatalogRow]:
        try:
            return embed_unindexed(resources.database, resources.encoder(), product_id)
        except UnknownProduct:
            raise NotFound("product", product_id) from None
    return embed


def similar_items(resources: Resources, product_id: str, limit: int,
                  filters: ItemFilters) -> ListResult:
    return similar.similar_items(resources.store, resources.settings, live_view(resources),
                                 product_id, limit, filters, embedder(resources))
