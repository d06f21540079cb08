"""The vector store on qdrant-client: a Qdrant server or cluster (the server profile).

The same class runs on qdrant-client's local mode (`path=...` or `":memory:"`), a pure
Python stand-in for the server that the contract tests use where no server runs. Local
mode supports everything used here (named vectors with some absent, filters, batch
queries, aliases); where it differs, the code below says so:

- it always searches exhaustively, so `hnsw_ef` and `exact` mean nothing there and are not
  sent (it warns about them otherwise), and `finish_bulk_load` has nothing to wait for;
- payload indexes have no effect in it (they are created all the same, quietly);
- it is not thread-safe, so calls to it are serialised; calls to a server are not (the
  HTTP client is safe to share between threads).
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ApiException, ResponseHandlingException

from indexing.vectorstore.port import (
    CollectionSpec,
    Distance,
    Filter,
    Hit,
    PayloadType,
    Point,
    Query,
    Record,
    VectorStoreError,
    payload_selector,
)
from models.timing import timed

_DISTANCE = {Distance.COSINE: qm.Distance.COSINE, Distance.DOT: qm.Distance.DOT}
_SCHEMA = {
    PayloadType.KEYWORD: qm.PayloadSchemaType.KEYWORD,
    PayloadType.FLOAT: qm.PayloadSchemaType.FLOAT,
    PayloadType.INTEGER: qm.PayloadSchemaType.INTEGER,
    PayloadType.BOOL: qm.PayloadSchemaType.BOOL,
}
# What qdrant-client raises: ApiException from the server's answers and transport,
# ValueError (pydantic validation included), KeyError and RuntimeError from local mode.
_CLIENT_ERRORS = (ApiException, ValueError, KeyError, RuntimeError, OSError)
# Points per upsert request: keeps requests well under the server's size limit.
_UPSERT_CHUNK = 256
# Quantisation bounds cover this share of the values; the rare outliers beyond are clipped.
_QUANTILE = 0.99
_SCROLL_PAGE = 10_000  # ids per page when listing a collection's points
_POLL_S = 0.2


class ClientVectorStore:
    """VectorStore on a Qdrant server (`url`, `api_key`) or on local mode (`path`, which
    may be ":memory:").

    `hnsw_threshold_kb`: below this many KB of vectors a segment is searched exhaustively
    instead of through an HNSW graph (Qdrant's indexing and full-scan thresholds; None keeps
    the server's defaults). `bulk_load_timeout_s` bounds the wait in `finish_bulk_load`.

    `unreachable_cool_down_s`: after a call that could not reach the server (refused, timed
    out), calls fail at once for this long instead of each waiting out `timeout_s`, so a hung
    server costs a serving process one timeout rather than one per request. 0 turns it off.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        api_key: str | None = None,
        path: str | Path | None = None,
        timeout_s: int = 30,
        hnsw_threshold_kb: int | None = None,
        bulk_load_timeout_s: float = 3600.0,
        unreachable_cool_down_s: float = 0.0,
        payload_m: int | None = None,
    ) -> None:
        if (url is None) == (path is None):
            raise ValueError("give exactly one of url (a server) or path (local mode)")
        if hnsw_threshold_kb is not None and hnsw_threshold_kb < 1:
            # Qdrant reads an indexing threshold of 0 as "never build the graph".
            raise ValueError("hnsw_threshold_kb must be at least 1")
        self._local = path is not None
        try:
            if path is None:
                self._client = QdrantClient(url=url, api_key=api_key, timeout=timeout_s)
            elif str(path) == ":memory:":
                self._client = QdrantClient(location=":memory:")
            else:
                # The lock below serialises every call, which makes sharing local mode's
                # SQLite connections between threads safe.
                self._client = QdrantClient(path=str(path), force_disable_check_same_thread=True)
        except _CLIENT_ERRORS as exc:
            raise VectorStoreError(f"cannot open the Qdrant client: {exc}") from exc
        self._guard: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if self._local else contextlib.nullcontext()
        )
        self._hnsw_threshold_kb = hnsw_threshold_kb
        self._payload_m = payload_m
        self._bulk_load_timeout_s = bulk_load_timeout_s
        self._params: dict[tuple[int | None, bool], qm.SearchParams] = {}
        self._cool_down_s = unreachable_cool_down_s
        self._unreachable_until = 0.0

    @contextlib.contextmanager
    def _call(self, what: str) -> Iterator[QdrantClient]:
        """The client, used under the local-mode lock, with its errors made VectorStoreError."""
        if time.monotonic() < self._unreachable_until:
            raise VectorStoreError(f"{what} skipped: the Qdrant server was unreachable moments ago")
        with self._guard:
            try:
                yield self._client
            except VectorStoreError:
                raise
            except _CLIENT_ERRORS as exc:
                if isinstance(exc, ResponseHandlingException) and self._cool_down_s > 0:
                    # The transport failed (no answer at all), not the request: stop asking.
                    self._unreachable_until = time.monotonic() + self._cool_down_s
                raise VectorStoreError(f"{what} failed: {exc}") from exc

    # --- collections -----------------------------------------------------------------------

    def create_collection(self, name: str, spec: CollectionSpec) -> None:
        """Create an empty collection with its payload indexes; VectorStoreError if it exists."""
        vectors = {
            n: qm.VectorParams(
                size=v.size, distance=_DISTANCE[v.distance],
                on_disk=True if v.quantized else None,
                quantization_config=qm.ScalarQuantization(scalar=qm.ScalarQuantizationConfig(
                    type=qm.ScalarType.INT8, quantile=_QUANTILE, always_ram=True))
                if v.quantized else None)
            for n, v in spec.vectors.items()
        }
        kb = self._hnsw_threshold_kb
        with self._call(f"create collection {name!r}") as client:
            if client.collection_exists(name):
                raise VectorStoreError(f"collection {name!r} already exists")
            client.create_collection(
                name,
                vectors_config=vectors,
                # Graphs per payload value: see edge.DEFAULT_PAYLOAD_M (None: the server's).
                hnsw_config=qm.HnswConfigDiff(full_scan_threshold=kb,
                                              payload_m=self._payload_m),
                optimizers_config=(
                    None if kb is None else qm.OptimizersConfigDiff(indexing_threshold=kb)
                ),
            )
            with warnings.catch_warnings():
                if self._local:
                    # Local mode warns that payload indexes have no effect there; known.
                    warnings.simplefilter("ignore")
                for field_name, kind in spec.indexes.items():
                    client.create_payload_index(name, field_name, field_schema=_SCHEMA[kind])

    def drop_collection(self, name: str) -> None:
        """Delete a collection (and its aliases, as Qdrant does); no error if it is absent."""
        with self._call(f"drop collection {name!r}") as client:
            client.delete_collection(name)

    def list_collections(self) -> list[str]:
        """Names of all collections, sorted."""
        with self._call("list collections") as client:
            return sorted(c.name for c in client.get_collections().collections)

    # --- points ----------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace points by id, waiting until they are applied."""
        for start in range(0, len(points), _UPSERT_CHUNK):
            structs = [
                qm.PointStruct(
                    id=int(p.id),
                    vector={
                        n: np.asarray(v, dtype=np.float32).tolist() for n, v in p.vectors.items()
                    },
                    payload=dict(p.payload),
                )
                for p in points[start : start + _UPSERT_CHUNK]
            ]
            with self._call(f"upsert into {collection!r}") as client:
                client.upsert(collection, points=structs, wait=True)

    def set_payload(self, collection: str, point_id: int, payload: Mapping[str, Any]) -> None:
        """Merge `payload` into a point's payload; VectorStoreError if the point is unknown."""
        with self._call(f"set payload in {collection!r}") as client:
            client.set_payload(collection, payload=dict(payload), points=[int(point_id)], wait=True)

    def delete(self, collection: str, ids: Sequence[int]) -> None:
        """Remove points by id; unknown ids are ignored."""
        if not ids:
            return
        selector = qm.PointIdsList(points=[int(i) for i in ids])
        with self._call(f"delete from {collection!r}") as client:
            client.delete(collection, points_selector=selector, wait=True)

    @timed("vector")
    def retrieve(
        self, collection: str, ids: Sequence[int], vectors: Sequence[str] = (),
        with_payload: bool = True, payload_fields: tuple[str, ...] | None = None,
    ) -> list[Record]:
        """Points by id, in the order asked, skipping unknown ids; `vectors` names the ones
        to return (each only where the point has it)."""
        if not ids:
            return []
        wanted = list(vectors)
        with self._call(f"retrieve from {collection!r}") as client:
            found = client.retrieve(
                collection,
                ids=[int(i) for i in ids],
                with_payload=payload_selector(with_payload, payload_fields),
                with_vectors=wanted or False,
            )
        by_id = {r.id: r for r in found}
        records: list[Record] = []
        for i in ids:
            rec = by_id.get(i)
            if rec is None:
                continue
            named: Any = rec.vector if wanted and isinstance(rec.vector, dict) else {}
            records.append(
                Record(
                    id=int(i),
                    vectors={
                        n: np.asarray(named[n], dtype=np.float32) for n in wanted if n in named
                    },
                    payload=(rec.payload or {}) if with_payload else None,
                )
            )
        return records

    @timed("vector")
    def count(self, collection: str, filter: Filter | None = None) -> int:
        """How many points pass the filter (exactly)."""
        flt = None if filter is None or filter.is_empty() else _filter(filter)
        with self._call(f"count in {collection!r}") as client:
            return client.count(collection, count_filter=flt, exact=True).count

    @timed("vector")
    def ids(self, collection: str, filter: Filter | None = None) -> npt.NDArray[np.int64]:
        """The ids of every point that passes the filter, ascending."""
        flt = None if filter is None or filter.is_empty() else _filter(filter)
        found: list[int] = []
        offset: Any = None
        with self._call(f"list ids in {collection!r}") as client:
            while True:
                points, offset = client.scroll(collection, scroll_filter=flt, limit=_SCROLL_PAGE,
                                               offset=offset, with_payload=False,
                                               with_vectors=False)
                found.extend(int(p.id) for p in points)
                if offset is None:
                    break
        return np.unique(np.asarray(found, dtype=np.int64))

    # --- queries ---------------------------------------------------------------------------

    @timed("vector")
    def query(self, collection: str, query: Query) -> list[Hit]:
        """Nearest points to the query vector that pass the filter, best first."""
        flt = query.filter
        with self._call(f"query {collection!r}") as client:
            response = client.query_points(
                collection,
                query=query.vector.tolist(),
                using=query.using,
                query_filter=None if flt is None or flt.is_empty() else _filter(flt),
                search_params=self._search_params(query),
                limit=query.limit,
                with_payload=payload_selector(query.with_payload, query.payload_fields),
                with_vectors=False,
            )
        return _hits(response.points, query.with_payload)

    @timed("vector")
    def query_batch(self, collection: str, queries: Sequence[Query]) -> list[list[Hit]]:
        """Several queries in one request; results in the same order."""
        if not queries:
            return []
        requests = [
            qm.QueryRequest(
                query=q.vector.tolist(),
                using=q.using,
                filter=None if q.filter is None or q.filter.is_empty() else _filter(q.filter),
                params=self._search_params(q),
                limit=q.limit,
                with_payload=payload_selector(q.with_payload, q.payload_fields),
                with_vector=False,
            )
            for q in queries
        ]
        with self._call(f"query {collection!r}") as client:
            responses = client.query_batch_points(collection, requests=requests)
        return [
            _hits(r.points, q.with_payload) for q, r in zip(queries, responses, strict=True)
        ]

    @timed("vector")
    def top_by(
        self, collection: str, field: str, limit: int, filter: Filter | None = None,
        payload_fields: tuple[str, ...] | None = None,
    ) -> list[Hit]:
        """Largest values of a payload field first, through an order-by query."""
        query = qm.OrderByQuery(order_by=qm.OrderBy(key=field, direction=qm.Direction.DESC))
        with self._call(f"order {collection!r}") as client:
            response = client.query_points(
                collection,
                query=query,
                query_filter=None if filter is None or filter.is_empty() else _filter(filter),
                limit=limit,
                with_payload=payload_selector(True, payload_fields),
            )
        return [
            Hit(int(p.id), float(p.order_value if p.order_value is not None else p.score),
                p.payload or {})
            for p in response.points
        ]

    def release(self, collection: str) -> None:
        """Nothing to let go of: a Qdrant server serves every client at once."""

    def prefetch(self, collection: str, max_bytes: int | None = None) -> int:
        """The server keeps its collections in memory as it sees fit: nothing to read."""
        return 0

    def finish_bulk_load(self, collection: str) -> None:
        """Wait until the server has built its indexes (collection status green).

        Green is required twice in a row, since the optimizer may not have picked up the
        last writes at the first look; a collection left grey (optimizations due but not
        started, e.g. after a restart) is nudged with an empty optimizer update. Local mode
        has no indexes to build.
        """
        if self._local:
            return
        deadline = time.monotonic() + self._bulk_load_timeout_s
        greens = 0
        nudged = False
        while True:
            with self._call(f"wait for indexes of {collection!r}") as client:
                status = client.get_collection(collection).status
                if status == qm.CollectionStatus.GREY and not nudged:
                    client.update_collection(
                        collection, optimizers_config=qm.OptimizersConfigDiff()
                    )
                    nudged = True
            if status == qm.CollectionStatus.RED:
                raise VectorStoreError(f"collection {collection!r} is red: optimization failed")
            greens = greens + 1 if status == qm.CollectionStatus.GREEN else 0
            if greens >= 2:
                return
            if time.monotonic() > deadline:
                raise VectorStoreError(
                    f"collection {collection!r} still {status} after {self._bulk_load_timeout_s}s"
                )
            time.sleep(_POLL_S)

    # --- aliases ---------------------------------------------------------------------------

    def set_alias(self, alias: str, collection: str) -> None:
        """Point `alias` at `collection`: delete and create in one atomic request (deleting
        an alias that does not exist is no error for Qdrant)."""
        operations: list[qm.AliasOperations] = [
            qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=alias)),
            qm.CreateAliasOperation(
                create_alias=qm.CreateAlias(collection_name=collection, alias_name=alias)
            ),
        ]
        with self._call(f"set alias {alias!r}") as client:
            if not client.collection_exists(collection):
                raise VectorStoreError(f"no collection named {collection!r}")
            client.update_collection_aliases(change_aliases_operations=operations)

    def resolve_alias(self, alias: str) -> str | None:
        """The collection `alias` points at, or None; asked of the server every time."""
        with self._call("list aliases") as client:
            aliases = client.get_aliases().aliases
        for description in aliases:
            if description.alias_name == alias:
                return description.collection_name
        return None

    def close(self) -> None:
        """Close the connection (local mode: release its files)."""
        self._unreachable_until = 0.0  # closing talks to no server: never skip it
        with self._call("close") as client:
            client.close()

    # --- internals -------------------------------------------------------------------------

    def _search_params(self, query: Query) -> qm.SearchParams | None:
        if self._local:
            return None
        key = (query.hnsw_ef, query.exact)
        params = self._params.get(key)
        if params is None:
            # Rescoring (quantised vectors only) gives exact scores, as unquantised ones have.
            params = qm.SearchParams(hnsw_ef=query.hnsw_ef, exact=query.exact,
                                     quantization=qm.QuantizationSearchParams(rescore=True))
            if len(self._params) < 64:
                self._params[key] = params
        return params


def _filter(f: Filter) -> qm.Filter:
    must: list[qm.Condition] = [
        qm.FieldCondition(key=key, match=qm.MatchValue(value=value))
        for key, value in f.equals.items()
    ]
    must.extend(
        qm.FieldCondition(key=key, match=qm.MatchAny(any=list(values)))
        for key, values in f.any_of.items()
    )
    must.extend(
        qm.FieldCondition(key=key, range=qm.Range(gte=bounds.gte, lte=bounds.lte))
        for key, bounds in f.ranges.items()
        # A range with no bound constrains nothing.
        if bounds.gte is not None or bounds.lte is not None
    )
    must_not: list[qm.Condition] | None = None
    if f.exclude_ids:
        must_not = [qm.HasIdCondition(has_id=list(f.exclude_ids))]
    return qm.Filter(must=must or None, must_not=must_not)


def _hits(points: Sequence[qm.ScoredPoint], with_payload: bool) -> list[Hit]:
    # Ids are always ints here: this store writes no other kind.
    if with_payload:
        return [Hit(int(p.id), p.score, p.payload or {}) for p in points]
    return [Hit(int(p.id), p.score) for p in points]
