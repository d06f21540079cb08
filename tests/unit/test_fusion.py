import numpy as np
import pytest

from ranking.fusion import top_k, weighted_score_fusion

NAN = np.nan


def test_fusion_is_the_weighted_mean_of_both_scores() -> None:
    scores = np.array([[0.9, 0.5], [0.6, 0.9]], dtype=np.float32)
    available = np.ones((2, 2), dtype=bool)
    fused = weighted_score_fusion(scores, available, [0.6, 0.4])
    assert fused == pytest.approx([0.74, 0.72])


def test_candidate_without_cf_is_ranked_on_text_alone() -> None:
    scores = np.array([[0.8, NAN], [0.7, 0.9]], dtype=np.float32)
    available = np.array([[True, False], [True, True]])
    fused = weighted_score_fusion(scores, available, [0.5, 0.5])
    assert fused[0] == pytest.approx(0.8)
    assert fused[1] == pytest.approx(0.8)


def test_missing_score_of_an_available_signal_takes_the_retrievers_floor() -> None:
    # Candidate 2 was not in the CF list; its CF score is at most the lowest CF score seen.
    scores = np.array([[0.9, 0.7], [0.8, 0.5], [0.85, NAN]], dtype=np.float32)
    available = np.ones((3, 2), dtype=bool)
    fused = weighted_score_fusion(scores, available, [0.5, 0.5])
    assert fused[2] == pytest.approx((0.85 + 0.5) / 2)


def test_zero_weight_signal_does_not_count() -> None:
    scores = np.array([[0.1, 0.9], [0.2, 0.1]], dtype=np.float32)
    fused = weighted_score_fusion(scores, np.ones((2, 2), dtype=bool), [1.0, 0.0])
    assert fused == pytest.approx([0.1, 0.2])


def test_candidate_with_no_signal_sinks() -> None:
    scores = np.array([[NAN, NAN]], dtype=np.float32)
    fused = weighted_score_fusion(scores, np.zeros((1, 2), dtype=bool), [0.5, 0.5])
    assert fused[0] == -np.inf
    assert top_k(["a"], fused, 5) == []


def test_fusion_does_not_mutate_inputs() -> None:
    scores = np.array([[0.5, NAN]], dtype=np.float32)
    available = np.ones((1, 2), dtype=bool)
    before = scores.copy()
    weighted_score_fusion(scores, available, [0.5, 0.5])
    np.testing.assert_array_equal(scores, before)


def test_bad_shapes_and_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="weights"):
        weighted_score_fusion(np.zeros((1, 2), np.float32), np.ones((1, 2), bool), [1.0])
    with pytest.raises(ValueError, match="non-negative"):
        weighted_score_fusion(np.zeros((1, 2), np.float32), np.ones((1, 2), bool), [1.0, -1])


def test_top_k_breaks_ties_by_id() -> None:
    fused = np.array([0.5, 0.7, 0.5], dtype=np.float32)
    assert top_k(["b", "c", "a"], fused, 3) == [("c", pytest.approx(0.7)), ("a", 0.5), ("b", 0.5)]
