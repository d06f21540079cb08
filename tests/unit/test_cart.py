"""Cart complements, the pure core: the whole basket, never a substitute."""

from __future__ import annotations

from ranking.cart import CONTENT_DISCOUNT, complements, content_fill

SUB = {"kettle": "kettles", "kettle2": "kettles", "tea": "tea", "mugs": "mugs",
       "descaler": "care", "toaster": "toasters", "bread": "bakery"}


def test_what_goes_with_several_cart_products_comes_first() -> None:
    companions = {
        "kettle": {"tea": 10.0, "descaler": 8.0, "kettle2": 9.0, "mugs": 2.0},
        "toaster": {"bread": 4.0, "mugs": 4.0},
    }
    ranked = complements(companions, SUB, {"kettle", "toaster"}, set(SUB), 10)
    ids = [r.product_id for r in ranked]
    # mugs: 2/10 + 4/4 = 1.2, more than any single product's best share (1.0).
    assert ids == ["mugs", "bread", "tea", "descaler"]
    assert ranked[0].score == 1.2
    assert ranked[0].reason is not None and ranked[0].reason.product_id == "toaster"
    # Never a second kettle, nor what the store filtered out, nor what is in the cart.
    assert "kettle2" not in ids
    assert [r.product_id for r in complements(companions, SUB, {"kettle", "toaster"},
                                              {"tea", "bread"}, 10)] == ["bread", "tea"]
    assert complements(companions, SUB, {"kettle", "toaster"}, set(SUB), 2) == ranked[:2]
    assert complements({}, SUB, {"kettle"}, set(SUB), 5) == []


def test_the_content_fill_keeps_to_other_subcategories() -> None:
    neighbours = [("kettle", "kettle2", "kettles", 0.95), ("kettle", "tea", "tea", 0.6),
                  ("toaster", "tea", "tea", 0.7), ("toaster", "bread", "bakery", 0.5),
                  ("kettle", "mugs", "mugs", 0.4)]
    filled = content_fill(neighbours, SUB, {"kettle", "toaster"}, {"mugs"}, 5)
    assert [r.product_id for r in filled] == ["tea", "bread"]
    assert filled[0].score == 0.7 * CONTENT_DISCOUNT
    assert filled[0].reason is not None and filled[0].reason.product_id == "toaster"
    assert content_fill(neighbours, SUB, {"kettle"}, set(), 1)[0].product_id == "tea"
