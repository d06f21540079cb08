"""Personalised recommendations: retrievers as filtered Qdrant queries, then the pure
ranking core (routing, blend, rules, MMR, reasons).

The API and the offline evaluator both call `Recommender.recommend` with a
`ShopperHistory`, so what is evaluated is what is served. Nothing here reads Postgres.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from indexing.collections import CF, CF_RAW, TEXT
from indexing.vectorstore.port import Filter, Hit, Point, Query, VectorStore, point_id
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

Vector = npt.NDArray[np.float32]

CF_RETRIEVER = "cf"
KNN_RETRIEVER = "knn"
CONTENT_RETRIEVER = "content"
SESSION_RETRIEVER = "session"
COPURCHASE_RETRIEVER = "co_purchase"
POPULAR_RETRIEVER = "popular"
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


def payload_candidate(payload: Mapping[str, Any]) -> Candidate:
    return Candidate(
        product_id=str(payload["product_id"]),
        category=str(payload.get("category", "")),
        brand=str(payload.get("brand", "")),
        price=float(payload.get("price", 0.0)),
        in_stock=bool(payload.get("in_stock", True)),
        promoted=bool(payload.get("promoted", False)),
        created_at=float(payload.get("created_at", 0.0)),
        popularity=float(payload.get("popularity", 0.0)),
    )


class Recommender:
    """Recommendations over one index version. Cheap to build; holds no per-user state."""

    def __init__(self, store: VectorStore, settings: Settings, index: IndexView) -> None:
        self.store = store
        self.settings = settings
        self.index = index
        self.weights = settings.event_weights()

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
        records = self.store.retrieve(self.index.items, [point_id(p) for p in ids],
                                      vectors=[CF_RAW], with_payload=True)
        factors, weights = [], []
        for record in records:
            raw = record.vectors.get(CF_RAW)
            if raw is not None and record.payload is not None:
                factors.append(raw)
                weights.append(confidences[str(record.payload["product_id"])])
        if not factors or self.index.gram is None:
            return None
        return fold_in_user(np.stack(factors), np.asarray(weights, dtype=np.float32),
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
        pool = CandidatePool()
        payloads: dict[str, Mapping[str, Any]] = {}
        if request.baseline is not None:
            route, weights = self._baseline(pool, payloads, history, request, vector, base)
        else:
            weights = self._gather(pool, payloads, history, request, route, vector, base)
        if len(pool) == 0:
            return Recommendation([], route, alpha, refreshed)
        items = self._rank(pool, payloads, weights, rules, request.limit)
        return Recommendation(items, route, alpha, refreshed)

    def _gather(self, pool: CandidatePool, payloads: dict[str, Mapping[str, Any]],
                history: ShopperHistory, request: RecRequest, route: Route,
                vector: Vector | None, base: Filter) -> dict[str, float]:
        """Run the retrievers this route uses; return each retriever's blend weight."""
        s = self.settings
        reference = max(self.index.as_of or 0.0, history.newest or 0.0)
        conf = item_confidences(history.events, self.weights, s.decay_per_day, reference)
        user_anchors = anchors(conf, s.rec_anchor_items)
        sess_anchors = session_anchors(history.session_events, s.rec_anchor_items)
        if request.product_id:
            # The product on the page is the strongest hint of intent there is.
            sess_anchors = [(request.product_id, 1.0), *sess_anchors][: s.rec_anchor_items]
        alpha = cf_weight(history.n_interactions, alpha_min=s.rec_alpha_min,
                          alpha_max=s.rec_alpha_max, saturation=s.rec_alpha_saturation)
        weights: dict[str, float] = {}
        if route in (Route.CONTENT, Route.CONTENT_KNN, Route.HYBRID) and user_anchors:
            self._similar_to(pool, payloads, CONTENT_RETRIEVER, user_anchors, base)
            weights[CONTENT_RETRIEVER] = 0.6
        if sess_anchors:
            self._similar_to(pool, payloads, SESSION_RETRIEVER, sess_anchors, base)
            weights[SESSION_RETRIEVER] = 0.8 if route in (Route.SESSION, Route.POPULAR) else 0.3
        copurchase_anchors = [*sess_anchors, *user_anchors]
        if copurchase_anchors:
            self._bought_with(pool, payloads, copurchase_anchors, base)
            weights[COPURCHASE_RETRIEVER] = 0.2
        if route is Route.HYBRID and vector is not None:
            self._cf(pool, payloads, CF_RETRIEVER, vector, base)
            content_side = sum(weights.values()) or 1.0
            # α · cf + (1 − α) · content: the content-side weights share the 1 − α.
            weights = {k: (1 - alpha) * v / content_side for k, v in weights.items()}
            weights[CF_RETRIEVER] = alpha
        elif route is Route.CONTENT_KNN and vector is not None:
            self._neighbours(pool, payloads, vector, base)
            content_side = sum(weights.values()) or 1.0
            weights = {k: (1 - alpha) * v / content_side for k, v in weights.items()}
            weights[KNN_RETRIEVER] = alpha
        if route is Route.POPULAR:
            category = history.context_category or self._category_of(request.product_id)
            self._popular(pool, payloads, base, category)
            weights[POPULAR_RETRIEVER] = 1.0
        else:
            # Popular items from every category, at a small weight: they fill a short list,
            # and they are what the per-category and per-brand caps can draw on when the
            # personal retrievers all point into one corner of the catalog.
            self._popular(pool, payloads, base, history.context_category)
            weights[POPULAR_RETRIEVER] = s.rec_popularity_weight
        return weights

    def _baseline(self, pool: CandidatePool, payloads: dict[str, Mapping[str, Any]],
                  history: ShopperHistory, request: RecRequest, vector: Vector | None,
                  base: Filter) -> tuple[Route, dict[str, float]]:
        """One signal alone, with no fallback: what the hybrid is measured against."""
        s = self.settings
        if request.baseline == "popular":
            self._popular(pool, payloads, base, history.context_category)
            return Route.POPULAR, {POPULAR_RETRIEVER: 1.0}
        if request.baseline == "content":
            reference = max(self.index.as_of or 0.0, history.newest or 0.0)
            conf = item_confidences(history.events, self.weights, s.decay_per_day, reference)
            user_anchors = anchors(conf, s.rec_anchor_items)
            if user_anchors:
                self._similar_to(pool, payloads, CONTENT_RETRIEVER, user_anchors, base)
            return Route.CONTENT, {CONTENT_RETRIEVER: 1.0}
        if request.baseline == "cf":
            if vector is not None:
                self._cf(pool, payloads, CF_RETRIEVER, vector, base)
            return Route.HYBRID, {CF_RETRIEVER: 1.0}
        raise ValueError(f"unknown baseline {request.baseline!r}; expected one of {BASELINES}")

    # --- retrievers -------------------------------------------------------------------

    def _add_hits(self, pool: CandidatePool, payloads: dict[str, Mapping[str, Any]],
                  retriever: str, hits: Sequence[Hit], scale: float,
                  reason: Reason | None) -> None:
        for hit in hits:
            if hit.payload is None:
                continue
            pid = str(hit.payload["product_id"])
            payloads.setdefault(pid, hit.payload)
            why = reason or Reason(ReasonKind.PICKED_FOR_YOU)
            pool.add(retriever, payload_candidate(hit.payload), hit.score * scale, why)

    def _vectors_of(self, product_ids: Sequence[str], name: str) -> dict[str, Vector]:
        records = self.store.retrieve(self.index.items, [point_id(p) for p in product_ids],
                                      vectors=[name], with_payload=True)
        return {str(r.payload["product_id"]): r.vectors[name] for r in records
                if r.payload is not None and name in r.vectors}

    def _similar_to(self, pool: CandidatePool, payloads: dict[str, Mapping[str, Any]],
                    retriever: str, anchor_list: Sequence[tuple[str, float]],
                    base: Filter) -> None:
        """Text neighbours of each anchor, scaled by how much the anchor matters."""
        vectors = self._vectors_of([p for p, _ in anchor_list], TEXT)
        top = max((w for _, w in anchor_list), default=1.0) or 1.0
        present = [(p, w) for p, w in anchor_list if p in vectors]
        queries = [Query(vectors[p], TEXT, self.settings.rec_candidates, base, with_payload=True,
                         hnsw_ef=self.settings.hnsw_ef) for p, _ in present]
        for (anchor, weight), hits in zip(present, self.store.query_batch(self.index.items,
                                                                          queries), strict=True):
            self._add_hits(pool, payloads, retriever, hits, (weight / top) ** 0.5,
                           Reason(ReasonKind.BECAUSE_YOU_VIEWED, product_id=anchor))

    def _bought_with(self, pool: CandidatePool, payloads: dict[str, Mapping[str, Any]],
                     anchor_list: Sequence[tuple[str, float]], base: Filter) -> None:
        records = self.store.retrieve(self.index.items, [point_id(p) for p, _ in anchor_list],
                                      with_payload=True)
        weight_of = dict(anchor_list)
        scores: dict[str, tuple[float, str]] = {}
        for record in records:
            if record.payload is None:
                continue
            anchor = str(record.payload["product_id"])
            for other, score in zip(record.payload.get("bought_with", []),
                                    record.payload.get("bought_with_scores", []), strict=False):
                value = float(score) * weight_of.get(anchor, 0.0)
                if value > scores.get(other, (0.0, ""))[0]:
                    scores[other] = (value, anchor)
        if not scores:
            return
        flt = Filter(equals=base.equals, any_of={**base.any_of, "product_id": sorted(scores)},
                     ranges=base.ranges, exclude_ids=base.exclude_ids)
        for hit in self.store.top_by(self.index.items, "popularity", len(scores), flt):
            if hit.payload is None:
                continue
            pid = str(hit.payload["product_id"])
            value, anchor = scores[pid]
            payloads.setdefault(pid, hit.payload)
            pool.add(COPURCHASE_RETRIEVER, payload_candidate(hit.payload), value,
                     Reason(ReasonKind.BOUGHT_TOGETHER, product_id=anchor))

    def _cf(self, pool: CandidatePool, payloads: dict[str, Mapping[str, Any]],
            retriever: str, vector: Vector, base: Filter) -> None:
        hits = self.store.query(self.index.items, Query(
            vector, CF_RAW, self.settings.rec_candidates, base, with_payload=True,
            hnsw_ef=self.settings.hnsw_ef))
        self._add_hits(pool, payloads, retriever, hits, 1.0,
                       Reason(ReasonKind.SIMILAR_SHOPPERS))

    def _neighbours(self, pool: CandidatePool, payloads: dict[str, Mapping[str, Any]],
                    vector: Vector, base: Filter) -> None:
        """Items that the shopper's nearest shoppers (by CF vector) would get: the mean
        of the neighbours' vectors queries the items' raw factors."""
        neighbours = self.store.query(self.index.users, Query(
            vector, CF, self.settings.rec_neighbours, None, with_payload=False))
        ids = [h.id for h in neighbours]
        if not ids:
            return
        records = self.store.retrieve(self.index.users, ids, vectors=[CF], with_payload=False)
        stacked = [r.vectors[CF] for r in records if CF in r.vectors]
        if not stacked:
            return
        mean = np.mean(np.stack(stacked), axis=0).astype(np.float32)
        self._cf(pool, payloads, KNN_RETRIEVER, mean, base)

    def _popular(self, pool: CandidatePool, payloads: dict[str, Mapping[str, Any]],
                 base: Filter, category: str | None) -> None:
        flt = base
        reason = Reason(ReasonKind.TRENDING)
        if category and "category" not in base.equals:
            flt = Filter(equals={**base.equals, "category": category}, any_of=base.any_of,
                         ranges=base.ranges, exclude_ids=base.exclude_ids)
        if category:
            reason = Reason(ReasonKind.POPULAR_IN_CATEGORY, category=category)
        hits = self.store.top_by(self.index.items, "popularity", self.settings.rec_candidates,
                                 flt)
        # Popularity is heavy-tailed: rank on its logarithm.
        scaled = [Hit(h.id, float(np.log1p(max(h.score, 0.0))), h.payload) for h in hits]
        self._add_hits(pool, payloads, POPULAR_RETRIEVER, scaled, 1.0, reason)
        if category and len(hits) < self.settings.rec_candidates:
            self._popular(pool, payloads, base, None)

    def _category_of(self, product_id: str | None) -> str | None:
        if not product_id:
            return None
        records = self.store.retrieve(self.index.items, [point_id(product_id)])
        if records and records[0].payload:
            return str(records[0].payload.get("category") or "") or None
        return None

    # --- ranking ----------------------------------------------------------------------

    def _rank(self, pool: CandidatePool, payloads: dict[str, Mapping[str, Any]],
              weights: Mapping[str, float], rules: RuleSet, limit: int) -> list[RankedItem]:
        s = self.settings
        used = [r for r in RETRIEVERS if weights.get(r, 0.0) > 0]
        matrix = pool.matrix(used)
        # A retriever that ran but did not return a candidate scores it at the bottom of
        # its scale rather than dropping out: α·cf + (1−α)·content with a zero term.
        available = np.ones_like(matrix, dtype=bool)
        scores = blend(matrix, [weights[r] for r in used], available=available)
        if POPULAR_RETRIEVER not in used:
            popularity = np.array([c.popularity for c in pool.candidates()], dtype=np.float32)
            scores = scores + s.rec_popularity_weight * np.nan_to_num(
                normalise(np.log1p(np.maximum(popularity, 0))), nan=0.0)
        candidates = pool.candidates()
        keep_ids = {c.product_id for c in filter_candidates(candidates, rules)}
        keep = [i for i, c in enumerate(candidates) if c.product_id in keep_ids]
        if not keep:
            return []
        kept = [candidates[i] for i in keep]
        boosted = boost(kept, scores[keep].astype(np.float32), rules)
        order = sorted(range(len(kept)), key=lambda i: (-float(boosted[i]), kept[i].product_id))
        shortlist = order[: max(limit * s.rec_mmr_pool_factor, limit)]
        text = self._vectors_of([kept[i].product_id for i in shortlist], TEXT)
        dim = next(iter(text.values())).shape[0] if text else 1
        vectors = np.stack([text.get(kept[i].product_id, np.zeros(dim, np.float32))
                            for i in shortlist])
        picked = mmr(boosted[shortlist], vectors, len(shortlist), s.rec_mmr_lambda)
        diversified = [kept[shortlist[j]] for j in picked]
        # The caps may reach past the shortlist: when every personal candidate sits in one
        # category, the popular ones further down are what keeps the list varied.
        rest = [kept[i] for i in order[len(shortlist):]]
        final = apply_caps(diversified + rest, rules, limit)[:limit]
        score_of = {kept[i].product_id: float(boosted[i]) for i in range(len(kept))}
        row_of = {pid: i for i, pid in enumerate(pool.products)}
        return [
            RankedItem(c.product_id, score_of[c.product_id],
                       self._reason(pool, c, matrix[row_of[c.product_id]], weights, used,
                                    rules), payloads[c.product_id])
            for c in final
        ]

    def _reason(self, pool: CandidatePool, candidate: Candidate, row: Vector,
                weights: Mapping[str, float], used: Sequence[str], rules: RuleSet) -> Reason:
        """The retriever with the largest weight among those that found the item explains
        it (popularity counts half: a personal reason is the better explanation); a new
        product found only by popularity is introduced as a new arrival."""
        reasons = pool.reasons(candidate.product_id)
        best, best_value = None, -1.0
        for j, retriever in enumerate(used):
            if retriever in reasons and not np.isnan(row[j]):
                value = weights[retriever] * (1.0 if retriever != POPULAR_RETRIEVER else 0.5)
                if value > best_value:
                    best, best_value = retriever, value
        if best is None:
            return Reason(ReasonKind.PICKED_FOR_YOU)
        if best == POPULAR_RETRIEVER and exploration_bonus(candidate.created_at, rules) > 0:
            return Reason(ReasonKind.NEW_ARRIVAL)
        return reasons[best]
