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

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text

from indexing.collections import CF, CF_RAW, TEXT, CatalogRow, catalog_texts, item_payload
from indexing.encoder import Encoder, embed_with_cache
from indexing.vectorstore.port import Filter, Point, Query, VectorStore, point_id
from models import index_versions
from models.db import Database
from models.settings import Settings
from ranking.bootstrap import neighbour_average

Vector = npt.NDArray[np.float32]

_CATALOG_COLUMNS = ("product_id, title, description, category, subcategory, brand, price, "
                    "tags, in_stock, promoted, created_at")


def serving_collections(database: Database, store: VectorStore) -> list[str]:
    """The items collections a catalog write must reach: the live version's and those of
    versions being built that exist already (a build creates its collection midway)."""
    names = []
    live = index_versions.live_version(database)
    if live is not None:
        names.append(live.items_collection)
    present = set(store.list_collections())
    names += [v.items_collection for v in index_versions.stale_builds(database)
              if v.items_collection in present]
    return names


def index_products(database: Database, store: VectorStore, settings: Settings,
                   encoder: Encoder, collections: Sequence[str],
                   rows: Sequence[CatalogRow]) -> None:
    """Embed `rows` and upsert them into each of `collections`."""
    if not rows or not collections:
        return
    vectors, _ = embed_with_cache(database, encoder, catalog_texts(rows))
    for collection in collections:
        ids = [point_id(r.product_id) for r in rows]
        before = {r.id: r for r in store.retrieve(collection, ids, vectors=[CF, CF_RAW])}
        points = []
        for row, pid, vector in zip(rows, ids, vectors, strict=True):
            old = before.get(pid)
            points.append(_point(store, settings, collection, row, vector,
                                 old.vectors if old else {}, (old.payload or {}) if old else {}))
        store.upsert(collection, points)


def remove_products(store: VectorStore, collections: Sequence[str],
                    product_ids: Sequence[str]) -> None:
    for collection in collections:
        store.delete(collection, [point_id(p) for p in product_ids])


def catalog_rows(database: Database, product_ids: Sequence[str] | None = None,
                 updated_since: datetime | None = None) -> list[CatalogRow]:
    """Products by id, or those updated at or after `updated_since`."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if product_ids is not None:
        where.append("product_id = ANY(:ids)")
        params["ids"] = list(product_ids)
    if updated_since is not None:
        where.append("updated_at >= :since")
        params["since"] = updated_since
    sql = f"SELECT {_CATALOG_COLUMNS} FROM products"
    if where:
        sql += " WHERE " + " AND ".join(where)
    with database.engine.connect() as conn:
        return [CatalogRow(*row) for row in conn.execute(text(sql + " ORDER BY product_id"),
                                                         params)]


def catch_up(database: Database, store: VectorStore, settings: Settings, encoder: Encoder,
             collection: str, snapshot_ids: set[str], snapshot_at: datetime) -> tuple[int, int]:
    """Bring a freshly built collection level with the catalog: products written since
    the build read the catalog at `snapshot_at` are indexed, products deleted since are
    removed. Returns (indexed, removed)."""
    changed = catalog_rows(database, updated_since=snapshot_at)
    with database.engine.connect() as conn:
        now_ids = {str(r[0]) for r in conn.execute(text("SELECT product_id FROM products"))}
    new = catalog_rows(database, sorted(now_ids - snapshot_ids))
    rows = {r.product_id: r for r in (*changed, *new)}
    index_products(database, store, settings, encoder, [collection], list(rows.values()))
    gone = sorted(snapshot_ids - now_ids)
    remove_products(store, [collection], gone)
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
    payload = item_payload(row, float(old_payload.get("popularity", 0.0)), learnt, companions,
                           old_payload.get("device_popularity") or {}, bootstrapped)
    return Point(point_id(row.product_id), vectors, payload)


def _inherit(store: VectorStore, settings: Settings, collection: str, product_id: str,
             text_vector: Vector) -> Vector | None:
    """Factors from the product's nearest text neighbours that learnt their own."""
    if settings.cold_item_neighbours < 1:
        return None
    hits = store.query(collection, Query(
        text_vector, TEXT, settings.cold_item_neighbours,
        Filter(equals={"has_cf": True}, exclude_ids=frozenset({point_id(product_id)})),
        hnsw_ef=settings.hnsw_ef))
    if not hits:
        return None
    records = {r.id: r for r in store.retrieve(collection, [h.id for h in hits],
                                               vectors=[CF_RAW], with_payload=False)}
    pairs = [(h.score, records[h.id].vectors[CF_RAW]) for h in hits
             if h.id in records and CF_RAW in records[h.id].vectors]
    if not pairs:
        return None
    return neighbour_average(np.array([s for s, _ in pairs]), np.stack([f for _, f in pairs]))
