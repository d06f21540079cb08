from typing import Any

import numpy as np
import pytest
from scipy import sparse

from ranking.foldin import fold_in_user, gram_matrix

REGULARIZATION = 0.1
ALPHA = 10.0


def test_gram_matrix_is_y_transpose_y() -> None:
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    gram = gram_matrix(y)
    assert gram.dtype == np.float32
    np.testing.assert_array_equal(gram, [[2.0, 1.0], [1.0, 2.0]])


def test_fold_in_known_answer() -> None:
    # Items (1, 0), (0, 1), (1, 1); the user touched item 0 once; α = 2, λ = 1.
    # A = YᵀY + λI + (c − 1)·y0·y0ᵀ = [[2,1],[1,2]] + I + [[1,0],[0,0]] = [[4,1],[1,3]]
    # b = c·y0 = (2, 0);  x = A⁻¹b = (1/11)·[[3,-1],[-1,4]]·(2, 0) = (6/11, −2/11)
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    x = fold_in_user(y[[0]], np.array([1.0], np.float32), gram_matrix(y), 1.0, 2.0)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, [6 / 11, -2 / 11], rtol=1e-6)


def test_user_without_interactions_folds_in_to_zero() -> None:
    y = np.eye(3, dtype=np.float32)
    empty = fold_in_user(np.zeros((0, 3), np.float32), np.zeros(0, np.float32), y, 0.1, 40.0)
    np.testing.assert_array_equal(empty, np.zeros(3, np.float32))


def test_zero_confidence_rows_are_ignored() -> None:
    y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    gram = gram_matrix(y)
    with_zero = fold_in_user(y[[0, 2]], np.array([1.0, 0.0], np.float32), gram, 1.0, 2.0)
    without = fold_in_user(y[[0]], np.array([1.0], np.float32), gram, 1.0, 2.0)
    np.testing.assert_allclose(with_zero, without)


def test_fold_in_does_not_mutate_inputs() -> None:
    y = np.array([[1.0, 0.5], [0.2, 1.0]], dtype=np.float32)
    c = np.array([2.0, 1.0], dtype=np.float32)
    gram = gram_matrix(y)
    copies = [y.copy(), c.copy(), gram.copy()]
    fold_in_user(y, c, gram, 0.1, 40.0)
    for array, copy in zip((y, c, gram), copies, strict=True):
        np.testing.assert_array_equal(array, copy)


def test_bad_inputs_are_refused() -> None:
    y = np.eye(2, dtype=np.float32)
    gram = gram_matrix(y)
    with pytest.raises(ValueError, match="finite"):
        fold_in_user(y, np.array([1.0, np.nan], np.float32), gram, 0.1, 40.0)
    with pytest.raises(ValueError, match="confidences"):
        fold_in_user(y, np.ones(3, np.float32), gram, 0.1, 40.0)
    with pytest.raises(ValueError, match="item_factors"):
        fold_in_user(np.ones((2, 3), np.float32), np.ones(2, np.float32), gram, 0.1, 40.0)
    with pytest.raises(ValueError, match="alpha"):
        fold_in_user(y, np.ones(2, np.float32), gram, 0.1, 0.0)


@pytest.fixture(scope="module")
def trained() -> tuple[sparse.csr_matrix, Any]:
    """A small implicit-ALS model trained to convergence, with its (users × items) weights."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(7)
    n_users, n_items = 24, 30
    touched = rng.random((n_users, n_items)) < 0.25
    weights = np.where(touched, rng.integers(1, 6, (n_users, n_items)), 0).astype(np.float32)
    weights[:, 0] = 0.5  # one fractional, decayed-looking weight in every row
    matrix = sparse.csr_matrix(weights)
    model = AlternatingLeastSquares(
        factors=4,
        regularization=REGULARIZATION,
        alpha=ALPHA,
        iterations=100,
        use_cg=False,
        random_state=1,
        num_threads=1,
    )
    with threadpool_limits(1, "blas"):
        model.fit(matrix, show_progress=False)
    return matrix, model


def _fold_in(matrix: sparse.csr_matrix, model: Any, user: int) -> np.ndarray:
    y = np.asarray(model.item_factors, dtype=np.float32)
    row = matrix[user]
    return fold_in_user(y[row.indices], row.data, gram_matrix(y), REGULARIZATION, ALPHA)


def test_fold_in_matches_implicits_recalculate_user(
    trained: tuple[sparse.csr_matrix, Any],
) -> None:
    matrix, model = trained
    for user in range(matrix.shape[0]):
        expected = model.recalculate_user(user, matrix[user])
        np.testing.assert_allclose(
            _fold_in(matrix, model, user), expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max()
        )


def test_negative_feedback_folds_in_as_implicit_reads_it(
    trained: tuple[sparse.csr_matrix, Any],
) -> None:
    """A returned or disliked product: preference 0 with confidence alpha * |weight|."""
    matrix, model = trained
    for user in range(6):
        row = matrix[user].toarray().ravel()
        against = np.flatnonzero(row == 0)[:3]
        row[against] = -4.0
        signed = sparse.csr_matrix(row[np.newaxis, :])
        expected = model.recalculate_user(user, signed)
        y = np.asarray(model.item_factors, dtype=np.float32)
        got = fold_in_user(y[signed.indices], signed.data, gram_matrix(y), REGULARIZATION, ALPHA)
        np.testing.assert_allclose(got, expected, rtol=1e-3,
                                   atol=1e-3 * np.abs(expected).max())
        # And it is not the same as no feedback at all.
        assert not np.allclose(got, _fold_in(matrix, model, user), atol=1e-3)


def test_fold_in_matches_the_trained_user_factor_after_convergence(
    trained: tuple[sparse.csr_matrix, Any],
) -> None:
    matrix, model = trained
    for user in range(matrix.shape[0]):
        trained_factor = model.user_factors[user]
        error = np.linalg.norm(_fold_in(matrix, model, user) - trained_factor)
        assert error <= 0.02 * np.linalg.norm(trained_factor)
