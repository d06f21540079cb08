"""Erasing shoppers from the vector store: their points leave the users collection of every
index version that is kept, live or being built."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from indexing.vectorstore import VectorStore
from models import erasures, index_versions
from models.db import Database

log = logging.getLogger(__name__)


def users_collections(database: Database, store: VectorStore) -> list[str]:
    """The users collections of every recorded version that still exists in the store."""
    present = set(store.list_collections())
    return [v.users_collection for v in index_versions.all_versions(database)
            if v.users_collection in present]


def remove_points(database: Database, store: VectorStore, point_ids: Sequence[int],
                  keep_open: str | None = None) -> None:
    """Delete the points from every users collection. A collection this process opened
    only for this is let go again (the embedded engine opens a shard in one process at a
    time), all but `keep_open` (the live one a server holds). Raises if any collection
    could not be written: the erasure stays pending and is tried again."""
    if not point_ids:
        return
    for collection in users_collections(database, store):
        store.delete(collection, list(point_ids))
        if collection != keep_open:
            try:
                store.release(collection)
            except Exception:
                log.warning("could not release collection %s", collection, exc_info=True)


def retry_pending(database: Database, store: VectorStore, keep_open: str | None = None) -> int:
    """Finish pending erasures whose vectors could not all be removed before; returns how
    many are done now."""
    waiting = erasures.pending(database)
    if not waiting:
        return 0
    ids = [erasure_id for erasure_id, _ in waiting]
    try:
        remove_points(database, store, [point for _, point in waiting], keep_open)
    except Exception as exc:
        erasures.failed_attempt(database, ids, f"{type(exc).__name__}: {exc}")
        raise
    erasures.finish(database, ids)
    return len(ids)


def drop_erased(database: Database, store: VectorStore, users_collection: str) -> int:
    """Remove erased shoppers from a version about to go live (its build may have read
    their events before they were deleted)."""
    points = erasures.held_points(database)
    if points:
        store.delete(users_collection, points)
    return len(points)
