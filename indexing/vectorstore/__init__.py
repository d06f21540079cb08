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


# A reindex sends large batches to a server that may be busy optimising: it waits this long
# per call. A serving request waits `serving.qdrant_timeout_seconds`, then falls back.
WORK_TIMEOUT_S = 300


def open_vector_store(settings: Settings, *, serving: bool = False) -> VectorStore:
    """The server adapter when `settings.storage.qdrant_url` is set, else the embedded engine with
    its shards in `<data_dir>/qdrant`. `serving` bounds each server call by the serving timeout
    rather than the reindex one, and stops asking an unreachable server for a while."""
    if settings.storage.qdrant_url:
        from indexing.vectorstore.client import ClientVectorStore

        serve = settings.serving
        return ClientVectorStore(
            settings.storage.qdrant_url, api_key=settings.storage.qdrant_api_key,
            timeout_s=serve.qdrant_timeout_seconds if serving else WORK_TIMEOUT_S,
            unreachable_cool_down_s=serve.qdrant_retry_seconds if serving else 0.0,
            payload_m=settings.storage.hnsw_payload_m)
    from indexing.vectorstore.edge import EdgeVectorStore

    return EdgeVectorStore(settings.storage.data_dir / "qdrant",
                           payload_m=settings.storage.hnsw_payload_m)
