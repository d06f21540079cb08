"""Personalised recommendations over one index version: the shopper's route, the
retrievers it runs as filtered vector queries, and the pure ranking core
(ranking.recommend) that scores, orders and explains what they found.

The API and the offline evaluator both call `Recommender.recommend` with a
`ShopperHistory`, so what is evaluated is what is served. Nothing here reads Postgres,
and nothing here writes: a shopper's CF vector folded in for new events is kept in the
version's memory, never stored by a read.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from indexing.collections import CF, CF_RAW, RANKING_FIELDS, TEXT
from indexing.vectorstore.port import Filter, Hit, Query, Range, VectorStore, point_id
from models.settings import Settings
from models.timing import timed
from ranking import recommend as blend
from ranking.candidates import CandidatePool
from ranking.foldin import fold_in_user
from ranking.history import (
    ShopperHistory,
    anchors,
    item_confidences,
    purchased,
    session_anchors,
)
from ranking.hybrid import cf_weight
from ranking.reasons import Reason, ReasonKind, popular_reason
from ranking.results import RankedItem
from ranking.routing import Route, route_for
from ranking.rules import RuleSet
from retrieval.item_cache import CachedItem, ItemCache, candidate_of
from retrieval.live_index import IndexView
from retrieval.results import ListResult, listed, read_shown

Vector = npt.NDArray[np.float32]

_EXACT_NEW_ITEMS = 5_000  # new products searched exhaustively up to this many
_NEW_ITEM_SPARES = 10  # new candidates fetched per free slot: the caps may rule some out


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


class _Found:
    """What the retrievers of one request returned: point ids with scores and reasons,
    resolved into candidates in one pass through the item cache."""

    def __init__(self) -> None:
        self.hits: list[tuple[str, int, float, Reason]] = []

    def add(self, signal: str, hits: Sequence[Hit], scale: float, reason: Reason) -> None:
        self.hits.extend((signal, h.id, h.score * scale, reason) for h in hits)

    def ids(self) -> list[int]:
        return list(dict.fromkeys(i for _, i, _, _ in self.hits))


class Recommender:
    """Recommendations over one index version. Cheap to build; holds no per-user state."""

    def __init__(self, store: VectorStore, settings: Settings, index: IndexView) -> None:
        self.store = store
        self.settings = settings
        self.index = index
        self.weights = settings.training.event_weights()
        self.cache = index.items_cache
        rec = settings.rec
        self.blend = blend.BlendWeights(
            content=rec.content_weight, session=rec.session_weight,
            session_alone=rec.session_weight_alone, copurchase=rec.copurchase_weight,
            popularity=rec.popularity_weight)

    # --- the shopper's CF vector -----------------------------------------------------

    def user_vector(self, history: ShopperHistory) -> Vector | None:
        """The shopper's CF vector, folded in afresh when they have events the index has
        not seen (a live session, or a shopper new since the reindex). A folded vector is
        kept in the version's memory (keyed by the shopper's newest event), not stored."""
        if history.user_id is None:
            return None
        newest = max((e.at for e in history.events), default=None)
        key = (history.user_id, newest or 0.0, len(history.events))
        remembered = self.index.user_vectors.get(key)
        if remembered is not None:
            return remembered
        stored = self.store.retrieve(self.index.users, [point_id(history.user_id)],
                                     vectors=[CF], with_payload=True)
        vector = stored[0].vectors.get(CF) if stored else None
        seen_until = self.index.as_of or 0.0
        if stored and stored[0].payload:
            seen_until = float(stored[0].payload.get("as_of", seen_until))
        fresh = vector is not None and (newest is None or newest <= seen_until)
        if fresh or not history.events or self.index.gram is None:
            return vector
        folded = self._fold_in(history)
        if folded is None:
            return vector
        self.index.user_vectors.put(key, folded)
        return folded

    def _fold_in(self, history: ShopperHistory) -> Vector | None:
        training = self.settings.training
        reference = max(self.index.as_of or 0.0, history.newest or 0.0)
        confidences = item_confidences(history.events, self.weights, training.decay_per_day,
                                       reference)
        ids = sorted(confidences)
        items = self.cache.get_products(self.store, self.index.items, ids)
        rated = [(it.factors, confidences[p]) for p, it in zip(ids, items, strict=True)
                 if it is not None and it.factors is not None]
        if not rated or self.index.gram is None:
            return None
        return fold_in_user(np.stack([f for f, _ in rated]),
                            np.asarray([w for _, w in rated], dtype=np.float32),
                            self.index.gram,
                            _either(self.index.als_regularization, training.als_regularization),
                            _either(self.index.als_alpha, training.als_alpha))

    # --- recommendations ------------------------------------------------------------

    @timed("rank")
    def recommend(self, history: ShopperHistory, request: RecRequest) -> ListResult:
        """The shopper's list; `strategy` is the route taken."""
        rec = self.settings.rec
        now = request.now if request.now is not None else time.time()
        vector = self.user_vector(history)
        route = route_for(history.n_interactions, has_user_vector=vector is not None,
                          session_events=len(history.session_events))
        bought = purchased(history)
        rules = RuleSet(
            now=now,
            exclude_ids=request.exclude | ({request.product_id} if request.product_id else set()),
            purchased_ids=bought,
            consumable_categories=rec.consumables(),
            max_per_category=rec.max_per_category,
            max_per_brand=rec.max_per_brand,
            new_item_days=rec.new_item_days,
            new_boost=rec.new_boost,
            promoted_boost=rec.promoted_boost,
        )
        # Out of stock, excluded and already-bought items never enter the candidates: the
        # filter runs inside every vector query.
        # Nor does anything the shopper hid or disliked, ever.
        never = {point_id(p) for p in (*rules.exclude_ids, *history.blocked)}
        if rec.drop_purchased:
            never |= {point_id(p) for p in bought}
        if rec.exclude_seen:
            # What the shopper already looked at is a "recently viewed" list, not news.
            never |= {point_id(e.product_id) for e in (*history.events,
                                                       *history.session_events)}
            never |= {point_id(p) for p in history.touched}
        base = Filter(
            equals={**request.filter.equals, "in_stock": True},
            any_of=request.filter.any_of,
            ranges=request.filter.ranges,
            exclude_ids=request.filter.exclude_ids | frozenset(never),
        )
        found = _Found()
        signals = blend.Signals()
        if request.baseline is not None:
            route, weights = self._baseline(found, signals, history, request, vector, base)
        else:
            weights = self._gather(found, signals, history, request, route, vector, base)
        pool, items = self._resolve(found)
        ranked: list[RankedItem] = []
        if len(pool) > 0:
            rows = ItemCache.rows([items[p] for p in pool.products])
            ranked = blend.rank(pool, rows.texts, rows.factors, rows.has_factors, signals,
                                weights, rules, request.limit, rec.mmr_lambda,
                                rec.mmr_pool_factor)
            if request.baseline is None:
                ranked = self._explore_new(ranked, pool, signals, vector, base, rules,
                                           request.limit)
        shown = read_shown(self.store, self.index.items, [i.product_id for i in ranked])
        return listed(ranked, shown, route.value, self.index.version)

    def _explore_new(self, ranked: list[RankedItem], pool: CandidatePool,
                     signals: blend.Signals, vector: Vector | None, base: Filter,
                     rules: RuleSet, limit: int) -> list[RankedItem]:
        """Epsilon-greedy exploration: a share of the slots goes to new products (created
        within the exploration window) that fit the shopper best, by CF (inherited factors
        make that possible) or by text for a shopper without a vector; for a shopper with
        nothing to go by, the newest. New products ranked in on their own count first."""
        rec = self.settings.rec
        cutoff = rules.now - rec.new_item_days * 86_400.0
        shown = ranked[:limit]
        attributes = {i.product_id: pool.candidate(i.product_id) for i in shown
                      if i.product_id in pool}
        missing = blend.new_arrival_gap(
            [attributes[i.product_id].created_at if i.product_id in attributes else 0.0
             for i in shown], limit, rec.new_item_share, cutoff)
        if missing <= 0:
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
        wanted = missing * _NEW_ITEM_SPARES
        anchors_of = (signals.anchors.get(blend.CONTENT)
                      or signals.anchors.get(blend.SESSION))
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
        fresh = self.store.retrieve(self.index.items, [h.id for h in hits],
                                    payload_fields=RANKING_FIELDS)
        new = [candidate_of(r.payload) for r in fresh if r.payload]
        return blend.place_new_arrivals(
            shown, attributes, new, rules, missing, limit,
            cap_category="category" not in base.equals, cap_brand="brand" not in base.equals)

    def _resolve(self, found: _Found) -> tuple[CandidatePool, dict[str, CachedItem]]:
        """The pool of candidates behind the retrievers' ids, and their cached vectors.
        Every retriever's query filters on stock, so each candidate is in stock now
        whatever the cache recalls."""
        ids = found.ids()
        # A point gone since its query (deleted meanwhile) has nothing to show.
        cached = {i: item for i, item in zip(ids, self.cache.get(self.store, self.index.items,
                                                                 ids), strict=True)
                  if item is not None}
        candidates = {i: item.candidate if item.candidate.in_stock
                      else dataclasses.replace(item.candidate, in_stock=True)
                      for i, item in cached.items()}
        pool = CandidatePool()
        for signal, i, score, reason in found.hits:
            if i in candidates:
                pool.add(signal, candidates[i], score, reason)
        return pool, {candidates[i].product_id: item for i, item in cached.items()}

    def _gather(self, found: _Found, signals: blend.Signals, history: ShopperHistory,
                request: RecRequest, route: Route, vector: Vector | None,
                base: Filter) -> dict[str, float]:
        """Run the retrievers this route uses; return each signal's blend weight."""
        rec = self.settings.rec
        user_anchors = self._user_anchors(history)
        blocked = history.blocked
        sess_anchors = [(p, w) for p, w in session_anchors(history.session_events,
                                                            rec.anchor_items)
                        if p not in blocked]
        if request.product_id:
            # The product on the page is the strongest hint of intent there is.
            sess_anchors = [(request.product_id, 1.0), *sess_anchors][: rec.anchor_items]
        content = route in (Route.CONTENT, Route.CONTENT_KNN, Route.HYBRID) and bool(
            user_anchors)
        if content:
            self._similar_to(found, signals, blend.CONTENT, user_anchors, base)
        if sess_anchors:
            self._similar_to(found, signals, blend.SESSION, sess_anchors, base)
        copurchase_anchors = [*sess_anchors, *user_anchors]
        if copurchase_anchors:
            self._bought_with(found, copurchase_anchors, base)
        personal = None
        if route is Route.HYBRID and vector is not None:
            self._cf(found, signals, blend.CF, vector, base)
            personal = blend.CF
        elif (route is Route.CONTENT_KNN and vector is not None
              and self._neighbours(found, signals, vector, base)):
            personal = blend.KNN
        category = self._context_category(request)
        if route is Route.POPULAR:
            category = category or self._category_of(request.product_id)
            self._popular(found, base, category, history.device_type)
        else:
            # Popular items from every category, at a small weight: they fill a short list,
            # and they are what the per-category and per-brand caps can draw on when the
            # personal retrievers all point into one corner of the catalog.
            self._popular(found, base, category)
        alpha = cf_weight(history.n_interactions, alpha_min=rec.alpha_min,
                          alpha_max=rec.alpha_max, saturation=rec.alpha_saturation)
        return blend.signal_weights(route, content=content, session=bool(sess_anchors),
                                    copurchase=bool(copurchase_anchors), personal=personal,
                                    alpha=alpha, weights=self.blend)

    def _user_anchors(self, history: ShopperHistory) -> list[tuple[str, float]]:
        reference = max(self.index.as_of or 0.0, history.newest or 0.0)
        conf = item_confidences(history.events, self.weights,
                                self.settings.training.decay_per_day, reference)
        blocked = history.blocked
        return anchors({p: c for p, c in conf.items() if p not in blocked},
                       self.settings.rec.anchor_items)

    def _baseline(self, found: _Found, signals: blend.Signals, history: ShopperHistory,
                  request: RecRequest, vector: Vector | None,
                  base: Filter) -> tuple[Route, dict[str, float]]:
        """One signal alone, for offline evaluation: what the hybrid is measured against.

        A baseline goes through the same candidate fill and the same rules as the hybrid
        (the popular candidates are there for every strategy, so that the category and
        brand caps can hold), but only its own signal orders the list."""
        if request.baseline not in blend.BASELINES:
            raise ValueError(f"unknown baseline {request.baseline!r}; "
                             f"expected one of {tuple(blend.BASELINES)}")
        route, signal = blend.BASELINES[request.baseline]
        # Without its signal a baseline has nothing to say, and says nothing.
        if signal == blend.POPULAR:
            self._popular(found, base, self._context_category(request))
        elif signal == blend.CONTENT:
            user_anchors = self._user_anchors(history)
            if user_anchors:
                self._similar_to(found, signals, blend.CONTENT, user_anchors, base)
                self._popular(found, base, self._context_category(request))
        elif vector is not None:
            self._cf(found, signals, blend.CF, vector, base)
            self._popular(found, base, self._context_category(request))
        return route, {signal: 1.0}

    # --- retrievers: each adds point ids and scores to `found` ----------------------

    def _texts_of(self, product_ids: Sequence[str]) -> dict[str, Vector]:
        items = self.cache.get_products(self.store, self.index.items, product_ids)
        return {p: it.text for p, it in zip(product_ids, items, strict=True)
                if it is not None and it.text is not None}

    def _query(self, vector: Vector, using: str, base: Filter) -> Query:
        return Query(vector, using, self.settings.rec.candidates, base,
                     hnsw_ef=self.settings.serving.hnsw_ef)

    def _similar_to(self, found: _Found, signals: blend.Signals, signal: str,
                    anchor_list: Sequence[tuple[str, float]], base: Filter) -> None:
        """Text neighbours of each anchor, scaled by how much the anchor matters."""
        vectors = self._texts_of([p for p, _ in anchor_list])
        strongest = max((w for _, w in anchor_list), default=1.0)
        present = [(p, w) for p, w in anchor_list if p in vectors]
        if not present:
            return
        signals.anchors[signal] = (
            np.stack([vectors[p] for p, _ in present]).astype(np.float32),
            np.asarray([w for _, w in present], dtype=np.float32))
        queries = [self._query(vectors[p], TEXT, base) for p, _ in present]
        for (anchor, weight), hits in zip(present, self.store.query_batch(self.index.items,
                                                                          queries), strict=True):
            found.add(signal, hits, blend.anchor_scale(weight, strongest),
                      Reason(ReasonKind.BECAUSE_YOU_VIEWED, product_id=anchor))

    def _bought_with(self, found: _Found, anchor_list: Sequence[tuple[str, float]],
                     base: Filter) -> None:
        records = self.store.retrieve(
            self.index.items, [point_id(p) for p, _ in anchor_list],
            payload_fields=("product_id", "bought_with", "bought_with_scores"))
        companions_of = {
            str(r.payload["product_id"]): list(zip(r.payload.get("bought_with", []),
                                                   r.payload.get("bought_with_scores", []),
                                                   strict=False))
            for r in records if r.payload}
        scores = blend.companion_scores(companions_of, dict(anchor_list))
        if not scores:
            return
        by_point = {point_id(p): v for p, v in scores.items()}
        flt = Filter(equals=base.equals, any_of={**base.any_of, "product_id": sorted(scores)},
                     ranges=base.ranges, exclude_ids=base.exclude_ids)
        # The query keeps the companions that pass the request's filters.
        for hit in self.store.top_by(self.index.items, "popularity", len(scores), flt,
                                     payload_fields=()):
            value, anchor = by_point[hit.id]
            found.add(blend.COPURCHASE, [Hit(hit.id, value)], 1.0,
                      Reason(ReasonKind.BOUGHT_TOGETHER, product_id=anchor))

    def _cf(self, found: _Found, signals: blend.Signals, signal: str, vector: Vector,
            base: Filter) -> None:
        signals.vectors[signal] = vector
        hits = self.store.query(self.index.items, self._query(vector, CF_RAW, base))
        found.add(signal, hits, 1.0, Reason(ReasonKind.SIMILAR_SHOPPERS))

    def _neighbours(self, found: _Found, signals: blend.Signals, vector: Vector,
                    base: Filter) -> bool:
        """Items that the shopper's nearest shoppers (by CF vector) would get: the mean
        of the neighbours' vectors queries the items' raw factors. False when the shopper
        has no neighbours to ask."""
        neighbours = self.store.query(self.index.users, Query(
            vector, CF, self.settings.rec.neighbours, None, with_payload=False))
        ids = [h.id for h in neighbours]
        if not ids:
            return False
        records = self.store.retrieve(self.index.users, ids, vectors=[CF], with_payload=False)
        stacked = [r.vectors[CF] for r in records if CF in r.vectors]
        if not stacked:
            return False
        mean = np.mean(np.stack(stacked), axis=0).astype(np.float32)
        self._cf(found, signals, blend.KNN, mean, base)
        return True

    def _popular(self, found: _Found, base: Filter, category: str | None,
                 device: str | None = None) -> None:
        """Popular products, in `category` when given (topped up from every category when
        it has too few); with a `device`, ranked by popularity on that device among the
        products popular overall."""
        flt = base
        if category and "category" not in base.equals:
            flt = Filter(equals={**base.equals, "category": category}, any_of=base.any_of,
                         ranges=base.ranges, exclude_ids=base.exclude_ids)
        wanted = self.settings.rec.candidates
        if device:
            hits = self.store.top_by(self.index.items, "popularity",
                                     wanted * self.settings.rec.device_pool_factor, flt,
                                     payload_fields=("device_popularity",))
            ordered = blend.device_popularity_order(
                [(h.id, (h.payload or {}).get("device_popularity") or {}) for h in hits],
                device)[:wanted]
            scored = [Hit(i, score) for i, score in ordered]
        else:
            hits = self.store.top_by(self.index.items, "popularity", wanted, flt,
                                     payload_fields=())
            scored = [Hit(h.id, h.score) for h in hits]
        signal = blend.popularity_signal([h.score for h in scored])
        found.add(blend.POPULAR, [Hit(h.id, float(v)) for h, v in zip(scored, signal,
                                                                        strict=True)],
                  1.0, popular_reason(category))
        if category and len(hits) < wanted:
            self._popular(found, base, None, device)

    @staticmethod
    def _context_category(request: RecRequest) -> str | None:
        """The category the list is about: the one the request filters on, if any."""
        category = request.filter.equals.get("category")
        return category if isinstance(category, str) else None

    def _category_of(self, product_id: str | None) -> str | None:
        if not product_id:
            return None
        records = self.store.retrieve(self.index.items, [point_id(product_id)])
        if records and records[0].payload:
            return str(records[0].payload.get("category") or "") or None
        return None


def _either(recorded: float | None, configured: float) -> float:
    return configured if recorded is None else recorded
