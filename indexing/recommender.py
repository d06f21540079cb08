"""Personalised recommendations: retrievers as filtered Qdrant queries, then the pure
ranking core (routing, blend, rules, MMR, reasons).

The API and the offline evaluator both call `Recommender.recommend` with a
`ShopperHistory`, so what is evaluated is what is served. Nothing here reads Postgres.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from indexing.collections import CF, CF_RAW, RANKING_FIELDS, TEXT
from indexing.item_cache import CachedItem, ItemCache
from indexing.vectorstore.port import Filter, Hit, Point, Query, Range, VectorStore, point_id
from models.settings import Settings
from ranking.candidates import Candidate, CandidatePool, Reason, ReasonKind
from ranking.foldin import fold_in_user
from ranking.history import (
    ShopperHistory,
    anchors,
    item_confidences,
    purchased,
    session_anchors,
)
from ranking.hybrid import blend, cf_weight, normalise
from ranking.mmr import mmr
from ranking.routing import Route, route_for
from ranking.rules import RuleSet, apply_caps, boost, exploration_bonus, filter_candidates
from ranking.signals import anchor_similarity, factor_scores

Vector = npt.NDArray[np.float32]

CF_RETRIEVER = "cf"
KNN_RETRIEVER = "knn"
CONTENT_RETRIEVER = "content"
SESSION_RETRIEVER = "session"
COPURCHASE_RETRIEVER = "co_purchase"
POPULAR_RETRIEVER = "popular"
_EXACT_NEW_ITEMS = 5_000  # new products searched exhaustively up to this many

RETRIEVERS = (CF_RETRIEVER, KNN_RETRIEVER, CONTENT_RETRIEVER, SESSION_RETRIEVER,
              COPURCHASE_RETRIEVER, POPULAR_RETRIEVER)


@dataclass(frozen=True)
class IndexView:
    """The collections of one index version and what fold-in needs from it."""

    version: int
    items: str
    users: str
    gram: Vector | None
    as_of: float | None
    # What ranking read of this version's items, kept between requests; None: none kept.
    items_cache: ItemCache | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RecRequest:
    limit: int = 10
    filter: Filter = field(default_factory=Filter)
    exclude: frozenset[str] = frozenset()
    product_id: str | None = None  # the product on the page the shopper is looking at
    now: float | None = None
    # A single-signal baseline for offline evaluation instead of the routed hybrid:
    # "popular", "content" (text neighbours of the history) or "cf" (the shopper's vector).
    baseline: str | None = None


BASELINES = ("popular", "content", "cf")


@dataclass(frozen=True)
class RankedItem:
    product_id: str
    score: float
    reason: Reason
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Recommendation:
    items: list[RankedItem]
    route: Route
    alpha: float
    user_vector_refreshed: bool = False


@dataclass
class _Signals:
    """What the retrievers of one request searched with, kept so that ranking can score
    every candidate on every signal, not only those that made a retriever's top list."""

    vectors: dict[str, Vector] = field(default_factory=dict)  # cf, knn: a CF-space vector
    anchors: dict[str, tuple[Vector, Vector]] = field(default_factory=dict)
    # content, session: (anchor text vectors (m, d), anchor weights (m,))


class _Found:
    """What the retrievers of one request returned: point ids with scores and reasons,
    resolved into candidates in one pass through the item cache."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, int, float, Reason]] = []

    def add(self, retriever: str, hits: Sequence[Hit], scale: float, reason: Reason) -> None:
        self.hits.extend((retriever, h.id, h.score * scale, reason) for h in hits)

    def ids(self) -> list[int]:
        return list(dict.fromkeys(i for _, i, _, _ in self.hits))


class Recommender:
    """Recommendations over one index version. Cheap to build; holds no per-user state."""

    def __init__(self, store: VectorStore, settings: Settings, index: IndexView) -> None:
        self.store = store
        self.settings = settings
        self.index = index
        self.weights = settings.event_weights()
        self.cache = index.items_cache if index.items_cache is not None else ItemCache(0)

    # --- the shopper's CF vector -----------------------------------------------------

    def user_vector(
        self, history: ShopperHistory, persist: bool = True
    ) -> tuple[Vector | None, bool]:
        """The shopper's CF vector, folded in afresh when they have events the index has
        not seen (a live session, or a shopper new since the reindex). Returns the vector
        and whether it was recomputed; a recomputed vector is upserted when `persist`."""
        if history.user_id is None:
            return None, False
        stored = self.store.retrieve(self.index.users, [point_id(history.user_id)],
                                     vectors=[CF], with_payload=True)
        vector = stored[0].vectors.get(CF) if stored else None
        seen_until = self.index.as_of or 0.0
        if stored and stored[0].payload:
            seen_until = float(stored[0].payload.get("as_of", seen_until))
        newest = max((e.at for e in history.events), default=None)
        fresh = vector is not None and (newest is None or newest <= seen_until)
        if fresh or not history.events or self.index.gram is None:
            return vector, False
        folded = self._fold_in(history)
        if folded is None:
            return vector, False
        if persist:
            payload = {"user_id": history.user_id, "n_items": len(history.events),
                       "as_of": newest}
            self.store.upsert(self.index.users, [Point(point_id(history.user_id),
                                                       {CF: folded}, payload)])
        return folded, True

    def _fold_in(self, history: ShopperHistory) -> Vector | None:
        reference = max(self.index.as_of or 0.0, history.newest or 0.0)
        confidences = item_confidences(history.events, self.weights,
                                       self.settings.decay_per_day, reference)
        ids = sorted(confidences)
        items = self.cache.get_products(self.store, self.index.items, ids)
        rated = [(it.factors, confidences[p]) for p, it in zip(ids, items, strict=True)
                 if it is not None and it.factors is not None]
        if not rated or self.index.gram is None:
            return None
        return fold_in_user(np.stack([f for f, _ in rated]),
                            np.asarray([w for _, w in rated], dtype=np.float32),
                            self.index.gram, self.settings.als_regularization,
                            self.settings.als_alpha)

    # --- recommendations ------------------------------------------------------------

    def recommend(self, history: ShopperHistory, request: RecRequest,
                  persist_user_vector: bool = True) -> Recommendation:
        s = self.settings
        now = request.now if request.now is not None else time.time()
        vector, refreshed = self.user_vector(history, persist=persist_user_vector)
        route = route_for(history.n_interactions, has_user_vector=vector is not None,
                          session_events=len(history.session_events))
        alpha = cf_weight(history.n_interactions, alpha_min=s.rec_alpha_min,
                          alpha_max=s.rec_alpha_max, saturation=s.rec_alpha_saturation)
        bought = purchased(history)
        rules = RuleSet(
            now=now,
            exclude_ids=request.exclude | ({request.product_id} if request.product_id else set()),
            purchased_ids=bought,
            consumable_categories=s.consumables(),
            max_per_category=s.rec_max_per_category,
            max_per_brand=s.rec_max_per_brand,
            new_item_days=s.rec_new_item_days,
            new_boost=s.rec_new_boost,
            promoted_boost=s.rec_promoted_boost,
        )
        # Out of stock, excluded and already-bought items never enter the candidates: the
        # filter runs inside every vector query.
        never = {point_id(p) for p in rules.exclude_ids}
        if s.rec_drop_purchased:
            never |= {point_id(p) for p in bought}
        if s.rec_exclude_seen:
            # What the shopper already looked at is a "recently viewed" list, not news.
            never |= {point_id(e.product_id) for e in (*history.events,
                                                       *history.session_events)}
        base = Filter(
            equals={**request.filter.equals, "in_stock": True},
            any_of=request.filter.any_of,
            ranges=request.filter.ranges,
            exclude_ids=request.filter.exclude_ids | frozenset(never),
        )
        found = _Found()
        signals = _Signals()
        if request.baseline is not None:
            route, weights = self._baseline(found, signals, history, request, vector, base)
        else:
            weights = self._gather(found, signals, history, request, route, vector, base)
        pool, items = self._resolve(found)
        if len(pool) == 0:
            return Recommendation([], route, alpha, refreshed)
        ranked = self._rank(pool, items, signals, weights, rules, request.limit)
        if request.baseline is None and s.rec_new_item_share > 0:
            ranked = self._explore_new(ranked, signals, vector, base, rules, request.limit)
        return Recommendation(ranked, route, alpha, refreshed)

    def _explore_new(self, ranked: list[RankedItem], signals: _Signals, vector: Vector | None,
                     base: Filter, rules: RuleSet, limit: int) -> list[RankedItem]:
        """Epsilon-greedy exploration: a share of the slots goes to new products (created
        within the exploration window) that fit the shopper best, by CF (inherited factors
        make that possible) or by text for a shopper without a vector; for a shopper with
        nothing to go by, the newest. New products ranked in on their own count first."""
        s = self.settings
        slots = max(1, round(s.rec_new_item_share * limit))
        cutoff = rules.now - s.rec_new_item_days * 86_400.0
        shown = ranked[:limit]
        missing = slots - sum(float(i.payload.get("created_at", 0.0)) >= cutoff for i in shown)
        if missing <= 0 or limit < 2:
            return ranked
        window = base.ranges.get("created_at", Range())
        newest = Range(gte=max(cutoff, window.gte if window.gte is not None else cutoff),
                       lte=window.lte)
        flt = Filter(equals=base.equals, any_of=base.any_of,
                     ranges={**base.ranges, "created_at": newest},
                     exclude_ids=base.exclude_ids | {point_id(i.product_id) for i in shown})
        # Few products are new at any time: count them first (the payload index answers
        # that at once), and search the few exhaustively. A graph search for points that a
        # filter almost never lets through walks most of the graph before it gives up.
        n_new = self.store.count(self.index.items, Filter(ranges={"created_at": newest}))
        if n_new == 0:
            return ranked
        exact = n_new <= _EXACT_NEW_ITEMS
        wanted = missing * 10  # spares: the caps may rule some out
        anchors_of = (signals.anchors.get(CONTENT_RETRIEVER)
                      or signals.anchors.get(SESSION_RETRIEVER))
        if vector is not None:
            hits = self.store.query(self.index.items,
                                    Query(vector, CF_RAW, wanted, flt, exact=exact))
        elif anchors_of is not None:
            texts, weights = anchors_of
            hits = self.store.query(self.index.items, Query(
                texts[int(np.argmax(weights))], TEXT, wanted, flt, exact=exact))
        else:
            hits = self.store.top_by(self.index.items, "created_at", wanted, flt,
                                     payload_fields=())
        if not hits:
            return ranked
        kept = shown[: limit - missing]
        fresh = self.store.retrieve(self.index.items, [h.id for h in hits],
                                    payload_fields=RANKING_FIELDS)
        picks = _fitting_caps([dict(r.payload) for r in fresh if r.payload], kept, rules,
                              missing, base)
        if not picks:
            return ranked
        floor = min((i.score for i in kept), default=0.0)
        explored = [RankedItem(str(p["product_id"]), floor, Reason(ReasonKind.NEW_ARRIVAL), p)
                    for p in picks]
        # In the middle of the list: seen, without displacing the best matches.
        at = min(len(kept), limit // 2)
        return [*kept[:at], *explored, *kept[at:]][:limit]

    def _resolve(self, found: _Found) -> tuple[CandidatePool, dict[str, CachedItem]]:
        """The pool of candidates behind the retrievers' ids. Every retriever's query
        filters on stock, so each candidate is in stock now whatever the cache recalls."""
        ids = found.ids()
        # A point gone since its query (deleted meanwhile) has nothing to show.
        cached = {i: item for i, item in zip(ids, self.cache.get(self.store, self.index.items,
                                                                 ids), strict=True)
                  if item is not None}
        candidates = {i: item.candidate if item.candidate.in_stock
                      else dataclasses.replace(item.candidate, in_stock=True)
                      for i, item in cached.items()}
        pool = CandidatePool()
        for retriever, i, score, reason in found.hits:
            if i in candidates:
                pool.add(retriever, candidates[i], score, reason)
        return pool, {candidates[i].product_id: item for i, item in cached.items()}

    def _gather(self, found: _Found,
                signals: _Signals, history: ShopperHistory, request: RecRequest,
                route: Route, vector: Vector | None, base: Filter) -> dict[str, float]:
        """Run the retrievers this route uses; return each signal's blend weight."""
        s = self.settings
        user_anchors = self._user_anchors(history)
        sess_anchors = session_anchors(history.session_events, s.rec_anchor_items)
        if request.product_id:
            # The product on the page is the strongest hint of intent there is.
            sess_anchors = [(request.product_id, 1.0), *sess_anchors][: s.rec_anchor_items]
        alpha = cf_weight(history.n_interactions, alpha_min=s.rec_alpha_min,
                          alpha_max=s.rec_alpha_max, saturation=s.rec_alpha_saturation)
        weights: dict[str, float] = {}
        if route in (Route.CONTENT, Route.CONTENT_KNN, Route.HYBRID) and user_anchors:
            self._similar_to(found, signals, CONTENT_RETRIEVER, user_anchors, base)
            weights[CONTENT_RETRIEVER] = s.rec_content_weight
        if sess_anchors:
            self._similar_to(found, signals, SESSION_RETRIEVER, sess_anchors, base)
            weights[SESSION_RETRIEVER] = (s.rec_session_weight_alone
                                          if route in (Route.SESSION, Route.POPULAR)
                                          else s.rec_session_weight)
        copurchase_anchors = [*sess_anchors, *user_anchors]
        if copurchase_anchors:
            self._bought_with(found, copurchase_anchors, base)
            weights[COPURCHASE_RETRIEVER] = s.rec_copurchase_weight
        personal = None
        if route is Route.HYBRID and vector is not None:
            self._cf(found, signals, CF_RETRIEVER, vector, base)
            personal = CF_RETRIEVER
        elif (route is Route.CONTENT_KNN and vector is not None
              and self._neighbours(found, signals, vector, base)):
            personal = KNN_RETRIEVER
        if personal is not None:
            content_side = sum(weights.values()) or 1.0
            # α · cf + (1 − α) · content: the content-side weights share the 1 − α.
            weights = {k: (1 - alpha) * v / content_side for k, v in weights.items()}
            weights[personal] = alpha
        if route is Route.POPULAR:
            category = history.context_category or self._category_of(request.product_id)
            self._popular(found, base, category, history.device_type)
            weights[POPULAR_RETRIEVER] = 1.0
        else:
            # Popular items from every category, at a small weight: they fill a short list,
            # and they are what the per-category and per-brand caps can draw on when the
            # personal retrievers all point into one corner of the catalog.
            self._popular(found, base, history.context_category)
            weights[POPULAR_RETRIEVER] = s.rec_popularity_weight
        return weights

    def _user_anchors(self, history: ShopperHistory) -> list[tuple[str, float]]:
        s = self.settings
        reference = max(self.index.as_of or 0.0, history.newest or 0.0)
        conf = item_confidences(history.events, self.weights, s.decay_per_day, reference)
        return anchors(conf, s.rec_anchor_items)

    def _baseline(self, found: _Found,
                  signals: _Signals, history: ShopperHistory, request: RecRequest,
                  vector: Vector | None, base: Filter) -> tuple[Route, dict[str, float]]:
        """One signal alone, for offline evaluation: what the hybrid is measured against.

        A baseline goes through the same candidate fill and the same rules as the hybrid
        (the popular candidates are there for every strategy, so that the category and
        brand caps can hold), but only its own signal orders the list."""
        baseline = request.baseline
        if baseline not in BASELINES:
            raise ValueError(f"unknown baseline {baseline!r}; expected one of {BASELINES}")
        if baseline == "popular":
            self._popular(found, base, history.context_category)
            return Route.POPULAR, {POPULAR_RETRIEVER: 1.0}
        # Without its signal a baseline has nothing to say, and says nothing.
        if baseline == "content":
            user_anchors = self._user_anchors(history)
            if user_anchors:
                self._similar_to(found, signals, CONTENT_RETRIEVER, user_anchors,
                                 base)
                self._popular(found, base, history.context_category)
            return Route.CONTENT, {CONTENT_RETRIEVER: 1.0}
        if vector is not None:
            self._cf(found, signals, CF_RETRIEVER, vector, base)
            self._popular(found, base, history.context_category)
        return Route.HYBRID, {CF_RETRIEVER: 1.0}

    # --- retrievers: each adds point ids and scores to `found` ----------------------

    def _texts_of(self, product_ids: Sequence[str]) -> dict[str, Vector]:
        items = self.cache.get_products(self.store, self.index.items, product_ids)
        return {p: it.text for p, it in zip(product_ids, items, strict=True)
                if it is not None and it.text is not None}

    def _query(self, vector: Vector, using: str, base: Filter) -> Query:
        return Query(vector, using, self.settings.rec_candidates, base,
                     hnsw_ef=self.settings.hnsw_ef)

    def _similar_to(self, found: _Found, signals: _Signals, retriever: str,
                    anchor_list: Sequence[tuple[str, float]], base: Filter) -> None:
        """Text neighbours of each anchor, scaled by how much the anchor matters."""
        vectors = self._texts_of([p for p, _ in anchor_list])
        top = max((w for _, w in anchor_list), default=1.0) or 1.0
        present = [(p, w) for p, w in anchor_list if p in vectors]
        if not present:
            return
        signals.anchors[retriever] = (
            np.stack([vectors[p] for p, _ in present]).astype(np.float32),
            np.asarray([w for _, w in present], dtype=np.float32))
        queries = [self._query(vectors[p], TEXT, base) for p, _ in present]
        for (anchor, weight), hits in zip(present, self.store.query_batch(self.index.items,
                                                                          queries), strict=True):
            found.add(retriever, hits, (weight / top) ** 0.5,
                      Reason(ReasonKind.BECAUSE_YOU_VIEWED, product_id=anchor))

    def _bought_with(self, found: _Found, anchor_list: Sequence[tuple[str, float]],
                     base: Filter) -> None:
        records = self.store.retrieve(
            self.index.items, [point_id(p) for p, _ in anchor_list],
            payload_fields=("product_id", "bought_with", "bought_with_scores"))
        weight_of = dict(anchor_list)
        scores: dict[str, tuple[float, str]] = {}
        for record in records:
            if not record.payload:
                continue
            anchor = str(record.payload["product_id"])
            for other, score in zip(record.payload.get("bought_with", []),
                                    record.payload.get("bought_with_scores", []), strict=False):
                value = float(score) * weight_of.get(anchor, 0.0)
                if value > scores.get(other, (0.0, ""))[0]:
                    scores[other] = (value, anchor)
        if not scores:
            return
        by_point = {point_id(p): v for p, v in scores.items()}
        flt = Filter(equals=base.equals, any_of={**base.any_of, "product_id": sorted(scores)},
                     ranges=base.ranges, exclude_ids=base.exclude_ids)
        # The query keeps the companions that pass the request's filters.
        for hit in self.store.top_by(self.index.items, "popularity", len(scores), flt,
                                     payload_fields=()):
            value, anchor = by_point[hit.id]
            found.add(COPURCHASE_RETRIEVER, [Hit(hit.id, value)], 1.0,
                      Reason(ReasonKind.BOUGHT_TOGETHER, product_id=anchor))

    def _cf(self, found: _Found, signals: _Signals, retriever: str, vector: Vector,
            base: Filter) -> None:
        signals.vectors[retriever] = vector
        hits = self.store.query(self.index.items, self._query(vector, CF_RAW, base))
        found.add(retriever, hits, 1.0, Reason(ReasonKind.SIMILAR_SHOPPERS))

    def _neighbours(self, found: _Found, signals: _Signals, vector: Vector,
                    base: Filter) -> bool:
        """Items that the shopper's nearest shoppers (by CF vector) would get: the mean
        of the neighbours' vectors queries the items' raw factors. False when the shopper
        has no neighbours to ask."""
        neighbours = self.store.query(self.index.users, Query(
            vector, CF, self.settings.rec_neighbours, None, with_payload=False))
        ids = [h.id for h in neighbours]
        if not ids:
            return False
        records = self.store.retrieve(self.index.users, ids, vectors=[CF], with_payload=False)
        stacked = [r.vectors[CF] for r in records if CF in r.vectors]
        if not stacked:
            return False
        mean = np.mean(np.stack(stacked), axis=0).astype(np.float32)
        self._cf(found, signals, KNN_RETRIEVER, mean, base)
        return True

    def _popular(self, found: _Found, base: Filter, category: str | None,
                 device: str | None = None) -> None:
        """Popular products, in `category` when given (topped up from every category when
        it has too few); with a `device`, ranked by popularity on that device among the
        products popular overall."""
        flt = base
        reason = Reason(ReasonKind.TRENDING)
        if category and "category" not in base.equals:
            flt = Filter(equals={**base.equals, "category": category}, any_of=base.any_of,
                         ranges=base.ranges, exclude_ids=base.exclude_ids)
        if category:
            reason = Reason(ReasonKind.POPULAR_IN_CATEGORY, category=category)
        wanted = self.settings.rec_candidates
        if device:
            hits = self.store.top_by(self.index.items, "popularity",
                                     wanted * self.settings.rec_device_pool_factor, flt,
                                     payload_fields=("device_popularity",))
            hits = _by_device_popularity(hits, device)[:wanted]
        else:
            hits = self.store.top_by(self.index.items, "popularity", wanted, flt,
                                     payload_fields=())
        # Popularity is heavy-tailed: rank on its logarithm.
        found.add(POPULAR_RETRIEVER,
                  [Hit(h.id, float(np.log1p(max(h.score, 0.0)))) for h in hits], 1.0, reason)
        if category and len(hits) < wanted:
            self._popular(found, base, None, device)

    def _category_of(self, product_id: str | None) -> str | None:
        if not product_id:
            return None
        records = self.store.retrieve(self.index.items, [point_id(product_id)])
        if records and records[0].payload:
            return str(records[0].payload.get("category") or "") or None
        return None

    # --- ranking ----------------------------------------------------------------------

    def _rank(self, pool: CandidatePool, items: Mapping[str, CachedItem], signals: _Signals,
              weights: Mapping[str, float], rules: RuleSet, limit: int) -> list[RankedItem]:
        s = self.settings
        kept = filter_candidates(pool.candidates(), rules)
        if not kept:
            return []
        used = [r for r in RETRIEVERS if weights.get(r, 0.0) > 0]
        rows = ItemCache.rows([items[c.product_id] for c in kept])
        texts = rows.texts
        matrix = self._signal_matrix(pool, kept, signals, used, texts, rows.factors,
                                     rows.has_factors)
        # A signal a product lacks (no CF factors yet) drops out of its weighted mean; every
        # other signal has a score for every candidate.
        scores = blend(matrix, [weights[r] for r in used], available=~np.isnan(matrix))
        boosted = boost(kept, scores, rules)
        order = sorted(range(len(kept)), key=lambda i: (-float(boosted[i]), kept[i].product_id))
        shortlist = order[: max(limit * s.rec_mmr_pool_factor, limit)]
        picked = mmr(boosted[shortlist], texts[shortlist], len(shortlist), s.rec_mmr_lambda)
        diversified = [kept[shortlist[j]] for j in picked]
        # The caps may reach past the shortlist: when every personal candidate sits in one
        # category, the popular ones further down are what keeps the list varied.
        rest = [kept[i] for i in order[len(shortlist):]]
        final = apply_caps(diversified + rest, rules, limit)[:limit]
        row_of = {c.product_id: i for i, c in enumerate(kept)}
        contribution = self._contributions(matrix, [weights[r] for r in used])
        # What the shopper sees (title, price, stock) is read afresh, never from the cache.
        shown = self.store.retrieve(self.index.items, [point_id(c.product_id) for c in final],
                                    payload_fields=RANKING_FIELDS)
        payload_of = {str(r.payload["product_id"]): r.payload for r in shown if r.payload}
        return [
            RankedItem(c.product_id, float(boosted[row_of[c.product_id]]),
                       self._reason(pool, c, contribution[row_of[c.product_id]], used, rules),
                       payload_of[c.product_id])
            for c in final if c.product_id in payload_of
        ]

    def _signal_matrix(self, pool: CandidatePool, kept: Sequence[Candidate], signals: _Signals,
                       used: Sequence[str], texts: Vector, factors: Vector,
                       has_factors: npt.NDArray[np.bool_]) -> Vector:
        """(n_candidates, len(used)) scores, NaN only where a product lacks the signal."""
        retrieved = pool.matrix(used)
        row_of = {pid: i for i, pid in enumerate(pool.products)}
        rows = [row_of[c.product_id] for c in kept]
        out = np.zeros((len(kept), len(used)), dtype=np.float32)
        for j, retriever in enumerate(used):
            if retriever in signals.vectors:
                out[:, j] = factor_scores(factors, has_factors, signals.vectors[retriever])
            elif retriever in signals.anchors:
                out[:, j] = anchor_similarity(texts, *signals.anchors[retriever])
            elif retriever == POPULAR_RETRIEVER:
                # Popularity is heavy-tailed: rank on its logarithm.
                out[:, j] = np.log1p(np.maximum([c.popularity for c in kept], 0.0))
            else:
                # Co-purchase has no vector to score others with: a product not bought with
                # the shopper's items scores 0 on it.
                out[:, j] = np.nan_to_num(retrieved[rows, j], nan=0.0)
        return out

    @staticmethod
    def _contributions(matrix: Vector, weights: Sequence[float]) -> Vector:
        """Each signal's share of each candidate's blended score: weight × normalised score."""
        out = np.zeros_like(matrix)
        for j, weight in enumerate(weights):
            out[:, j] = weight * np.nan_to_num(normalise(matrix[:, j]), nan=0.0)
        return out

    def _reason(self, pool: CandidatePool, candidate: Candidate, contribution: Vector,
                used: Sequence[str], rules: RuleSet) -> Reason:
        """Among the retrievers that found the item, the one whose signal lifted it most
        explains it (popularity counts half: a personal reason is the better explanation);
        a new product found only by popularity is introduced as a new arrival."""
        reasons = pool.reasons(candidate.product_id)
        best, best_value = None, -1.0
        for j, retriever in enumerate(used):
            if retriever in reasons:
                value = float(contribution[j]) * (1.0 if retriever != POPULAR_RETRIEVER else 0.5)
                if value > best_value:
                    best, best_value = retriever, value
        if best is None:
            return Reason(ReasonKind.PICKED_FOR_YOU)
        if best == POPULAR_RETRIEVER and exploration_bonus(candidate.created_at, rules) > 0:
            return Reason(ReasonKind.NEW_ARRIVAL)
        return reasons[best]


def _by_device_popularity(hits: Sequence[Hit], device: str) -> list[Hit]:
    """Hits re-scored by their popularity on `device`, best first; products never used on
    it follow, in their overall order, with a score of 0."""
    used: list[Hit] = []
    unused: list[Hit] = []
    for hit in hits:
        by_device = (hit.payload or {}).get("device_popularity") or {}
        on_device = float(by_device.get(device, 0.0))
        (used if on_device > 0 else unused).append(Hit(hit.id, on_device, hit.payload))
    return sorted(used, key=lambda h: -h.score) + unused


def _fitting_caps(payloads: Sequence[Mapping[str, Any]], kept: Sequence[RankedItem],
                  rules: RuleSet, n: int, flt: Filter) -> list[Mapping[str, Any]]:
    """Up to `n` of `payloads`, in order, that keep the list within the category and brand
    caps when added to `kept`. A cap the request's own filter makes impossible (a list of
    one category cannot hold three per category) is not checked."""
    per_category = None if "category" in flt.equals else rules.max_per_category
    per_brand = None if "brand" in flt.equals else rules.max_per_brand
    categories = Counter(str(i.payload.get("category", "")) for i in kept)
    brands = Counter(str(i.payload.get("brand", "")) for i in kept)
    picked: list[Mapping[str, Any]] = []
    for p in payloads:
        category, brand = str(p.get("category", "")), str(p.get("brand", ""))
        if per_category is not None and categories[category] >= per_category:
            continue
        if brand and per_brand is not None and brands[brand] >= per_brand:
            continue
        picked.append(p)
        categories[category] += 1
        brands[brand] += 1
        if len(picked) == n:
            break
    return picked
