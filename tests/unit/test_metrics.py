import math

import numpy as np
import pytest

from ranking.metrics import (
    average_precision_at_k,
    catalog_coverage,
    hit_rate_at_k,
    intra_list_diversity,
    ndcg_at_k,
    novelty,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    reciprocal_rank,
    summarise,
)

LOG2_3 = math.log2(3)


# Known answers


def test_ndcg_of_a_single_hit_in_second_place_is_one_over_log2_of_3() -> None:
    # DCG = 1/log2(2+1); the ideal puts b first: IDCG = 1/log2(1+1) = 1.
    assert ndcg_at_k(["a", "b", "c"], {"b"}, 3) == pytest.approx(1 / LOG2_3)


def test_graded_ndcg_uses_the_gains_and_the_best_ordering_of_them() -> None:
    gains = {"a": 1.0, "b": 3.0, "d": 2.0}
    # DCG  = 1/log2(2) + 3/log2(3) + 0 (c is not relevant)
    # IDCG = 3/log2(2) + 2/log2(3) + 1/log2(4)   (b, d, a)
    dcg = 1 + 3 / LOG2_3
    idcg = 3 + 2 / LOG2_3 + 1 / 2
    assert ndcg_at_k(["a", "b", "c"], gains, 3) == pytest.approx(dcg / idcg)


def test_ideal_dcg_is_cut_at_k() -> None:
    # Four relevant items but k = 2: the ideal is two hits, so two hits score 1.
    assert ndcg_at_k(["a", "b"], {"a", "b", "c", "d"}, 2) == pytest.approx(1.0)


def test_precision_and_recall_count_hits_in_the_first_k() -> None:
    recommended = ["a", "b", "c", "d"]
    relevant = {"b", "d", "x"}
    assert precision_at_k(recommended, relevant, 4) == pytest.approx(2 / 4)
    assert recall_at_k(recommended, relevant, 4) == pytest.approx(2 / 3)
    assert precision_at_k(recommended, relevant, 2) == pytest.approx(1 / 2)
    assert recall_at_k(recommended, relevant, 2) == pytest.approx(1 / 3)


def test_recall_divides_by_all_relevant_items_even_beyond_k() -> None:
    # Three relevant, k = 2, both slots hit: recall 2/3, not 2/min(3, 2) = 1.
    assert recall_at_k(["a", "b"], {"a", "b", "c"}, 2) == pytest.approx(2 / 3)


def test_average_precision_averages_precision_at_each_hit() -> None:
    recommended = ["a", "b", "c", "d", "e"]
    relevant = {"a", "c", "f"}
    # Hits at ranks 1 and 3: (1/1 + 2/3) / min(3, 5)
    assert average_precision_at_k(recommended, relevant, 5) == pytest.approx((1 + 2 / 3) / 3)
    # k = 2: one hit at rank 1, normalised by min(3, 2) = 2
    assert average_precision_at_k(recommended, relevant, 2) == pytest.approx(1 / 2)


def test_reciprocal_rank_is_one_over_the_first_relevant_rank() -> None:
    assert reciprocal_rank(["a", "b", "c"], {"c", "b"}) == pytest.approx(1 / 2)
    assert reciprocal_rank(["a", "b", "c"], {"c"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a", "b", "c"], {"c"}, k=2) == 0.0
    assert reciprocal_rank(["a", "b", "c"], {"z"}) == 0.0


def test_hit_rate_is_one_when_anything_relevant_is_in_the_first_k() -> None:
    assert hit_rate_at_k(["a", "b", "c"], {"c"}, 3) == 1.0
    assert hit_rate_at_k(["a", "b", "c"], {"c"}, 2) == 0.0


def test_ranking_metrics_names_each_metric_at_k() -> None:
    row = ranking_metrics(["a", "b", "c"], {"b"}, 10)
    assert row == {
        "precision@10": pytest.approx(1 / 10),
        "recall@10": pytest.approx(1.0),
        "ndcg@10": pytest.approx(1 / LOG2_3),
        "map@10": pytest.approx(1 / 2),
        "mrr@10": pytest.approx(1 / 2),
        "hit_rate@10": 1.0,
    }


# Edge cases


def test_empty_list_and_empty_relevant_set_score_zero() -> None:
    for metric in (precision_at_k, recall_at_k, hit_rate_at_k, average_precision_at_k, ndcg_at_k):
        assert metric([], {"a"}, 5) == 0.0
        assert metric(["a"], set(), 5) == 0.0
        assert metric(["a"], {"a": 0.0}, 5) == 0.0
    assert reciprocal_rank([], {"a"}) == 0.0


def test_k_larger_than_the_list_counts_missing_slots_as_empty() -> None:
    recommended = ["a", "b"]
    relevant = {"a", "b"}
    assert precision_at_k(recommended, relevant, 10) == pytest.approx(2 / 10)
    assert recall_at_k(recommended, relevant, 10) == pytest.approx(1.0)
    assert ndcg_at_k(recommended, relevant, 10) == pytest.approx(1.0)
    assert average_precision_at_k(recommended, relevant, 10) == pytest.approx(1.0)


def test_a_repeated_item_counts_once_and_wastes_its_slot() -> None:
    recommended = ["a", "a", "b"]
    relevant = {"a", "b"}
    assert precision_at_k(recommended, relevant, 2) == pytest.approx(1 / 2)
    assert recall_at_k(recommended, relevant, 3) == pytest.approx(2 / 2)
    # DCG = 1/log2(2) + 0 + 1/log2(4); IDCG = 1 + 1/log2(3)
    assert ndcg_at_k(recommended, relevant, 3) == pytest.approx(1.5 / (1 + 1 / LOG2_3))
    # Hits at ranks 1 and 3: (1/1 + 2/3) / 2
    assert average_precision_at_k(recommended, relevant, 3) == pytest.approx((1 + 2 / 3) / 2)


def test_binary_metrics_treat_positive_gains_as_relevant() -> None:
    gains = {"a": 0.0, "b": 2.0}
    assert precision_at_k(["a", "b"], gains, 2) == pytest.approx(1 / 2)
    assert recall_at_k(["a", "b"], gains, 2) == pytest.approx(1.0)
    assert reciprocal_rank(["a", "b"], gains) == pytest.approx(1 / 2)


def test_non_positive_k_is_refused() -> None:
    for metric in (precision_at_k, recall_at_k, hit_rate_at_k, average_precision_at_k, ndcg_at_k):
        with pytest.raises(ValueError, match="k must be positive"):
            metric(["a"], {"a"}, 0)
    with pytest.raises(ValueError, match="k must be positive"):
        reciprocal_rank(["a"], {"a"}, k=-1)


def test_negative_or_non_finite_gains_are_refused() -> None:
    with pytest.raises(ValueError, match="gain"):
        ndcg_at_k(["a"], {"a": -1.0}, 1)
    with pytest.raises(ValueError, match="gain"):
        ndcg_at_k(["a"], {"a": math.inf}, 1)


def test_numpy_arrays_of_ids_are_accepted() -> None:
    recommended = np.array(["a", "b", "c"])
    assert ndcg_at_k(recommended, {"b"}, 3) == pytest.approx(1 / LOG2_3)  # type: ignore[arg-type]


# Properties


def _random_case(rng: np.random.Generator) -> tuple[list[str], dict[str, float]]:
    pool = [f"i{n}" for n in range(12)]
    recommended = [str(x) for x in rng.choice(pool, size=int(rng.integers(0, 10)))]
    chosen = rng.choice(pool, size=int(rng.integers(0, 6)), replace=False)
    gains = {str(x): float(rng.integers(0, 4)) for x in chosen}
    return recommended, gains


def test_every_accuracy_metric_lies_between_zero_and_one() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        recommended, gains = _random_case(rng)
        k = int(rng.integers(1, 12))
        for relevant in (gains, set(gains)):
            for value in ranking_metrics(recommended, relevant, k).values():
                assert 0.0 <= value <= 1.0 + 1e-12


def test_a_perfect_ranking_scores_ndcg_one() -> None:
    gains = {"a": 1.0, "b": 5.0, "c": 3.0, "d": 2.0}
    perfect = sorted(gains, key=lambda item: -gains[item])
    for k in (1, 2, 4, 10):
        assert ndcg_at_k(perfect, gains, k) == pytest.approx(1.0)
        assert ndcg_at_k(perfect, set(gains), k) == pytest.approx(1.0)
    assert ndcg_at_k(perfect[::-1], gains, 4) < 1.0


def test_moving_relevant_items_up_never_lowers_ndcg_map_or_mrr() -> None:
    relevant = {"r1", "r2"}
    worse = ["x", "r1", "y", "r2"]
    better = ["r1", "x", "r2", "y"]
    for metric in (ndcg_at_k, average_precision_at_k, reciprocal_rank):
        assert metric(better, relevant, 4) > metric(worse, relevant, 4)


def test_reordering_within_the_first_k_does_not_change_precision_recall_or_hit_rate() -> None:
    rng = np.random.default_rng(11)
    recommended = ["a", "x", "b", "y", "z", "c"]
    relevant = {"a", "b", "c", "q"}
    for _ in range(20):
        shuffled = [str(s) for s in rng.permutation(recommended)]
        for metric in (precision_at_k, recall_at_k, hit_rate_at_k):
            assert metric(shuffled, relevant, 6) == metric(recommended, relevant, 6)


def test_permuting_irrelevant_items_keeps_every_accuracy_metric() -> None:
    relevant = {"a", "b"}
    one = ["x", "a", "y", "b", "z"]
    other = ["z", "a", "x", "b", "y"]
    assert ranking_metrics(one, relevant, 5) == ranking_metrics(other, relevant, 5)


def test_metrics_do_not_mutate_their_inputs() -> None:
    recommended = ["a", "b", "a", "c"]
    binary = {"a", "c"}
    graded = {"a": 2.0, "c": 0.0, "d": 1.0}
    popularity = {"a": 3.0}
    vectors = np.array([[1.0, 0.0], [0.0, 0.0], [3.0, 4.0]], dtype=np.float32)
    copies = (list(recommended), set(binary), dict(graded), dict(popularity), vectors.copy())

    ranking_metrics(recommended, binary, 3)
    ranking_metrics(recommended, graded, 3)
    novelty(recommended, popularity, 5)
    intra_list_diversity(vectors)
    catalog_coverage([recommended], 10)

    assert (recommended, binary, graded, popularity) == copies[:4]
    np.testing.assert_array_equal(vectors, copies[4])


# List-set metrics


def test_catalog_coverage_counts_distinct_recommended_items() -> None:
    # a, b, c out of six
    assert catalog_coverage([["a", "b"], ["b", "c"], []], 6) == pytest.approx(0.5)
    assert catalog_coverage([], 6) == 0.0


def test_catalog_coverage_refuses_a_catalog_smaller_than_the_lists() -> None:
    with pytest.raises(ValueError, match="catalog"):
        catalog_coverage([["a", "b", "c"]], 2)
    with pytest.raises(ValueError, match="catalog_size"):
        catalog_coverage([["a"]], 0)


def test_intra_list_diversity_is_the_mean_pairwise_cosine_distance() -> None:
    orthogonal = np.array([[1, 0], [0, 1]], dtype=np.float32)
    same = np.array([[1, 0], [2, 0]], dtype=np.float32)
    # Similarities 0, 1/√2, 1/√2, so distances 1, 1 - 1/√2, 1 - 1/√2
    three = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    assert intra_list_diversity(orthogonal) == pytest.approx(1.0)
    assert intra_list_diversity(same) == pytest.approx(0.0, abs=1e-12)
    assert intra_list_diversity(three) == pytest.approx((1 + 2 * (1 - 1 / math.sqrt(2))) / 3)


def test_intra_list_diversity_of_a_short_list_is_zero() -> None:
    assert intra_list_diversity(np.zeros((0, 4), dtype=np.float32)) == 0.0
    assert intra_list_diversity(np.ones((1, 4), dtype=np.float32)) == 0.0


def test_a_zero_vector_counts_as_orthogonal_to_the_rest() -> None:
    vectors = np.array([[1, 0], [0, 0]], dtype=np.float32)
    assert intra_list_diversity(vectors) == pytest.approx(1.0)


def test_intra_list_diversity_refuses_a_flat_array() -> None:
    with pytest.raises(ValueError, match="2-D"):
        intra_list_diversity(np.ones(4, dtype=np.float32))


def test_novelty_is_the_mean_smoothed_self_information() -> None:
    popularity = {"a": 7.0, "b": 3.0}
    # n_users = 7: p(a) = 8/8 -> 0 bits; p(b) = 4/8 -> 1 bit; unseen c: p = 1/8 -> 3 bits
    assert novelty(["a", "b", "c"], popularity, 7) == pytest.approx(4 / 3)
    assert novelty(["c"], popularity, 7) == pytest.approx(3.0)


def test_novelty_is_finite_for_unseen_items_and_never_negative() -> None:
    assert math.isfinite(novelty(["never-seen"], {}, 1000))
    # 50 raw events from 7 users are capped at 7: p = 1, novelty 0, not negative
    assert novelty(["a"], {"a": 50.0}, 7) == 0.0


def test_novelty_counts_a_repeated_item_once_and_an_empty_list_as_zero() -> None:
    popularity = {"a": 7.0, "b": 3.0}
    assert novelty(["b", "b", "a"], popularity, 7) == pytest.approx(0.5)
    assert novelty([], popularity, 7) == 0.0
    with pytest.raises(ValueError, match="n_users"):
        novelty(["a"], popularity, 0)


# Summaries


def test_summary_is_the_mean_with_its_standard_error() -> None:
    rows = [{"ndcg@10": 0.2}, {"ndcg@10": 0.4}, {"ndcg@10": 0.6}]
    summary = summarise(rows)
    # sample std = 0.2, so the standard error is 0.2 / √3
    assert summary == {
        "n_users": 3.0,
        "ndcg@10": pytest.approx(0.4),
        "ndcg@10_se": pytest.approx(0.2 / math.sqrt(3)),
    }


def test_summary_of_one_user_has_no_standard_error_and_of_none_only_a_count() -> None:
    one = summarise([{"ndcg@10": 0.5}])
    assert one["ndcg@10"] == 0.5
    assert math.isnan(one["ndcg@10_se"])
    assert summarise([]) == {"n_users": 0.0}


def test_summary_refuses_rows_with_different_metrics_or_non_finite_values() -> None:
    with pytest.raises(ValueError, match="disagree"):
        summarise([{"ndcg@10": 0.2}, {"recall@10": 0.4}])
    with pytest.raises(ValueError, match="non-finite"):
        summarise([{"ndcg@10": math.nan}])
