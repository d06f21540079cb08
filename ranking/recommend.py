"""The recommendation blend: how a shopper's candidates are weighted, scored, ordered and
explained. Pure: records and arrays in, a ranked list out.

Retrieval (retrieval.recommender) decides which products are considered: the retrievers
of the shopper's route each return products, gathered in a :class:`CandidatePool`. It
does not decide how they score. Here every candidate is scored on every signal of the
route (its CF dot product with the shopper's vector, its text similarity to the shopper's
and the session's anchor products, its basket-companion score, its popularity), each
signal normalised over the candidates and blended as

    α·cf + (1 − α)·content + β·popularity,

with α growing with the shopper's interaction count (:func:`ranking.hybrid.cf_weight`) and
the content side's share split among history, session and companions in proportion to
their weights. A product lacking a signal (no CF factors yet) is ranked on the others.
Then the business rules (ranking.rules: exclusions, boosts, caps), MMR for variety, and
one reason per item: the retriever whose signal lifted it most among those that found it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from ranking.candidates import Candidate, CandidatePool
from ranking.hybrid import blend, normalise
from ranking.mmr import mmr
from ranking.reasons import Reason, ReasonKind
from ranking.results import RankedItem
from ranking.routing import Route
from ranking.rules import RuleSet, apply_caps, boost, exploration_bonus, filter_candidates
from ranking.signals import anchor_similarity, factor_scores

Vector = npt.NDArray[np.float32]
Matrix = npt.NDArray[np.float32]
K = TypeVar("K")

# The signals, one per retriever that can find a candidate.
CF = "cf"  # the shopper's CF vector
KNN = "knn"  # the mean CF vector of the shopper's nearest shoppers
CONTENT = "content"  # text neighbours of the shopper's strongest products
SESSION = "session"  # text neighbours of the live session's products
COPURCHASE = "co_purchase"  # basket companions of those products
POPULAR = "popular"  # popular products
SIGNALS = (CF, KNN, CONTENT, SESSION, COPURCHASE, POPULAR)

# Offline baselines: one signal alone, under the same rules and candidate fill.
BASELINES: dict[str, tuple[Route, str]] = {
    "popular": (Route.POPULAR, POPULAR),
    "content": (Route.CONTENT, CONTENT),
    "cf": (Route.HYBRID, CF),
}

# A popular product explains itself less well than a personal reason: its lift counts half
# when the reason is chosen.
_POPULAR_REASON_DISCOUNT = 0.5


@dataclass(frozen=True)
class BlendWeights:
    """The blend's settings (LODESTAR_REC_*): what each signal weighs."""

    content: float = 0.6
    session: float = 0.3
    session_alone: float = 0.8  # the session of a shopper with no history, vs popularity 1
    copurchase: float = 0.2
    popularity: float = 0.5  # β


@dataclass
class Signals:
    """What the retrievers of one request searched with, so that every candidate can be
    scored on every signal, not only those that made a retriever's top list."""

    vectors: dict[str, Vector] = field(default_factory=dict)  # cf, knn: (k,) CF-space vector
    # content, session: anchor text vectors (m, d) and anchor weights (m,)
    anchors: dict[str, tuple[Matrix, Vector]] = field(default_factory=dict)


def signal_weights(route: Route, *, content: bool, session: bool, copurchase: bool,
                   personal: str | None, alpha: float, weights: BlendWeights
                   ) -> dict[str, float]:
    """Each signal's blend weight for a request on `route`.

    content, session, copurchase: whether the request has anchors for that signal.
    personal: the CF-space signal that ran (CF for the hybrid route, KNN for content_knn
    when neighbours were found), or None. With one, it takes α and the content-side
    signals share 1 − α in proportion to their weights. Popularity weighs β, or 1 on the
    popular route, where it is the signal.
    """
    out: dict[str, float] = {}
    if content:
        out[CONTENT] = weights.content
    if session:
        alone = route in (Route.SESSION, Route.POPULAR)
        out[SESSION] = weights.session_alone if alone else weights.session
    if copurchase:
        out[COPURCHASE] = weights.copurchase
    if personal is not None:
        content_side = sum(out.values()) or 1.0
        out = {k: (1.0 - alpha) * v / content_side for k, v in out.items()}
        out[personal] = alpha
    out[POPULAR] = 1.0 if route is Route.POPULAR else weights.popularity
    return out


def anchor_scale(weight: float, strongest: float) -> float:
    """How much an anchor's neighbours count: the square root of its weight relative to
    the strongest anchor, so a once-viewed product is not worth nothing next to a bought
    one."""
    return float((weight / (strongest or 1.0)) ** 0.5)


def popularity_signal(popularity: npt.ArrayLike) -> Vector:
    """Popularity is heavy-tailed: it is ranked on its logarithm."""
    return np.log1p(np.maximum(np.asarray(popularity, dtype=np.float64), 0.0)).astype(np.float32)


def companion_scores(companions_of: Mapping[str, Sequence[tuple[str, float]]],
                     anchor_weights: Mapping[str, float]) -> dict[str, tuple[float, str]]:
    """Companion -> (score, anchor): each companion's best co-purchase score with one of the
    anchors, times that anchor's weight, and the anchor that gave it."""
    scores: dict[str, tuple[float, str]] = {}
    for anchor, companions in companions_of.items():
        for other, score in companions:
            value = float(score) * anchor_weights.get(anchor, 0.0)
            if value > scores.get(other, (0.0, ""))[0]:
                scores[other] = (value, anchor)
    return scores


def device_popularity_order(popular: Sequence[tuple[K, Mapping[str, float]]],
                            device: str) -> list[tuple[K, float]]:
    """Popular products re-ranked by their popularity on `device`, best first; those never
    used on it follow in their given (overall) order, with a score of 0.

    popular: (key, popularity per device) in overall popularity order.
    """
    used: list[tuple[K, float]] = []
    unused: list[tuple[K, float]] = []
    for key, by_device in popular:
        on_device = float(by_device.get(device, 0.0))
        (used if on_device > 0 else unused).append((key, on_device))
    return sorted(used, key=lambda ks: -ks[1]) + unused


def rank(pool: CandidatePool, texts: Matrix, factors: Matrix, has_factors: npt.NDArray[np.bool_],
         signals: Signals, weights: Mapping[str, float], rules: RuleSet, limit: int,
         mmr_lambda: float, mmr_pool_factor: int) -> list[RankedItem]:
    """The shopper's list: blend, boosts, MMR, caps, reasons.

    texts, factors, has_factors: (n, d), (n, k), (n,) rows of the pool's candidates in
    :attr:`CandidatePool.products` order; a zero row where a product has no vector.
    """
    candidates = pool.candidates()
    kept = filter_candidates(candidates, rules)
    if not kept:
        return []
    pool_row = {pid: i for i, pid in enumerate(pool.products)}
    rows = [pool_row[c.product_id] for c in kept]
    used = [r for r in SIGNALS if weights.get(r, 0.0) > 0]
    used_weights = [weights[r] for r in used]
    matrix = signal_matrix(pool, kept, rows, signals, used, texts[rows], factors[rows],
                           has_factors[rows])
    # A signal a product lacks (no CF factors yet) drops out of its weighted mean; every
    # other signal has a score for every candidate.
    scores = blend(matrix, used_weights, available=~np.isnan(matrix))
    boosted = boost(kept, scores, rules)
    order = sorted(range(len(kept)), key=lambda i: (-float(boosted[i]), kept[i].product_id))
    shortlist = order[: max(limit * mmr_pool_factor, limit)]
    picked = mmr(boosted[shortlist], texts[rows][shortlist], len(shortlist), mmr_lambda)
    diversified = [kept[shortlist[j]] for j in picked]
    # The caps may reach past the shortlist: when every personal candidate sits in one
    # category, the popular ones further down are what keeps the list varied.
    rest = [kept[i] for i in order[len(shortlist):]]
    final = apply_caps(diversified + rest, rules, limit)[:limit]
    kept_row = {c.product_id: i for i, c in enumerate(kept)}
    contribution = _contributions(matrix, used_weights)
    return [
        RankedItem(c.product_id, float(boosted[kept_row[c.product_id]]),
                   explain(pool, c, contribution[kept_row[c.product_id]], used, rules))
        for c in final
    ]


def signal_matrix(pool: CandidatePool, kept: Sequence[Candidate], pool_rows: Sequence[int],
                  signals: Signals, used: Sequence[str], texts: Matrix, factors: Matrix,
                  has_factors: npt.NDArray[np.bool_]) -> Matrix:
    """(len(kept), len(used)) scores, NaN only where a product lacks the signal.

    pool_rows: each kept candidate's row in the pool's order; texts, factors, has_factors
    are the kept candidates' rows.
    """
    retrieved = pool.matrix(used)
    out = np.zeros((len(kept), len(used)), dtype=np.float32)
    for j, signal in enumerate(used):
        if signal in signals.vectors:
            out[:, j] = factor_scores(factors, has_factors, signals.vectors[signal])
        elif signal in signals.anchors:
            out[:, j] = anchor_similarity(texts, *signals.anchors[signal])
        elif signal == POPULAR:
            out[:, j] = popularity_signal([c.popularity for c in kept])
        else:
            # Co-purchase has no vector to score others with: a product not bought with
            # the shopper's items scores 0 on it.
            out[:, j] = np.nan_to_num(retrieved[list(pool_rows), j], nan=0.0)
    return out


def _contributions(matrix: Matrix, weights: Sequence[float]) -> Matrix:
    """Each signal's share of each candidate's blended score: weight × normalised score."""
    out = np.zeros_like(matrix)
    for j, weight in enumerate(weights):
        out[:, j] = weight * np.nan_to_num(normalise(matrix[:, j]), nan=0.0)
    return out


def explain(pool: CandidatePool, candidate: Candidate, contribution: Vector,
            used: Sequence[str], rules: RuleSet) -> Reason:
    """Among the retrievers that found the item, the one whose signal lifted it most
    explains it (popularity at a discount: a personal reason is the better explanation);
    a new product found only by popularity is introduced as a new arrival."""
    reasons = pool.reasons(candidate.product_id)
    best, best_value = None, -1.0
    for j, signal in enumerate(used):
        if signal in reasons:
            discount = _POPULAR_REASON_DISCOUNT if signal == POPULAR else 1.0
            value = float(contribution[j]) * discount
            if value > best_value:
                best, best_value = signal, value
    if best is None:
        return Reason(ReasonKind.PICKED_FOR_YOU)
    if best == POPULAR and exploration_bonus(candidate.created_at, rules) > 0:
        return Reason(ReasonKind.NEW_ARRIVAL)
    return reasons[best]


# --- exploration: a share of the list for new products ----------------------------------------


def new_arrival_gap(created_at: Sequence[float], limit: int, share: float,
                    cutoff: float) -> int:
    """How many slots of a list still go to new products (created at or after `cutoff`):
    `share` of the list (at least one), less the new products already in it. 0 for a list
    too short to spare a slot."""
    if share <= 0 or limit < 2:
        return 0
    slots = max(1, round(share * limit))
    return max(0, slots - sum(1 for at in created_at if at >= cutoff))


def place_new_arrivals(ranked: Sequence[RankedItem], attributes: Mapping[str, Candidate],
                       new: Sequence[Candidate], rules: RuleSet, missing: int, limit: int,
                       *, cap_category: bool = True, cap_brand: bool = True
                       ) -> list[RankedItem]:
    """Epsilon-greedy exploration: the list with its last `missing` slots given to the
    first of `new` (best fit first) that keep it within the category and brand caps,
    placed in the middle of the list (seen, without displacing the best matches) with the
    score of the weakest item kept and the reason ``new_arrival``.

    attributes: the ranked items' records (their category and brand).
    cap_category, cap_brand: False where the request's own filter makes a cap impossible
    (a list of one category cannot hold three per category).
    """
    kept = list(ranked[: max(0, limit - missing)])
    per_category = rules.max_per_category if cap_category else None
    per_brand = rules.max_per_brand if cap_brand else None
    categories = Counter(attributes[i.product_id].category for i in kept
                         if i.product_id in attributes)
    brands = Counter(attributes[i.product_id].brand for i in kept
                     if i.product_id in attributes)
    picks: list[Candidate] = []
    for c in new:
        if len(picks) == missing:
            break
        if per_category is not None and categories[c.category] >= per_category:
            continue
        if c.brand and per_brand is not None and brands[c.brand] >= per_brand:
            continue
        picks.append(c)
        categories[c.category] += 1
        brands[c.brand] += 1
    if not picks:
        return list(ranked)
    floor = min((i.score for i in kept), default=0.0)
    explored = [RankedItem(c.product_id, floor, Reason(ReasonKind.NEW_ARRIVAL)) for c in picks]
    at = min(len(kept), limit // 2)
    return [*kept[:at], *explored, *kept[at:]][:limit]
