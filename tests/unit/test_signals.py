import numpy as np
import pytest

from ranking.signals import anchor_similarity, factor_scores


def _rows(*rows: list[float]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def test_anchor_similarity_takes_the_best_matching_anchor() -> None:
    texts = _rows([1, 0], [0, 1], [1, 1])
    anchors = _rows([1, 0], [0, 1])
    scores = anchor_similarity(texts, anchors, np.array([1.0, 1.0]))
    assert scores == pytest.approx([1.0, 1.0, np.sqrt(0.5)], abs=1e-6)


def test_a_weak_anchor_counts_less_but_not_nothing() -> None:
    texts = _rows([1, 0], [0, 1])
    anchors = _rows([1, 0], [0, 1])
    # The second anchor weighs a quarter of the first: its matches are damped by sqrt(1/4).
    scores = anchor_similarity(texts, anchors, np.array([4.0, 1.0]))
    assert scores == pytest.approx([1.0, 0.5], abs=1e-6)


def test_anchor_similarity_ignores_vector_lengths_and_zero_rows() -> None:
    texts = _rows([3, 0], [0, 0])
    scores = anchor_similarity(texts, _rows([0.5, 0]), np.array([1.0]))
    assert scores == pytest.approx([1.0, 0.0])


def test_no_anchors_scores_zero() -> None:
    texts = _rows([1, 0], [0, 1])
    empty = np.zeros((0, 2), dtype=np.float32)
    assert anchor_similarity(texts, empty, np.zeros(0)).tolist() == [0.0, 0.0]
    assert anchor_similarity(texts, _rows([1, 0]), np.array([0.0])).tolist() == [0.0, 0.0]


def test_anchor_similarity_refuses_mismatched_or_negative_weights() -> None:
    texts = _rows([1, 0])
    with pytest.raises(ValueError, match="do not match"):
        anchor_similarity(texts, _rows([1, 0], [0, 1]), np.array([1.0]))
    with pytest.raises(ValueError, match="non-negative"):
        anchor_similarity(texts, _rows([1, 0], [0, 1]), np.array([1.0, -1.0]))


def test_factor_scores_are_dot_products_and_nan_without_factors() -> None:
    factors = _rows([1, 2], [3, 4], [0, 0])
    has = np.array([True, True, False])
    scores = factor_scores(factors, has, np.array([1.0, -1.0], dtype=np.float32))
    assert scores[:2].tolist() == [-1.0, -1.0]
    assert np.isnan(scores[2])


def test_factor_scores_refuses_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="has_factors"):
        factor_scores(_rows([1, 2]), np.array([True, False]), np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="vector"):
        factor_scores(_rows([1, 2]), np.array([True]), np.zeros(3, np.float32))
