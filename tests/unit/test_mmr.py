
import numpy as np
import pytest

from ranking.mmr import mmr

# Three directions: items 0 and 1 are near-duplicates, item 2 points elsewhere.
VECTORS = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0]], dtype=np.float32)
SCORES = np.array([0.9, 0.85, 0.6], dtype=np.float32)


def test_lambda_one_keeps_score_order() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random(50).astype(np.float32)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    expected = sorted(range(50), key=lambda i: (-scores[i], i))
    assert mmr(scores, vectors, k=50, lambda_=1.0) == expected


def test_mmr_avoids_near_duplicates() -> None:
    # Two variants of one product lead the scores; a slightly weaker, different item
    # follows, and a weak filler sets the bottom of the relevance scale.
    vectors = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0], [-1.0, 0.0]], dtype=np.float32)
    scores = np.array([1.0, 0.98, 0.9, 0.0], dtype=np.float32)
    assert mmr(scores, vectors, k=2, lambda_=1.0) == [0, 1]
    assert mmr(scores, vectors, k=2) == [0, 2]


def test_mmr_known_answer() -> None:
    # Relevance after min–max: [1, 0.8333, 0]. After picking 0, with λ = 0.7:
    #   item 1: 0.7 · 0.8333 − 0.3 · 0.99 = 0.2863
    #   item 2: 0.7 · 0     − 0.3 · 0    = 0.0
    # so the near-duplicate still wins: relevance outweighs similarity at this λ.
    # At λ = 0.5: item 1 scores 0.4167 − 0.495 < 0 and item 2 is picked.
    assert mmr(SCORES, VECTORS, k=3, lambda_=0.7) == [0, 1, 2]
    assert mmr(SCORES, VECTORS, k=3, lambda_=0.5) == [0, 2, 1]


def test_relevance_scale_does_not_change_the_choice() -> None:
    scaled = SCORES * 1000 - 50
    for lam in (0.3, 0.5, 0.7):
        assert mmr(scaled, VECTORS, k=3, lambda_=lam) == mmr(SCORES, VECTORS, k=3, lambda_=lam)


def test_vector_length_does_not_change_the_choice() -> None:
    stretched = VECTORS * np.array([[10.0], [0.1], [3.0]], dtype=np.float32)
    assert mmr(SCORES, stretched, k=3, lambda_=0.5) == mmr(SCORES, VECTORS, k=3, lambda_=0.5)


def test_ties_go_to_the_lower_index() -> None:
    scores = np.ones(4, dtype=np.float32)
    vectors = np.eye(4, dtype=np.float32)
    assert mmr(scores, vectors, k=4) == [0, 1, 2, 3]


def test_k_larger_than_the_pool_returns_every_candidate() -> None:
    picked = mmr(SCORES, VECTORS, k=10)
    assert sorted(picked) == [0, 1, 2]
    assert mmr(SCORES, VECTORS, k=0) == []
    assert mmr(np.zeros(0, np.float32), np.zeros((0, 4), np.float32), k=5) == []


def test_candidates_without_a_finite_score_are_never_picked() -> None:
    scores = np.array([np.nan, 0.5, -np.inf, 0.2], dtype=np.float32)
    vectors = np.eye(4, dtype=np.float32)
    assert mmr(scores, vectors, k=4) == [1, 3]


def test_zero_vector_counts_as_dissimilar() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    scores = np.array([1.0, 0.5, 0.9], dtype=np.float32)
    assert mmr(scores, vectors, k=3, lambda_=0.5) == [0, 1, 2]


def test_mmr_does_not_mutate_inputs_and_is_deterministic() -> None:
    rng = np.random.default_rng(11)
    scores = rng.random(40).astype(np.float32)
    vectors = rng.normal(size=(40, 16)).astype(np.float32)
    s_copy, v_copy = scores.copy(), vectors.copy()
    first = mmr(scores, vectors, k=10)
    assert mmr(scores, vectors, k=10) == first
    np.testing.assert_array_equal(scores, s_copy)
    np.testing.assert_array_equal(vectors, v_copy)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="lambda_"):
        mmr(SCORES, VECTORS, k=2, lambda_=1.5)
    with pytest.raises(ValueError, match="vectors"):
        mmr(SCORES, VECTORS[:2], k=2)
    with pytest.raises(ValueError, match="k must"):
        mmr(SCORES, VECTORS, k=-1)


def test_two_hundred_candidates_of_384_dimensions_give_fifty_distinct_picks() -> None:
    # Speed is measured in the benchmarks, not asserted here.
    rng = np.random.default_rng(5)
    scores = rng.random(200).astype(np.float32)
    vectors = rng.normal(size=(200, 384)).astype(np.float32)
    picked = mmr(scores, vectors, k=50)
    assert len(set(picked)) == 50
