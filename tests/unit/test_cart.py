"""Cart complements, the pure core: the whole basket, never a substitute."""

from __future__ import annotations

import pytest

from ranking.cart import CONTENT_DISCOUNT, complements, content_fill

SUB = {"kettle": "kettles", "kettle2": "kettles", "tea": "tea", "mugs": "mugs",
       "descaler": "care", "toaster": "toasters", "bread": "bakery"}


def test_what_goes_with_several_cart_products_comes_first() -> None:
    companions = {
        "kettle": {"tea": 0.5, "descaler": 0.4, "mugs": 0.3, "toaster": 0.2},
        "toaster": {"bread": 0.6, "mugs": 0.4},
    }
    popularity = {"tea": 3.0, "descaler": 3.0, "mugs": 3.0, "bread": 3.0}
    cart = {"kettle", "toaster"}
    ranked = complements(companions, popularity, cart, set(SUB), 10)
    ids = [r.product_id for r in ranked]
    # mugs goes with both: 0.3 + 0.4 beats any one product's companion.
    assert ids == ["mugs", "bread", "tea", "descaler"]
    assert ranked[0].score == pytest.approx(0.7 * 2.0)
    assert ranked[0].reason is not None and ranked[0].reason.product_id == "toaster"
    # Nothing in the cart, nothing the store filtered out.
    assert [r.product_id for r in complements(companions, popularity, cart,
                                              {"tea", "bread"}, 10)] == ["bread", "tea"]
    assert complements(companions, popularity, cart, set(SUB), 2) == ranked[:2]
    assert complements({}, popularity, {"kettle"}, set(SUB), 5) == []


def test_a_popular_companion_outranks_a_rare_one_seen_as_often() -> None:
    # Equal co-purchase scores: the product more baskets hold comes first.
    companions = {"kettle": {"tea": 0.5, "descaler": 0.5}}
    ranked = complements(companions, {"tea": 99.0, "descaler": 3.0}, {"kettle"}, set(SUB), 5)
    assert [r.product_id for r in ranked] == ["tea", "descaler"]
    assert ranked[0].score == pytest.approx(0.5 * 10.0)


def test_the_content_fill_keeps_to_other_subcategories() -> None:
    neighbours = [("kettle", "kettle2", "kettles", 0.95), ("kettle", "tea", "tea", 0.6),
                  ("toaster", "tea", "tea", 0.7), ("toaster", "bread", "bakery", 0.5),
                  ("kettle", "mugs", "mugs", 0.4)]
    filled = content_fill(neighbours, SUB, {"kettle", "toaster"}, {"mugs"}, 5)
    assert [r.product_id for r in filled] == ["tea", "bread"]
    assert filled[0].score == 0.7 * CONTENT_DISCOUNT
    assert filled[0].reason is not None and filled[0].reason.product_id == "toaster"
    assert content_fill(neighbours, SUB, {"kettle"}, set(), 1)[0].product_id == "tea"
