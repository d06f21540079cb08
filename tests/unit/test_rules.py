import dataclasses

import numpy as np
import pytest

from ranking.candidates import Candidate
from ranking.rules import RuleSet, apply_caps, boost, exploration_bonus, filter_candidates

DAY = 86_400.0
NOW = 1_700_000_000.0


def _cand(
    pid: str,
    category: str = "mugs",
    brand: str = "brew",
    *,
    in_stock: bool = True,
    promoted: bool = False,
    age_days: float = 100.0,
) -> Candidate:
    return Candidate(pid, category, brand, 10.0, in_stock, promoted, NOW - age_days * DAY, 1.0)


def _ids(cands: list[Candidate]) -> list[str]:
    return [c.product_id for c in cands]


# filter_candidates


def test_out_of_stock_items_are_never_kept() -> None:
    cands = [_cand("a"), _cand("b", in_stock=False), _cand("c")]
    rules = RuleSet(now=NOW, drop_purchased=False)
    assert _ids(filter_candidates(cands, rules)) == ["a", "c"]


def test_excluded_items_are_dropped() -> None:
    cands = [_cand("a"), _cand("b"), _cand("c")]
    rules = RuleSet(now=NOW, exclude_ids=frozenset({"a", "c"}))
    assert _ids(filter_candidates(cands, rules)) == ["b"]


def test_purchased_items_are_dropped() -> None:
    cands = [_cand("a", "laptops"), _cand("b", "laptops")]
    rules = RuleSet(now=NOW, purchased_ids=frozenset({"a"}))
    assert _ids(filter_candidates(cands, rules)) == ["b"]


def test_purchased_consumables_may_come_back() -> None:
    cands = [_cand("coffee", "coffee"), _cand("laptop", "laptops")]
    rules = RuleSet(
        now=NOW,
        purchased_ids=frozenset({"coffee", "laptop"}),
        consumable_categories=frozenset({"coffee"}),
    )
    assert _ids(filter_candidates(cands, rules)) == ["coffee"]


def test_purchased_items_stay_when_the_rule_is_off() -> None:
    cands = [_cand("a"), _cand("b")]
    rules = RuleSet(now=NOW, purchased_ids=frozenset({"a"}), drop_purchased=False)
    assert _ids(filter_candidates(cands, rules)) == ["a", "b"]


def test_out_of_stock_consumables_are_still_dropped() -> None:
    cands = [_cand("coffee", "coffee", in_stock=False)]
    rules = RuleSet(now=NOW, consumable_categories=frozenset({"coffee"}))
    assert filter_candidates(cands, rules) == []


def test_repeated_products_are_kept_once_in_first_position() -> None:
    cands = [_cand("a"), _cand("b"), _cand("a")]
    assert _ids(filter_candidates(cands, RuleSet(now=NOW))) == ["a", "b"]


# boost


def test_brand_new_item_gets_the_full_exploration_bonus() -> None:
    assert exploration_bonus(NOW, RuleSet(now=NOW)) == pytest.approx(0.15)


def test_new_item_boost_halves_at_half_the_window() -> None:
    assert exploration_bonus(NOW - 3.5 * DAY, RuleSet(now=NOW)) == pytest.approx(0.075)


def test_new_item_boost_decays_to_zero_after_seven_days() -> None:
    rules = RuleSet(now=NOW)
    assert exploration_bonus(NOW - 7 * DAY, rules) == 0.0
    assert exploration_bonus(NOW - 30 * DAY, rules) == 0.0
    assert exploration_bonus(NOW - 6.9 * DAY, rules) > 0.0


def test_item_created_in_the_future_counts_as_brand_new() -> None:
    assert exploration_bonus(NOW + DAY, RuleSet(now=NOW)) == pytest.approx(0.15)


def test_boosts_multiply_the_score() -> None:
    cands = [
        _cand("old"),
        _cand("new", age_days=0.0),
        _cand("promoted", promoted=True),
        _cand("both", promoted=True, age_days=3.5),
    ]
    scores = np.array([0.5, 0.5, 0.5, 0.5], dtype=np.float32)
    out = boost(cands, scores, RuleSet(now=NOW))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.5, 0.5 * 1.15, 0.5 * 1.1, 0.5 * 1.075 * 1.1], rtol=1e-6)


def test_boost_never_lowers_a_negative_score_and_passes_sentinels_through() -> None:
    cands = [_cand("a", age_days=0.0), _cand("b", age_days=0.0), _cand("c", age_days=0.0)]
    scores = np.array([-0.2, -np.inf, np.nan], dtype=np.float32)
    out = boost(cands, scores, RuleSet(now=NOW, new_boost=0.5))
    assert out[0] == pytest.approx(-0.1)
    assert out[1] == -np.inf
    assert np.isnan(out[2])


def test_boost_does_not_mutate_scores_and_checks_alignment() -> None:
    cands = [_cand("a", age_days=0.0)]
    scores = np.array([1.0], dtype=np.float32)
    boost(cands, scores, RuleSet(now=NOW))
    assert scores[0] == 1.0
    with pytest.raises(ValueError, match="shape"):
        boost(cands, np.ones(2, np.float32), RuleSet(now=NOW))


# apply_caps


def test_at_most_three_per_category_in_the_top_ten() -> None:
    # Twelve mugs ranked first, then a mix; brands all distinct so only the category cap bites.
    mugs = [_cand(f"m{i:02d}", "mugs", f"b{i}") for i in range(12)]
    others = [_cand(f"o{i:02d}", f"cat{i % 4}", f"x{i}") for i in range(8)]
    out = apply_caps(mugs + others, RuleSet(now=NOW), k=10)
    assert len(out) == 10
    assert sum(c.category == "mugs" for c in out) == 3
    assert _ids(out) == ["m00", "m01", "m02", "o00", "o01", "o02", "o03", "o04", "o05", "o06"]


def test_at_most_two_per_brand_in_the_top_ten() -> None:
    ranked = [_cand(f"a{i}", f"c{i}", "acme") for i in range(4)] + [
        _cand(f"z{i}", f"d{i}", f"brand{i}") for i in range(8)
    ]
    out = apply_caps(ranked, RuleSet(now=NOW), k=10)
    assert _ids(out)[:2] == ["a0", "a1"]
    assert sum(c.brand == "acme" for c in out) == 2


def test_unbranded_items_never_count_toward_the_brand_cap() -> None:
    ranked = [_cand(f"u{i}", f"c{i}", "") for i in range(5)]
    assert _ids(apply_caps(ranked, RuleSet(now=NOW), k=5)) == ["u0", "u1", "u2", "u3", "u4"]


def test_caps_apply_only_within_the_window() -> None:
    # Window of 4 with two per category: positions 5+ follow rank order, skipped items first.
    ranked = [_cand(f"{c}{i}", c, f"{c}{i}") for c in "ab" for i in (1, 2, 3)]
    rules = RuleSet(now=NOW, max_per_category=2, cap_window=4)
    assert _ids(apply_caps(ranked, rules, k=6)) == ["a1", "a2", "b1", "b2", "a3", "b3"]


def test_short_list_is_filled_from_skipped_items_in_rank_order() -> None:
    ranked = [_cand(f"m{i}", "mugs", f"b{i}") for i in range(6)] + [_cand("t", "teapots", "q")]
    out = apply_caps(ranked, RuleSet(now=NOW), k=6)
    # Three mugs and the teapot pass the cap; the window is then topped up with skipped mugs.
    assert _ids(out) == ["m0", "m1", "m2", "t", "m3", "m4"]


def test_caps_return_everything_when_fewer_than_k() -> None:
    ranked = [_cand("a"), _cand("b"), _cand("c")]
    assert _ids(apply_caps(ranked, RuleSet(now=NOW), k=10)) == ["a", "b", "c"]
    assert apply_caps(ranked, RuleSet(now=NOW), k=0) == []


def test_caps_can_be_switched_off() -> None:
    ranked = [_cand(f"m{i}") for i in range(5)]
    rules = RuleSet(now=NOW, max_per_category=None, max_per_brand=None)
    assert _ids(apply_caps(ranked, rules, k=5)) == ["m0", "m1", "m2", "m3", "m4"]


def test_caps_drop_repeated_products_and_do_not_mutate_the_ranking() -> None:
    ranked = [_cand("a", "x", "1"), _cand("a", "x", "1"), _cand("b", "y", "2")]
    before = list(ranked)
    assert _ids(apply_caps(ranked, RuleSet(now=NOW), k=3)) == ["a", "b"]
    assert ranked == before


def test_caps_are_deterministic() -> None:
    ranked = [_cand(f"p{i}", f"c{i % 3}", f"b{i % 4}") for i in range(30)]
    rules = RuleSet(now=NOW)
    assert apply_caps(ranked, rules, k=12) == apply_caps(ranked, rules, k=12)


def test_bad_rules_and_k_are_refused() -> None:
    with pytest.raises(ValueError, match="max_per_category"):
        RuleSet(now=NOW, max_per_category=0)
    with pytest.raises(ValueError, match="boosts"):
        RuleSet(now=NOW, new_boost=-0.1)
    with pytest.raises(ValueError, match="k must"):
        apply_caps([], RuleSet(now=NOW), k=-1)


def test_rules_are_immutable() -> None:
    rules = RuleSet(now=NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.max_per_brand = 5  # type: ignore[misc]
