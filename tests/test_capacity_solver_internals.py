"""White-box tests of the certified capacity solver (msmult.metrics.capacity): its private
helpers' exact outputs and the path it takes (how many solves, from which start).

The solver certifies its answer, so many of its mutants change the path but not the capacity;
these tests pin the path. With tests/test_capacity_active_set_internals.py and
tests/test_nested_capacity_internals.py they are the only tests that know the solver's internals:
a rewrite of the solver replaces these files, while tests/test_capacity.py (values, bounds,
invariants) stays.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import TWO_ROWS, channel_rows, information
from scipy.special import xlogy

from msmult.metrics import capacity, rashomon_capacity
from msmult.metrics.capacity import _divergences, _move_to_boundary, _null_direction

# --- _move_to_boundary: p + t * direction, largest t >= 0 keeping p >= 0 ---------------------


@pytest.mark.parametrize(
    ("p", "direction", "expected"),
    [
        ([0.5, 0.5, 0.0], [-1.0, 1.0, 0.0], [0.0, 1.0, 0.0]),  # t = 0.5
        ([0.5, 0.5], [-0.5, 0.5], [0.0, 1.0]),  # t = 1: the step is t * direction
        ([0.2, 0.2, 0.6], [-1.0, 0.5, 0.5], [0.0, 0.3, 0.7]),  # t = 0.2, positive entries < 1
        ([0.2, 0.4, 0.4], [-1.0, -2.0, 3.0], [0.0, 0.0, 1.0]),  # two weights block at once
    ],
)
def test_move_to_boundary_steps_to_the_first_blocking_weight(p, direction, expected):
    moved = _move_to_boundary(np.array([p]), np.array([direction]))
    assert moved.dtype == float
    np.testing.assert_allclose(moved, [expected], rtol=0, atol=1e-15)


def test_move_to_boundary_zeroes_the_blocking_weight_exactly():
    # 0.22 - (0.22 / 0.8) * 0.8 rounds to +2.8e-17: only the explicit zeroing makes it 0, and
    # callers (_enter's exchange) find the leaving slot by `moved == 0`
    p, direction = np.array([[0.73, 0.22, 0.05]]), np.array([[2.3, -0.8, 0.6]])
    assert (p + 0.22 / 0.8 * direction)[0, 1] > 0
    moved = _move_to_boundary(p, direction)
    assert moved[0, 1] == 0.0
    np.testing.assert_allclose(moved, p + 0.275 * direction, atol=1e-15)


def test_move_to_boundary_without_a_decreasing_weight_does_not_move():
    p = np.array([[0.3, 0.7, 0.0], [0.25, 0.25, 0.5]])
    direction = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    moved = _move_to_boundary(p, direction)
    assert moved.dtype == float
    np.testing.assert_array_equal(moved, p)


def test_move_to_boundary_is_silent_on_zero_and_tiny_directions():
    # zero entries divide by zero (0 / 0 is invalid), a tiny negative one overflows the ratio
    p = np.array([[0.5, 0.0, 0.5, 1.0]])
    direction = np.array([[0.0, 0.0, -1.0, -1e-310]])
    with warnings.catch_warnings(), np.errstate(divide="warn", invalid="warn", over="warn"):
        warnings.simplefilter("error")
        moved = _move_to_boundary(p, direction)
    np.testing.assert_array_equal(moved, [[0.5, 0.0, 0.0, 1.0]])


# --- _null_direction: nu over the active slots with sum nu_x W_x = 0 -------------------------


def dependent_channel() -> np.ndarray:
    """Three models, the third the mean of the first two: one null direction (1, 1, -2)."""
    a, b = np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.2, 0.2])
    return np.array([[a, b, (a + b) / 2]])


def test_null_direction_of_an_affinely_dependent_set():
    W = dependent_channel()
    nu, found = _null_direction(W, np.ones((1, 3), bool))
    assert found.tolist() == [True]
    np.testing.assert_allclose(np.abs(nu), [[1, 1, 2] / np.sqrt(6)], atol=1e-12)
    np.testing.assert_allclose(nu[0] @ W[0], 0.0, atol=1e-15)


def test_null_direction_ignores_inactive_slots():
    # slot 1 inactive: the active pair (a, mean of a and b) is independent; an active pair of
    # identical models is dependent, and the inactive slot between them gets no weight
    W = dependent_channel()
    nu, found = _null_direction(W, np.array([[True, False, True]]))
    assert found.tolist() == [False]
    assert nu[0, 1] == 0.0
    twins = np.array([[[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.2, 0.3, 0.5]]])
    nu, found = _null_direction(twins, np.array([[True, False, True]]))
    assert found.tolist() == [True]
    assert nu[0, 1] == 0.0
    np.testing.assert_allclose(np.abs(nu), [[1, 0, 1] / np.sqrt(2)], atol=1e-12)


def test_null_direction_of_independent_models_is_not_found():
    W = np.array([[[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]])
    _, found = _null_direction(W, np.ones((1, 3), bool))
    assert found.dtype == bool and found.tolist() == [False]
    _, found = _null_direction(W[:, :2], np.ones((1, 2), bool))
    assert found.tolist() == [False]


def test_null_direction_of_two_numerically_identical_models():
    # relative singular value ~1e-13, under the 1e-10 threshold: dependent, nu = (1, -1) / sqrt 2
    a = np.array([0.2, 0.3, 0.5])
    W = np.array([[a, a + np.array([1e-13, -1e-13, 0.0])]])
    nu, found = _null_direction(W, np.ones((1, 2), bool))
    assert found.tolist() == [True]
    np.testing.assert_allclose(np.abs(nu), [[1, 1] / np.sqrt(2)], atol=1e-9)
    assert nu[0, 0] * nu[0, 1] < 0


def test_null_direction_threshold_is_relative_to_the_largest_singular_value():
    # singular values ~sqrt(2) and e / sqrt(2): relative 0.65e-10, under the 1e-10 threshold,
    # though the smallest one (0.92e-10) is above 1e-10 / sqrt(2)
    e = 1.3e-10
    W = np.array([[[1.0, 0.0, 0.0], [1.0 - e, e, 0.0]]])
    sv = np.linalg.svd(W[0], compute_uv=False)
    assert 0.5e-10 < sv[1] / sv[0] < 0.8e-10 and sv[1] > 1.2e-10 / sv[0]
    assert _null_direction(W, np.ones((1, 2), bool))[1].tolist() == [True]


# --- rashomon_capacity and _capacity_bits: input checks, chunks, clipping ----------------------


def test_rows_are_chunked_to_at_most_chunk_entries(monkeypatch):
    scores = np.random.default_rng(4).dirichlet(np.ones(3), size=(2, 5))
    monkeypatch.setattr(capacity, "_CHUNK", 6)  # one row of 2 models x 3 classes per chunk
    chunks = []
    real = capacity._capacity_bits
    monkeypatch.setattr(
        capacity, "_capacity_bits", lambda s, tol: chunks.append(s.shape[1]) or real(s, tol)
    )
    rc = rashomon_capacity(scores)
    assert chunks == [1] * 5
    monkeypatch.setattr(capacity, "_CHUNK", 1 << 21)
    np.testing.assert_array_equal(rc, rashomon_capacity(scores))


# --- _certified_capacity: tolerance, start, the round cap -------------------------------------

A_B_MEAN = np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7], [0.4, 0.2, 0.4]])  # third = mean of two
A_B_BITS = float(
    (xlogy(A_B_MEAN[0], A_B_MEAN[0]).sum() - A_B_MEAN[0] @ np.log(A_B_MEAN[2])) / np.log(2)
)
# capacity-achieving input (1/2, 1/2, 0), output the mean; the uniform input has the same output
# (so its upper bound is exact) and information 2/3 of the capacity


def test_tol_is_in_bits(monkeypatch):
    # no Blahut-Arimoto before the first check: the uniform input's gap, C / 3 bits, is 1.5 tol;
    # in nats it would be within tol / ln 2
    monkeypatch.setattr(capacity, "_BA_INIT", 0)
    tol = A_B_BITS / 4.5
    bits = capacity._certified_capacity(A_B_MEAN[:, None, :].copy(), tol)[0]
    assert A_B_BITS - tol <= bits[0] <= A_B_BITS + 1e-12


def test_start_weights_are_where_blahut_arimoto_starts(monkeypatch):
    # started at the capacity-achieving input the first check certifies the row; a single round
    # from the uniform input would not, and warns
    monkeypatch.setattr(capacity, "_BA_INIT", 0)
    monkeypatch.setattr(capacity, "_MAX_ROUNDS", 1)
    start = np.array([[0.5, 0.5, 1e-13]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bits, weights = capacity._certified_capacity(A_B_MEAN[:, None, :].copy(), 1e-9, start)
    np.testing.assert_allclose(bits, A_B_BITS, atol=1e-9)
    np.testing.assert_allclose(weights, [[0.5, 0.5, 0.0]], atol=1e-12)


def test_round_cap_returns_the_lower_bound_its_weights_and_the_gap_in_bits(monkeypatch):
    monkeypatch.setattr(capacity, "_BA_INIT", 0)
    monkeypatch.setattr(capacity, "_MAX_ROUNDS", 0)
    with pytest.warns(RuntimeWarning, match="not certified") as caught:
        bits, weights = capacity._certified_capacity(A_B_MEAN[:, None, :].copy(), 1e-9)
    np.testing.assert_allclose(bits, 2 / 3 * A_B_BITS, rtol=1e-12)
    np.testing.assert_allclose(weights, [[1 / 3] * 3], rtol=1e-12)
    assert f"max remaining gap {A_B_BITS / 3:.3e} bits" in str(caught[0].message)


# --- _BlahutArimoto: start, weights, bounds, the adaptive step --------------------------------


def test_blahut_arimoto_starts_from_the_normalised_start_weights():
    W, L = TWO_ROWS
    ba = capacity._BlahutArimoto.start(W, L, np.array([[2.0, 1.0, 1.0], [1.0, 1.0, 6.0]]))
    p = np.array([[0.5, 0.25, 0.25], [0.125, 0.125, 0.75]])
    np.testing.assert_allclose(ba.p(), p, rtol=1e-14)
    np.testing.assert_allclose(ba.D, _divergences(W, L, p)[1], rtol=1e-14)
    np.testing.assert_allclose(ba.info, information(W, L, p), rtol=1e-14)
    lo, hi = ba.bounds()
    np.testing.assert_array_equal(lo, ba.info)
    np.testing.assert_array_equal(hi, ba.D.max(1))
    assert hi[0] < hi[1] - 0.5  # per row


def test_blahut_arimoto_weights_are_a_softmax_of_each_rows_log_weights():
    logp = np.array([[0.0, -1.0, -2.0], [-800.0, -801.0, -802.0]])
    ba = capacity._BlahutArimoto(logp, np.ones(2), np.zeros((2, 3)), np.zeros(2))
    expected = np.exp([0.0, -1.0, -2.0]) / np.exp([0.0, -1.0, -2.0]).sum()
    np.testing.assert_allclose(ba.p(), [expected, expected], rtol=1e-14)


def test_a_classic_step_then_a_doubled_one():
    W, L = TWO_ROWS
    ba = capacity._BlahutArimoto.start(W, L)
    p, D = np.full((2, 3), 1 / 3), ba.D.copy()
    lo, hi = ba.step(W, L, np.zeros(2), np.full(2, np.inf))
    p = p * np.exp(D)  # the classic update p_x <- p_x exp(D_x) / Z
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(ba.p(), p, rtol=1e-12)
    np.testing.assert_allclose(ba.info, information(W, L, p), rtol=1e-12)
    np.testing.assert_allclose(ba.D, _divergences(W, L, p)[1], rtol=1e-12)
    np.testing.assert_allclose(lo, ba.info, rtol=1e-15)
    np.testing.assert_allclose(hi, _divergences(W, L, p)[1].max(1), rtol=1e-12)
    assert ba.mu.tolist() == [2.0, 2.0]
    before = ba.info.copy()
    ba.step(W, L, lo, hi)
    assert (ba.info >= before).all() and ba.mu.tolist() == [4.0, 4.0]


def test_a_step_that_lowers_information_is_rejected_and_shrinks_mu():
    # the noiseless channel from (0.6, 0.3, 0.1): steps 2, 4 and 64 all overshoot
    W, L = channel_rows(*[np.eye(3)] * 3)
    ba = capacity._BlahutArimoto.start(W, L, np.tile([0.6, 0.3, 0.1], (3, 1)))
    ba.mu = np.array([2.0, 4.0, 64.0])
    logp, D, info = ba.logp.copy(), ba.D.copy(), ba.info.copy()
    ba.step(W, L, info, D.max(1))
    np.testing.assert_array_equal(ba.logp, logp)
    np.testing.assert_array_equal(ba.D, D)
    np.testing.assert_array_equal(ba.info, info)
    assert ba.mu.tolist() == [1.0, 1.0, 16.0]


def test_a_step_on_each_row_is_independent_of_the_other_rows():
    # row 0 takes a huge (rejected) step: row 1 must not be shifted by it into underflow
    W, L = TWO_ROWS
    both = capacity._BlahutArimoto.start(W, L)
    both.mu = np.array([1e5, 1.0])
    lo, hi = both.step(W, L, np.zeros(2), np.full(2, np.inf))
    alone = capacity._BlahutArimoto.start(W[1:], L[1:])
    lo1, hi1 = alone.step(W[1:], L[1:], np.zeros(1), np.full(1, np.inf))
    np.testing.assert_allclose(both.p()[1:], alone.p(), rtol=1e-12)
    np.testing.assert_allclose([lo[1], hi[1]], [lo1[0], hi1[0]], rtol=1e-12)


# --- _ActiveSet: slots and reseeding ----------------------------------------------------------


def test_active_set_grows_up_to_kmax_only():
    state = capacity._ActiveSet(np.array([[3, 1]]), np.array([[0.4, 0.6]]), np.zeros(1), 3)
    state.grow(2)
    assert state.top.tolist() == [[3, 1]]
    state.grow(5)
    assert state.top.tolist() == [[3, 1, 0]] and state.p.tolist() == [[0.4, 0.6, 0.0]]


def test_reseed_takes_distinct_models_with_d_at_least_i_largest_first():
    # row 0: D sorted 0.9 (model 1), 0.9 (model 2, an exact copy), 0.7 (4), 0.6 = I (0), 0.2 (3):
    # models 1, 4, 0 with weights p + 0.1 / 3, then one free slot; row 1: 0.8 (3), 0.5 (0), 0.5
    # (2, a copy of 0 but not of the first), 0.3, 0.1 with I = 0.45: models 3, 0
    D = np.array([[0.6, 0.9, 0.9, 0.2, 0.7], [0.5, 0.1, 0.5, 0.8, 0.3]])
    p = np.array([[0.1, 0.2, 0.2, 0.3, 0.2], [0.3, 0.1, 0.1, 0.4, 0.1]])
    ba = capacity._BlahutArimoto(np.log(p), np.ones(2), D, np.array([0.6, 0.45]))
    state = capacity._ActiveSet(np.zeros((2, 1), np.intp), np.zeros((2, 1)), np.zeros(2), 5)
    state.reseed(np.ones(2, bool), ba)
    assert state.top.tolist() == [[1, 4, 0, 2], [3, 0, 2, 4]]
    w0 = np.array([0.2, 0.2, 0.1]) + 0.1 / 3
    w1 = np.array([0.4, 0.3]) + 0.1 / 2
    np.testing.assert_allclose(state.p, [[*w0 / w0.sum(), 0], [*w1 / w1.sum(), 0, 0]], rtol=1e-12)
    assert state.info.tolist() == [-np.inf, -np.inf]


def test_reseed_breaks_ties_between_copies_by_model_order():
    # 20 models, D with many exact ties: 0.9 (models 5, 9, 12, 16), 0.8 (4, 10), 0.7 (7, 14),
    # I = 0.65: the first of each tie, largest D first, then the first unused model as free slot
    D = np.array(
        [
            [
                0.6,
                0.3,
                0.0,
                0.0,
                0.8,
                0.9,
                0.6,
                0.7,
                0.5,
                0.9,
                0.8,
                0.0,
                0.9,
                0.0,
                0.7,
                0.2,
                0.9,
                0.5,
                0.3,
                0.4,
            ]
        ]
    )
    ba = capacity._BlahutArimoto(np.zeros((1, 20)), np.ones(1), D, np.array([0.65]))
    state = capacity._ActiveSet(np.zeros((1, 1), np.intp), np.zeros((1, 1)), np.zeros(1), 20)
    state.reseed(np.ones(1, bool), ba)
    assert state.top.tolist() == [[5, 4, 7, 9]]
    np.testing.assert_allclose(state.p, [[1 / 3, 1 / 3, 1 / 3, 0.0]], rtol=1e-12)
