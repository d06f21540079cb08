import numpy as np
import pytest

from ranking.split import (
    COLD_START_BUCKETS,
    cold_start_bucket,
    temporal_split,
    validation_cut,
)

WEIGHTS = {"purchase": 5.0, "add_to_cart": 3.0, "click": 2.0, "view": 1.0}

# A tiny timeline, cut at t = 5:
#   u1 views a, clicks b before the cut; after it buys a again (seen), views then carts c.
#   u2 only has history.  u3 only buys after the cut (cold).
#   u4 views f before and again after the cut (nothing new to find).
EVENTS = [
    ("u1", "a", "view", 1.0),
    ("u1", "b", "click", 2.0),
    ("u2", "d", "view", 3.0),
    ("u4", "f", "view", 4.9),
    ("u1", "a", "purchase", 5.0),
    ("u3", "e", "purchase", 5.0),
    ("u1", "c", "view", 6.0),
    ("u1", "c", "add_to_cart", 7.0),
    ("u4", "f", "view", 8.0),
]
USERS = np.array([e[0] for e in EVENTS], dtype=object)
ITEMS = np.array([e[1] for e in EVENTS], dtype=object)
TYPES = np.array([e[2] for e in EVENTS], dtype=object)
TIMES = np.array([e[3] for e in EVENTS], dtype=np.float64)
TRAIN = [True, True, True, True, False, False, False, False, False]


def test_train_is_strictly_before_the_cut_and_test_at_or_after_it() -> None:
    split = temporal_split(USERS, ITEMS, TIMES, 5.0)
    assert split.train.tolist() == TRAIN
    assert split.test.tolist() == [not t for t in TRAIN]
    assert split.cut == 5.0


def test_items_seen_in_train_are_left_out_of_the_test_set_by_default() -> None:
    split = temporal_split(USERS, ITEMS, TIMES, 5.0)
    assert split.test_items == {"u1": frozenset({"c"}), "u3": frozenset({"e"})}
    assert split.test_gains == {"u1": {"c": 1.0}, "u3": {"e": 1.0}}


def test_seen_items_stay_in_the_test_set_when_asked() -> None:
    split = temporal_split(USERS, ITEMS, TIMES, 5.0, exclude_seen=False)
    assert split.test_items == {
        "u1": frozenset({"a", "c"}),
        "u3": frozenset({"e"}),
        "u4": frozenset({"f"}),
    }


def test_test_relevance_is_the_strongest_event_weight() -> None:
    split = temporal_split(
        USERS, ITEMS, TIMES, 5.0, event_types=TYPES, relevance=WEIGHTS, exclude_seen=False
    )
    # u1 viewed c (1) then carted it (3); bought a (5)
    assert split.test_gains == {"u1": {"a": 5.0, "c": 3.0}, "u3": {"e": 5.0}, "u4": {"f": 1.0}}


def test_a_zero_weight_event_type_makes_nothing_relevant() -> None:
    purchases_only = dict.fromkeys(WEIGHTS, 0.0) | {"purchase": 1.0}
    split = temporal_split(
        USERS, ITEMS, TIMES, 5.0, event_types=TYPES, relevance=purchases_only, exclude_seen=False
    )
    assert split.test_gains == {"u1": {"a": 1.0}, "u3": {"e": 1.0}}


def test_train_counts_cover_every_user_including_those_seen_only_in_test() -> None:
    split = temporal_split(USERS, ITEMS, TIMES, 5.0)
    assert split.train_counts == {"u1": 2, "u2": 1, "u3": 0, "u4": 1}


def test_users_in_both_have_history_and_something_left_to_find() -> None:
    # u2 has no test events, u3 no history, u4 only repeats what it saw in train.
    assert temporal_split(USERS, ITEMS, TIMES, 5.0).users_in_both == ("u1",)
    kept = temporal_split(USERS, ITEMS, TIMES, 5.0, exclude_seen=False)
    assert kept.users_in_both == ("u1", "u4")


def test_test_users_include_cold_users_and_group_by_bucket() -> None:
    split = temporal_split(USERS, ITEMS, TIMES, 5.0)
    assert split.test_users == ("u1", "u3")
    assert split.test_users_by_bucket() == {"0": ("u3",), "1-2": ("u1",), "3-5": (), "6+": ()}
    assert split.bucket("nobody") == "0"


def test_datetime_times_split_like_numbers() -> None:
    days = np.datetime64("2024-03-01") + (TIMES * 24).astype("timedelta64[h]")
    cut = np.datetime64("2024-03-06T00:00")
    split = temporal_split(USERS, ITEMS, days, cut)
    assert split.train.tolist() == TRAIN
    assert split.test_items == temporal_split(USERS, ITEMS, TIMES, 5.0).test_items


def test_split_does_not_mutate_inputs_and_its_masks_are_read_only() -> None:
    arrays = (USERS.copy(), ITEMS.copy(), TIMES.copy(), TYPES.copy())
    weights = dict(WEIGHTS)
    split = temporal_split(*arrays[:3], 5.0, event_types=arrays[3], relevance=weights)
    for before, after in zip((USERS, ITEMS, TIMES, TYPES), arrays, strict=True):
        np.testing.assert_array_equal(before, after)
    assert weights == WEIGHTS
    with pytest.raises(ValueError, match="read-only"):
        split.train[0] = False


def test_an_empty_event_log_splits_into_nothing() -> None:
    empty = np.array([], dtype=object)
    split = temporal_split(empty, empty, np.array([], dtype=np.float64), 1.0)
    assert split.train.shape == (0,)
    assert split.test_items == {}
    assert split.users_in_both == ()


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        temporal_split(USERS[:2], ITEMS, TIMES, 5.0)
    with pytest.raises(ValueError, match="no relevance weight"):
        temporal_split(USERS, ITEMS, TIMES, 5.0, event_types=TYPES, relevance={"view": 1.0})
    with pytest.raises(ValueError, match="without relevance"):
        temporal_split(USERS, ITEMS, TIMES, 5.0, event_types=TYPES)
    with pytest.raises(ValueError, match="datetime64"):
        temporal_split(USERS, ITEMS, TIMES.astype("datetime64[s]"), 5.0)
    with pytest.raises(ValueError, match="finite"):
        temporal_split(USERS, ITEMS, np.where(TIMES > 7, np.nan, TIMES), 5.0)


@pytest.mark.parametrize(
    ("n", "bucket"),
    [(0, "0"), (1, "1-2"), (2, "1-2"), (3, "3-5"), (5, "3-5"), (6, "6+"), (500, "6+")],
)
def test_cold_start_buckets_follow_the_routing_thresholds(n: int, bucket: str) -> None:
    assert cold_start_bucket(n) == bucket
    assert bucket in COLD_START_BUCKETS


def test_a_negative_interaction_count_has_no_bucket() -> None:
    with pytest.raises(ValueError, match="negative"):
        cold_start_bucket(-1)


def test_validation_cut_leaves_the_last_fraction_after_it() -> None:
    times = np.arange(1.0, 11.0)[::-1]
    cut = validation_cut(times, 0.2)
    assert cut == 9.0
    assert (times >= cut).sum() == 2


def test_validation_cut_keeps_ties_together_after_the_cut() -> None:
    times = np.array([1.0, 2.0, 2.0, 2.0, 3.0])
    assert validation_cut(times, 0.2) == 3.0
    # Two events wanted after the cut; the cut lands on 2, so all three 2s go after it.
    assert validation_cut(times, 0.4) == 2.0


def test_validation_cut_always_leaves_an_event_on_each_side() -> None:
    times = np.array([1.0, 2.0, 3.0])
    assert validation_cut(times, 0.01) == 3.0
    assert validation_cut(times, 0.99) == 2.0


def test_validation_cut_of_datetimes_is_a_datetime() -> None:
    times = np.array(
        ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"], dtype="datetime64[D]"
    )
    cut = validation_cut(times, 0.5)
    assert cut == np.datetime64("2024-01-03")
    assert isinstance(cut, np.datetime64)


def test_validation_cut_refuses_a_fraction_outside_zero_to_one_or_too_few_events() -> None:
    with pytest.raises(ValueError, match="fraction"):
        validation_cut(np.arange(5.0), 1.0)
    with pytest.raises(ValueError, match="at least two"):
        validation_cut(np.array([1.0]), 0.5)
