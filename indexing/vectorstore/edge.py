"""The vector store on qdrant-edge: the Qdrant engine inside this process (embedded profile).

Layout under `root`:

    collections/<name>/   one EdgeShard per collection (its WAL, segments, edge_config.json)
    aliases.json          {alias: collection}; qdrant-edge has no aliases of its own
    aliases.lock          serialises read-modify-write of aliases.json across processes

Shards open lazily on first use and stay open until `drop_collection` or `close`. Names are
looked up on disk when they are not open yet, so a collection that another process built
after this store started (a reindex run from the command line) becomes usable here without
a restart. A shard directory can be open in one process only; the engine locks its WAL, and
this store turns that into a VectorStoreError that says so.

Threads: the engine's query, retrieve and count hold the GIL while they run, and its
update and optimize release it; writes from several threads, concurrent with queries and
with `optimize`, were checked to be safe. So the only lock here guards the table of open
shards (and the alias file); the query path takes no lock once a shard is open.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import qdrant_edge as qe

from indexing.vectorstore.port import (
    CollectionSpec,
    Distance,
    Filter,
    Hit,
    PayloadType,
    Query,
    Record,
    VectorSpec,
    VectorStoreError,
    payload_selector,
)
from indexing.vectorstore.port import (
    Point as StorePoint,
)
from models.timing import timed

_DISTANCE = {Distance.COSINE: qe.Distance.Cosine, Distance.DOT: qe.Distance.Dot}
_SCHEMA = {
    PayloadType.KEYWORD: qe.PayloadSchemaType.Keyword,
    PayloadType.FLOAT: qe.PayloadSchemaType.Float,
    PayloadType.INTEGER: qe.PayloadSchemaType.Integer,
    PayloadType.BOOL: qe.PayloadSchemaType.Bool,
}
# Names become directory names: keep them to a portable alphabet, never `.`-prefixed (the
# store's own scratch directories are) and never a path.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")
_CONFIG_FILE = "edge_config.json"
# Points converted and written per engine call: bounds the Python lists built for a bulk load.
_UPSERT_CHUNK = 512
# Quantisation bounds cover this share of the values; the rare outliers beyond are clipped.
_QUANTILE = 0.99
_SCROLL_PAGE = 10_000  # ids per page when listing a collection's points
# Qdrant's HNSW defaults, restated because a config is given whole.
_HNSW_M = 16
_HNSW_EF_CONSTRUCT = 100
_FULL_SCAN_KB = 10_000
# Links per point of the extra graph Qdrant builds for each value of an indexed payload
# field (its default: m). With 11 indexed fields on 3 vectors they are most of building a
# 100K-product index (146 s against 41 s without); without them a filtered query now and
# then misses its neighbours (bench/results/hnsw.md). LODESTAR_HNSW_PAYLOAD_M chooses.
DEFAULT_PAYLOAD_M = _HNSW_M
_MAX_CACHED_PARAMS = 64


class EdgeVectorStore:
    """VectorStore on qdrant-edge shards kept under `root`.

    `hnsw_threshold_kb`: a collection (segment) whose vectors take less than this many KB is
    searched exhaustively instead of through an HNSW graph, which is both exact and fast at
    that size. None keeps Qdrant's default (10 MB); tests lower it so that a small
    collection exercises the graph. `payload_m`: links per point of the extra graphs built
    for each value of an indexed payload field; 0 builds none.
    """

    def __init__(self, root: Path, *, hnsw_threshold_kb: int | None = None,
                 payload_m: int = DEFAULT_PAYLOAD_M,
                 ef_construct: int = _HNSW_EF_CONSTRUCT) -> None:
        if hnsw_threshold_kb is not None and hnsw_threshold_kb < 1:
            # Qdrant reads an indexing threshold of 0 as "never build the graph".
            raise ValueError("hnsw_threshold_kb must be at least 1")
        self._root = Path(root)
        self._dir = self._root / "collections"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._aliases_path = self._root / "aliases.json"
        self._aliases_lock_path = self._root / "aliases.lock"
        self._hnsw_threshold_kb = hnsw_threshold_kb
        self._payload_m = payload_m
        self._ef_construct = ef_construct
        self._shards: dict[str, qe.EdgeShard] = {}
        self._lock = threading.RLock()
        self._params: dict[tuple[int | None, bool], qe.SearchParams] = {}
        self._closed = False

    # --- collections -----------------------------------------------------------------------

    def create_collection(self, name: str, spec: CollectionSpec) -> None:
        """Create an empty collection; fail with VectorStoreError if it exists.

        The shard is built in a scratch directory and renamed into place, so other
        processes listing the collections never see one half made.
        """
        path = self._path(name)
        config = self._config(spec)
        with self._lock:
            self._check_open()
            if path.exists():
                raise VectorStoreError(f"collection {name!r} already exists")
            if name in self._read_aliases():
                raise VectorStoreError(f"{name!r} is already the name of an alias")
            scratch = self._dir / f".new-{name}-{uuid.uuid4().hex}"
            try:
                shard = qe.EdgeShard.create(str(scratch), config)
                try:
                    for field_name, kind in spec.indexes.items():
                        op = qe.UpdateOperation.create_field_index(field_name, _SCHEMA[kind])
                        shard.update(op)
                finally:
                    shard.close()
                # rename(2) onto a non-empty directory fails, so a concurrent creator of the
                # same name in another process loses cleanly instead of overwriting.
                scratch.rename(path)
            except OSError as exc:
                shutil.rmtree(scratch, ignore_errors=True)
                if path.exists():
                    raise VectorStoreError(f"collection {name!r} already exists") from exc
                raise VectorStoreError(f"cannot create collection {name!r}: {exc}") from exc
            except Exception as exc:
                shutil.rmtree(scratch, ignore_errors=True)
                raise VectorStoreError(f"cannot create collection {name!r}: {exc}") from exc
            self._shards[name] = self._load(name, path)

    def drop_collection(self, name: str) -> None:
        """Delete a collection, its data and the aliases pointing at it; no error if it does
        not exist. Refuses (VectorStoreError) while another process has it open."""
        if not _NAME.fullmatch(name):
            return
        path = self._dir / name
        with self._lock:
            self._check_open()
            shard = self._shards.pop(name, None)
            if shard is not None:
                try:
                    shard.close()
                except Exception as exc:
                    raise _failed("close", name, exc) from exc
            if path.exists():
                tombstone = self._dir / f".drop-{name}-{uuid.uuid4().hex}"
                with _wal_locked(path) as held:
                    if not held:
                        raise VectorStoreError(
                            f"collection {name!r} is open in another process; close it there "
                            "before dropping it"
                        )
                    # Out of the listing at once; the files go after.
                    path.rename(tombstone)
                shutil.rmtree(tombstone, ignore_errors=True)
            self._update_aliases(lambda aliases: {a: c for a, c in aliases.items() if c != name})

    def list_collections(self) -> list[str]:
        """Names of all collections on disk, sorted, including ones other processes made."""
        with os.scandir(self._dir) as entries:
            return sorted(
                entry.name
                for entry in entries
                if _NAME.fullmatch(entry.name)
                and entry.is_dir()
                and os.path.exists(os.path.join(entry.path, _CONFIG_FILE))
            )

    # --- points ----------------------------------------------------------------------------

    def upsert(self, collection: str, points: Sequence[StorePoint]) -> None:
        """Insert or replace points by id."""
        shard = self._shard(collection)
        for start in range(0, len(points), _UPSERT_CHUNK):
            batch = [
                qe.Point(
                    int(p.id),
                    {n: np.asarray(v, dtype=np.float32).tolist() for n, v in p.vectors.items()},
                    dict(p.payload),
                )
                for p in points[start : start + _UPSERT_CHUNK]
            ]
            try:
                shard.update(qe.UpdateOperation.upsert_points(batch))
            except Exception as exc:
                raise _failed("upsert into", collection, exc) from exc

    def set_payload(self, collection: str, point_id: int, payload: Mapping[str, Any]) -> None:
        """Merge `payload` into a point's payload; VectorStoreError if the point is unknown."""
        shard = self._shard(collection)
        try:
            shard.update(qe.UpdateOperation.set_payload([int(point_id)], dict(payload)))
        except Exception as exc:
            raise _failed("set payload in", collection, exc) from exc

    def delete(self, collection: str, ids: Sequence[int]) -> None:
        """Remove points by id; unknown ids are ignored."""
        if not ids:
            return
        shard = self._shard(collection)
        try:
            shard.update(qe.UpdateOperation.delete_points([int(i) for i in ids]))
        except Exception as exc:
            raise _failed("delete from", collection, exc) from exc

    @timed("vector")
    def retrieve(
        self, collection: str, ids: Sequence[int], vectors: Sequence[str] = (),
        with_payload: bool = True, payload_fields: tuple[str, ...] | None = None,
    ) -> list[Record]:
        """Points by id, in the order asked, skipping unknown ids; `vectors` names the ones
        to return (each only where the point has it)."""
        if not ids:
            return []
        shard = self._shard(collection)
        wanted = list(vectors)
        try:
            found = shard.retrieve([int(i) for i in ids],
                                   payload_selector(with_payload, payload_fields), wanted or False)
        except Exception as exc:
            raise _failed("retrieve from", collection, exc) from exc
        by_id: dict[Any, qe.Record] = {r.id: r for r in found}
        records: list[Record] = []
        for i in ids:
            rec = by_id.get(i)
            if rec is None:
                continue
            stored = rec.vector if wanted else None
            named: dict[str, Any] = stored if isinstance(stored, dict) else {}
            records.append(
                Record(
                    id=int(i),
                    vectors={
                        n: np.asarray(named[n], dtype=np.float32) for n in wanted if n in named
                    },
                    payload=rec.payload if with_payload else None,
                )
            )
        return records

    @timed("vector")
    def count(self, collection: str, filter: Filter | None = None) -> int:
        """How many points pass the filter (exactly)."""
        shard = self._shard(collection)
        flt = None if filter is None or filter.is_empty() else _filter(filter)
        try:
            return shard.count(qe.CountRequest(exact=True, filter=flt))
        except Exception as exc:
            raise _failed("count in", collection, exc) from exc

    @timed("vector")
    def ids(self, collection: str, filter: Filter | None = None) -> npt.NDArray[np.int64]:
        """The ids of every point that passes the filter, ascending."""
        shard = self._shard(collection)
        flt = None if filter is None or filter.is_empty() else _filter(filter)
        found: list[int] = []
        offset: Any = None
        try:
            while True:
                points, offset = shard.scroll(qe.ScrollRequest(
                    offset=offset, limit=_SCROLL_PAGE, filter=flt, with_payload=False,
                    with_vector=False))
                found.extend(int(p.id) for p in points)
                if offset is None:
                    break
        except Exception as exc:
            raise _failed("list ids in", collection, exc) from exc
        return np.unique(np.asarray(found, dtype=np.int64))

    # --- queries ---------------------------------------------------------------------------

    @timed("vector")
    def query(self, collection: str, query: Query) -> list[Hit]:
        """Nearest points to the query vector that pass the filter, best first."""
        shard = self._shard(collection)
        try:
            # Ids are always ints here: this store writes no other kind.
            scored: list[Any] = shard.query(self._request(query))
        except Exception as exc:
            raise _failed("query", collection, exc) from exc
        if query.with_payload:
            return [Hit(p.id, p.score, p.payload) for p in scored]
        return [Hit(p.id, p.score) for p in scored]

    @timed("vector")
    def query_batch(self, collection: str, queries: Sequence[Query]) -> list[list[Hit]]:
        """Several queries planned as one batch by the engine; results in the same order."""
        if not queries:
            return []
        shard = self._shard(collection)
        batch = qe.QueryBatchRequest([self._request(q) for q in queries])
        try:
            results: list[list[Any]] = shard.query_batch(batch)
        except Exception as exc:
            raise _failed("query", collection, exc) from exc
        return [
            [Hit(p.id, p.score, p.payload) for p in scored]
            if q.with_payload
            else [Hit(p.id, p.score) for p in scored]
            for q, scored in zip(queries, results, strict=True)
        ]

    @timed("vector")
    def top_by(
        self, collection: str, field: str, limit: int, filter: Filter | None = None,
        payload_fields: tuple[str, ...] | None = None,
    ) -> list[Hit]:
        """Largest values of a payload field first, through the engine's order-by query."""
        shard = self._shard(collection)
        request = qe.QueryRequest(
            limit=limit,
            query=qe.OrderBy(field, direction=qe.Direction.Desc),
            filter=None if filter is None or filter.is_empty() else _filter(filter),
            with_payload=payload_selector(True, payload_fields),
        )
        try:
            scored: list[Any] = shard.query(request)
        except Exception as exc:
            raise _failed("order", collection, exc) from exc
        return [Hit(p.id, float(p.order_value), p.payload) for p in scored]

    def prefetch(self, collection: str, max_bytes: int | None = None) -> int:
        """Read every file of the collection once, which leaves them in the page cache the
        engine's memory maps read from: a just-started server's first searches took 11 ms
        in the vector store against 2.6 ms once warm (100K products)."""
        total = 0
        for path in sorted(self._path(self.resolve_alias(collection) or collection).rglob("*")):
            if not path.is_file():
                continue
            with contextlib.suppress(OSError), path.open("rb", buffering=0) as handle:
                while (max_bytes is None or total < max_bytes) and (
                        chunk := handle.read(1 << 22)):
                    total += len(chunk)
        return total

    def finish_bulk_load(self, collection: str) -> None:
        """Build the HNSW graphs and merge segments, blocking until done; then flush."""
        shard = self._shard(collection)
        try:
            shard.optimize()
            shard.flush()
        except Exception as exc:
            raise _failed("optimize", collection, exc) from exc

    def release(self, collection: str) -> None:
        """Close the collection's shard (flushing it) so another process can open it."""
        with self._lock:
            shard = self._shards.pop(collection, None)
        if shard is not None:
            try:
                shard.close()
            except Exception as exc:
                raise _failed("release", collection, exc) from exc

    # --- aliases ---------------------------------------------------------------------------

    def set_alias(self, alias: str, collection: str) -> None:
        """Point `alias` at `collection` (create or move), replacing aliases.json atomically."""
        if not _NAME.fullmatch(alias):
            raise VectorStoreError(f"invalid alias name {alias!r}")
        target = self._path(collection)
        if not (target / _CONFIG_FILE).exists():
            raise VectorStoreError(f"no collection named {collection!r}")
        if (self._dir / alias).exists():
            raise VectorStoreError(f"{alias!r} is already the name of a collection")
        self._update_aliases(lambda aliases: {**aliases, alias: collection})

    def resolve_alias(self, alias: str) -> str | None:
        """The collection `alias` points at, or None; read from disk on every call, since
        another process may have moved it."""
        return self._read_aliases().get(alias)

    def close(self) -> None:
        """Close every open shard (flushing it); the store is unusable afterwards."""
        with self._lock:
            self._closed = True
            shards, self._shards = list(self._shards.values()), {}
        errors = []
        for shard in shards:
            try:
                shard.close()
            except Exception as exc:  # close the rest before reporting
                errors.append(exc)
        if errors:
            raise VectorStoreError(f"closing {len(errors)} shard(s) failed: {errors[0]}")

    # --- internals -------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise VectorStoreError(f"invalid collection name {name!r}")
        return self._dir / name

    def _check_open(self) -> None:
        if self._closed:
            raise VectorStoreError("the vector store is closed")

    def _shard(self, name: str) -> qe.EdgeShard:
        shard = self._shards.get(name)
        return shard if shard is not None else self._open(name)

    def _open(self, name: str) -> qe.EdgeShard:
        """The shard for `name` (a collection, or an alias of one), opened on first use."""
        with self._lock:
            self._check_open()
            shard = self._shards.get(name)
            if shard is not None:
                return shard
            path = self._path(name)
            if (path / _CONFIG_FILE).exists():
                shard = self._load(name, path)
                self._shards[name] = shard
                return shard
        # Not a collection: perhaps an alias. Not cached under the alias name, since another
        # process may move it; the target's shard is cached under its own name.
        target = self.resolve_alias(name)
        if target is None or target == name:
            raise VectorStoreError(f"no collection or alias named {name!r}")
        return self._shard(target)

    def _load(self, name: str, path: Path) -> qe.EdgeShard:
        try:
            return qe.EdgeShard.load(str(path))
        except Exception as exc:
            if "WouldBlock" in str(exc):
                raise VectorStoreError(
                    f"collection {name!r} is open in another process (a shard can be open in "
                    "one process only); use the server profile to share it"
                ) from exc
            raise VectorStoreError(f"cannot open collection {name!r}: {exc}") from exc

    def _config(self, spec: CollectionSpec) -> qe.EdgeConfig:
        vectors = {name: _vector_params(v) for name, v in spec.vectors.items()}
        kb = self._hnsw_threshold_kb
        hnsw = qe.HnswIndexConfig(m=_HNSW_M, ef_construct=self._ef_construct,
                                  full_scan_threshold=kb or _FULL_SCAN_KB,
                                  payload_m=self._payload_m)
        if kb is None:
            return qe.EdgeConfig(vectors=vectors, hnsw_config=hnsw)
        return qe.EdgeConfig(vectors=vectors, hnsw_config=hnsw,
                             optimizers=qe.EdgeOptimizersConfig(indexing_threshold=kb))

    def _request(self, query: Query) -> qe.QueryRequest:
        key = (query.hnsw_ef, query.exact)
        params = self._params.get(key)
        if params is None:
            # Rescoring (quantised vectors only) gives exact scores, as unquantised ones have.
            params = qe.SearchParams(hnsw_ef=query.hnsw_ef, exact=query.exact,
                                     quantization=qe.QuantizationSearchParams(rescore=True))
            if len(self._params) < _MAX_CACHED_PARAMS:
                self._params[key] = params
        flt = query.filter
        return qe.QueryRequest(
            limit=query.limit,
            query=qe.Query.Nearest(query.vector.tolist(), using=query.using),
            filter=None if flt is None or flt.is_empty() else _filter(flt),
            with_payload=payload_selector(query.with_payload, query.payload_fields),
            params=params,
        )

    def _read_aliases(self) -> dict[str, str]:
        try:
            text = self._aliases_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise VectorStoreError(f"cannot read {self._aliases_path}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise VectorStoreError(f"{self._aliases_path} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise VectorStoreError(f"{self._aliases_path} does not hold an object")
        return {str(k): str(v) for k, v in data.items()}

    def _update_aliases(self, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
        """Read, change and atomically replace aliases.json under a cross-process lock."""
        with self._lock, _flocked(self._aliases_lock_path):
            before = self._read_aliases()
            after = change(before)
            if after == before:
                return
            scratch = self._aliases_path.with_name(f".aliases-{uuid.uuid4().hex}.json")
            try:
                with open(scratch, "w", encoding="utf-8") as f:
                    json.dump(after, f, indent=1, sort_keys=True)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(scratch, self._aliases_path)
            except OSError as exc:
                scratch.unlink(missing_ok=True)
                raise VectorStoreError(f"cannot write {self._aliases_path}: {exc}") from exc


def _vector_params(spec: VectorSpec) -> qe.EdgeVectorParams:
    if not spec.quantized:
        return qe.EdgeVectorParams(size=spec.size, distance=_DISTANCE[spec.distance])
    return qe.EdgeVectorParams(
        size=spec.size, distance=_DISTANCE[spec.distance], on_disk=True,
        quantization_config=qe.ScalarQuantizationConfig(qe.ScalarType.Int8, quantile=_QUANTILE,
                                                        always_ram=True))


def _filter(f: Filter) -> qe.Filter:
    must: list[Any] = []
    for key, value in f.equals.items():
        # The binding reads a Python bool as the integer 1/0 (bool is an int), which never
        # matches a boolean payload value; numpy's bool is read as a bool.
        match = qe.MatchValue(np.bool_(value) if isinstance(value, bool) else value)  # type: ignore[arg-type]
        must.append(qe.FieldCondition(key=key, match=match))
    for key, values in f.any_of.items():
        must.append(qe.FieldCondition(key=key, match=qe.MatchAny(list(values))))
    for key, bounds in f.ranges.items():
        # A range with no bound constrains nothing.
        if bounds.gte is not None or bounds.lte is not None:
            must.append(
                qe.FieldCondition(key=key, range=qe.RangeFloat(gte=bounds.gte, lte=bounds.lte))
            )
    must_not: list[Any] | None = None
    if f.exclude_ids:
        ids: set[Any] = set(f.exclude_ids)
        must_not = [qe.HasIdCondition(ids)]
    return qe.Filter(must=must or None, must_not=must_not)


def _failed(action: str, collection: str, exc: Exception) -> VectorStoreError:
    message = str(exc)
    if "not initialized" in message:
        # The shard was closed under this call: the collection was dropped meanwhile.
        message = "the collection was dropped or the store closed"
    return VectorStoreError(f"{action} collection {collection!r} failed: {message}")


@contextlib.contextmanager
def _flocked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _wal_locked(shard_dir: Path) -> Iterator[bool]:
    """Hold the lock the engine takes on a shard's WAL directory, if nobody else does.

    Yields False when another process (or another store in this one) has the shard open.
    While held, no one can open the shard, so it can be moved away safely.
    """
    try:
        fd = os.open(shard_dir / "wal", os.O_RDONLY)
    except FileNotFoundError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
