import numpy as np
import pytest

from ranking.bootstrap import inherit_factors, neighbour_average


def _f32(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def test_neighbour_average_weights_by_similarity() -> None:
    mean = neighbour_average(np.array([0.75, 0.25]), _f32([[4, 0], [0, 4]]))
    assert mean is not None
    assert mean.tolist() == pytest.approx([3.0, 1.0])


def test_unrelated_neighbours_carry_no_weight() -> None:
    mean = neighbour_average(np.array([0.5, -0.9, 0.0]), _f32([[2, 2], [100, 100], [50, 0]]))
    assert mean is not None and mean.tolist() == pytest.approx([2.0, 2.0])
    assert neighbour_average(np.array([-0.1, 0.0]), _f32([[1, 1], [2, 2]])) is None


def test_neighbour_average_refuses_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="do not match"):
        neighbour_average(np.array([1.0]), _f32([[1, 1], [2, 2]]))


def test_inherit_factors_takes_the_k_closest_products_with_factors() -> None:
    known_texts = _f32([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0, 1]])
    known_factors = _f32([[1, 0], [1, 0], [0, 1], [5, 5]])
    new_texts = _f32([[1, 0.05, 0], [0, 0, 0]])
    factors, got = inherit_factors(new_texts, known_texts, known_factors, k=2)
    # The first product's two nearest neighbours both have factors (1, 0).
    assert got.tolist() == [True, False]
    assert factors[0].tolist() == pytest.approx([1.0, 0.0])
    assert factors[1].tolist() == [0.0, 0.0]


def test_inherit_factors_in_chunks_matches_one_pass() -> None:
    rng = np.random.default_rng(0)
    known_texts, known_factors = rng.normal(size=(50, 8)), rng.normal(size=(50, 4))
    new_texts = rng.normal(size=(13, 8))
    whole, _ = inherit_factors(new_texts, known_texts, known_factors, k=5, chunk=100)
    chunked, _ = inherit_factors(new_texts, known_texts, known_factors, k=5, chunk=3)
    assert np.allclose(whole, chunked)


def test_inherit_factors_with_nothing_known() -> None:
    factors, got = inherit_factors(_f32([[1, 0]]), np.zeros((0, 2)), np.zeros((0, 3)), k=20)
    assert factors.shape == (1, 3) and got.tolist() == [False]


def test_the_reindexs_torch_search_finds_the_same_neighbours() -> None:
    from indexing.nearest import torch_nearest

    rng = np.random.default_rng(4)
    new_texts = rng.standard_normal((300, 16)).astype(np.float32)
    known_texts = rng.standard_normal((2000, 16)).astype(np.float32)
    known_factors = rng.standard_normal((2000, 8)).astype(np.float32)
    numpy_way, got = inherit_factors(new_texts, known_texts, known_factors, k=20, chunk=64)
    torch_way, got_too = inherit_factors(new_texts, known_texts, known_factors, k=20,
                                         chunk=128, nearest=torch_nearest)
    np.testing.assert_allclose(torch_way, numpy_way, rtol=1e-4, atol=1e-5)
    assert (got == got_too).all()
