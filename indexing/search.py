"""Product search: a lexical and a semantic retriever, fused, then reranked for the shopper.

Lexical: Postgres full-text search over generated, weighted tsvector columns (migration
0006). Postgres rather than the engine's sparse vectors because the catalog lives there:
a product written through the admin API is searchable in the same transaction, stemming
and stop words come with the `english` configuration, and field weights are labels on the
document rather than numbers we would have to tune into sparse vectors. Semantic: the
query embedded with the catalog's encoder, searched among the items' `text` vectors with
the filters inside the query. Both lists go through `ranking.search_rank`.

The API and `lodestar evaluate --search` both call `Searcher.search`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text

from indexing.collections import TEXT
from indexing.encoder import Encoder
from indexing.item_cache import CachedItem, ItemCache
from indexing.recommender import IndexView, Recommender
from indexing.vectorstore.port import Filter, Query, VectorStore
from models.db import Database
from models.settings import Settings
from ranking.candidates import Candidate
from ranking.history import ShopperHistory, session_anchors
from ranking.query import parse_query, tokens
from ranking.search_rank import (
    LEXICAL,
    LEXICAL_PARTIAL,
    SEMANTIC,
    Ranked,
    facet_counts,
    personal_signals,
    query_openness,
    rank,
    reciprocal_rank_fusion,
    shopper_profile,
)
from ranking.signals import anchor_similarity, factor_scores
from ranking.spelling import Vocabulary, correct_terms, words_of

Vector = npt.NDArray[np.float32]

MODES = ("lexical", "semantic", "fused", "personal")

# Columns a filter may name, and how SQL spells each condition. Only these: a filter key
# is never pasted into SQL unchecked.
_EQUALS_COLUMNS = {"category": "category", "subcategory": "subcategory", "brand": "brand",
                   "in_stock": "in_stock"}
_RANGE_COLUMNS = {"price": "price"}
# ts_rank's weights for labels {D, C, B, A}: tags, category, brand, title.
_FIELD_WEIGHTS = "{0.2, 0.4, 0.6, 1.0}"


def sql_filter(filter: Filter) -> tuple[str, dict[str, Any]]:
    """The WHERE conditions (joined by AND, or "TRUE") and bound parameters of a filter,
    so that the lexical retriever honours exactly what the vector query does."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for i, (key, value) in enumerate(sorted(filter.equals.items())):
        if key not in _EQUALS_COLUMNS:
            raise ValueError(f"search cannot filter on {key!r}")
        clauses.append(f"{_EQUALS_COLUMNS[key]} = :eq{i}")
        params[f"eq{i}"] = value
    for i, (key, values) in enumerate(sorted(filter.any_of.items())):
        if key not in _EQUALS_COLUMNS:
            raise ValueError(f"search cannot filter on {key!r}")
        clauses.append(f"{_EQUALS_COLUMNS[key]} = ANY(:any{i})")
        params[f"any{i}"] = list(values)
    for i, (key, bounds) in enumerate(sorted(filter.ranges.items())):
        if key not in _RANGE_COLUMNS:
            raise ValueError(f"search cannot filter on a range of {key!r}")
        if bounds.gte is not None:
            clauses.append(f"{_RANGE_COLUMNS[key]} >= :gte{i}")
            params[f"gte{i}"] = bounds.gte
        if bounds.lte is not None:
            clauses.append(f"{_RANGE_COLUMNS[key]} <= :lte{i}")
            params[f"lte{i}"] = bounds.lte
    if filter.exclude_ids:
        raise ValueError("search filters do not exclude point ids")
    return (" AND ".join(clauses) or "TRUE"), params


class LexicalRetriever:
    """Full-text matches from Postgres, best first.

    Products that contain every query term rank above those that contain only some. The
    AND query runs first; when it finds fewer than asked, products with all terms but one
    come next (for three or more terms), then products with any term. That last query can
    match tens of thousands of products, and ranking them all took over 100 ms at 100K
    products, so it ranks only the first `search_partial_rank_cap` matches the index
    yields: by then the list holds the close matches, and the rest is filler of the same
    kind. Within each tier, ts_rank weighs title > brand > category > tags, plus the
    description at `search_description_weight`.
    """

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.description_weight = settings.search_description_weight
        self.partial_cap = settings.search_partial_rank_cap

    def search(self, terms: Sequence[str], filter: Filter, limit: int
               ) -> list[tuple[str, float]]:
        """(product id, score), best first: every-word matches, then some-word matches."""
        complete, partial = self.search_tiers(terms, filter, limit)
        return complete + partial

    def search_tiers(self, terms: Sequence[str], filter: Filter, limit: int
                     ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The products that contain every term, and those that contain only some (found
        only when the first are fewer than `limit`), each best first."""
        if not terms or limit <= 0:
            return [], []
        where, params = sql_filter(filter)
        complete = self._run([" ".join(terms)], where, params, limit, (), None)
        partial: list[tuple[str, float]] = []
        words = list(terms)
        if len(complete) < limit and len(words) >= 3:
            near = [" ".join(words[:i] + words[i + 1:]) for i in range(len(words))]
            partial = self._run(near, where, params, limit - len(complete),
                                tuple(p for p, _ in complete), None)
        found = len(complete) + len(partial)
        if found < limit and len(words) > 1:
            seen = tuple(p for p, _ in complete) + tuple(p for p, _ in partial)
            partial += self._run(words, where, params, limit - found, seen,
                                 self.partial_cap or None)
        return complete, partial

    def _run(self, groups: Sequence[str], where: str, params: dict[str, Any], limit: int,
             exclude: tuple[str, ...], cap: int | None) -> list[tuple[str, float]]:
        """Products matching any group (each group's words all), ranked; with `cap`, only
        the first `cap` matches the index yields are ranked."""
        query = " || ".join(f"websearch_to_tsquery('english', :g{i})"
                            for i in range(len(groups)))
        skip = "AND product_id <> ALL(:exclude)" if exclude else ""
        bounded = "LIMIT :cap" if cap else ""
        sql = text(
            f"WITH query AS (SELECT {query} AS q),"
            f" matched AS (SELECT product_id, search_fields, search_description"
            f" FROM products, query WHERE search_all @@ q AND {where} {skip} {bounded})"
            f" SELECT product_id, ts_rank(CAST(:weights AS real[]), search_fields, q)"
            f" + :dw * ts_rank(search_description, q) AS score"
            f" FROM matched, query ORDER BY score DESC, product_id LIMIT :limit"
        )
        bound = {**params, "weights": _FIELD_WEIGHTS, "dw": self.description_weight,
                 "limit": limit, **{f"g{i}": g for i, g in enumerate(groups)}}
        if exclude:
            bound["exclude"] = list(exclude)
        if cap:
            bound["cap"] = cap
        with self.database.engine.connect() as conn:
            return [(str(pid), float(score)) for pid, score in conn.execute(sql, bound)]


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
    with database.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT title, brand, category, subcategory, tags FROM products"))
        for title, brand, category, subcategory, tags in rows:
            words: set[str] = set()
            for token in vocabulary_text(title, brand, category, subcategory,
                                         tags or ()).split():
                found = known.get(token)
                if found is None:
                    found = known[token] = words_of(token)
                words.update(found)
            for word in words:
                counts[word] = counts.get(word, 0) + 1
    return Vocabulary(counts, max_distance=settings.search_typo_max_distance)


class QueryEmbeddings:
    """Query vectors, least recently used out first: shoppers repeat queries, and the
    encoder is most of a search's CPU. Safe to share between request threads."""

    def __init__(self, encoder: Callable[[], Encoder], capacity: int) -> None:
        self._encoder = encoder
        self.capacity = capacity
        self._entries: OrderedDict[str, Vector] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __call__(self, query: str) -> Vector:
        with self._lock:
            cached = self._entries.get(query)
            if cached is not None:
                self._entries.move_to_end(query)
                self.hits += 1
                return cached
        vector = np.asarray(self._encoder().encode([query])[0], dtype=np.float32)
        with self._lock:
            self.misses += 1
            if self.capacity > 0:
                self._entries[query] = vector
                while len(self._entries) > self.capacity:
                    self._entries.popitem(last=False)
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


@dataclass(frozen=True)
class SearchOutcome:
    items: list[Ranked]  # the requested page
    total: int  # products matched (before the page was cut)
    facets: dict[str, list[tuple[str, int]]]
    personalised: bool
    timings_ms: dict[str, float]


class Searcher:
    """Search over one index version. Cheap to build; holds no per-request state."""

    def __init__(self, store: VectorStore, settings: Settings, index: IndexView,
                 lexical: LexicalRetriever, embed: Callable[[str], Vector]) -> None:
        self.store = store
        self.settings = settings
        self.index = index
        self.lexical = lexical
        self.embed = embed
        self.cache = index.items_cache if index.items_cache is not None else ItemCache(0)

    def search(self, request: SearchRequest, history: ShopperHistory | None = None,
               persist_user_vector: bool = True) -> SearchOutcome:
        s = self.settings
        n = s.search_candidates
        timings: dict[str, float] = {}
        lists: dict[str, list[str]] = {}
        clock = time.perf_counter()
        openness = 1.0
        if request.mode != "semantic":
            complete, partial = self.lexical.search_tiers(request.terms, request.filter, n)
            lists[LEXICAL] = [p for p, _ in complete]
            lists[LEXICAL_PARTIAL] = [p for p, _ in partial]
            timings["lexical"] = _ms_since(clock)
        if request.mode != "lexical":
            clock = time.perf_counter()
            vector = self.embed(request.text)
            timings["embed"] = _ms_since(clock)
            clock = time.perf_counter()
            hits = self.store.query(self.index.items, Query(
                vector=vector, using=TEXT, limit=n, filter=request.filter,
                hnsw_ef=max(s.hnsw_ef, n)))
            close = [h.id for h in hits if h.score >= s.search_min_similarity]
            openness = query_openness([h.score for h in hits], s.search_personal_open_gap)
            # The cache resolves point ids to products and holds what ranking reads next.
            lists[SEMANTIC] = [it.candidate.product_id for it in
                               self.cache.get(self.store, self.index.items, close)
                               if it is not None]
            timings["semantic"] = _ms_since(clock)

        clock = time.perf_counter()
        # A product missing some of the query's words ranks below every one that has them
        # all in the lexical list. When the query names a model number or SKU it also
        # counts for less: "zentel zn-110" is about the ZN-110, not about every Zentel
        # product the semantic list likes. Without one ("mobile phones") products with
        # some of the words are often the right ones, and keep the full weight.
        partial_weight = s.search_partial_match_weight if any(
            _is_identifier(t) for t in request.terms) else 1.0
        fused = reciprocal_rank_fusion(
            lists, {LEXICAL: s.search_lexical_weight,
                    LEXICAL_PARTIAL: s.search_lexical_weight * partial_weight,
                    SEMANTIC: s.search_semantic_weight},
            s.search_rrf_k, first_rank={LEXICAL_PARTIAL: len(lists.get(LEXICAL, ())) + 1})
        ids = list(fused)
        cached = self.cache.get_products(self.store, self.index.items, ids)
        # A product in Postgres but not (yet) in the index has nothing to show: skipped.
        items = {p: it for p, it in zip(ids, cached, strict=True) if it is not None}
        candidates = [items[p].candidate for p in ids if p in items]
        matched = _matched_by(lists, items)

        signals = None
        personal = request.mode == "personal" and history is not None and bool(
            history.events or history.session_events)
        if personal and history is not None and candidates:
            signals = self._personal_signals(candidates, items, history, request,
                                             persist_user_vector)
            personal = signals is not None
        # A query for one product leaves little to the shopper's taste: the weights shrink.
        weights = tuple(openness * w for w in (
            s.search_personal_cf_weight, s.search_personal_category_weight,
            s.search_personal_brand_weight, s.search_personal_price_weight,
            s.search_personal_session_weight))
        ranked = rank(candidates, fused, matched, signals, weights)
        timings["rank"] = _ms_since(clock)
        page = ranked[request.offset:request.offset + request.limit]
        return SearchOutcome(items=page, total=len(ranked), facets=facet_counts(candidates),
                             personalised=personal, timings_ms=timings)

    def _personal_signals(self, candidates: Sequence[Candidate], items: dict[str, CachedItem],
                          history: ShopperHistory, request: SearchRequest,
                          persist_user_vector: bool) -> npt.NDArray[np.float32] | None:
        s = self.settings
        events = [*history.events, *history.session_events]
        touched = sorted({e.product_id for e in events})
        known = {p: it for p, it in zip(
            touched, self.cache.get_products(self.store, self.index.items, touched), strict=True)
            if it is not None}
        reference = request.now if request.now is not None else (history.newest or time.time())
        profile = shopper_profile(events, {p: it.candidate for p, it in known.items()},
                                  s.event_weights(), s.decay_per_day, reference)
        rows = ItemCache.rows([items[c.product_id] for c in candidates])
        recommender = Recommender(self.store, s, self.index)
        vector, _ = recommender.user_vector(history, persist=persist_user_vector)
        cf = (factor_scores(rows.factors, rows.has_factors, vector) if vector is not None
              else np.full(len(candidates), np.nan, dtype=np.float32))
        anchors = [(p, w) for p, w in session_anchors(history.session_events,
                                                      s.rec_anchor_items) if p in known]
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


def _is_identifier(term: str) -> bool:
    """A model number or SKU: letters and digits in one token ("zn-110", "p000123")."""
    return any(c.isdigit() for c in term) and any(c.isalpha() for c in term)


def _matched_by(lists: dict[str, list[str]], items: dict[str, CachedItem]
                ) -> dict[str, tuple[str, ...]]:
    """Which retrievers found each product (a partial word match is a lexical match)."""
    sets = {name: set(ids) for name, ids in lists.items()}
    lexical = sets.get(LEXICAL, set()) | sets.get(LEXICAL_PARTIAL, set())
    semantic = sets.get(SEMANTIC, set())
    return {p: tuple(name for name, found in ((LEXICAL, lexical), (SEMANTIC, semantic))
                     if p in found) for p in items}


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 3)
