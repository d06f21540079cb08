"""ALS alone: the shopper's factors against every product's, touched products left out."""

from __future__ import annotations

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from scipy import sparse

from ranking.plain_als import top_k


def test_best_first_without_what_the_shopper_touched() -> None:
    items = np.array([[1, 0], [0, 1], [2, 0], [1, 1]], dtype=np.float32)
    user = np.array([1, 0.5], dtype=np.float32)
    assert top_k(user, items, set(), 3).tolist() == [2, 3, 0]
    assert top_k(user, items, {2}, 3).tolist() == [3, 0, 1]
    # Fewer products left than asked for: only those, never a touched one.
    assert top_k(user, items, {0, 2, 3}, 3).tolist() == [1]
    assert top_k(user, items, {0, 1, 2, 3}, 3).tolist() == []


def test_it_is_what_the_library_recommends() -> None:
    rng = np.random.default_rng(0)
    matrix = sparse.random(40, 30, density=0.15, random_state=1, format="csr",
                           dtype=np.float32)
    matrix.data[:] = rng.integers(1, 5, size=matrix.nnz)
    model = AlternatingLeastSquares(factors=8, iterations=5, random_state=0)
    model.fit(matrix, show_progress=False)
    for row in range(5):
        theirs, _ = model.recommend(row, matrix[row], N=10, filter_already_liked_items=True)
        seen = matrix.indices[matrix.indptr[row]:matrix.indptr[row + 1]].tolist()
        ours = top_k(model.user_factors[row], model.item_factors, seen, 10)
        assert ours.tolist() == theirs.tolist()
