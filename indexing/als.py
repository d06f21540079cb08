"""Implicit-feedback matrix factorisation (ALS from `implicit`) on the confidence matrix."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from models.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Factors:
    """`users`: (n_users, factors) float32; `items`: (n_items, factors) float32."""

    users: npt.NDArray[np.float32]
    items: npt.NDArray[np.float32]


def train_als(matrix: sparse.csr_matrix, settings: Settings) -> Factors:
    """Fit ALS on a (users × items) confidence matrix; implicit scales it by alpha."""
    # implicit warns, and runs slower, when OpenBLAS threads compete with its own.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from implicit.cpu.als import AlternatingLeastSquares

    n_users, n_items = matrix.shape
    if n_users == 0 or n_items == 0 or matrix.nnz == 0:
        empty_u = np.zeros((n_users, settings.training.als_factors), dtype=np.float32)
        empty_i = np.zeros((n_items, settings.training.als_factors), dtype=np.float32)
        return Factors(empty_u, empty_i)
    model = AlternatingLeastSquares(
        factors=settings.training.als_factors,
        regularization=settings.training.als_regularization,
        alpha=settings.training.als_alpha,
        iterations=settings.training.als_iterations,
        random_state=settings.training.als_seed,
        dtype=np.float32,
    )
    model.fit(matrix.astype(np.float32).tocsr(), show_progress=False)
    users = np.ascontiguousarray(model.user_factors, dtype=np.float32)
    items = np.ascontiguousarray(model.item_factors, dtype=np.float32)
    return Factors(users, items)
