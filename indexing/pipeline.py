"""The reindex: Postgres in, a new versioned pair of Qdrant collections out, alias switched.

Stages: catalog → embed (cached) → interactions → ALS → popularity → write items → write
users → optimise → switch. The live version keeps serving throughout; a failure leaves it
live, marks the new version failed and drops what was built.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text

from indexing.als import Factors, train_als
from indexing.collections import (
    CF,
    CF_RAW,
    TEXT,
    catalog_texts,
    item_payload,
    items_spec,
    users_spec,
)
from indexing.cooccurrence import bought_together
from indexing.encoder import Encoder, embed_with_cache
from indexing.erasure import drop_erased
from indexing.interactions import Interactions, load_interactions, resolve_as_of
from indexing.live_catalog import catch_up
from indexing.nearest import torch_nearest
from indexing.popularity import Popularity, popularity_by_device
from indexing.repurchase import repurchases
from indexing.vectorstore.port import Point, VectorStore, point_id
from models import audit, erasures, index_versions, tuning
from models.catalog import CatalogRow, catalog_rows
from models.db import Database
from models.settings import Settings
from models.tenancy import current_shop
from ranking.bootstrap import inherit_factors
from ranking.buy_again import Repurchase
from ranking.foldin import gram_matrix

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
WRITE_BATCH = 1000


class ReindexBusy(RuntimeError):
    """Another reindex holds the lock."""


class _Stages:
    """Times each stage and reports progress."""

    def __init__(self, progress: Progress | None) -> None:
        self.timings: dict[str, float] = {}
        self._progress = progress

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        self.report(name, 0, 1)
        yield
        self.timings[name] = round(time.perf_counter() - started, 3)
        log.debug("reindex stage %s done in %.2fs", name, self.timings[name])

    def report(self, name: str, done: int, total: int) -> None:
        if self._progress:
            self._progress(name, done, total)


def reindex(
    database: Database,
    store: VectorStore,
    settings: Settings,
    encoder: Encoder,
    progress: Progress | None = None,
) -> ReindexResult:
    """Build and switch to a new index version. Raises ReindexBusy if one is running."""
    with index_versions.reindex_lock(database) as acquired:
        if not acquired:
            raise ReindexBusy("another reindex is running")
        _clean_leftovers(database, store)
        # What `lodestar tune` found best for this shop, if it ran: the ALS values train
        # this version, and the version records all of them, so that the servers rank with
        # the blend weights tuned beside these factors.
        tuned = tuning.load(database) or {}
        settings = settings.replace(**tuned) if tuned else settings
        apply_retention(database, settings)
        version = index_versions.start_version(
            database, settings.storage.shop_prefix,
            {**settings.snapshot(), tuning.VERSION_KEY: tuned})
        try:
            result = _build(database, store, settings, encoder, version, progress)
        except BaseException as exc:
            log.exception("reindex of version %s failed", version.version)
            index_versions.fail_version(database, version.version, f"{type(exc).__name__}: {exc}")
            _drop_quietly(store, version.items_collection, version.users_collection)
            raise
        _prune(database, store, settings.storage.versions_to_keep)
        return result


def apply_retention(database: Database, settings: Settings,
                    now: datetime | None = None) -> dict[str, int] | None:
    """Delete events past LODESTAR_RETENTION_DAYS (wall clock), recorded in the audit log;
    None when events are kept for ever."""
    days = settings.access.retention_days
    if days <= 0:
        return None
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    deleted = erasures.purge_before(database, cutoff)
    audit.record(database, current_shop(), "retention", "events.purge",
                 f"before {cutoff:%Y-%m-%d}",
                 details={"rows": deleted, "retention_days": days})
    if any(deleted.values()):
        log.info("retention: %s deleted (older than %d days)", deleted, days)
    return deleted


class RollbackRefused(RuntimeError):
    """There is no version to go back to, or the one named cannot serve."""


def rollback(database: Database, store: VectorStore, settings: Settings,
             version: int | None = None) -> index_versions.VersionInfo:
    """Serve an earlier version again: `version`, or the newest retired one whose
    collections are still kept. Moves the aliases and the live mark like a reindex's
    switch; takes the reindex lock, so it never races one."""
    with index_versions.reindex_lock(database) as acquired:
        if not acquired:
            raise ReindexBusy("a reindex is running")
        versions = index_versions.all_versions(database)
        live = next((v for v in versions if v.status == "live"), None)
        present = set(store.list_collections())
        usable = [v for v in versions if v.status == "retired"
                  and {v.items_collection, v.users_collection} <= present]
        if version is None:
            if not usable:
                raise RollbackRefused("no earlier version is kept to go back to")
            target = usable[0]
        else:
            named = next((v for v in versions if v.version == version), None)
            if named is None:
                raise RollbackRefused(f"there is no version {version}")
            if live is not None and named.version == live.version:
                raise RollbackRefused(f"version {version} is already live")
            if named not in usable:
                raise RollbackRefused(
                    f"version {version} is {named.status} and cannot serve"
                    + ("" if named.status != "retired" else " (its collections were dropped)"))
            target = named
        store.set_alias(settings.storage.items_alias, target.items_collection)
        store.set_alias(settings.storage.users_alias, target.users_collection)
        index_versions.make_live(database, target.version)
        log.info("rolled back to index version %s", target.version)
        return target


@dataclass
class BuiltIndex:
    """A pair of collections written from Postgres, not (yet) serving anything."""

    items_collection: str
    users_collection: str
    n_items: int
    n_items_with_cf: int
    n_users: int
    n_events: int
    embedded: int
    as_of: datetime | None
    gram: npt.NDArray[np.float32]
    timings: dict[str, float] = field(default_factory=dict)
    # The catalog as the build read it (ids, and when), for the catch-up before a switch.
    catalog_ids: frozenset[str] = frozenset()
    catalog_read_at: datetime | None = None


@dataclass
class ReindexResult(BuiltIndex):
    """A built index that became the live version `version`."""

    version: int = 0


def build_index(
    database: Database,
    store: VectorStore,
    settings: Settings,
    encoder: Encoder,
    items_collection: str,
    users_collection: str,
    progress: Progress | None = None,
    withheld: Sequence[str] = (),
) -> BuiltIndex:
    """Write items and users collections from the catalog and the events up to the "as of"
    time. Touches no index version: the reindex records and switches; the offline
    evaluator builds a train-only index this way and drops it afterwards, and its cold-item
    evaluation leaves out every event of the `withheld` products."""
    stages = _Stages(progress)
    with stages.stage("catalog"):
        snapshot_at = _database_now(database)
        catalog = catalog_rows(database)
    with stages.stage("embed"):
        vectors, embedded = embed_with_cache(
            database,
            encoder,
            catalog_texts(catalog),
            batch_size=settings.encoder.batch_size,
            progress=lambda d, t: stages.report("embed", d, t),
        )
    with stages.stage("interactions"):
        as_of = resolve_as_of(database, settings)
        interactions = load_interactions(database, settings, as_of, withheld)
    with stages.stage("als"):
        factors = train_als(interactions.matrix, settings)
    with stages.stage("popularity"):
        popularity = popularity_by_device(database, settings, as_of, withheld)
    with stages.stage("bought_together"):
        companions = bought_together(database, settings, as_of, withheld=withheld)
        again = repurchases(database, settings, as_of, withheld)

    item_cf = _item_factors_by_product(interactions, factors)
    with stages.stage("bootstrap"):
        inherited = _bootstrap_cold_items(catalog, vectors, item_cf,
                                          settings.training.cold_item_neighbours)
    with stages.stage("write_items"):
        spec = items_spec(encoder.dim, settings.training.als_factors,
                          quantize_text=settings.storage.quantize_text_vectors)
        store.create_collection(items_collection, spec)
        n_with_cf = _write_items(
            store, items_collection, catalog, vectors, item_cf, inherited, popularity, companions,
            again,
            lambda d, t: stages.report("write_items", d, t),
        )
    with stages.stage("write_users"):
        store.create_collection(users_collection, users_spec(settings.training.als_factors))
        n_users = _write_users(store, users_collection, interactions, factors, as_of)
    with stages.stage("optimize"):
        store.finish_bulk_load(items_collection)
        store.finish_bulk_load(users_collection)
    return BuiltIndex(
        items_collection=items_collection,
        users_collection=users_collection,
        n_items=len(catalog),
        n_items_with_cf=n_with_cf,
        n_users=n_users,
        n_events=interactions.n_events,
        embedded=embedded,
        as_of=as_of,
        gram=gram_matrix(factors.items),
        timings=stages.timings,
        catalog_ids=frozenset(r.product_id for r in catalog),
        catalog_read_at=snapshot_at,
    )


def _build(
    database: Database,
    store: VectorStore,
    settings: Settings,
    encoder: Encoder,
    version: index_versions.VersionInfo,
    progress: Progress | None,
) -> ReindexResult:
    built = build_index(database, store, settings, encoder, version.items_collection,
                        version.users_collection, progress)
    started = time.perf_counter()
    if built.catalog_read_at is not None:
        # Products written or deleted while the build ran. A write that comes later reaches
        # this collection directly if this process can open it, else through the serving
        # process's catch-up after the switch (see Resources.refresh_index).
        caught_up, removed = catch_up(database, store, settings, encoder,
                                      version.items_collection, built.catalog_read_at,
                                      set(built.catalog_ids))
        if caught_up or removed:
            log.info("catch-up of version %s: %d products indexed, %d removed",
                     version.version, caught_up, removed)
    # Shoppers erased while the build ran may be in what it read: not in what goes live.
    dropped = drop_erased(database, store, version.users_collection)
    if dropped:
        log.info("version %s: %d erased shoppers' vectors left out", version.version, dropped)
    built.timings["catch_up"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    # Hand the new collections over before they go live: a server in another process
    # (embedded engine: one process per shard) opens them on its next request.
    store.release(version.items_collection)
    store.release(version.users_collection)
    store.set_alias(settings.storage.items_alias, version.items_collection)
    store.set_alias(settings.storage.users_alias, version.users_collection)
    index_versions.finish_version(
        database,
        version.version,
        built_at=datetime.now(UTC),
        as_of=built.as_of,
        n_items=built.n_items,
        n_items_with_cf=built.n_items_with_cf,
        n_users=built.n_users,
        n_events=built.n_events,
        encoder=encoder.name,
        cf_gram=np.ascontiguousarray(built.gram, dtype=np.float32).tobytes(),
        catalog_read_at=built.catalog_read_at,
    )
    timings = {**built.timings, "switch": round(time.perf_counter() - started, 3)}
    # Recorded after the switch so that the switch's own time is in the record too.
    index_versions.record_timings(database, version.version, timings)
    fields = {f.name: getattr(built, f.name) for f in dataclasses.fields(built)}
    return ReindexResult(**{**fields, "timings": timings}, version=version.version)


def _database_now(database: Database) -> datetime:
    with database.engine.connect() as conn:
        now: datetime = conn.execute(text("SELECT now()")).scalar_one()
    return now


def _item_factors_by_product(
    interactions: Interactions, factors: Factors
) -> dict[str, npt.NDArray[np.float32]]:
    out: dict[str, npt.NDArray[np.float32]] = {}
    for i, pid in enumerate(interactions.items):
        vec = factors.items[i]
        # An all-zero factor carries no direction; cosine on it is undefined.
        if np.any(vec):
            out[pid] = vec
    return out


def _bootstrap_cold_items(
    catalog: Sequence[CatalogRow],
    text_vectors: npt.NDArray[np.float32],
    item_cf: dict[str, npt.NDArray[np.float32]],
    neighbours: int,
) -> dict[str, npt.NDArray[np.float32]]:
    """CF factors for the products without interactions, inherited from their nearest
    products by text that have factors (see ranking.bootstrap)."""
    cold = [i for i, row in enumerate(catalog) if row.product_id not in item_cf]
    warm = [i for i, row in enumerate(catalog) if row.product_id in item_cf]
    if not cold or not warm or neighbours < 1:
        return {}
    factors, got = inherit_factors(
        text_vectors[cold], text_vectors[warm],
        np.stack([item_cf[catalog[i].product_id] for i in warm]), k=neighbours,
        chunk=512, nearest=torch_nearest)
    return {catalog[i].product_id: factors[j] for j, i in enumerate(cold) if got[j]}


def _pair(known: Repurchase | None) -> tuple[float, float] | None:
    return (known.rate, known.days) if known is not None else None


def _write_items(
    store: VectorStore,
    collection: str,
    catalog: Sequence[CatalogRow],
    text_vectors: npt.NDArray[np.float32],
    item_cf: dict[str, npt.NDArray[np.float32]],
    inherited: dict[str, npt.NDArray[np.float32]],
    popularity: Popularity,
    companions: dict[str, list[tuple[str, float]]],
    again: dict[str, Repurchase],
    progress: Callable[[int, int], None],
) -> int:
    with_cf = 0
    batch: list[Point] = []
    for i, row in enumerate(catalog):
        cf = item_cf.get(row.product_id)
        vectors: dict[str, npt.NDArray[np.float32]] = {TEXT: text_vectors[i]}
        if cf is not None:
            vectors[CF] = cf
            vectors[CF_RAW] = cf
            with_cf += 1
        elif row.product_id in inherited:
            # Only the raw factors, which recommendations query: similar items' CF half
            # stays for products with a history of their own.
            vectors[CF_RAW] = inherited[row.product_id]
        payload = item_payload(row, popularity.overall.get(row.product_id, 0.0), cf is not None,
                               companions.get(row.product_id, ()),
                               popularity.by_device.get(row.product_id, {}),
                               cf_bootstrapped=cf is None and row.product_id in inherited,
                               repurchase=_pair(again.get(row.product_id)))
        batch.append(Point(point_id(row.product_id), vectors, payload))
        if len(batch) >= WRITE_BATCH:
            store.upsert(collection, batch)
            batch = []
            progress(i + 1, len(catalog))
    if batch:
        store.upsert(collection, batch)
    progress(len(catalog), len(catalog))
    return with_cf


def _write_users(
    store: VectorStore,
    collection: str,
    interactions: Interactions,
    factors: Factors,
    as_of: datetime | None,
) -> int:
    """Users with their ALS vectors; `as_of` says which events a vector has seen, so the
    API knows when a shopper's newer events call for folding in."""
    seen_until = as_of.timestamp() if as_of else 0.0
    counts = np.diff(interactions.matrix.indptr)
    batch: list[Point] = []
    written = 0
    for u, user_id in enumerate(interactions.users):
        vec = factors.users[u]
        if not np.any(vec):
            continue
        payload: dict[str, Any] = {"user_id": user_id, "n_items": int(counts[u]),
                                   "as_of": seen_until}
        batch.append(Point(point_id(user_id), {CF: vec}, payload))
        written += 1
        if len(batch) >= WRITE_BATCH:
            store.upsert(collection, batch)
            batch = []
    if batch:
        store.upsert(collection, batch)
    return written


def _clean_leftovers(database: Database, store: VectorStore) -> None:
    """A reindex killed mid-way left a 'building' row and half-written collections."""
    for stale in index_versions.stale_builds(database):
        log.warning("cleaning up version %s left by an interrupted reindex", stale.version)
        _drop_quietly(store, stale.items_collection, stale.users_collection)
        index_versions.fail_version(database, stale.version, "interrupted")


def _prune(database: Database, store: VectorStore, keep: int) -> None:
    """Drop collections of versions beyond the newest `keep` (the live one always stays)."""
    versions = index_versions.all_versions(database)
    kept = 0
    for info in versions:
        if info.status == "live" or (info.status == "retired" and kept < keep - 1):
            kept += info.status == "retired"
            continue
        if info.status in {"retired", "failed"}:
            _drop_quietly(store, info.items_collection, info.users_collection)


def _drop_quietly(store: VectorStore, *names: str) -> None:
    for name in names:
        if not name:
            continue
        try:
            store.drop_collection(name)
        except Exception:
            log.exception("could not drop collection %s", name)
