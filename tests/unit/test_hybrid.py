import math
from itertools import pairwise

import numpy as np
import pytest

from ranking.candidates import Candidate, CandidatePool
from ranking.hybrid import blend, cf_weight, normalise
from ranking.reasons import Reason, ReasonKind

NAN = np.nan


def _f32(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


# cf_weight


def test_cf_weight_starts_at_the_minimum_without_history() -> None:
    assert cf_weight(0) == pytest.approx(0.3)


def test_cf_weight_follows_the_saturating_curve() -> None:
    # 0.3 + 0.4 * (1 - e^-1) at n = saturation.
    assert cf_weight(20) == pytest.approx(0.3 + 0.4 * (1 - math.exp(-1)))
    assert cf_weight(20) == pytest.approx(0.55285, abs=1e-5)
    assert cf_weight(10, alpha_min=0.0, alpha_max=1.0, saturation=10) == pytest.approx(
        1 - math.exp(-1)
    )


def test_cf_weight_grows_with_history_and_never_leaves_its_bounds() -> None:
    weights = [cf_weight(n) for n in range(0, 400, 3)]
    assert all(a < b for a, b in pairwise(weights))
    assert min(weights) >= 0.3
    assert max(weights) <= 0.7
    assert cf_weight(10_000) == pytest.approx(0.7)


def test_cf_weight_refuses_bad_parameters() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        cf_weight(-1)
    with pytest.raises(ValueError, match="alpha_min"):
        cf_weight(3, alpha_min=0.8, alpha_max=0.6)
    with pytest.raises(ValueError, match="saturation"):
        cf_weight(3, saturation=0)


# normalise


def test_normalise_maps_the_finite_range_to_zero_one_and_keeps_nan() -> None:
    out = normalise(_f32(2.0, NAN, 4.0, 3.0))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.0, NAN, 1.0, 0.5])


def test_all_equal_scores_normalise_to_one() -> None:
    np.testing.assert_array_equal(normalise(_f32(0.4, NAN, 0.4)), _f32(1.0, NAN, 1.0))


def test_normalise_of_nothing_present_is_all_nan() -> None:
    assert np.isnan(normalise(_f32(NAN, NAN))).all()
    assert normalise(np.zeros(0, np.float32)).shape == (0,)


def test_infinite_scores_are_treated_as_missing() -> None:
    np.testing.assert_array_equal(normalise(_f32(-np.inf, 1.0, 3.0)), _f32(NAN, 0.0, 1.0))


# blend


def test_blend_weights_normalised_columns_over_the_signals_present() -> None:
    scores = np.array(
        [
            [10.0, 0.1, NAN],
            [20.0, NAN, 5.0],
            [30.0, 0.3, 7.0],
        ],
        dtype=np.float32,
    )  # normalised columns: [0, .5, 1], [0, -, 1], [-, 0, 1]
    out = blend(scores, [0.5, 0.25, 0.25])
    np.testing.assert_allclose(out, [0.0, (0.5 * 0.5) / 0.75, 1.0], rtol=1e-6)


def test_blend_with_a_zero_weight_column_ignores_it() -> None:
    scores = np.array([[0.0, 9.0], [1.0, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(blend(scores, [1.0, 0.0]), [0.0, 1.0])


def test_blend_of_a_pool_matrix_ranks_multi_retriever_candidates() -> None:
    pool = CandidatePool()
    shoe = Candidate("p2", "shoes", "acme", 50.0, True, False, 0.0, 10.0)
    sock = Candidate("p1", "socks", "", 5.0, True, False, 0.0, 3.0)
    pool.add("session", shoe, 0.9, Reason(ReasonKind.IN_YOUR_SESSION, "p9"))
    pool.add("trending", shoe, 12.0, Reason(ReasonKind.TRENDING))
    pool.add("trending", sock, 30.0, Reason(ReasonKind.TRENDING))
    pool.add("session", sock, 0.2, Reason(ReasonKind.IN_YOUR_SESSION, "p9"))
    matrix = pool.matrix(["session", "trending", "co_purchase"])
    assert pool.products == ("p1", "p2")
    assert np.isnan(matrix[:, 2]).all()
    out = blend(matrix, [0.7, 0.3, 0.5])
    np.testing.assert_allclose(out, [0.3, 0.7], rtol=1e-6)


def test_blend_refuses_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="weights"):
        blend(np.zeros((2, 3), np.float32), [1.0, 1.0])
    with pytest.raises(ValueError, match="available"):
        blend(np.zeros((2, 2), np.float32), [1.0, 1.0], available=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="2-D"):
        blend(np.zeros(3, np.float32), [1.0])


# CandidatePool


def _cand(pid: str) -> Candidate:
    return Candidate(pid, "mugs", "brew", 12.0, True, False, 0.0, 1.0)


def test_pool_keeps_each_retrievers_best_score_and_its_reason() -> None:
    pool = CandidatePool()
    pool.add("similar", _cand("a"), 0.4, Reason(ReasonKind.BECAUSE_YOU_VIEWED, "v1"))
    pool.add("similar", _cand("a"), 0.8, Reason(ReasonKind.BECAUSE_YOU_VIEWED, "v2"))
    pool.add("similar", _cand("a"), 0.6, Reason(ReasonKind.BECAUSE_YOU_VIEWED, "v3"))
    pool.add("cf", _cand("a"), 2.5, Reason(ReasonKind.SIMILAR_SHOPPERS))
    np.testing.assert_allclose(pool.matrix(["cf", "similar"]), [[2.5, 0.8]])
    assert pool.reasons("a") == {
        "similar": Reason(ReasonKind.BECAUSE_YOU_VIEWED, "v2"),
        "cf": Reason(ReasonKind.SIMILAR_SHOPPERS),
    }


def test_pool_does_not_depend_on_the_order_of_equal_scores() -> None:
    first, second = CandidatePool(), CandidatePool()
    r1 = Reason(ReasonKind.BECAUSE_YOU_VIEWED, "v1")
    r2 = Reason(ReasonKind.BECAUSE_YOU_VIEWED, "v2")
    first.add("similar", _cand("a"), 0.5, r1)
    first.add("similar", _cand("a"), 0.5, r2)
    second.add("similar", _cand("a"), 0.5, r2)
    second.add("similar", _cand("a"), 0.5, r1)
    assert first.reasons("a") == second.reasons("a") == {"similar": r1}


def test_pool_lists_products_by_id_whatever_the_order_they_came_in() -> None:
    pool = CandidatePool()
    for pid in ("c", "a", "b"):
        pool.add("content", _cand(pid), 1.0, Reason(ReasonKind.PICKED_FOR_YOU))
    assert pool.products == ("a", "b", "c")
    assert [c.product_id for c in pool.candidates()] == ["a", "b", "c"]
    assert len(pool) == 3
    assert "b" in pool
    assert pool.matrix(["content"]).dtype == np.float32


def test_pool_refuses_non_finite_scores_and_unknown_reasons() -> None:
    with pytest.raises(ValueError, match="score"):
        CandidatePool().add("cf", _cand("a"), float("nan"), Reason(ReasonKind.TRENDING))
    with pytest.raises(ValueError, match="reason kind"):
        Reason("because_i_said_so")
