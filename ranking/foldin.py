"""ALS fold-in: a CF vector for one user from fixed item factors, without retraining.

A shopper who arrives after the last reindex has no CF vector, and retraining the whole
model for each new shopper is out of the question. With the item factors Y held fixed,
the user half of an implicit-ALS step has a closed form (Hu, Koren & Volinsky, 2008):

    x_u = (YᵀY + Y_uᵀ (C_u − I) Y_u + λI)⁻¹ Y_uᵀ C_u p_u,   p_u = 1

where Y_u holds the factors of the items the user interacted with and C_u their
confidences. YᵀY over all items is the same for every user, so it is computed once per
reindex (:func:`gram_matrix`) and a fold-in costs O(m · f² + f³) for m items and f
factors: well under a millisecond for f = 64.

Confidence follows ``implicit``, which trains the item factors: c = α · weight. (The
paper writes 1 + α · weight; ``implicit`` multiplies the stored weights by α and uses
them as c directly.) A fold-in must use the trainer's convention, or the folded-in
vector is solved for a different objective than the item factors were. Pure numpy; the
API never imports ``implicit``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def gram_matrix(item_factors: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """YᵀY: (n_items, factors) float32 in, (factors, factors) float32 out.

    Accumulated in float64, since it sums over the whole catalogue, then stored as float32
    like the factors themselves.
    """
    y = np.asarray(item_factors, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"item_factors must be 2-D (n_items, factors), got shape {y.shape}")
    return (y.T @ y).astype(np.float32)


def fold_in_user(
    item_factors: npt.NDArray[np.floating],
    confidences: npt.NDArray[np.floating],
    gram: npt.NDArray[np.floating],
    regularization: float,
    alpha: float,
) -> npt.NDArray[np.float32]:
    """The exact ALS user factor for one user's interactions, item factors held fixed.

    item_factors:   (m, f) float32, one row per distinct item the user interacted with
                    (sum the weights of repeated events into one row: ALS sees one
                    confidence per user–item pair).
    confidences:    (m,) float32, the raw interaction weights (decayed event weights),
                    before α; finite. A zero weight is no interaction and its row is
                    ignored, as a sparse matrix would not store it. A negative weight is
                    negative feedback, as ``implicit`` reads it: preference 0 with
                    confidence α · |weight|.
    gram:           (f, f) float32, YᵀY over all items, from :func:`gram_matrix`.
    regularization: λ >= 0, as the model was trained with.
    alpha:          α > 0, as the model was trained with.

    Solves (YᵀY + Y_uᵀ(C_u − I)Y_u + λI) x = Y_uᵀ C_u 1 with C_u = diag(α · weight), in
    float64. This is what ``implicit``'s ``recalculate_user`` computes, and what its
    trained user factors converge to. A user with no interactions gets the zero vector
    (the right-hand side is zero). Returns (f,) float32; inputs are not modified.
    """
    y = np.asarray(item_factors, dtype=np.float64)
    weights = np.asarray(confidences, dtype=np.float64)
    g = np.asarray(gram, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] != g.shape[1]:
        raise ValueError(f"gram must be square (f, f), got shape {g.shape}")
    f = g.shape[0]
    if y.ndim != 2 or y.shape[1] != f:
        raise ValueError(f"item_factors must be (m, {f}), got shape {y.shape}")
    if weights.shape != (y.shape[0],):
        raise ValueError(f"confidences must be ({y.shape[0]},), got shape {weights.shape}")
    if not np.all(np.isfinite(weights)):
        raise ValueError("confidences must be finite")
    if not regularization >= 0:
        raise ValueError(f"regularization must be non-negative, got {regularization}")
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha}")

    present = weights != 0
    y_u = y[present]
    c_u = alpha * np.abs(weights[present])
    if y_u.shape[0] == 0:
        return np.zeros(f, dtype=np.float32)
    a = g + regularization * np.eye(f) + y_u.T @ ((c_u - 1.0)[:, np.newaxis] * y_u)
    # Only what the shopper wanted (p = 1) pulls the vector towards it.
    b = y_u.T @ np.where(weights[present] > 0, c_u, 0.0)
    return np.linalg.solve(a, b).astype(np.float32)
