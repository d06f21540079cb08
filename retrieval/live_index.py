"""The index version being served, and what a request needs of it.

A reindex (in another process, perhaps) records a new live version in Postgres;
:meth:`LiveIndex.refresh` picks it up, so a running server moves to it without a restart.
Each version comes with its own in-memory caches, since its factors are not the old ones.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from models import index_versions, tuning
from models.db import Database
from models.index_versions import VersionInfo
from retrieval.item_cache import ItemCache, LearntItems, UserVectors

Vector = npt.NDArray[np.float32]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexView:
    """The collections of one index version and what requests over it need."""

    version: int
    items: str
    users: str
    gram: Vector | None  # Yᵀ·Y of the item factors, for folding shoppers in
    as_of: float | None  # the time the version's training measured ages from
    # What requests read of this version's items and shoppers, kept between requests.
    items_cache: ItemCache = field(default_factory=lambda: ItemCache(0), compare=False)
    user_vectors: UserVectors = field(default_factory=lambda: UserVectors(0), compare=False)
    learnt: LearntItems = field(default_factory=LearntItems, compare=False)
    # The ALS penalty and confidence scale the version was trained with (a shop's tuned
    # values may differ from this process's settings): a fold-in must solve the same
    # problem. None: this process's settings.
    als_regularization: float | None = None
    als_alpha: float | None = None
    # Serving settings `lodestar tune` chose for the shop when the version was built (the
    # hybrid's blend weights, `rec_*`): a request over this version ranks with them.
    tuned_serving: dict[str, Any] = field(default_factory=dict, compare=False)


def view_of(database: Database, info: VersionInfo, cache_items: int = 0,
            cache_users: int = 0) -> IndexView:
    """The view of a recorded version, its Gram matrix loaded once."""
    raw = index_versions.load_gram(database, info.version)
    gram = None
    if raw:
        size = math.isqrt(len(raw) // 4)
        gram = np.frombuffer(raw, dtype=np.float32).reshape(size, size)
    return IndexView(
        version=info.version,
        items=info.items_collection,
        users=info.users_collection,
        gram=gram,
        as_of=info.as_of.timestamp() if info.as_of else None,
        items_cache=ItemCache(cache_items),
        user_vectors=UserVectors(cache_users),
        als_regularization=_recorded(info, "als_regularization"),
        als_alpha=_recorded(info, "als_alpha"),
        tuned_serving=tuned_serving(info),
    )


def tuned_serving(info: VersionInfo) -> dict[str, Any]:
    """The serving settings (`rec_*`, the hybrid's blend) a version records as tuned for
    the shop; the ALS ones were used by its training already."""
    return {name: value for name, value in tuning.recorded(info.settings).items()
            if name.startswith("rec_")}


def _recorded(info: VersionInfo, name: str) -> float | None:
    value = (info.settings or {}).get(name)
    return float(value) if isinstance(value, int | float) else None


class LiveIndex:
    """The live version as recorded in Postgres, and its view."""

    def __init__(self, database: Database, cache_items: int = 0, cache_users: int = 0) -> None:
        self._database = database
        self._cache_items = cache_items
        self._cache_users = cache_users
        self._live: VersionInfo | None = None
        self._view: IndexView | None = None
        self._lock = threading.Lock()

    @property
    def live(self) -> VersionInfo | None:
        return self._live

    @property
    def view(self) -> IndexView | None:
        """What requests need of the live version."""
        return self._view

    def refresh(self) -> bool:
        """Re-read the live version; True if it changed."""
        latest = index_versions.live_version(self._database)
        changed = (latest.version if latest else None) != (
            self._live.version if self._live else None
        )
        view = self._view
        if changed or (latest is not None and view is None):
            view = (view_of(self._database, latest, self._cache_items, self._cache_users)
                    if latest else None)
        with self._lock:
            self._live, self._view = latest, view
        if changed:
            log.info("serving index version %s", latest.version if latest else None)
        return changed
