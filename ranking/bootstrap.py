"""Cold-start items: a CF vector for a product nobody has interacted with yet.

A new product has no column in the interaction matrix, so ALS gives it no factors and
the CF retriever cannot find it. Its text, though, says what it is like: the products
closest to it in text that do have factors are the best guess of who will want it. The
bootstrapped vector is the similarity-weighted mean of their factors, so the product can
be recommended by CF from its first minute, until a reindex learns its own factors.
Pure: arrays in, arrays out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
Nearest = Callable[[Matrix, Matrix, int], tuple[npt.NDArray[np.intp], Matrix]]
"""(queries (c, d), known (n, d), k) -> the k best known rows of each query by dot product:
their indices (c, k) and similarities (c, k), in any order within a row."""


def exact_nearest(queries: Matrix, known: Matrix, k: int
                  ) -> tuple[npt.NDArray[np.intp], Matrix]:
    """Nearest by brute force in numpy (see `Nearest`)."""
    sims = queries @ known.T  # (c, n)
    n = known.shape[0]
    top = np.argpartition(sims, n - k, axis=1)[:, n - k:]
    return top, np.take_along_axis(sims, top, axis=1)


def neighbour_average(similarities: npt.NDArray[np.floating],
                      factors: npt.NDArray[np.floating]) -> Matrix | None:
    """The similarity-weighted mean of the neighbours' factors.

    similarities: (n,) text similarity of each neighbour to the new product.
    factors:      (n, k) the neighbours' CF factors.

    Neighbours with a similarity of 0 or less carry no weight (an unrelated product says
    nothing about who wants this one). Returns (k,) float32, or None when no neighbour
    has a positive similarity.
    """
    sims = np.asarray(similarities, dtype=np.float64)
    f = np.asarray(factors, dtype=np.float64)
    if f.ndim != 2 or sims.shape != (f.shape[0],):
        raise ValueError(f"similarities {sims.shape} and factors {f.shape} do not match")
    weights = np.clip(sims, 0.0, None)
    total = weights.sum()
    if total <= 0:
        return None
    mean: Matrix = (weights @ f / total).astype(np.float32)
    return mean


def inherit_factors(
    new_texts: npt.NDArray[np.floating],
    known_texts: npt.NDArray[np.floating],
    known_factors: npt.NDArray[np.floating],
    k: int = 20,
    chunk: int = 256,
    nearest: Nearest = exact_nearest,
) -> tuple[Matrix, npt.NDArray[np.bool_]]:
    """Bootstrapped factors for many new products at once (a reindex): for each, what
    `neighbour_average` gives over its `k` closest known products.

    new_texts:     (m, d) text vectors of the products without factors.
    known_texts:   (n, d) text vectors of the products with factors.
    known_factors: (n, f) their factors.
    k:             neighbours per product (the issue asks for 20).
    nearest:       how each chunk's neighbours are found (exact either way; a reindex
                   passes a faster one, indexing.nearest).

    Cosine similarity, exact, in chunks of `chunk` new products so memory stays at
    chunk × n floats (and as many indices). Whole chunks at a time, never a product at a
    time: at 23K new against 77K known products the per-product loop took a minute, and
    the matrix product is now most of the time. Returns (m, f) factors and (m,) whether
    each product got any (a zero row where it did not).
    """
    new = _unit(new_texts)
    known = _unit(known_texts)
    factors = np.asarray(known_factors, dtype=np.float32)
    m, n = new.shape[0], known.shape[0]
    if known.shape[1] != new.shape[1] or factors.shape[0] != n:
        raise ValueError(f"new {new.shape}, known {known.shape}, factors {factors.shape}")
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    out = np.zeros((m, factors.shape[1] if factors.ndim == 2 else 0), dtype=np.float32)
    got = np.zeros(m, dtype=bool)
    if m == 0 or n == 0:
        return out, got
    take = min(k, n)
    for start in range(0, m, chunk):
        top, sims = nearest(new[start:start + chunk], known, take)  # (c, take) each
        # As neighbour_average: weights are the positive similarities, in float64.
        weights = np.clip(np.asarray(sims, dtype=np.float64), 0.0, None)
        total = weights.sum(axis=1)
        ok = total > 0
        means = np.einsum("ck,ckf->cf", weights[ok], factors[top[ok]].astype(np.float64))
        rows = np.arange(start, start + top.shape[0])[ok]
        out[rows] = (means / total[ok, None]).astype(np.float32)
        got[rows] = True
    return out, got


def _unit(x: npt.NDArray[np.floating]) -> Matrix:
    rows = np.asarray(x, dtype=np.float32)
    if rows.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {rows.shape}")
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: Matrix = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    return unit
