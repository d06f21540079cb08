"""Known answers for the orders of similar items, bought together, trending and the
fallback (ranking.similar, ranking.lists, ranking.fallback), and for reasons and home rows."""

from __future__ import annotations

import pytest

from ranking import home, lists, similar
from ranking.candidates import Candidate
from ranking.fallback import fallback_order
from ranking.history import Interaction, ShopperHistory
from ranking.reasons import (
    LEXICAL,
    SEMANTIC,
    Reason,
    ReasonKind,
    home_row_title,
    search_reason,
)
from ranking.results import RankedItem
from ranking.rules import RuleSet

NOW = 1_700_000_000.0


def cand(pid: str, category: str = "c", brand: str = "", popularity: float = 1.0,
         in_stock: bool = True) -> Candidate:
    return Candidate(pid, category, brand, 10.0, in_stock, False, NOW - 30 * 86_400.0,
                     popularity)


# --- similar items -------------------------------------------------------------------------


def test_similar_items_on_text_alone_follow_the_cosine_ties_by_id() -> None:
    got = similar.similar_items([("b", 0.9), ("a", 0.9), ("c", 0.5)], None, set(), 0.6, 0.4, 2)
    assert [(i.product_id, i.score) for i in got] == [("a", pytest.approx(0.9)),
                                                      ("b", pytest.approx(0.9))]
    assert similar.strategy(False) == "text" and similar.strategy(True) == "text+cf"


def test_a_neighbour_missing_from_one_list_takes_its_lowest_score() -> None:
    text = [("a", 0.9), ("b", 0.8)]
    cf = [("b", 1.0), ("c", 0.7)]
    got = {i.product_id: i.score for i in similar.similar_items(
        text, cf, {"a", "b", "c"}, 0.5, 0.5, 10)}
    assert got["a"] == pytest.approx((0.9 + 0.7) / 2)  # not in cf: cf's lowest, 0.7
    assert got["b"] == pytest.approx((0.8 + 1.0) / 2)
    assert got["c"] == pytest.approx((0.8 + 0.7) / 2)  # not in text: text's lowest, 0.8


def test_a_neighbour_without_cf_is_ranked_on_text_alone() -> None:
    got = {i.product_id: i.score for i in similar.similar_items(
        [("new", 0.95), ("old", 0.9)], [("old", 0.2)], {"old"}, 0.5, 0.5, 10)}
    assert got["new"] == pytest.approx(0.95)  # no CF at all: not punished by CF's floor
    assert got["old"] == pytest.approx((0.9 + 0.2) / 2)


# --- bought together -----------------------------------------------------------------------


def test_companions_that_passed_the_filters_come_by_score_then_id() -> None:
    companions = {"x": 0.5, "y": 0.9, "z": 0.5, "gone": 1.0}
    got = lists.companions_first(companions, ["z", "x", "y"], "anchor", 2)
    assert [i.product_id for i in got] == ["y", "x"]
    assert got[0].reason == Reason(ReasonKind.BOUGHT_TOGETHER, product_id="anchor")
    assert got[0].score == 0.9


def test_the_content_fill_prefers_other_subcategories() -> None:
    neighbours = [("same1", "phones", 0.99), ("case", "cases", 0.7), ("same2", "phones", 0.9),
                  ("charger", "chargers", 0.8)]
    got = lists.content_fill(neighbours, "phones", "P1", 3)
    assert [i.product_id for i in got] == ["charger", "case", "same1"]
    assert {i.reason for i in got} == {Reason(ReasonKind.BECAUSE_YOU_VIEWED, product_id="P1")}


@pytest.mark.parametrize(("companions", "total", "strategy"), [
    (0, 0, "content"), (0, 5, "content"), (3, 5, "co_purchase+content"), (5, 5, "co_purchase"),
])
def test_the_strategy_says_where_the_list_came_from(companions: int, total: int,
                                                    strategy: str) -> None:
    assert lists.bought_together_strategy(companions, total) == strategy


# --- trending and the fallback -------------------------------------------------------------


def test_trending_leaves_out_the_unpopular_and_caps_each_category() -> None:
    candidates = [cand(f"a{i}", "A", popularity=100 - i) for i in range(6)]
    candidates += [cand("b0", "B", popularity=50), cand("zero", "B", popularity=0)]
    got = lists.trending(candidates, None, 5, NOW)
    assert [i.product_id for i in got] == ["a0", "a1", "a2", "b0", "a3"]
    assert got[0].reason == Reason(ReasonKind.TRENDING)
    in_a = lists.trending(candidates, "A", 3, NOW)
    assert [i.product_id for i in in_a] == ["a0", "a1", "a2"]
    assert in_a[0].reason == Reason(ReasonKind.POPULAR_IN_CATEGORY, category="A")


def test_the_fallback_orders_by_popularity_under_the_rules() -> None:
    candidates = [cand("p1", "A", "x", 10), cand("p2", "A", "x", 9), cand("p3", "A", "y", 8),
                  cand("p4", "B", "z", 7), cand("gone", "B", "z", 20)]
    rules = RuleSet(now=NOW, exclude_ids=frozenset({"gone"}), max_per_category=2,
                    max_per_brand=1)
    got = fallback_order(candidates, rules, 4, None)
    assert [i.product_id for i in got] == ["p1", "p3", "p4", "p2"]
    assert got[0].reason == Reason(ReasonKind.TRENDING)
    assert fallback_order(candidates, rules, 1, "A")[0].reason == Reason(
        ReasonKind.POPULAR_IN_CATEGORY, category="A")


# --- reasons and the home page ---------------------------------------------------------------


def test_a_search_reason_says_which_retrievers_matched() -> None:
    assert search_reason((LEXICAL, SEMANTIC)).kind == "matched_words_and_meaning"
    assert search_reason((LEXICAL,)).kind == "matched_words"
    assert search_reason((SEMANTIC,), ("cf_affinity",)).lifted_by == ("cf_affinity",)
    with pytest.raises(ValueError, match="unknown reason kind"):
        Reason("because_we_said_so")


def test_home_row_titles() -> None:
    assert home_row_title("picked_for_you") == "Picked for you"
    assert home_row_title("because_you_viewed", product_title="Kettle") == (
        "Because you viewed Kettle")
    assert home_row_title("trending", category="Audio") == "Trending in Audio"
    assert home_row_title("trending") == "Trending now"


def test_home_rows_focus_on_the_session_then_the_strongest_product() -> None:
    weights = {"view": 1.0, "purchase": 5.0}
    history = ShopperHistory("u", events=[Interaction("viewed", "view", NOW),
                                          Interaction("bought", "purchase", NOW - 86_400)])
    assert home.focus_product(history, weights, 0.01) == "bought"
    live = ShopperHistory("u", events=history.events,
                          session_events=[Interaction("now", "view", NOW)])
    assert home.focus_product(live, weights, 0.01) == "now"
    assert home.focus_product(ShopperHistory(None), weights, 0.01) is None


def test_home_rows_never_repeat_and_explain_similar_items() -> None:
    items = [RankedItem("a", 1.0), RankedItem("b", 0.9), RankedItem("c", 0.8)]
    assert [i.product_id for i in home.unseen(items, {"a"}, 1)] == ["b"]
    explained = home.because_you_viewed(items[:1], "anchor")
    assert explained[0].reason == Reason(ReasonKind.BECAUSE_YOU_VIEWED, product_id="anchor")
    assert explained[0].score == 1.0


def test_ranking_on_stand_in_ids_then_product_ids_keeps_the_product_id_tie_break() -> None:
    # Point ids order the other way round from product ids: "9" < "10" as product ids
    # would not hold for the stand-ins.
    fused = [RankedItem("101", 0.9), RankedItem("102", 0.5), RankedItem("103", 0.5),
             RankedItem("104", 0.5), RankedItem("105", 0.1)]
    head = similar.at_least_kth(fused, 2)
    assert [i.product_id for i in head] == ["101", "102", "103", "104"]  # the tie at 2nd
    product_of = {"101": "p-a", "102": "p-z", "103": "p-b", "104": "p-m"}
    best = similar.by_product_id([(product_of[i.product_id], i.score) for i in head], 2)
    assert [(i.product_id, i.score) for i in best] == [("p-a", 0.9), ("p-b", 0.5)]
    assert similar.at_least_kth(fused, 0) == [] and similar.at_least_kth([], 3) == []
    assert similar.at_least_kth(fused, 10) == fused
