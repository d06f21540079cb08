"""Search ranking: fusing the lexical and semantic lists, then reranking for the shopper.

Pure: ids, attributes and arrays in; scores and reasons out. The searcher (retrieval.search)
finds the lists and the shopper's signals; the API and the offline evaluator both rank
through here, so what is evaluated is what is served.

The personal rerank adds bounded boosts to the fused relevance rather than replacing it:
the query decides what is relevant and the shopper only reorders among relevant items.
Every signal lies in [0, 1] and the fused score is scaled so that the best match is 1, so
a weight of 0.1 means "worth a tenth of the gap between the best match and nothing".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ranking.candidates import Candidate
from ranking.history import Interaction
from ranking.reasons import LEXICAL, SEMANTIC, search_reason
from ranking.results import RankedItem

Scores = npt.NDArray[np.float32]

LEXICAL_PARTIAL = "lexical_partial"  # products with only some of the query's words

CF_AFFINITY = "cf_affinity"
CATEGORY_AFFINITY = "category_affinity"
BRAND_AFFINITY = "brand_affinity"
PRICE_FIT = "price_fit"
SESSION_INTENT = "session_intent"
PERSONAL_SIGNALS = (CF_AFFINITY, CATEGORY_AFFINITY, BRAND_AFFINITY, PRICE_FIT, SESSION_INTENT)

# A price band from one remembered price would be a point; this is the narrowest band
# (in log price, about ±30 %) that a shopper's category is given.
_MIN_PRICE_SPREAD = 0.3
# A personal signal is named in an item's reason when it added at least this much.
_REASON_THRESHOLD = 0.01


def reciprocal_rank_fusion(
    lists: Mapping[str, Sequence[str]], weights: Mapping[str, float], k: float,
    first_rank: Mapping[str, int] | None = None,
) -> dict[str, float]:
    """score(d) = Σ over lists of weight / (k + rank of d in the list), ranks from 1 (or
    from `first_rank[list]`: a list that continues another, ranked below all of it).

    RRF needs no calibration between the lists' raw scores (a ts_rank and a cosine are on
    unrelated scales), and an item that both retrievers found early beats one that only
    one found first. A list with weight 0 contributes nothing.
    """
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    fused: dict[str, float] = {}
    for name, ids in lists.items():
        w = weights.get(name, 0.0)
        if w < 0:
            raise ValueError(f"weight of {name} must be non-negative")
        if w == 0:
            continue
        start = (first_rank or {}).get(name, 1)
        if start < 1:
            raise ValueError(f"first rank of {name} must be at least 1")
        for rank, pid in enumerate(dict.fromkeys(ids), start=start):
            fused[pid] = fused.get(pid, 0.0) + w / (k + rank)
    return fused


def is_identifier(term: str) -> bool:
    """A model number or SKU: letters and digits in one token ("zn-110", "p000123")."""
    return any(c.isdigit() for c in term) and any(c.isalpha() for c in term)


def fuse(lists: Mapping[str, Sequence[str]], terms: Sequence[str], *, lexical_weight: float,
         semantic_weight: float, partial_match_weight: float, k: float) -> dict[str, float]:
    """The fused relevance of every product the retrievers found (RRF).

    lists: product ids best first per retriever: LEXICAL (every query word),
    LEXICAL_PARTIAL (some of the words), SEMANTIC. A product missing some of the query's
    words ranks below every one that has them all in the lexical list. When the query
    names a model number or SKU it also counts for `partial_match_weight` of the lexical
    weight: "zentel zn-110" is about the ZN-110, not about every Zentel product the
    semantic list likes. Without one ("mobile phones") products with some of the words are
    often the right ones, and keep the full weight.
    """
    partial = partial_match_weight if any(is_identifier(t) for t in terms) else 1.0
    return reciprocal_rank_fusion(
        lists, {LEXICAL: lexical_weight, LEXICAL_PARTIAL: lexical_weight * partial,
                SEMANTIC: semantic_weight},
        k, first_rank={LEXICAL_PARTIAL: len(lists.get(LEXICAL, ())) + 1})


def matched_by(lists: Mapping[str, Sequence[str]], products: Iterable[str]
               ) -> dict[str, tuple[str, ...]]:
    """Which retrievers found each product (a partial word match is a lexical match)."""
    sets = {name: set(ids) for name, ids in lists.items()}
    lexical = sets.get(LEXICAL, set()) | sets.get(LEXICAL_PARTIAL, set())
    semantic = sets.get(SEMANTIC, set())
    return {p: tuple(name for name, found in ((LEXICAL, lexical), (SEMANTIC, semantic))
                     if p in found) for p in products}


def facet_counts(candidates: Sequence[Candidate]) -> dict[str, list[tuple[str, int]]]:
    """Category and brand counts over the matched set, most frequent first (ties by name)."""

    def ranked(values: Counter[str]) -> list[tuple[str, int]]:
        return sorted(((v, n) for v, n in values.items() if v), key=lambda vn: (-vn[1], vn[0]))

    return {
        "category": ranked(Counter(c.category for c in candidates)),
        "brand": ranked(Counter(c.brand for c in candidates)),
    }


@dataclass(frozen=True)
class ShopperProfile:
    """What the rerank knows of a shopper's taste, from their recent events.

    category_affinity / brand_affinity: each category's (brand's) share of the shopper's
        weighted, time-decayed events, in [0, 1].
    price_bands: per category with at least two priced events, (mean, spread) of the log
        prices the shopper engaged with there.
    bought: products the shopper bought; they are never boosted again.
    """

    category_affinity: Mapping[str, float] = field(default_factory=dict)
    brand_affinity: Mapping[str, float] = field(default_factory=dict)
    price_bands: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    bought: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not self.category_affinity


def shopper_profile(
    events: Sequence[Interaction],
    items: Mapping[str, Candidate],
    weights: Mapping[str, float],
    decay_per_day: float,
    reference: float,
) -> ShopperProfile:
    """The profile of a shopper from their events; `items` holds the attributes of the
    products they touched (events on products it lacks are skipped)."""
    by_category: dict[str, float] = {}
    by_brand: dict[str, float] = {}
    log_prices: dict[str, list[tuple[float, float]]] = {}
    total = 0.0
    for e in events:
        item = items.get(e.product_id)
        w = weights.get(e.event_type, 0.0)
        if item is None or w <= 0:
            continue
        w *= math.exp(-decay_per_day * max(0.0, reference - e.at) / 86400.0)
        total += w
        by_category[item.category] = by_category.get(item.category, 0.0) + w
        if item.brand:
            by_brand[item.brand] = by_brand.get(item.brand, 0.0) + w
        if item.price > 0:
            log_prices.setdefault(item.category, []).append((math.log(item.price), w))
    bought = frozenset(e.product_id for e in events if e.event_type == "purchase")
    if total <= 0:
        return ShopperProfile(bought=bought)
    bands = {}
    for category, pairs in log_prices.items():
        if len(pairs) < 2:
            continue
        values = np.array([p for p, _ in pairs])
        strength = np.array([w for _, w in pairs])
        mean = float(np.average(values, weights=strength))
        spread = math.sqrt(float(np.average((values - mean) ** 2, weights=strength)))
        bands[category] = (mean, max(spread, _MIN_PRICE_SPREAD))
    return ShopperProfile(
        category_affinity={c: v / total for c, v in by_category.items()},
        brand_affinity={b: v / total for b, v in by_brand.items()},
        price_bands=bands,
        bought=bought,
    )


def price_fit(price: float, band: tuple[float, float] | None) -> float:
    """exp(−z²/2) of the price's log distance from the band's mean in spreads; 0 without a
    band (nothing known is not a fit)."""
    if band is None or price <= 0:
        return 0.0
    mean, spread = band
    z = (math.log(price) - mean) / spread
    return math.exp(-0.5 * z * z)


def unit_scale(values: npt.NDArray[np.floating]) -> Scores:
    """Min–max to [0, 1] over the finite values; NaN (no signal) becomes 0. With fewer than
    two finite values, or no spread, there is no order to express and all become 0."""
    x = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(x)
    out = np.zeros(x.shape, dtype=np.float64)
    if finite.sum() >= 2:
        low, high = x[finite].min(), x[finite].max()
        if high > low:
            out[finite] = (x[finite] - low) / (high - low)
    return out.astype(np.float32)


def personal_signals(
    candidates: Sequence[Candidate],
    profile: ShopperProfile,
    cf_scores: npt.NDArray[np.floating],
    session_similarity: npt.NDArray[np.floating],
) -> Scores:
    """(n, 5) signals in [0, 1], columns in PERSONAL_SIGNALS order.

    cf_scores:          (n,) the shopper's CF vector · each item's factors; NaN where the
                        item has no factors (it gets 0, not a penalty).
    session_similarity: (n,) closeness in text to what the live session looked at, [0, 1].
    Bought products get 0 on every signal: an item bought is not boosted again.
    """
    n = len(candidates)
    out = np.zeros((n, len(PERSONAL_SIGNALS)), dtype=np.float32)
    if n == 0:
        return out
    out[:, 0] = unit_scale(cf_scores)
    out[:, 1] = [profile.category_affinity.get(c.category, 0.0) for c in candidates]
    out[:, 2] = [profile.brand_affinity.get(c.brand, 0.0) for c in candidates]
    out[:, 3] = [price_fit(c.price, profile.price_bands.get(c.category)) for c in candidates]
    out[:, 4] = np.clip(np.nan_to_num(np.asarray(session_similarity, dtype=np.float32)), 0, 1)
    bought = np.array([c.product_id in profile.bought for c in candidates])
    out[bought] = 0.0
    return out


def query_openness(similarities: Sequence[float], gap: float, depth: int = 10) -> float:
    """How open a query is to personal taste, in [0, 1], from its semantic scores (best
    first): 1 when the best match is no closer to the query than the depth-th (a generic
    query, "running shoes", with many equally good answers), falling linearly to 0 as the
    best pulls `gap` or more ahead (a query for one product, "trailpeak tp-220 black",
    which a shopper's taste should not overrule). gap 0 turns the gate off (always 1)."""
    if gap <= 0 or len(similarities) < 2:
        return 1.0
    lead = similarities[0] - similarities[min(depth, len(similarities)) - 1]
    return float(min(1.0, max(0.0, 1.0 - lead / gap)))


def rank(
    candidates: Sequence[Candidate],
    fused: Mapping[str, float],
    matched: Mapping[str, tuple[str, ...]],
    signals: Scores | None = None,
    weights: Sequence[float] = (),
) -> list[RankedItem]:
    """Order candidates by fused relevance (scaled so the best is 1) plus the weighted
    personal signals; without signals, by fused relevance alone. Ties by product id. Each
    item's reason names the retrievers that found it and the signals that lifted it."""
    base = np.array([fused[c.product_id] for c in candidates], dtype=np.float64)
    if base.size and base.max() > 0:
        base = base / base.max()
    contributions = np.zeros((len(candidates), len(PERSONAL_SIGNALS)), dtype=np.float64)
    if signals is not None and len(candidates):
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(PERSONAL_SIGNALS),) or np.any(w < 0):
            raise ValueError(f"need {len(PERSONAL_SIGNALS)} non-negative weights, got {weights}")
        contributions = np.asarray(signals, dtype=np.float64) * w[None, :]
    totals = (base + contributions.sum(axis=1)).tolist()
    lifts_of = contributions.tolist()  # Python floats: indexing numpy per item is slow
    order = sorted(range(len(candidates)),
                   key=lambda i: (-totals[i], candidates[i].product_id))
    out = []
    for i in order:
        lifts = [(value, name) for value, name in zip(lifts_of[i], PERSONAL_SIGNALS,
                                                       strict=True)
                 if value >= _REASON_THRESHOLD]
        lifted_by = tuple(name for _, name in sorted(lifts, key=lambda t: (-t[0], t[1])))
        out.append(RankedItem(
            candidates[i].product_id, totals[i],
            search_reason(matched.get(candidates[i].product_id, ()), lifted_by)))
    return out
