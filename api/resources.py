"""What the API holds for its lifetime: database, vector store, live index, encoder.

Created in the app's lifespan, closed on shutdown, handed to handlers by injection.
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import UTC, datetime

import numpy as np

from api.metrics import Metrics
from indexing.encoder import Encoder, load_encoder
from indexing.item_cache import ItemCache
from indexing.live_catalog import catch_up
from indexing.onnx_encoder import load_query_encoder, query_encoder_choice
from indexing.popularity import PopularInStock
from indexing.recommender import IndexView
from indexing.search import LexicalRetriever, QueryEmbeddings, catalog_vocabulary
from indexing.vectorstore import VectorStore, open_vector_store
from models import index_versions
from models.db import Database, migrate, open_database
from models.index_versions import VersionInfo
from models.settings import Settings
from ranking.spelling import Vocabulary

log = logging.getLogger(__name__)


class LiveIndex:
    """The index version being served, as recorded in Postgres.

    The reindex (another process, perhaps) records a new live version; `refresh` picks it
    up, so a running server moves to it without restarting.
    """

    def __init__(self, database: Database, cache_items: int = 0) -> None:
        self._database = database
        self._cache_items = cache_items
        self._live: VersionInfo | None = None
        self._view: IndexView | None = None
        self._lock = threading.Lock()

    @property
    def live(self) -> VersionInfo | None:
        return self._live

    @property
    def view(self) -> IndexView | None:
        """What the recommender needs of the live version (its Yᵀ·Y loaded once)."""
        return self._view

    def refresh(self) -> bool:
        """Re-read the live version; True if it changed."""
        latest = index_versions.live_version(self._database)
        changed = (latest.version if latest else None) != (
            self._live.version if self._live else None
        )
        view = self._view
        if changed or (latest is not None and view is None):
            view = _view_of(self._database, latest, self._cache_items) if latest else None
        with self._lock:
            self._live, self._view = latest, view
        if changed:
            log.info("serving index version %s", latest.version if latest else None)
        return changed


def _view_of(database: Database, info: VersionInfo, cache_items: int) -> IndexView:
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
        # A new version starts with an empty cache: its factors are not the old ones.
        items_cache=ItemCache(cache_items),
    )


class Resources:
    """A plain class on purpose: the framework validates dataclasses it injects field by
    field, and these fields are live handles, not data."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        store: VectorStore,
        index: LiveIndex,
        encoder: Encoder | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.store = store
        self.index = index
        self._encoder = encoder
        self._encoder_lock = threading.Lock()
        self.metrics = Metrics()
        self.fallback = PopularInStock(settings.fallback_cache_seconds)
        self.lexical = LexicalRetriever(database, settings)
        query_encoder_choice(settings)  # a bad value fails at start, not on the first search
        self._query_encoder: Encoder | None = None
        self._query_encoder_lock = threading.Lock()
        self.query_embeddings = QueryEmbeddings(self.query_encoder, settings.search_query_cache)
        self._vocabulary: Vocabulary | None = None
        self._vocabulary_lock = threading.Lock()
        # Set once what search needs in memory is loaded (see warm_up).
        self.warmed = threading.Event()

    def refresh_index(self) -> bool:
        """Follow the live version; on a switch, bring the new version level with catalog
        writes its build could not reach (it ran in another process, which held its
        collection) and drop its cached items. True if the version changed."""
        changed = self.index.refresh()
        live = self.index.live
        if changed and live is not None and live.catalog_read_at is not None:
            try:
                indexed, removed = catch_up(self.database, self.store, self.settings,
                                            self.encoder, live.items_collection,
                                            live.catalog_read_at)
            except Exception:
                log.warning("catch-up of version %s failed; its next reindex will have "
                            "the latest catalog", live.version, exc_info=True)
            else:
                if indexed or removed:
                    log.info("version %s caught up: %d products indexed, %d removed",
                             live.version, indexed, removed)
        return changed

    def index_age_hours(self) -> float | None:
        """How long ago the live version was built; None with no live version."""
        live = self.index.live
        if live is None or live.built_at is None:
            return None
        return (datetime.now(UTC) - live.built_at).total_seconds() / 3600.0

    def index_stale(self) -> bool:
        age = self.index_age_hours()
        return age is None or age > self.settings.index_max_age_hours

    @classmethod
    def open(cls, settings: Settings) -> Resources:
        """Connect, apply pending migrations (before anything reads a table), open the
        vector store and find the live index."""
        database = open_database(settings)
        migrate(database)
        store = open_vector_store(settings)
        index = LiveIndex(database, settings.rec_item_cache_items)
        index.refresh()
        return cls(settings=settings, database=database, store=store, index=index)

    def encoder(self) -> Encoder:
        """The sentence encoder, loaded on first need (half a second, a few hundred MB)."""
        with self._encoder_lock:
            if self._encoder is None:
                self._encoder = load_encoder(self.settings)
            return self._encoder

    def query_encoder(self) -> Encoder:
        """What search embeds queries with (LODESTAR_SEARCH_QUERY_ENCODER), on first need:
        the encoder above, or its int8 ONNX export (made into the data dir the first time)."""
        with self._query_encoder_lock:
            if self._query_encoder is None:
                self._query_encoder = load_query_encoder(self.settings, self.encoder)
            return self._query_encoder

    def vocabulary(self) -> Vocabulary:
        """The catalog's words that search corrects typos towards, read on first need
        (about a second per 100K products); catalog writes add to it."""
        with self._vocabulary_lock:
            if self._vocabulary is None:
                self._vocabulary = catalog_vocabulary(self.database, self.settings)
            return self._vocabulary

    def warm_up(self) -> None:
        """Load the encoders (and run each once: the first call allocates; an ONNX query
        encoder is exported on its first start) and the catalog's words, so that the first
        search does not pay for them; readiness waits for this."""
        self.encoder().encode(["warm up"])
        self.query_encoder().encode(["warm up"])
        self.vocabulary()
        self.warmed.set()

    def vocabulary_if_loaded(self) -> Vocabulary | None:
        return self._vocabulary

    def close(self) -> None:
        self.store.close()
        self.database.close()
