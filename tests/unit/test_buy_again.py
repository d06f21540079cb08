"""Buy it again, the pure core: what is learnt from all shoppers, and one shopper's list."""

from __future__ import annotations

import pytest

from ranking.buy_again import (
    DAY,
    BuyAgainSettings,
    PastPurchases,
    Repurchase,
    buy_again,
    distinct_days,
    due,
    frequency_recency,
    repurchase_stats,
)

T0 = 1_700_000_000.0


def days(*offsets: float) -> list[float]:
    return [T0 + d * DAY for d in offsets]


def test_two_orders_on_one_day_are_one_trip() -> None:
    assert distinct_days([T0 + 3600, T0, T0 + DAY]) == [T0, T0 + DAY]


def test_what_all_shoppers_say_about_buying_again() -> None:
    rows = [
        # Coffee: every buyer buys again, about every 14 days.
        *[(f"u{i}", "coffee", "pantry", days(0, 14, 28 + i % 3)) for i in range(20)],
        # A sofa: bought once by everyone.
        *[(f"u{i}", "sofa", "furniture", days(i)) for i in range(20)],
        # Tea: two buyers, one gap: its category's interval and a rate pulled towards it.
        ("u1", "tea", "pantry", days(0, 9)), ("u2", "tea", "pantry", days(3)),
    ]
    stats = repurchase_stats(rows)
    assert stats["coffee"].rate > 0.8
    assert stats["coffee"].days == pytest.approx(14, abs=1)
    assert stats["sofa"].rate < BuyAgainSettings().min_rate
    assert stats["sofa"].days == 0.0
    assert stats["tea"].days == pytest.approx(14, abs=1)  # the category's, not its one gap
    assert 0.5 < stats["tea"].rate < stats["coffee"].rate
    assert repurchase_stats([]) == {}


def test_due_is_the_chance_of_buying_again_within_the_horizon() -> None:
    s = BuyAgainSettings(horizon_days=7, gap_spread=0.7)
    # A weekly purchase bought five days ago is very likely due this week.
    assert due(5, 7, s) > 0.6
    # One that lasts two months and was bought yesterday is not.
    assert due(1, 60, s) < 0.05
    # Closer to its time, more due; a longer horizon, more due.
    assert due(10, 60, s) < due(40, 60, s) < due(55, 60, s)
    assert due(40, 60, s) < due(40, 60, BuyAgainSettings(horizon_days=30, gap_spread=0.7))
    # Long overdue keeps a floor: perhaps they still need it.
    assert due(3000, 7, s) == pytest.approx(s.overdue_floor)
    assert 0 < due(5, 7, s) <= 1
    assert due(5, 0, s) == 0.0


def test_a_shoppers_list_is_what_is_due_and_often_bought_again() -> None:
    stats = {"coffee": Repurchase(0.9, 14), "filters": Repurchase(0.6, 60),
             "sofa": Repurchase(0.02, 0), "soap": Repurchase(0.7, 30)}
    now = T0 + 100 * DAY
    past = [
        PastPurchases("coffee", days(72, 86)),      # last 14 days ago: due
        PastPurchases("filters", days(95)),         # bought 5 days ago, lasts 60
        PastPurchases("sofa", days(10)),            # rarely bought again: never
        PastPurchases("soap", days(40, 70), returned=True),  # returned: left out
        PastPurchases("unknown", days(50)),         # nothing learnt about it: left out
    ]
    ranked = buy_again(past, stats, now, 10)
    assert [r.product_id for r in ranked] == ["coffee", "filters"]
    assert ranked[0].score > ranked[1].score
    assert buy_again(past, stats, now, 1) == ranked[:1]
    assert buy_again(past, stats, now, 0) == []


def test_the_shoppers_own_rhythm_moves_the_expected_interval() -> None:
    stats = {"milk": Repurchase(0.9, 30)}
    now = T0 + 40 * DAY
    # This shopper buys milk every 10 days: 10 days after the last it is due for them.
    s = BuyAgainSettings(gap_spread=0.7)
    mine = buy_again([PastPurchases("milk", days(0, 10, 20, 30))], stats, now, 5, s)
    theirs = buy_again([PastPurchases("milk", days(30))], stats, now, 5, s)
    assert mine[0].score > 0.6
    assert theirs[0].score < mine[0].score


def test_the_baseline_counts_and_ages_purchases() -> None:
    now = T0 + 100 * DAY
    past = [PastPurchases("a", days(99)), PastPurchases("b", days(10, 20, 30)),
            PastPurchases("c", days(98, 99))]
    assert [r.product_id for r in frequency_recency(past, now, 10)] == ["c", "a", "b"]
