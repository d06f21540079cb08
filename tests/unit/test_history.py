import math

import pytest

from ranking.history import (
    Interaction,
    ShopperHistory,
    anchors,
    item_confidences,
    purchased,
    session_anchors,
)

DAY = 86400.0
WEIGHTS = {"view": 1.0, "click": 2.0, "add_to_cart": 3.0, "purchase": 5.0}


def test_confidences_sum_weights_decayed_by_age() -> None:
    events = [Interaction("a", "view", 10 * DAY), Interaction("a", "purchase", 10 * DAY),
              Interaction("b", "click", 0.0)]
    conf = item_confidences(events, WEIGHTS, 0.01, reference=10 * DAY)
    assert conf["a"] == pytest.approx(6.0)
    assert conf["b"] == pytest.approx(2.0 * math.exp(-0.1))


def test_events_after_the_reference_count_as_new_and_unknown_types_as_nothing() -> None:
    events = [Interaction("a", "view", 20 * DAY), Interaction("b", "wishlist", 0.0)]
    assert item_confidences(events, WEIGHTS, 0.01, reference=10 * DAY) == {"a": 1.0}


def test_anchors_are_the_strongest_products_ties_by_id() -> None:
    assert anchors({"b": 2.0, "a": 2.0, "c": 5.0}, 2) == [("c", 5.0), ("a", 2.0)]


def test_session_anchors_are_the_latest_distinct_products() -> None:
    events = [Interaction("a", "view", 1), Interaction("b", "view", 2),
              Interaction("a", "click", 3), Interaction("c", "view", 0)]
    assert session_anchors(events, 2) == [("a", 1.0), ("b", 0.5)]


def test_purchased_covers_user_and_session_events() -> None:
    history = ShopperHistory("u", events=[Interaction("a", "purchase", 1)],
                             session_events=[Interaction("b", "purchase", 2),
                                             Interaction("c", "view", 3)])
    assert purchased(history) == {"a", "b"}
    assert history.n_interactions == 1
    assert history.newest == 3
