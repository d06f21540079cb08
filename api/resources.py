"""What the API holds for its lifetime: database, vector store, live index, encoders,
caches and metrics.

Created in the app's lifespan, closed on shutdown, handed to handlers by injection.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

from api.metrics import Metrics, ServingState
from indexing.encoder import Encoder, load_encoder
from indexing.live_catalog import catch_up
from indexing.onnx_encoder import load_query_encoder
from indexing.vectorstore import VectorStore, open_vector_store
from models.db import Database, migrate, open_database
from models.experiments import ExperimentBook
from models.exposures import ExposureLog
from models.request_ids import RequestIds
from models.settings import Settings, SettingsError
from models.tenancy import DEFAULT_SHOP, current_shop, for_shop
from ranking.spelling import Vocabulary
from retrieval.fallback import PopularInStock
from retrieval.lexical import LexicalRetriever
from retrieval.live_index import IndexView, LiveIndex
from retrieval.search import QueryEmbeddings, catalog_vocabulary

log = logging.getLogger(__name__)

# The settings of the request in hand when an experiment's variant overrides some (see
# Resources.using): every service reads `resources.settings`, so a variant changes ranking
# without a parameter threaded through every call.
_REQUEST_SETTINGS: ContextVar[Settings | None] = ContextVar("request_settings", default=None)


def available_memory(meminfo: Path = Path("/proc/meminfo")) -> int:
    """Bytes of memory the kernel says are available now (1 GiB where it does not say)."""
    try:
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 1 << 30


class ShopState:
    """What a serving process keeps for one shop: its live index (with the item and shopper
    caches of the version served), its fallback's popular list and its catalog's words."""

    def __init__(self, settings: Settings, index: LiveIndex) -> None:
        self.index = index
        self.fallback = PopularInStock(settings.serving.fallback_cache_seconds)
        self.vocabulary: Vocabulary | None = None
        self.vocabulary_lock = threading.Lock()
        # The serving settings made for the live version's view (see serving_settings).
        self._serving: tuple[IndexView, Settings] | None = None

    def serving_settings(self, base: Settings) -> Settings:
        """`base` with the blend weights `lodestar tune` chose for the shop, as the live
        version records them (made once per version)."""
        view = self.index.view
        if view is None or not view.tuned_serving:
            return base
        made = self._serving
        if made is None or made[0] is not view:
            try:
                settings = base.replace(**view.tuned_serving)
            except SettingsError:
                log.warning("index version %s records tuned settings this release refuses; "
                            "serving with the configured ones", view.version, exc_info=True)
                settings = base
            made = self._serving = (view, settings)
        return made[1]


class Resources:
    """A plain class on purpose: the framework validates dataclasses it injects field by
    field, and these fields are live handles, not data.

    Shared by every shop: the database, the vector store, the encoders and the query
    embedding cache (a query's vector does not depend on the shop). Per shop (the request's,
    models.tenancy): `index`, `fallback` and the search vocabulary, made on first use."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        store: VectorStore,
        index: LiveIndex,
        encoder: Encoder | None = None,
    ) -> None:
        self._settings = settings
        self.database = database
        self.store = store
        self._shops: dict[str, ShopState] = {DEFAULT_SHOP: ShopState(settings, index)}
        self._shops_lock = threading.Lock()
        self._encoder = encoder
        self._encoder_lock = threading.Lock()
        self.metrics = Metrics()
        self.metrics.watch(self.serving_state)
        self._lexical = LexicalRetriever(database, settings)
        # Query encoders and their embedding caches by kind (torch, onnx-int8): the
        # setting's own, and another when an experiment's variant asks for it.
        self._query_encoders: dict[str, Encoder] = {}
        self._query_encoder_lock = threading.Lock()
        self._query_embeddings: dict[str, QueryEmbeddings] = {}
        self.exposures = ExposureLog(database, settings.experiment.flush_seconds,
                                     max_queued=settings.experiment.max_queued)
        self.metrics.watch_exposures(self.exposures)
        self.experiments = ExperimentBook(settings)
        # Set once what search needs in memory is loaded (see warm_up).
        self.warmed = threading.Event()
        self._request_ids: RequestIds | None = None

    @property
    def settings(self) -> Settings:
        """The settings of the request in hand: the shop's (the process's, with the blend
        the shop was tuned to), or an experiment variant's while `using` them."""
        return _REQUEST_SETTINGS.get() or self.shop_settings

    @property
    def shop_settings(self) -> Settings:
        """The current shop's settings outside any experiment: the process's, with the
        tuned blend weights its live index version records. Reading them makes no shop
        state (a shop this process has not served yet has no live version in hand: the
        process's settings, until a request finds it)."""
        with self._shops_lock:
            state = self._shops.get(current_shop())
        return state.serving_settings(self._settings) if state is not None else self._settings

    @property
    def base_settings(self) -> Settings:
        """The process's own settings, whatever shop and variant the request is in."""
        return self._settings

    @contextlib.contextmanager
    def using(self, settings: Settings) -> Iterator[None]:
        """Serve with `settings` (an experiment variant's) within the block."""
        token = _REQUEST_SETTINGS.set(settings)
        try:
            yield
        finally:
            _REQUEST_SETTINGS.reset(token)

    @property
    def lexical(self) -> LexicalRetriever:
        settings = self.settings
        if settings is self._settings:
            return self._lexical
        return LexicalRetriever(self.database, settings)  # cheap: two numbers

    @property
    def query_embeddings(self) -> QueryEmbeddings:
        """The embedding cache of the query encoder the request's settings name."""
        kind = self.settings.search.query_encoder
        cache = self._query_embeddings.get(kind)
        if cache is None:
            with self._query_encoder_lock:
                cache = self._query_embeddings.setdefault(kind, QueryEmbeddings(
                    lambda: self._query_encoder_of(kind), self._settings.search.query_cache))
        return cache

    @classmethod
    def open(cls, settings: Settings) -> Resources:
        """Connect, apply pending migrations (before anything reads a table), open the
        vector store and find the live index."""
        database = open_database(settings, serving=True)
        migrate(database)
        store = open_vector_store(settings, serving=True)
        index = LiveIndex(database, settings.rec.item_cache_items, settings.rec.user_cache)
        index.refresh()
        return cls(settings=settings, database=database, store=store, index=index)

    def shop(self) -> ShopState:
        """The state of the current shop, made (and its live version found) on first use."""
        shop_id = current_shop()
        with self._shops_lock:
            state = self._shops.get(shop_id)
            if state is None:
                index = LiveIndex(self.database, self._settings.rec.item_cache_items,
                                  self._settings.rec.user_cache)
                state = self._shops[shop_id] = ShopState(self._settings, index)
            else:
                return state
        index.refresh()
        return state

    def shops(self) -> list[str]:
        """The shops this process has served."""
        with self._shops_lock:
            return sorted(self._shops)

    @property
    def index(self) -> LiveIndex:
        return self.shop().index

    @property
    def fallback(self) -> PopularInStock:
        return self.shop().fallback

    @property
    def request_ids(self) -> RequestIds:
        """Signs and checks list responses' request ids (its secret is read once)."""
        if self._request_ids is None:
            self._request_ids = RequestIds.load(self.database)
        return self._request_ids

    def refresh_index(self) -> bool:
        """Follow the live version; on a switch, bring the new version level with catalog
        writes its build could not reach (it ran in another process, which held its
        collection). True if the version changed. Run by the server's poller, never by a
        request."""
        previous = self.index.live
        changed = self.index.refresh()
        live = self.index.live
        if changed and previous is not None:
            self._release(previous.items_collection, previous.users_collection)
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

    def refresh_every_shop(self) -> None:
        """refresh_index for every shop this process serves (the server's poller)."""
        for shop_id in self.shops():
            with for_shop(shop_id):
                try:
                    self.refresh_index()
                except Exception:
                    log.warning("could not check the live index version of shop %s", shop_id,
                                exc_info=True)

    def _release(self, *collections: str) -> None:
        """Let go of a version no longer served: the embedded engine opens a shard in one
        process at a time, and a reindex elsewhere could not drop a retired version this
        process still held (its files would stay for ever). A request still on it reopens
        it."""
        for name in collections:
            try:
                self.store.release(name)
            except Exception:
                log.warning("could not release collection %s", name, exc_info=True)

    def index_age_hours(self) -> float | None:
        """How long ago the live version was built; None with no live version."""
        live = self.index.live
        if live is None or live.built_at is None:
            return None
        return (datetime.now(UTC) - live.built_at).total_seconds() / 3600.0

    def index_stale(self) -> bool:
        age = self.index_age_hours()
        return age is None or age > self.settings.serving.index_max_age_hours

    def serving_state(self) -> ServingState:
        live, view = self.index.live, self.index.view
        return ServingState(
            index_version=live.version if live else None,
            index_age_hours=self.index_age_hours(),
            index_stale=self.index_stale(),
            item_cache_items=len(view.items_cache) if view is not None else 0,
            query_embedding_hits=self.query_embeddings.hits,
            query_embedding_misses=self.query_embeddings.misses,
        )

    def encoder(self) -> Encoder:
        """The sentence encoder, loaded on first need (half a second, a few hundred MB)."""
        with self._encoder_lock:
            if self._encoder is None:
                self._encoder = load_encoder(self.settings)
            return self._encoder

    def query_encoder(self) -> Encoder:
        """What search embeds queries with (LODESTAR_SEARCH_QUERY_ENCODER, or a variant's),
        on first need: the encoder above, or its int8 ONNX export (made into the data dir
        the first time)."""
        return self._query_encoder_of(self.settings.search.query_encoder)

    def _query_encoder_of(self, kind: str) -> Encoder:
        with self._query_encoder_lock:
            encoder = self._query_encoders.get(kind)
            if encoder is None:
                settings = self._settings.replace(search_query_encoder=kind)
                encoder = self._query_encoders[kind] = load_query_encoder(settings,
                                                                          self.encoder)
            return encoder

    def vocabulary(self) -> Vocabulary:
        """The shop's catalog words that search corrects typos towards, read on first need
        (about a second per 100K products); catalog writes add to it."""
        state = self.shop()
        with state.vocabulary_lock:
            if state.vocabulary is None:
                state.vocabulary = catalog_vocabulary(self.database, self.settings)
            return state.vocabulary

    def vocabulary_if_loaded(self) -> Vocabulary | None:
        return self.shop().vocabulary

    def warm_up(self) -> None:
        """Load the encoders (and run each once: the first call allocates; an ONNX query
        encoder is exported on its first start) and the catalog's words, so that the first
        search does not pay for them; readiness waits for this."""
        self.encoder().encode(["warm up"])
        self.query_encoder().encode(["warm up"])
        self.vocabulary()
        live = self.index.live
        if live is not None:
            # At most half the memory free now: a catalog larger than that is left to the
            # page cache's own choice rather than pushing everything else out of it.
            budget = available_memory() // 2
            read = 0
            for name in (live.items_collection, live.users_collection):
                read += self.store.prefetch(name, max(budget - read, 0))
            log.info("read %.0f MB of the live index ahead of requests", read / 1e6)
        view = self.index.view
        if view is not None:
            view.learnt.load(self.store, view.items)
        # What start-up made (modules, models, the vocabulary) lives as long as the process:
        # out of the collector's way, its full collections no longer walk all of it.
        gc.freeze()
        self.warmed.set()

    def close(self) -> None:
        self.exposures.close()
        self.store.close()
        self.database.close()
