"""Products in Postgres that the live index does not hold yet (written after the last
reindex, or while a build ran elsewhere): their text vector, computed on the fly."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from indexing.encoder import Encoder
from indexing.text import product_text
from models.catalog import CatalogRow, product_row
from models.db import Database

Vector = npt.NDArray[np.float32]


class UnknownProduct(LookupError):
    """The product is neither in the index nor in the catalog."""

    def __init__(self, product_id: str) -> None:
        super().__init__(product_id)
        self.product_id = product_id


def text_vector(encoder: Encoder, row: CatalogRow) -> Vector:
    """The `text` vector of a catalog row, as a reindex would embed it."""
    text = product_text(row.title, row.brand, row.category, row.subcategory,
                        row.description, row.tags)
    return np.asarray(encoder.encode([text])[0], dtype=np.float32)


def embed_unindexed(database: Database, encoder: Encoder,
                    product_id: str) -> tuple[Vector, CatalogRow]:
    """The text vector and catalog row of a product the index lacks; UnknownProduct if
    the catalog lacks it too."""
    row = product_row(database, product_id)
    if row is None:
        raise UnknownProduct(product_id)
    return text_vector(encoder, row), row
