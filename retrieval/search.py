"""Product search over one index version: the query understood, a lexical and a semantic
retriever, and the pure ranking core (ranking.search_rank) that fuses their lists and
reranks them for the shopper.

Lexical: Postgres full-text search (retrieval.lexical). Semantic: the query embedded with
the catalog's encoder, searched among the items' `text` vectors with the filters inside
the query. The API and `lodestar evaluate --search` both call `Searcher.search`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from cachetools import LRUCache

from indexing.collections import TEXT
from indexing.encoder import Encoder
from indexing.vectorstore.port import Filter, Query, VectorStore
from models.catalog import catalog_rows, searchable_fields
from models.db import Database
from models.settings import Settings
from models.timing import timed
from ranking.candidates import Candidate
from ranking.history import ShopperHistory, session_anchors
from ranking.query import parse_query, tokens
from ranking.reasons import LEXICAL, SEMANTIC, search_reason
from ranking.results import RankedItem
from ranking.search_rank import (
    LEXICAL_PARTIAL,
    facet_counts,
    fuse,
    matched_by,
    personal_signals,
    query_openness,
    rank,
    shopper_profile,
)
from ranking.signals import anchor_similarity, factor_scores
from ranking.spelling import Vocabulary, correct_terms, words_of
from retrieval.item_cache import CachedItem, ItemCache
from retrieval.lexical import LexicalRetriever
from retrieval.live_index import IndexView
from retrieval.recommender import Recommender
from retrieval.results import ListResult, ShownProduct, listed, read_shown

Vector = npt.NDArray[np.float32]

MODES = ("lexical", "semantic", "fused", "personal")
FUSED = "fused"
FUSED_PERSONAL = "fused+personal"


@dataclass(frozen=True)
class UnderstoodQuery:
    """A query as search takes it: normalised, typos corrected."""

    terms: tuple[str, ...]  # what the lexical retriever matches: stop words dropped
    text: str  # what the semantic retriever embeds: every word, corrected
    corrections: dict[str, str]  # typed word -> the catalog word it was taken for


def understand(raw: str, vocabulary: Vocabulary, max_chars: int) -> UnderstoodQuery:
    """Parse (raising ranking.query.InvalidQuery for an empty, too long or stop-word-only
    query) and correct the words that are near misses of catalog words."""
    parsed = parse_query(raw, max_chars)
    terms, corrections = correct_terms(vocabulary, parsed.terms)
    text = " ".join(corrections.get(t, t) for t in tokens(parsed.text))
    return UnderstoodQuery(terms, text, corrections)


def vocabulary_text(title: str, brand: str, category: str, subcategory: str,
                    tags: Sequence[str]) -> str:
    """The text of a product whose words typos are corrected towards. Not the description:
    its filler words ("perfect", "everyday") would make near-misses of real product words."""
    return " ".join((title, brand, category, subcategory, *tags))


def catalog_vocabulary(database: Database, settings: Settings) -> Vocabulary:
    """The words of the whole catalog, counted once per product that uses them."""
    counts: dict[str, int] = {}
    # Normalising is per token, and a catalog repeats its tokens endlessly: each distinct
    # token is normalised once (start-up took 8-13 s at 100K products without this).
    known: dict[str, list[str]] = {}
    for title, brand, category, subcategory, tags in searchable_fields(database):
        words: set[str] = set()
        for token in vocabulary_text(title, brand, category, subcategory, tags).split():
            found = known.get(token)
            if found is None:
                found = known[token] = words_of(token)
            words.update(found)
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    return Vocabulary(counts, max_distance=settings.search.typo_max_distance)


class QueryEmbeddings:
    """Query vectors, least recently used out first: shoppers repeat queries, and the
    encoder is most of a search's CPU. Safe to share between request threads; `hits` and
    `misses` count lookups for the metrics."""

    def __init__(self, encoder: Callable[[], Encoder], capacity: int) -> None:
        self._encoder = encoder
        self.capacity = capacity
        self._entries: LRUCache[str, Vector] = LRUCache(maxsize=max(capacity, 1))
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __call__(self, query: str) -> Vector:
        with self._lock:
            cached = self._entries.get(query)
            if cached is not None:
                self.hits += 1
                return cached
        vector = np.asarray(self._encoder().encode([query])[0], dtype=np.float32)
        with self._lock:
            self.misses += 1
            if self.capacity > 0:
                self._entries[query] = vector
        return vector


@dataclass(frozen=True)
class SearchRequest:
    terms: tuple[str, ...]  # the query's words, stop words dropped, typos corrected
    text: str  # what the semantic retriever embeds
    limit: int = 10
    offset: int = 0
    filter: Filter = field(default_factory=Filter)
    mode: str = "personal"  # lexical | semantic | fused | personal (falls back to fused)
    now: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")


class Searcher:
    """Search over one index version. Cheap to build; holds no per-request state."""

    def __init__(self, store: VectorStore, settings: Settings, index: IndexView,
                 lexical: LexicalRetriever, embed: Callable[[str], Vector]) -> None:
        self.store = store
        self.settings = settings
        self.index = index
        self.lexical = lexical
        self.embed = embed
        self.cache = index.items_cache

    @timed("rank")
    def search(self, request: SearchRequest, history: ShopperHistory | None = None
               ) -> ListResult:
        """The requested page of results (`total` and `facets` cover every match);
        `strategy` is `fused`, or `fused+personal` when the shopper reordered it."""
        s = self.settings.search
        n = s.candidates
        lists: dict[str, list[str]] = {}
        openness = 1.0
        if request.mode != "semantic":
            complete, partial = self.lexical.search_tiers(request.terms, request.filter, n)
            lists[LEXICAL] = [p for p, _ in complete]
            lists[LEXICAL_PARTIAL] = [p for p, _ in partial]
        if request.mode != "lexical":
            vector = self.embed(request.text)
            hits = self.store.query(self.index.items, Query(
                vector=vector, using=TEXT, limit=n, filter=request.filter,
                hnsw_ef=max(self.settings.serving.hnsw_ef, n)))
            close = [h.id for h in hits if h.score >= s.min_similarity]
            openness = query_openness([h.score for h in hits], s.personal_open_gap)
            # The cache resolves point ids to products and holds what ranking reads next.
            lists[SEMANTIC] = [it.candidate.product_id for it in
                               self.cache.get(self.store, self.index.items, close)
                               if it is not None]

        fused = fuse(lists, request.terms, lexical_weight=s.lexical_weight,
                     semantic_weight=s.semantic_weight,
                     partial_match_weight=s.partial_match_weight, k=s.rrf_k)
        ids = list(fused)
        cached = self.cache.get_products(self.store, self.index.items, ids)
        # A product in Postgres but not (yet) in the index has nothing to show, and one the
        # shopper hid or disliked is never shown to them again: both skipped.
        blocked = history.blocked if history is not None else frozenset()
        items = {p: it for p, it in zip(ids, cached, strict=True)
                 if it is not None and p not in blocked}
        candidates = [items[p].candidate for p in ids if p in items]

        signals = None
        personal = request.mode == "personal" and history is not None and bool(
            history.events or history.session_events)
        if personal and history is not None and candidates:
            signals = self._personal_signals(candidates, items, history, request)
            personal = signals is not None
        # A query for one product leaves little to the shopper's taste: the weights shrink.
        weights = tuple(openness * w for w in s.personal_weights())
        ranked = rank(candidates, fused, matched_by(lists, items), signals, weights)
        page = ranked[request.offset:request.offset + request.limit]
        shown = read_shown(self.store, self.index.items, [r.product_id for r in page])
        return listed(page, shown, FUSED_PERSONAL if personal else FUSED, self.index.version,
                      total=len(ranked), facets=facet_counts(candidates),
                      personalised=personal)

    def _personal_signals(self, candidates: Sequence[Candidate], items: dict[str, CachedItem],
                          history: ShopperHistory, request: SearchRequest
                          ) -> npt.NDArray[np.float32] | None:
        settings = self.settings
        events = [*history.events, *history.session_events]
        touched = sorted({e.product_id for e in events})
        known = {p: it for p, it in zip(
            touched, self.cache.get_products(self.store, self.index.items, touched), strict=True)
            if it is not None}
        reference = request.now if request.now is not None else (history.newest or time.time())
        profile = shopper_profile(events, {p: it.candidate for p, it in known.items()},
                                  settings.training.event_weights(),
                                  settings.training.decay_per_day, reference)
        rows = ItemCache.rows([items[c.product_id] for c in candidates])
        vector = Recommender(self.store, settings, self.index).user_vector(history)
        cf = (factor_scores(rows.factors, rows.has_factors, vector) if vector is not None
              else np.full(len(candidates), np.nan, dtype=np.float32))
        anchors = [(p, w) for p, w in session_anchors(history.session_events,
                                                      settings.rec.anchor_items) if p in known]
        session = np.zeros(len(candidates), dtype=np.float32)
        texts: list[tuple[Vector, float]] = []
        for p, w in anchors:
            vec = known[p].text
            if vec is not None:
                texts.append((vec, w))
        if texts:
            session = anchor_similarity(rows.texts, np.stack([t for t, _ in texts]),
                                        np.asarray([w for _, w in texts], dtype=np.float32))
        if profile.is_empty and vector is None and not texts:
            return None
        return personal_signals(candidates, profile, cf, session)


def lexical_only(database: Database, lexical: LexicalRetriever, query: UnderstoodQuery,
                 filter: Filter, candidates: int, limit: int, offset: int) -> ListResult:
    """Search from Postgres alone, for when there is no index or the vector store fails:
    the full-text matches in their own order, unpersonalised, so that a shop's search box
    keeps working (`strategy: "lexical"`, no `version`)."""
    found = lexical.search(query.terms, filter, candidates)
    rows = {r.product_id: r for r in catalog_rows(database, [p for p, _ in found])}
    top = max((score for _, score in found), default=0.0) or 1.0
    reason = search_reason((LEXICAL,))
    ranked = [RankedItem(pid, score / top, reason) for pid, score in found if pid in rows]
    facets = facet_counts([Candidate(r.product_id, r.category, r.brand, float(r.price),
                                     r.in_stock, False, 0.0, 0.0) for r in rows.values()])
    return listed(ranked[offset:offset + limit],
                  {pid: ShownProduct.of_row(row) for pid, row in rows.items()}, LEXICAL, None,
                  total=len(rows), facets=facets)
