"""Known answers for the recommendation blend (ranking.recommend): signal weights, the
rank of a small pool, reasons, and the share of the list kept for new products."""

from __future__ import annotations

import numpy as np
import pytest

from ranking import recommend as blend
from ranking.candidates import Candidate, CandidatePool
from ranking.reasons import Reason, ReasonKind
from ranking.results import RankedItem
from ranking.routing import Route
from ranking.rules import RuleSet

NOW = 1_700_000_000.0
DAY = 86_400.0
WEIGHTS = blend.BlendWeights(content=0.6, session=0.3, session_alone=0.8, copurchase=0.2,
                             popularity=0.5)


def cand(pid: str, category: str = "c", brand: str = "", popularity: float = 1.0,
         age_days: float = 30.0) -> Candidate:
    return Candidate(pid, category, brand, 10.0, True, False, NOW - age_days * DAY, popularity)


def test_popularity_is_the_signal_of_the_popular_route() -> None:
    weights = blend.signal_weights(Route.POPULAR, content=False, session=False,
                                   copurchase=False, personal=None, alpha=0.3,
                                   weights=WEIGHTS)
    assert weights == {blend.POPULAR: 1.0}
    alone = blend.signal_weights(Route.SESSION, content=False, session=True, copurchase=True,
                                 personal=None, alpha=0.3, weights=WEIGHTS)
    assert alone == {blend.SESSION: 0.8, blend.COPURCHASE: 0.2, blend.POPULAR: 0.5}


def test_the_cf_signal_takes_alpha_and_the_content_side_shares_the_rest() -> None:
    weights = blend.signal_weights(Route.HYBRID, content=True, session=True, copurchase=True,
                                   personal=blend.CF, alpha=0.6, weights=WEIGHTS)
    assert weights[blend.CF] == pytest.approx(0.6)
    content_side = [weights[blend.CONTENT], weights[blend.SESSION], weights[blend.COPURCHASE]]
    assert sum(content_side) == pytest.approx(0.4)
    assert content_side == pytest.approx([0.4 * 0.6 / 1.1, 0.4 * 0.3 / 1.1, 0.4 * 0.2 / 1.1])
    assert weights[blend.POPULAR] == 0.5


def test_a_companion_scores_by_its_best_anchor() -> None:
    scores = blend.companion_scores({"a": [("x", 0.5), ("y", 0.9)], "b": [("x", 0.8)]},
                                    {"a": 1.0, "b": 0.5})
    assert scores == {"x": (0.5, "a"), "y": (0.9, "a")}


def test_popular_products_rerank_by_their_device() -> None:
    got = blend.device_popularity_order(
        [(1, {"mobile": 1.0}), (2, {"desktop": 9.0}), (3, {"mobile": 5.0}), (4, {})], "mobile")
    assert got == [(3, 5.0), (1, 1.0), (2, 0.0), (4, 0.0)]


def test_popularity_is_ranked_on_its_logarithm() -> None:
    signal = blend.popularity_signal([0.0, np.e - 1, 1e6, -5.0])
    assert signal[:2].tolist() == pytest.approx([0.0, 1.0])
    assert signal[2] == pytest.approx(np.log1p(1e6))  # a best-seller does not bury the rest
    assert signal[3] == 0.0


def _pool(entries: list[tuple[str, Candidate, float, Reason]]) -> CandidatePool:
    pool = CandidatePool()
    for signal, candidate, score, reason in entries:
        pool.add(signal, candidate, score, reason)
    return pool


def _rank(pool: CandidatePool, weights: dict[str, float], rules: RuleSet,
          limit: int = 10) -> list[RankedItem]:
    n = len(pool)
    texts = np.eye(n, 4, dtype=np.float32)  # every product unlike the others: MMR is neutral
    factors = np.zeros((n, 2), dtype=np.float32)
    return blend.rank(pool, texts, factors, np.zeros(n, dtype=bool), blend.Signals(), weights,
                      rules, limit, mmr_lambda=0.7, mmr_pool_factor=4)


def test_the_blend_orders_by_its_signals_and_explains_each_item() -> None:
    trending = Reason(ReasonKind.TRENDING)
    viewed = Reason(ReasonKind.BOUGHT_TOGETHER, product_id="anchor")
    pool = _pool([
        (blend.POPULAR, cand("hit", popularity=1000.0), 1.0, trending),
        (blend.POPULAR, cand("niche", popularity=1.0), 0.1, trending),
        (blend.COPURCHASE, cand("niche", popularity=1.0), 0.9, viewed),
        (blend.POPULAR, cand("bought", popularity=500.0), 0.5, trending),
    ])
    rules = RuleSet(now=NOW, purchased_ids=frozenset({"bought"}))
    popular_only = _rank(pool, {blend.POPULAR: 1.0}, rules)
    assert [i.product_id for i in popular_only] == ["hit", "niche"]  # "bought" never returns
    assert popular_only[0].reason == trending
    companions_first = _rank(pool, {blend.POPULAR: 0.1, blend.COPURCHASE: 1.0}, rules)
    assert [i.product_id for i in companions_first] == ["niche", "hit"]
    assert companions_first[0].reason == viewed  # the signal that lifted it explains it


def test_a_new_product_found_by_popularity_is_introduced_as_new() -> None:
    pool = _pool([(blend.POPULAR, cand("fresh", popularity=5.0, age_days=1), 1.0,
                   Reason(ReasonKind.TRENDING))])
    got = _rank(pool, {blend.POPULAR: 1.0}, RuleSet(now=NOW))
    assert got[0].reason == Reason(ReasonKind.NEW_ARRIVAL)


def test_a_share_of_the_list_is_kept_for_new_products() -> None:
    cutoff = NOW - 7 * DAY
    assert blend.new_arrival_gap([NOW - 30 * DAY] * 10, 10, 0.1, cutoff) == 1
    assert blend.new_arrival_gap([NOW] + [NOW - 30 * DAY] * 9, 10, 0.1, cutoff) == 0
    assert blend.new_arrival_gap([NOW - 30 * DAY] * 10, 10, 0.3, cutoff) == 3
    assert blend.new_arrival_gap([NOW - 30 * DAY], 1, 0.5, cutoff) == 0  # too short to spare
    assert blend.new_arrival_gap([NOW - 30 * DAY] * 10, 10, 0.0, cutoff) == 0


def test_new_arrivals_sit_mid_list_within_the_caps() -> None:
    ranked = [RankedItem(f"p{i}", 1.0 - i / 10, Reason(ReasonKind.TRENDING)) for i in range(6)]
    attributes = {f"p{i}": cand(f"p{i}", "A" if i < 3 else "B", brand=f"b{i}")
                  for i in range(6)}
    new = [cand("n-in-A", "A"), cand("n-in-C", "C")]
    rules = RuleSet(now=NOW, max_per_category=3, max_per_brand=2)
    got = blend.place_new_arrivals(ranked, attributes, new, rules, missing=1, limit=6)
    assert [i.product_id for i in got] == ["p0", "p1", "p2", "n-in-C", "p3", "p4"]
    placed = got[3]
    assert placed.reason == Reason(ReasonKind.NEW_ARRIVAL)
    assert placed.score == pytest.approx(0.6)  # the weakest kept item's score
    # A cap the request's own filter makes impossible is not checked.
    uncapped = blend.place_new_arrivals(ranked, attributes, new, rules, missing=1, limit=6,
                                        cap_category=False)
    assert uncapped[3].product_id == "n-in-A"
    # Nothing that fits: the list stays as it was.
    assert blend.place_new_arrivals(ranked, attributes, [], rules, 1, 6) == ranked
