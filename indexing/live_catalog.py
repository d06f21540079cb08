"""Products written into a serving index between reindexes, and the catch-up before a switch.

A shop edits its catalog all day; a reindex runs every few hours. A product written
through the API is embedded (through the embedding cache, so the next reindex does not
embed it again) and upserted into the items collection of the live version and of any
version being built, keeping what the last reindex learnt about it (popularity, CF
factors, basket companions). A product with no learnt factors inherits them from its text
neighbours (ranking.bootstrap), so CF can recommend it at once.

A reindex reads the catalog once, early; `catch_up` then brings its new collection level
with what was written or deleted meanwhile, just before it goes live.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from indexing.collections import CF, CF_RAW, TEXT, catalog_texts, item_payload
from indexing.encoder import Encoder, embed_with_cache
from indexing.vectorstore.port import (
    Filter,
    Point,
    Query,
    VectorStore,
    VectorStoreError,
    point_id,
)
from models import index_versions
from models.catalog import CatalogRow, catalog_rows, deleted_since, product_ids
from models.db import Database
from models.settings import Settings
from ranking.bootstrap import neighbour_average

Vector = npt.NDArray[np.float32]
log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Targets:
    """Where a catalog write goes: the live version's items collection, which it must
    reach, and those of versions being built, which it reaches when it can (a build in
    another process holds its collection until it hands it over; the server re-indexes
    what was written since the build read the catalog once it switches, see
    `catch_up`)."""

    live: str | None
    building: list[str]

    @property
    def all(self) -> list[str]:
        return ([self.live] if self.live else []) + self.building


def serving_collections(database: Database, store: VectorStore) -> Targets:
    live = index_versions.live_version(database)
    present = set(store.list_collections())
    building = [v.items_collection for v in index_versions.stale_builds(database)
                if v.items_collection in present]
    return Targets(live.items_collection if live else None, building)


def index_products(database: Database, store: VectorStore, settings: Settings,
                   encoder: Encoder | Callable[[], Encoder], targets: Targets,
                   rows: Sequence[CatalogRow]) -> list[str]:
    """Embed `rows` and upsert them into the target collections; returns the collections
    written. A build's collection that another process holds is skipped."""
    if not rows or not targets.all:
        return []
    text_encoder = encoder() if callable(encoder) else encoder
    vectors, _ = embed_with_cache(database, text_encoder, catalog_texts(rows))
    written = []
    for collection in targets.all:
        try:
            _upsert(store, settings, collection, rows, vectors)
        except VectorStoreError:
            if collection == targets.live:
                raise
            log.info("collection %s is busy in its build; the switch catches up", collection)
            continue
        written.append(collection)
    return written


def _upsert(store: VectorStore, settings: Settings, collection: str,
            rows: Sequence[CatalogRow], vectors: npt.NDArray[np.float32]) -> None:
    ids = [point_id(r.product_id) for r in rows]
    before = {r.id: r for r in store.retrieve(collection, ids, vectors=[CF, CF_RAW])}
    points = []
    for row, pid, vector in zip(rows, ids, vectors, strict=True):
        old = before.get(pid)
        points.append(_point(store, settings, collection, row, vector,
                             old.vectors if old else {}, (old.payload or {}) if old else {}))
    store.upsert(collection, points)


def remove_products(store: VectorStore, targets: Targets,
                    product_ids: Sequence[str]) -> list[str]:
    written = []
    for collection in targets.all:
        try:
            store.delete(collection, [point_id(p) for p in product_ids])
        except VectorStoreError:
            if collection == targets.live:
                raise
            continue
        written.append(collection)
    return written


def catch_up(database: Database, store: VectorStore, settings: Settings,
             encoder: Encoder | Callable[[], Encoder], collection: str,
             snapshot_at: datetime, snapshot_ids: set[str] | None = None) -> tuple[int, int]:
    """Bring a built collection level with the catalog: products written since the build
    read the catalog at `snapshot_at` are indexed, and products deleted since are removed
    (those deleted through the API since, and when `snapshot_ids`, the catalog as read,
    is given, any of those no longer in it). Returns (indexed, removed). Idempotent."""
    changed = catalog_rows(database, updated_since=snapshot_at)
    now_ids = product_ids(database)
    deleted = deleted_since(database, snapshot_at)
    new = catalog_rows(database, sorted(now_ids - snapshot_ids)) if snapshot_ids else []
    rows = {r.product_id: r for r in (*changed, *new)}
    target = Targets(collection, [])
    index_products(database, store, settings, encoder, target, list(rows.values()))
    gone = sorted(((snapshot_ids or set()) | deleted) - now_ids)
    remove_products(store, target, gone)
    return len(rows), len(gone)


def _point(store: VectorStore, settings: Settings, collection: str, row: CatalogRow,
           text_vector: Vector, old_vectors: Mapping[str, Vector],
           old_payload: Mapping[str, Any]) -> Point:
    vectors: dict[str, Vector] = {TEXT: text_vector}
    learnt = bool(old_payload.get("has_cf")) and CF in old_vectors
    bootstrapped = False
    if learnt:
        vectors[CF] = old_vectors[CF]
        vectors[CF_RAW] = old_vectors.get(CF_RAW, old_vectors[CF])
    else:
        inherited = _inherit(store, settings, collection, row.product_id, text_vector)
        if inherited is not None:
            vectors[CF_RAW] = inherited
            bootstrapped = True
    companions = list(zip(old_payload.get("bought_with", []),
                          old_payload.get("bought_with_scores", []), strict=False))
    again = (float(old_payload.get("repurchase_rate", 0.0)),
             float(old_payload.get("repurchase_days", 0.0)))
    payload = item_payload(row, float(old_payload.get("popularity", 0.0)), learnt, companions,
                           old_payload.get("device_popularity") or {}, bootstrapped, again)
    return Point(point_id(row.product_id), vectors, payload)


def _inherit(store: VectorStore, settings: Settings, collection: str, product_id: str,
             text_vector: Vector) -> Vector | None:
    """Factors from the product's nearest text neighbours that learnt their own."""
    if settings.training.cold_item_neighbours < 1:
        return None
    hits = store.query(collection, Query(
        text_vector, TEXT, settings.training.cold_item_neighbours,
        Filter(equals={"has_cf": True}, exclude_ids=frozenset({point_id(product_id)})),
        hnsw_ef=settings.serving.hnsw_ef))
    if not hits:
        return None
    records = {r.id: r for r in store.retrieve(collection, [h.id for h in hits],
                                               vectors=[CF_RAW], with_payload=False)}
    pairs = [(h.score, records[h.id].vectors[CF_RAW]) for h in hits
             if h.id in records and CF_RAW in records[h.id].vectors]
    if not pairs:
        return None
    return neighbour_average(np.array([s for s, _ in pairs]), np.stack([f for _, f in pairs]))
