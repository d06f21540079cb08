"""Vector store: the port the rest of Lodestar speaks, and the factory that picks an adapter.

`open_vector_store` chooses by settings: a Qdrant server when `QDRANT_URL` is set, else the
in-process engine in the data dir. Adapters are imported inside the factory, so importing
this package loads neither Qdrant package.
"""

from __future__ import annotations

from indexing.vectorstore.port import (
    CollectionSpec,
    Distance,
    Filter,
    Hit,
    PayloadType,
    Point,
    Query,
    Range,
    Record,
    Vector,
    VectorSpec,
    VectorStore,
    VectorStoreError,
    point_id,
)
from models.settings import Settings

__all__ = [
    "CollectionSpec",
    "Distance",
    "Filter",
    "Hit",
    "PayloadType",
    "Point",
    "Query",
    "Range",
    "Record",
    "Vector",
    "VectorSpec",
    "VectorStore",
    "VectorStoreError",
    "open_vector_store",
    "point_id",
]


def open_vector_store(settings: Settings) -> VectorStore:
    """The server adapter when `settings.storage.qdrant_url` is set, else the embedded engine with
    its shards in `<data_dir>/qdrant`."""
    if settings.storage.qdrant_url:
        from indexing.vectorstore.client import ClientVectorStore

        return ClientVectorStore(settings.storage.qdrant_url,
                                 api_key=settings.storage.qdrant_api_key)
    from indexing.vectorstore.edge import EdgeVectorStore

    return EdgeVectorStore(settings.storage.data_dir / "qdrant")
