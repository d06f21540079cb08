"""Search ranking: fusion, facets, the shopper profile and the personal rerank."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ranking.candidates import Candidate
from ranking.history import Interaction
from ranking.search_rank import (
    PERSONAL_SIGNALS,
    ShopperProfile,
    facet_counts,
    personal_signals,
    price_fit,
    query_openness,
    rank,
    reciprocal_rank_fusion,
    shopper_profile,
    unit_scale,
)

WEIGHTS = {"view": 1.0, "purchase": 5.0}


def _item(pid: str, category: str = "Shoes", brand: str = "A", price: float = 50.0
          ) -> Candidate:
    return Candidate(product_id=pid, category=category, brand=brand, price=price,
                     in_stock=True, promoted=False, created_at=0.0, popularity=0.0)


def test_rrf_rewards_agreement_between_the_lists() -> None:
    fused = reciprocal_rank_fusion({"lexical": ["a", "b", "c"], "semantic": ["c", "d"]},
                                   {"lexical": 1.0, "semantic": 1.0}, k=60)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert max(fused, key=lambda p: fused[p]) == "c"


def test_rrf_weights_and_validation() -> None:
    fused = reciprocal_rank_fusion({"lexical": ["a"], "semantic": ["b"]},
                                   {"lexical": 2.0, "semantic": 0.0}, k=10)
    assert fused == {"a": pytest.approx(2 / 11)}
    with pytest.raises(ValueError, match="k must be positive"):
        reciprocal_rank_fusion({"lexical": ["a"]}, {"lexical": 1.0}, k=0)
    with pytest.raises(ValueError, match="non-negative"):
        reciprocal_rank_fusion({"lexical": ["a"]}, {"lexical": -1.0}, k=60)


def test_rrf_counts_a_repeated_id_once() -> None:
    fused = reciprocal_rank_fusion({"lexical": ["a", "a", "b"]}, {"lexical": 1.0}, k=1)
    assert fused == {"a": pytest.approx(1 / 2), "b": pytest.approx(1 / 3)}


def test_facets_count_and_order() -> None:
    items = [_item("1", "Shoes", "A"), _item("2", "Shoes", "B"), _item("3", "Bags", "B"),
             _item("4", "Bags", "")]
    facets = facet_counts(items)
    assert facets["category"] == [("Bags", 2), ("Shoes", 2)]
    assert facets["brand"] == [("B", 2), ("A", 1)]  # no brand is no facet value


def test_profile_shares_decay_and_price_bands() -> None:
    items = {"s1": _item("s1", "Shoes", "A", 100.0), "s2": _item("s2", "Shoes", "A", 120.0),
             "b1": _item("b1", "Bags", "B", 30.0)}
    day = 86400.0
    events = [Interaction("s1", "view", 10 * day), Interaction("s2", "purchase", 10 * day),
              Interaction("b1", "view", 0.0), Interaction("gone", "view", 10 * day)]
    profile = shopper_profile(events, items, WEIGHTS, decay_per_day=0.1, reference=10 * day)
    bag = math.exp(-1.0)
    assert profile.category_affinity["Shoes"] == pytest.approx(6 / (6 + bag))
    assert profile.brand_affinity["B"] == pytest.approx(bag / (6 + bag))
    assert sum(profile.category_affinity.values()) == pytest.approx(1.0)
    assert "Bags" not in profile.price_bands  # one priced event is no band
    mean, spread = profile.price_bands["Shoes"]
    assert math.log(100) < mean < math.log(120)
    assert spread >= 0.3
    assert profile.bought == frozenset({"s2"})


def test_an_empty_history_is_an_empty_profile() -> None:
    assert shopper_profile([], {}, WEIGHTS, 0.0, 0.0).is_empty


def test_price_fit_peaks_inside_the_band() -> None:
    band = (math.log(100.0), 0.3)
    assert price_fit(100.0, band) == pytest.approx(1.0)
    assert price_fit(130.0, band) > price_fit(300.0, band) > 0
    assert price_fit(100.0, None) == 0.0


def test_unit_scale_has_no_order_to_express_for_one_value() -> None:
    assert unit_scale(np.array([np.nan, 2.0])).tolist() == [0.0, 0.0]
    assert unit_scale(np.array([1.0, 3.0, np.nan])).tolist() == [0.0, 1.0, 0.0]


def test_signals_are_bounded_and_a_bought_item_gets_none() -> None:
    items = [_item("x", "Shoes", "A", 100.0), _item("y", "Bags", "B", 20.0),
             _item("z", "Shoes", "A", 100.0)]
    profile = ShopperProfile(category_affinity={"Shoes": 0.8, "Bags": 0.2},
                             brand_affinity={"A": 1.0},
                             price_bands={"Shoes": (math.log(100.0), 0.3)},
                             bought=frozenset({"z"}))
    signals = personal_signals(items, profile, np.array([2.0, 1.0, 3.0]),
                               np.array([0.5, 1.5, 0.9]))
    assert signals.shape == (3, len(PERSONAL_SIGNALS))
    assert np.all((signals >= 0) & (signals <= 1))
    assert signals[0].tolist() == pytest.approx([0.5, 0.8, 1.0, 1.0, 0.5])  # CF 2 in 1..3
    assert signals[1].tolist() == pytest.approx([0.0, 0.2, 0.0, 0.0, 1.0])
    assert signals[2].tolist() == [0.0] * len(PERSONAL_SIGNALS)


def test_rank_without_signals_follows_the_fusion() -> None:
    items = [_item("a"), _item("b"), _item("c")]
    ranked = rank(items, {"a": 0.01, "b": 0.03, "c": 0.03}, {"b": ("lexical",)})
    assert [r.product_id for r in ranked] == ["b", "c", "a"]  # ties by id
    assert ranked[0].score == pytest.approx(1.0)
    assert ranked[0].reason.matched == ("lexical",) and ranked[0].reason.lifted_by == ()


def test_personal_signals_reorder_and_name_what_lifted() -> None:
    items = [_item("a"), _item("b")]
    signals = np.zeros((2, len(PERSONAL_SIGNALS)), dtype=np.float32)
    signals[1, 2] = 1.0  # brand affinity for b
    signals[1, 0] = 0.5  # and some CF
    weights = (0.1, 0.1, 0.3, 0.1, 0.1)
    ranked = rank(items, {"a": 0.02, "b": 0.016}, {}, signals, weights)
    assert [r.product_id for r in ranked] == ["b", "a"]
    assert ranked[0].reason.lifted_by == ("brand_affinity", "cf_affinity")
    assert ranked[0].score == pytest.approx(0.8 + 0.3 + 0.05)
    with pytest.raises(ValueError, match="non-negative weights"):
        rank(items, {"a": 1.0, "b": 1.0}, {}, signals, (0.1, 0.1))


def test_a_query_for_one_product_is_closed_to_personal_taste() -> None:
    generic = [0.62, 0.61, 0.61, 0.60, 0.60, 0.60, 0.59, 0.59, 0.58, 0.58, 0.5]
    specific = [0.90, 0.70, 0.68, 0.66, 0.65, 0.64, 0.63, 0.62, 0.61, 0.60]
    assert query_openness(generic, gap=0.4) == pytest.approx(1 - 0.04 / 0.4)
    assert query_openness(specific, gap=0.4) == pytest.approx(1 - 0.30 / 0.4)
    assert query_openness(specific, gap=0.2) == 0.0
    assert query_openness(specific, gap=0.0) == 1.0  # the gate is off
    assert query_openness([0.9], gap=0.4) == 1.0


def test_a_continuing_list_ranks_below_the_one_it_continues() -> None:
    fused = reciprocal_rank_fusion({"lexical": ["a", "b"], "lexical_partial": ["c"]},
                                   {"lexical": 1.0, "lexical_partial": 1.0}, k=10,
                                   first_rank={"lexical_partial": 3})
    assert fused["c"] == pytest.approx(1 / 13) and fused["c"] < fused["b"]
    with pytest.raises(ValueError, match="at least 1"):
        reciprocal_rank_fusion({"a": ["x"]}, {"a": 1.0}, k=10, first_rank={"a": 0})
