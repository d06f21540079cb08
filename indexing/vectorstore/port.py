"""The vector store port: what Lodestar needs from a vector database, and nothing more.

Two adapters implement it: `edge.EdgeVectorStore` (the in-process Qdrant engine, the
embedded default) and `client.ClientVectorStore` (qdrant-client against a Qdrant server, or
its local mode in tests). Nothing outside those two modules imports a Qdrant package; the
rest of the project speaks in the plain types below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


class Distance(StrEnum):
    COSINE = "cosine"
    DOT = "dot"


class PayloadType(StrEnum):
    KEYWORD = "keyword"  # exact match on strings (or lists of strings)
    FLOAT = "float"  # ranges on numbers
    INTEGER = "integer"
    BOOL = "bool"


@dataclass(frozen=True)
class VectorSpec:
    size: int
    distance: Distance
    # int8 scalar quantisation kept in memory, the float32 originals on disk: a quarter of
    # the memory per vector, and the best candidates rescored against the originals.
    quantized: bool = False


@dataclass(frozen=True)
class CollectionSpec:
    """Named vectors and the payload fields that get an index for filtering."""

    vectors: Mapping[str, VectorSpec]
    indexes: Mapping[str, PayloadType] = field(default_factory=dict)


@dataclass(frozen=True)
class Point:
    """A point to upsert. A vector name may be absent (an item without CF has only `text`)."""

    id: int
    vectors: Mapping[str, Vector]
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Record:
    """A point read back by id."""

    id: int
    vectors: Mapping[str, Vector]
    payload: Mapping[str, Any] | None


@dataclass(frozen=True)
class Hit:
    """One result of a vector query, best first."""

    id: int
    score: float
    payload: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Range:
    gte: float | None = None
    lte: float | None = None


@dataclass(frozen=True)
class Filter:
    """A conjunction of conditions, applied inside the vector query.

    `equals`: field equals the value (for a list field: contains it).
    `any_of`: field equals one of the values.
    `ranges`: numeric field within the bounds (inclusive).
    `exclude_ids`: these points never match.
    """

    equals: Mapping[str, str | bool | int] = field(default_factory=dict)
    any_of: Mapping[str, Sequence[str]] = field(default_factory=dict)
    ranges: Mapping[str, Range] = field(default_factory=dict)
    exclude_ids: frozenset[int] = frozenset()

    def is_empty(self) -> bool:
        return not (self.equals or self.any_of or self.ranges or self.exclude_ids)


@dataclass(frozen=True)
class Query:
    """Nearest neighbours of `vector` among the points' `using` vectors."""

    vector: Vector
    using: str
    limit: int
    filter: Filter | None = None
    with_payload: bool = False
    # With `with_payload`: only these payload keys (None: all). Hits of a ranking query
    # need a few fields, and every key read costs a conversion per hit.
    payload_fields: tuple[str, ...] | None = None
    exact: bool = False  # brute force: the ground truth that benchmarks measure recall against
    hnsw_ef: int | None = None  # search breadth of the HNSW graph; None: the store's default


class VectorStoreError(RuntimeError):
    """The store failed or the named collection does not exist."""


@runtime_checkable
class VectorStore(Protocol):
    """Collections of points with named dense vectors and a filterable payload, plus aliases.

    Every write is an idempotent upsert or delete by id. Queries never see points that a
    filter excludes; a point lacking the queried vector is simply not a candidate.
    Methods that read or write points accept an alias in place of a collection name,
    resolved at each call; `drop_collection` takes collection names only.
    """

    def create_collection(self, name: str, spec: CollectionSpec) -> None:
        """Create an empty collection; fail with VectorStoreError if it exists."""

    def drop_collection(self, name: str) -> None:
        """Delete a collection and its data; no error if it does not exist."""

    def list_collections(self) -> list[str]:
        """Names of all collections, sorted."""

    def upsert(self, collection: str, points: Sequence[Point]) -> None:
        """Insert or replace points by id."""

    def set_payload(self, collection: str, point_id: int, payload: Mapping[str, Any]) -> None:
        """Merge `payload` into a point's payload (keys not named stay)."""

    def delete(self, collection: str, ids: Sequence[int]) -> None:
        """Remove points by id; unknown ids are ignored."""

    def retrieve(
        self, collection: str, ids: Sequence[int], vectors: Sequence[str] = (),
        with_payload: bool = True, payload_fields: tuple[str, ...] | None = None,
    ) -> list[Record]:
        """Points by id, in the order asked, skipping unknown ids; `vectors` names the ones
        to return (none by default), `payload_fields` the payload keys (None: all)."""

    def query(self, collection: str, query: Query) -> list[Hit]:
        """Nearest points to the query vector that pass the filter, best first."""

    def query_batch(self, collection: str, queries: Sequence[Query]) -> list[list[Hit]]:
        """Several queries in one call; results in the same order."""

    def count(self, collection: str, filter: Filter | None = None) -> int:
        """How many points pass the filter."""

    def ids(self, collection: str, filter: Filter | None = None) -> npt.NDArray[np.int64]:
        """The ids of every point that passes the filter, ascending (no payloads or
        vectors: about 80 ms for 80,000 ids in process)."""

    def top_by(
        self, collection: str, field: str, limit: int, filter: Filter | None = None,
        payload_fields: tuple[str, ...] | None = None,
    ) -> list[Hit]:
        """Points that pass the filter with the largest values of a numeric payload field
        (which needs a FLOAT or INTEGER index), largest first; `score` is that value and the
        payload (only `payload_fields` when given) is returned. Popular and trending lists
        are this query."""

    def finish_bulk_load(self, collection: str) -> None:
        """Build indexes after a bulk load, blocking until queries are fast."""

    def prefetch(self, collection: str, max_bytes: int | None = None) -> int:
        """Read a collection's files ahead of the first queries, so that they do not wait on
        the disk (the in-process engine maps its files; a server manages its own memory and
        reads nothing here), stopping once `max_bytes` are read. Returns the bytes read."""

    def release(self, collection: str) -> None:
        """Let go of a collection this store wrote, so that another process can open it (the
        embedded engine opens a shard in one process at a time); it reopens on next use."""

    def set_alias(self, alias: str, collection: str) -> None:
        """Point `alias` at `collection` atomically (create or move)."""

    def resolve_alias(self, alias: str) -> str | None:
        """The collection `alias` points at, or None."""

    def close(self) -> None:
        """Release files, handles and connections."""


def payload_selector(with_payload: bool, fields: tuple[str, ...] | None) -> bool | list[str]:
    """What both engines take as `with_payload`: False, True (every key) or the keys."""
    return list(fields) if with_payload and fields is not None else with_payload


def point_id(product_or_user_id: str) -> int:
    """A stable unsigned 63-bit point id for a string id (blake2b; collisions are
    astronomically unlikely at catalog sizes, and the original id is kept in the payload)."""
    digest = hashlib.blake2b(product_or_user_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1
