"""Rashomon capacity: known channel capacities, exactness on near-identical models, invariants."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.special import softmax, xlogy

from msmult.metrics import (
    capacity,
    rashomon_capacity,
)
from msmult.metrics.binary import binary_capacity
from msmult.metrics.nested_capacity import NestedCapacity


def h2(x: float) -> float:
    return float(-(xlogy(x, x) + xlogy(1 - x, 1 - x)) / np.log(2))


def rows(*channels: list[list[float]]) -> np.ndarray:
    """Channels (one (m, c) matrix per row) -> scores (m, n, c)."""
    return np.stack([np.asarray(ch, float) for ch in channels], axis=1)


def pad_class(scores: np.ndarray) -> np.ndarray:
    """Add a class nobody predicts: same channel capacity, but through the general solver."""
    return np.concatenate([scores, np.zeros(scores.shape[:2] + (1,))], axis=2)


def near_identical(m: int, n: int, c: int, seed: int, spread: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return softmax(rng.normal(size=(n, c)) + spread * rng.normal(size=(m, n, c)), axis=-1)


def blahut_arimoto(scores: np.ndarray, stop: float, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain Blahut-Arimoto, all rows at once, until the certified gap is below ``stop`` bits:
    returns (lower bound, gap) in bits."""
    W = np.moveaxis(scores, 0, 1)
    L = xlogy(W, W).sum(-1)
    p = np.full(W.shape[:2], 1.0 / W.shape[1])
    for _ in range(max_iter):
        D = L - np.einsum("nmc,nc->nm", W, np.log(np.einsum("nm,nmc->nc", p, W)))
        info = (p * D).sum(1)
        if (D.max(1) - info).max() / np.log(2) < stop:
            break
        p *= np.exp(D - D.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
    return info / np.log(2), (D.max(1) - info) / np.log(2)


@pytest.mark.parametrize("c", [2, 3, 5])
def test_identical_models_give_one(c):
    one = softmax(np.random.default_rng(c).normal(size=(1, 7, c)), axis=-1)
    np.testing.assert_array_equal(rashomon_capacity(np.repeat(one, 4, axis=0)), 1.0)


def test_single_model_gives_one():
    np.testing.assert_array_equal(rashomon_capacity(near_identical(1, 5, 4, 0)), 1.0)


@pytest.mark.parametrize("k", [2, 3, 5, 10])
def test_distinct_one_hot_vertices_give_k(k):
    # k models at the k vertices: the noiseless k-ary channel, C = log2 k; a model inside the
    # simplex (the centre) adds nothing
    vertices = np.eye(k)[:, None, :]
    np.testing.assert_allclose(rashomon_capacity(vertices), k, rtol=1e-12)
    centre = np.full((1, 1, k), 1.0 / k)
    np.testing.assert_allclose(rashomon_capacity(np.concatenate([vertices, centre])), k, rtol=1e-12)


def test_binary_symmetric_channel():
    # crossover 0.1: C = 1 - H(0.1) = 0.531 bits
    bsc = rows([[0.9, 0.1], [0.1, 0.9]])
    expected = 2 ** (1 - h2(0.1))
    assert 1 - h2(0.1) == pytest.approx(0.531, abs=5e-4)
    np.testing.assert_allclose(rashomon_capacity(bsc), expected, rtol=1e-12)
    np.testing.assert_allclose(rashomon_capacity(pad_class(bsc)), expected, rtol=1e-12)


def test_z_channel():
    # P = [[1, 0], [0.5, 0.5]]: C = log2(1 + (1 - p) p^(p / (1 - p))) = log2(1.25) = 0.3219 bits
    z = rows([[1.0, 0.0], [0.5, 0.5]])
    assert np.log2(1.25) == pytest.approx(0.3219, abs=5e-5)
    np.testing.assert_allclose(rashomon_capacity(z), 1.25, rtol=1e-12)
    np.testing.assert_allclose(rashomon_capacity(pad_class(z)), 1.25, rtol=1e-12)


@pytest.mark.parametrize("e", [0.0, 0.1, 0.3, 2 / 3])
def test_ternary_symmetric_channel(e):
    # rows (1 - e, e/2, e/2) rotated: symmetric, so C = log2 3 - H(row), uniform input
    row = np.array([1 - e, e / 2, e / 2])
    channel = np.stack([np.roll(row, i) for i in range(3)])
    entropy = float(-xlogy(row, row).sum() / np.log(2))
    np.testing.assert_allclose(
        np.log2(rashomon_capacity(rows(channel))), np.log2(3) - entropy, atol=1e-9
    )


def test_binary_closed_form_edges():
    a = np.array([0.0, 0.0, 0.3, 1.0, 0.0, 0.5, 1 - 1e-16])
    b = np.array([0.0, 1.0, 0.3, 1.0, 1e-300, 0.5 + 1e-13, 1.0])
    bits = binary_capacity(a, b)
    assert np.isfinite(bits).all() and (bits >= 0).all()
    np.testing.assert_allclose(bits[:4], [0.0, 1.0, 0.0, 0.0], atol=1e-15)
    assert bits[4] < 1e-290 and bits[5] < 1e-20 and bits[6] < 1e-14


def test_binary_closed_form_matches_general_solver():
    rng = np.random.default_rng(0)
    m, n = 6, 200
    p1 = rng.uniform(size=(m, n)) ** rng.choice([1.0, 4.0, 20.0], size=(1, n))
    p1[:, :20] = np.clip(np.round(p1[:, :20], 1), 0, 1)  # exact zeros, ones and ties
    scores = np.stack([1 - p1, p1], axis=-1)
    np.testing.assert_allclose(
        np.log2(rashomon_capacity(scores)),
        np.log2(rashomon_capacity(pad_class(scores))),
        rtol=0,
        atol=1e-8,
    )


def test_certified_on_near_identical_models():
    # a long Blahut-Arimoto run, certified to 1e-11 bits, is the reference
    scores = near_identical(20, 4, 10, seed=0)
    ref, gap = blahut_arimoto(scores, stop=1e-11, max_iter=100_000)
    assert gap.max() < 1e-11
    ours = np.log2(rashomon_capacity(scores))
    assert (ours <= ref + gap + 1e-13).all()  # never above the certified upper bound
    assert (ours >= ref - 1e-9).all()  # within tol of the capacity
    textbook, _ = blahut_arimoto(scores, stop=0.0, max_iter=1000)
    assert (ref - textbook).max() > 1e-6  # where a fixed iteration budget falls short


def test_tol_is_respected_on_harder_near_identical_models():
    scores = near_identical(40, 30, 6, seed=1, spread=0.05)
    ours = np.log2(rashomon_capacity(scores, tol=1e-10))
    ref, gap = blahut_arimoto(scores, stop=0.0, max_iter=3000)
    assert (ours <= ref + gap + 1e-13).all()
    assert (ours >= ref - 1e-10).all()


@pytest.mark.parametrize("c", [2, 3, 7])
def test_values_in_one_to_c(c):
    rng = np.random.default_rng(c)
    scores = softmax(5 * rng.normal(size=(9, 50, c)), axis=-1)
    scores[scores < 1e-2] = 0.0  # exact zeros: 0 log 0 = 0
    rc = rashomon_capacity(scores)
    assert np.isfinite(rc).all() and (rc >= 1).all() and (rc <= c).all()


@pytest.mark.parametrize("c", [2, 4])
def test_invariant_to_model_order_and_duplicates(c):
    scores = near_identical(12, 25, c, seed=3, spread=1.0)
    rc = rashomon_capacity(scores)
    shuffled = scores[np.random.default_rng(0).permutation(12)]
    np.testing.assert_allclose(rashomon_capacity(shuffled), rc, rtol=1e-9)
    doubled = np.concatenate([scores, scores[[0, 5, 5]]])
    np.testing.assert_allclose(rashomon_capacity(doubled), rc, rtol=1e-9)


def test_unnormalised_float32_scores_are_renormalised():
    scores = near_identical(5, 10, 4, seed=4, spread=1.0)
    np.testing.assert_allclose(
        rashomon_capacity((3 * scores).astype(np.float32)), rashomon_capacity(scores), rtol=1e-6
    )


def test_iteration_cap_warns_with_the_gap(monkeypatch):
    monkeypatch.setattr(capacity, "_MAX_ROUNDS", 0)
    with pytest.warns(RuntimeWarning, match="not certified.*remaining gap"):
        rc = rashomon_capacity(near_identical(20, 3, 10, seed=0))
    assert (rc >= 1).all()


def test_the_callers_scores_are_left_unchanged():
    # one row, float64, three classes: the rescaling used to write into the caller's array
    s = np.array([[[1.0, 2.0, 3.0]], [[3.0, 2.0, 1.0]]])
    before = s.copy()
    rashomon_capacity(s)
    np.testing.assert_array_equal(s, before)


def test_binary_capacity_computes_float32_inputs_in_float64():
    rng = np.random.default_rng(0)
    a, b = np.sort(rng.random((2, 50)), axis=0).astype(np.float32)
    expected = binary_capacity(a.astype(float), b.astype(float))
    np.testing.assert_allclose(binary_capacity(a, b), expected, rtol=1e-13, atol=1e-15)


def test_binary_capacity_of_adjacent_floats_is_below_the_chi_square_bound():
    # rows one ulp apart: C <= max over q in [a, b] of chi^2 / ln 2 <= d^2 / (a (1 - b) ln 2), far
    # below 1e-30 here; an unclipped optimum weight (rounding puts q* outside [a, b]) gives ~1e14
    rng = np.random.default_rng(1)
    a = rng.uniform(0.01, 0.99, 500)
    b = np.nextafter(a, 1.0)
    bits = binary_capacity(a, b)
    bound = (b - a) ** 2 / (a * (1 - b) * np.log(2.0))
    assert (bits >= 0).all()
    assert (bits <= bound).all()


def test_binary_capacity_of_degenerate_channels_is_zero_without_warnings():
    # a == b (0/0 in the slope); a subnormal b over a == 0 (weight 0 on an infinite divergence);
    # adjacent floats near 1e-303, whose entropies round equal: slope 0, q* = 1/2 and the weight
    # (q* - a) / (b - a) overflows to inf before it is clipped to 1
    a = np.array([0.3, 0.0, 1.0, 0.0, 1.3867360337261217e-303])
    b = np.array([0.3, 0.0, 1.0, 5e-324, 1.3867360337261218e-303])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bits = binary_capacity(a, b)
    assert bits.tolist() == [0.0] * 5


def test_nested_capacity_needs_a_positive_tolerance():
    with pytest.raises(ValueError, match="tol"):
        NestedCapacity(np.ones((2, 3, 3)) / 3, tol=0.0)


def test_nested_rows_of_identical_models_give_exactly_one_beside_other_rows():
    # rows 0-7: every model gives the row's same vector (the solver alone returns 1 + 2e-16 on
    # some); row 8: the models differ. Rows 0-7 are exactly 1
    rng = np.random.default_rng(0)
    same = np.repeat(rng.dirichlet(np.ones(5), size=(1, 8)), 6, axis=0)
    scores = np.concatenate([same, rng.dirichlet(np.ones(5), size=(6, 1))], axis=1)
    nested = NestedCapacity(scores)
    for k in (2, 3, 6):
        rc = nested.at(k)
        assert rc[:8].tolist() == [1.0] * 8 and rc[8] > 1.1


def test_nested_capacity_renormalises_unnormalised_scores():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(1, 5, 4)) + rng.normal(size=(20, 5, 4))
    scores = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    nested = NestedCapacity(3.0 * scores)
    for k in (3, 20):
        np.testing.assert_allclose(nested.at(k), rashomon_capacity(scores[:k]), rtol=1e-9)


@pytest.mark.parametrize("shape", [(3, 4), (0, 2, 3), (2, 2, 0)])
def test_rejects_scores_without_models_rows_and_classes(shape):
    with pytest.raises(ValueError, match=r"scores must be \(models, rows, classes\)"):
        rashomon_capacity(np.ones(shape))


def test_rejects_a_zero_tolerance():
    with pytest.raises(ValueError, match="tol must be positive"):
        rashomon_capacity(np.ones((2, 1, 3)), tol=0.0)


@pytest.mark.parametrize(
    "vector",
    [[0.5, 0.7, -0.2], [0.0, 0.0, 0.0], [np.inf, 1.0, 1.0], [np.nan, 1.0, 1.0]],
    ids=["negative", "zero-sum", "inf", "nan"],
)
def test_rejects_negative_zero_sum_and_non_finite_vectors(vector):
    scores = np.full((2, 2, 3), 1.0)
    scores[1, 1] = vector
    message = "^scores must be finite, non-negative, with a positive sum per vector$"
    with pytest.raises(ValueError, match=message):
        rashomon_capacity(scores)


def test_no_rows_give_an_empty_result():
    rc = rashomon_capacity(np.ones((2, 0, 3)))
    assert rc.shape == (0,) and rc.dtype == float


def test_integer_and_float32_scores_are_solved_in_float64():
    rng = np.random.default_rng(2)
    counts = rng.integers(1, 9, size=(5, 6, 4))  # e.g. vote counts: renormalised in float64
    np.testing.assert_array_equal(rashomon_capacity(counts), rashomon_capacity(counts / 1.0))
    low = rng.dirichlet(np.ones(4), size=(5, 6)).astype(np.float32)
    np.testing.assert_array_equal(rashomon_capacity(low), rashomon_capacity(low.astype(float)))


def test_unnormalised_binary_scores_are_renormalised():
    rng = np.random.default_rng(3)
    p1 = rng.uniform(size=(4, 10))
    scores = np.stack([1 - p1, p1], axis=-1)
    scale = rng.uniform(0.5, 5.0, size=(4, 10, 1))
    np.testing.assert_allclose(
        rashomon_capacity(scale * scores), rashomon_capacity(scores), rtol=1e-12
    )


def test_one_model_or_one_class_gives_one():
    rng = np.random.default_rng(5)
    assert rashomon_capacity(rng.dirichlet(np.ones(4), size=(1, 3))).tolist() == [1.0] * 3
    assert rashomon_capacity(rng.uniform(1, 2, size=(3, 2, 1))).tolist() == [1.0] * 2


def test_values_are_clipped_to_one_and_c_exactly():
    # models equal up to rounding: the solver's lower bound is -3e-16 bits; five one-hot
    # vertices: log2 5 + 4e-16 bits
    v = np.arange(1.0, 5.0) / 10
    near = np.stack([v, np.nextafter(v, 2), v, v * (1 + 1e-16)])[:, None, :]
    assert rashomon_capacity(near).tolist() == [1.0]
    assert rashomon_capacity(np.eye(5)[:, None, :]).tolist() == [5.0]


def test_rows_of_identical_models_give_exactly_one_beside_other_rows():
    rng = np.random.default_rng(0)
    same = np.repeat(rng.dirichlet(np.ones(5), size=(1, 8)), 6, axis=0)
    scores = np.concatenate([same, rng.dirichlet(np.ones(5), size=(6, 1))], axis=1)
    rc = rashomon_capacity(scores)
    assert rc[:8].tolist() == [1.0] * 8 and rc[8] > 1.1
