"""White-box tests of the certified capacity solver (msmult.metrics.capacity) and its nested /
column-generation driver (msmult.metrics.nested_capacity): the private helpers' exact outputs and
the path the solver takes (how many solves, on which models, from which start).

The solver certifies its answer, so many of its mutants change the path but not the capacity;
these tests pin the path. They are the one place that knows the solver's internals: a rewrite of
the solver replaces this file, while tests/test_capacity.py (values, bounds, invariants) stays.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import xlogy

from msmult.metrics import capacity, rashomon_capacity
from msmult.metrics import nested_capacity as nested_module
from msmult.metrics.capacity import _divergences, _move_to_boundary, _null_direction
from msmult.metrics.nested_capacity import NestedCapacity

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


# --- NestedCapacity / solve_by_columns: warm start and column generation ----------------------


def entropy(v: np.ndarray) -> float:
    return float(-xlogy(v, v).sum())


SYMMETRIC = np.stack([np.roll([0.7, 0.15, 0.15], i) for i in range(3)])  # C = log 3 - H(row)


def violator(excess_bits: float) -> np.ndarray:
    """A model with D(w || uniform) = C(SYMMETRIC) + ``excess_bits``, its mass on classes 0 and 1:
    the uniform input, optimal for SYMMETRIC, misses the capacity with it by about that much."""
    target = entropy(SYMMETRIC[0]) - excess_bits * np.log(2)
    a = brentq(lambda a: entropy(np.array([a, 0.965 - a, 0.035])) - target, 0.4825, 0.96)
    return np.array([a, 0.965 - a, 0.035])


def spy_on_solves(monkeypatch) -> list[tuple[np.ndarray, np.ndarray]]:
    """Record (scores, weights) of every _certified_capacity call of column generation."""
    calls: list[tuple[np.ndarray, np.ndarray]] = []
    real = nested_module._certified_capacity

    def spy(scores, tol, *args):
        given = scores.copy()  # before the call: a one-row channel is normalised in place
        bits, weights = real(scores, tol, *args)
        calls.append((given, weights))
        return bits, weights

    monkeypatch.setattr(nested_module, "_certified_capacity", spy)
    return calls


def models_of(scores: np.ndarray, W: np.ndarray) -> list[int]:
    """Indices into W (k, c) of the models of one row's subset (m', c), in subset order."""
    return [int(np.flatnonzero((W == v).all(1))[0]) for v in scores]


def test_warm_start_solves_again_a_row_whose_gap_exceeds_tol_and_passes_its_weights(
    monkeypatch,
):
    # the uniform weights of the symmetric channel leave a gap of 1.5 tol bits with the violator:
    # not certified (a gap of tol nats / ln 2 would be 2.08 tol bits), so the row is solved again,
    # starting from the previous weights padded with a zero
    tol = 1e-8
    scores = np.concatenate([SYMMETRIC, violator(1.5 * tol)[None]])[:, None, :]
    nested = NestedCapacity(scores, tol=tol)
    before = nested.at(3)
    np.testing.assert_allclose(np.log2(before), np.log2(3) - entropy(SYMMETRIC[0]) / np.log(2))
    starts = []
    real = nested_module.solve_by_columns

    def spy(W, L, tol, previous=None):
        starts.append(previous)
        return real(W, L, tol, previous)

    monkeypatch.setattr(nested_module, "solve_by_columns", spy)
    after = nested.at(4)
    assert len(starts) == 1 and starts[0] is not None
    np.testing.assert_allclose(starts[0], [[1 / 3, 1 / 3, 1 / 3, 0.0]], atol=1e-9)
    assert after[0] > before[0]


def test_column_generation_adds_a_violator_over_tol_but_within_tol_nats(monkeypatch):
    # subset = the previous support plus 8 models: no violator; the uniform weights miss the
    # capacity by 1.5 tol bits over every model: a second round, with the violator, is needed
    tol = 1e-8
    models = np.concatenate([SYMMETRIC, violator(1.5 * tol)[None], np.repeat(SYMMETRIC[:2], 4, 0)])
    # a second row, certified by its first subset, leaves after the first round: the check is
    # per row, against that row's own divergences
    lower = np.stack([np.roll([0.5, 0.25, 0.25], i) for i in range(3)])
    W = np.stack([models, np.concatenate([lower, np.repeat(lower[:1], 9, 0)])])
    previous = np.zeros((2, 12))
    previous[:, :3] = 1 / 3
    calls = spy_on_solves(monkeypatch)
    bits, weights = nested_module.solve_by_columns(W, xlogy(W, W).sum(-1), tol, previous)
    assert [scores.shape[:2] for scores, _ in calls] == [(11, 2), (12, 1)]
    assert weights[0, 3] > 0
    np.testing.assert_allclose(bits[1], np.log2(3) - entropy(lower[0]) / np.log(2), atol=tol)


def test_a_set_of_columns_plus_classes_models_is_solved_directly(monkeypatch):
    rng = np.random.default_rng(0)
    W = rng.dirichlet(np.ones(3), size=(1, nested_module._COLUMNS + 3))
    calls = spy_on_solves(monkeypatch)
    nested_module.solve_by_columns(W, xlogy(W, W).sum(-1), 1e-9)
    assert [scores.shape[:2] for scores, _ in calls] == [(11, 1)]


def test_the_first_subset_is_the_previous_support_and_its_worst_violator(monkeypatch):
    # previous weights on models 0-2; under their output model 5 has the largest D (by 0.6 nats;
    # under the uniform input, model 0 would): it is the one column added to the support
    monkeypatch.setattr(nested_module, "_COLUMNS", 1)
    models = np.array(
        [
            [0.059, 0.901, 0.04],
            [0.76, 0.02, 0.22],
            [0.46, 0.06, 0.48],
            [0.616, 0.091, 0.293],
            [0.48, 0.02, 0.5],
            [0.01, 0.14, 0.85],
        ]
    )
    W, previous = models[None], np.array([[0.5, 0.4, 0.1, 0.0, 0.0, 0.0]])
    L = xlogy(W, W).sum(-1)
    assert _divergences(W, L, previous)[1].argmax() == 5
    calls = spy_on_solves(monkeypatch)
    nested_module.solve_by_columns(W, L, 1e-9, previous)
    first = calls[0][0][:, 0]
    assert sorted(models_of(first, models)) == [0, 1, 2, 5]


@pytest.mark.parametrize(("columns", "added", "k", "c"), [(8, 8, 40, 6), (1, 1, 300, 4)])
def test_column_generation_takes_the_largest_divergences(monkeypatch, columns, added, k, c):
    # round 1: the `columns` models with the largest D under the uniform input; round 2 adds the
    # `added` models outside the subset with the largest D under round 1's weights (300 models:
    # numpy's partition then leaves all but the requested positions unordered)
    monkeypatch.setattr(nested_module, "_COLUMNS", columns)
    monkeypatch.setattr(nested_module, "_ADDED", added)
    rng = np.random.default_rng(k)
    logits = rng.normal(size=c) + rng.normal(size=(k, c))
    models = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    W = models[None]
    L = xlogy(W, W).sum(-1)
    calls = spy_on_solves(monkeypatch)
    nested_module.solve_by_columns(W, L, 1e-9)
    assert len(calls) >= 2
    first = models_of(calls[0][0][:, 0], models)
    D = _divergences(W, L, np.full((1, k), 1.0 / k))[1][0]
    assert sorted(first) == sorted(np.argsort(-D)[:columns].tolist())
    full = np.zeros((1, k))
    full[0, first] = calls[0][1][0]
    D = _divergences(W, L, full)[1][0]
    D[first] = -np.inf
    second = models_of(calls[1][0][:, 0], models)
    assert second[:columns] == first
    assert sorted(second[columns:]) == sorted(np.argsort(-D)[:added].tolist())


def test_column_generation_falls_back_to_every_model_once_no_column_is_left(monkeypatch):
    # the previous support (0-2) and its worst violator (2 again) leave 2 models out; round 1 adds
    # the worse of the two extremer models 3 and 4, round 2 still misses the other and has no slot
    # left (4 + 1 columns for 5 models): the row is solved on every model, no third subset round
    monkeypatch.setattr(nested_module, "_COLUMNS", 1)
    monkeypatch.setattr(nested_module, "_ADDED", 1)
    models = np.array(
        [
            [0.9, 0.05, 0.05],
            [0.05, 0.9, 0.05],
            [0.05, 0.05, 0.9],
            [0.97, 0.02, 0.01],
            [0.02, 0.97, 0.01],
        ]
    )
    W = models[None]
    calls = spy_on_solves(monkeypatch)
    bits, weights = nested_module.solve_by_columns(
        W, xlogy(W, W).sum(-1), 1e-9, np.array([[0.5, 0.3, 0.2, 0.0, 0.0]])
    )
    assert [scores.shape[0] for scores, _ in calls] == [4, 5, 5]
    assert sorted(models_of(calls[0][0][:, 0], models)) == [0, 1, 2, 2]
    np.testing.assert_array_equal(calls[-1][0][:, 0], models)  # every model, in order
    np.testing.assert_allclose(weights[0, 3:], weights[0, 3], rtol=1e-6)
    assert weights[0, 3] > 0.3 and bits[0] > 1.2


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


def channel_rows(*channels) -> tuple[np.ndarray, np.ndarray]:
    """(r, m, c) channels W and their sum W log W."""
    W = np.array(channels, float)
    return W, xlogy(W, W).sum(-1)


def information(W: np.ndarray, L: np.ndarray, p: np.ndarray) -> np.ndarray:
    return (p * _divergences(W, L, p)[1]).sum(1)


TWO_ROWS = channel_rows(
    [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]],
    [[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.2, 0.2, 0.6]],
)


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


# --- _solve and _best_mix ---------------------------------------------------------------------


def test_solve_falls_back_to_least_squares_for_the_singular_systems_only():
    A = np.array([[[2.0, 1.0], [1.0, 3.0]], [[1.0, 1.0], [1.0, 1.0]]])
    b = np.array([[1.0, 2.0], [2.0, 2.0]])
    np.testing.assert_allclose(capacity._solve(A, b), [[0.2, 0.6], [1.0, 1.0]], atol=1e-14)


def best_mix_weight(Wk: np.ndarray, pk: np.ndarray, slot: int) -> float:
    """t in [0, 1] maximising I((1 - t) p + t e_slot), by a bounded scalar search."""
    from scipy.optimize import minimize_scalar

    L = xlogy(Wk, Wk).sum(-1)[None]
    e = np.eye(len(pk))[slot]

    def minus_info(t):
        return -information(Wk[None], L, ((1 - t) * pk + t * e)[None])[0]

    return minimize_scalar(minus_info, bounds=(0, 1), method="bounded", options={"xatol": 1e-12}).x


def test_best_mix_maximises_information_along_the_segment_to_the_slot():
    W, L = TWO_ROWS
    pk = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    slot = np.array([1, 2])
    mixed = capacity._best_mix(W, L, pk, slot)
    assert mixed.dtype == float
    for row in range(2):
        t = best_mix_weight(W[row], pk[row], slot[row])
        assert 0.01 < t < 0.99
        e = np.eye(3)[slot[row]]
        np.testing.assert_allclose(mixed[row], (1 - t) * pk[row] + t * e, atol=2e-6)


# --- _newton_step: the bordered Newton system and its candidates ------------------------------

NEWTON_ROWS = [  # (channel of 3 active models, their weights); a 4th, inactive slot is added
    ([[0.727, 0.242, 0.031], [0.356, 0.594, 0.05], [0.48, 0.13, 0.39]], [0.1, 0.65, 0.25]),
    ([[0.307, 0.01, 0.683], [0.23, 0.18, 0.59], [0.39, 0.2, 0.41]], [0.17, 0.81, 0.02]),
    ([[0.03, 0.733, 0.237], [0.37, 0.12, 0.51], [0.05, 0.88, 0.07]], [0.25, 0.45, 0.3]),
]


def newton_state(rows):
    """(Wk, Lk, q, Dk, pk, info) for _newton_step, each row with an inactive 4th slot."""
    Wk = np.array([W + [[0.2, 0.3, 0.5]] for W, _ in rows])
    pk = np.array([p + [0.0] for _, p in rows])
    Lk = xlogy(Wk, Wk).sum(-1)
    q, Dk = _divergences(Wk, Lk, pk)
    return Wk, Lk, q, Dk, pk, (pk * Dk).sum(1)


def newton_candidates(W, p):
    """Information of p, the projected full Newton step and the step to the boundary, from the
    unscaled bordered system [H 1; 1' 0] [s; l] = [-D; 0], H = -sum_y W_xy W_x'y / q_y."""
    W, p = np.array(W), np.array(p)
    L = xlogy(W, W).sum(-1)
    q = p @ W
    M = np.ones((4, 4))
    M[:3, :3], M[3, 3] = -(W / q) @ W.T, 0.0
    s = np.linalg.solve(M, np.r_[W @ np.log(q) - L, 0.0])[:3]
    full = np.maximum(p + s, 0.0)
    ratio = np.where(s < 0, -p / np.where(s < 0, s, -1.0), np.inf)
    boundary = p + min(1.0, ratio.min()) * s
    boundary[ratio.argmin()] = 0.0
    info = [information(W[None], L[None], v[None] / v.sum())[0] for v in (p, full, boundary)]
    return info, full / full.sum(), boundary / boundary.sum()


def test_newton_step_takes_the_full_step_the_projected_step_or_the_boundary_step():
    # row 0: the full step raises I; row 1: it drives a weight below zero, the projected step
    # raises I; row 2: the projected step lowers I, the step to the boundary does not
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new, full = capacity._newton_step(*newton_state(NEWTON_ROWS))
    assert full.tolist() == [True, True, False]
    for row, expect in enumerate([1, 1, 2]):
        info, *points = newton_candidates(*NEWTON_ROWS[row])
        assert (info[expect] > info[0]) and (row != 2 or info[1] < info[0])
        np.testing.assert_allclose(new[row], [*points[expect - 1], 0.0], rtol=1e-9, atol=1e-15)
    assert new[1, 1] == 0.0 and new[2, 0] == 0.0  # the blocking weight exactly: 2.8e-17 else


def test_newton_step_tries_at_most_tries_plus_one_candidates():
    state = newton_state(NEWTON_ROWS[2:])
    new, full = capacity._newton_step(*state, tries=0)  # the projected step only: rejected
    np.testing.assert_array_equal(new, state[4])
    assert full.tolist() == [False]
    new, full = capacity._newton_step(*state, tries=1)
    np.testing.assert_allclose(new[0, :3], newton_candidates(*NEWTON_ROWS[2])[2], rtol=1e-9)


def test_newton_step_on_a_single_active_slot_keeps_it_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new, full = capacity._newton_step(*newton_state([(NEWTON_ROWS[0][0], [1.0, 0.0, 0.0])]))
    assert new.tolist() == [[1.0, 0.0, 0.0, 0.0]] and full.tolist() == [True]


# --- _ActiveSet._improve: the jump to a growing weight's best mix, the null-direction move ------


def active_set(channels, p, top, kmax=3):
    """An _ActiveSet on (r, m, c) channels with slots ``top`` holding weights ``p``, and the
    arguments of _improve (Wk, Lk, q, Dk) at those weights."""
    W = np.array(channels, float)
    L = xlogy(W, W).sum(-1)
    top, p = np.array(top), np.array(p, float)
    rows = np.arange(len(W))[:, None]
    Wk, Lk = W[rows, top], L[rows, top]
    q, Dk = _divergences(Wk, Lk, p)
    return capacity._ActiveSet(top, p, (p * Dk).sum(1), kmax), W, L, (Wk, Lk, q, Dk)


A3, B3, C3 = [0.8, 0.15, 0.05], [0.1, 0.2, 0.7], [0.3, 0.4, 0.3]


def test_improve_jumps_a_tenfold_growing_weight_to_its_best_mix():
    # row 1: weight 1e-6 on B, which Newton grows ~1e5-fold (I ~ p log(1/p)): the jump lands on
    # the best mix of A and B; row 0 starts there already and does not grow
    t = best_mix_weight(np.array([A3, B3, C3]), np.array([1.0, 0.0, 0.0]), 1)
    best = [1 - t, t, 0.0]
    state, *_, args = active_set([[A3, B3, C3]] * 2, [best, [1 - 1e-6, 1e-6, 0.0]], [[0, 1, 2]] * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deg = state._improve(*args)
    assert deg.tolist() == [False, False]
    np.testing.assert_allclose(state.p, [best, best], atol=2e-6)


def test_improve_moves_dependent_models_along_the_null_direction(monkeypatch):
    # Newton is made to stop short: rows 0 and 3 hold A, B and their mean M (dependent; the SVD
    # gives the null direction a different sign in each order): q stays put and I grows along
    # (1, 1, -2) until M's weight is zero; row 1: two copies of A, all weight moves to one; row 2:
    # one active model, nothing to do. Slot 3 is free (model 0).
    full = np.zeros(4, bool)
    monkeypatch.setattr(capacity, "_newton_step", lambda Wk, Lk, q, Dk, pk, info: (pk.copy(), full))
    M3 = ((np.array(A3) + np.array(B3)) / 2).tolist()
    channels = [[A3, B3, M3], [A3, A3, B3], [A3, B3, C3], [A3, M3, B3]]
    p = [[0.2, 0.3, 0.5, 0.0], [0.3, 0.7, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.2, 0.5, 0.3, 0.0]]
    state, *_, args = active_set(channels, p, [[0, 1, 2, 0]] * 4)
    deg = state._improve(*args)
    assert deg.tolist() == [True, True, False, True]
    np.testing.assert_allclose(
        state.p[[0, 3]], [[0.45, 0.55, 0, 0], [0.45, 0, 0.55, 0]], atol=1e-12
    )
    assert sorted(state.p[1].tolist()) == pytest.approx([0.0, 0.0, 0.0, 1.0], abs=1e-12)
    assert state.p[0, 2] == 0.0 and state.p[3, 1] == 0.0 and (state.p[1, :2] == 0.0).any()
    assert state.p[2].tolist() == [1.0, 0.0, 0.0, 0.0]
    full[:] = True  # a full Newton step: no null move
    state, *_, args = active_set(channels, p, [[0, 1, 2, 0]] * 4)
    assert state._improve(*args).tolist() == [False] * 4
    np.testing.assert_array_equal(state.p, p)


# --- _ActiveSet._enter: into a free slot, a new slot, or by exchange --------------------------

FIVE = np.array(
    [
        [0.6, 0.1, 0.1, 0.1, 0.1],
        [0.1, 0.6, 0.1, 0.1, 0.1],
        [0.1, 0.1, 0.6, 0.1, 0.1],
        [0.1, 0.1, 0.1, 0.6, 0.1],
        [0.1, 0.1, 0.1, 0.1, 0.6],
    ]
)


def enter(state, W, L, j, entering):
    rows = np.arange(len(W))
    Wk, Lk = W[rows[:, None], state.top], L[rows[:, None], state.top]
    _, Dk = _divergences(Wk, Lk, state.p)
    _, Df = _divergences(
        W, L, np.stack([np.bincount(t, p, W.shape[1]) for t, p in zip(state.top, state.p)])
    )
    state._enter(W, L, Dk, np.array(j), Df[rows, j], np.array(entering))


def mixed_in(W, top, p, slot):
    t = best_mix_weight(W[top], np.array(p, float), slot)
    return (1 - t) * np.array(p) + t * np.eye(len(p))[slot]


def test_enter_fills_a_free_slot_with_the_best_mix_and_leaves_other_rows():
    # row 0 enters model 3 into its free slot 2; row 1 (full) and row 2 (a free slot) do not enter
    p = [[0.5, 0.5, 0.0], [0.3, 0.3, 0.4], [0.6, 0.4, 0.0]]
    state, W, L, _ = active_set([FIVE] * 3, p, [[0, 1, 0], [0, 1, 2], [0, 1, 0]], kmax=5)
    enter(state, W, L, [3, 3, 3], [True, False, False])
    assert state.top.tolist() == [[0, 1, 3], [0, 1, 2], [0, 1, 0]]
    np.testing.assert_allclose(state.p[0], mixed_in(FIVE, [0, 1, 3], p[0], 2), atol=2e-6)
    np.testing.assert_array_equal(state.p[1:], p[1:])


def test_enter_grows_one_slot_for_a_full_row():
    # row 0 is full: a fourth slot for model 3; row 1 fills its free slot 1 with model 4
    p = [[0.3, 0.3, 0.4], [0.5, 0.0, 0.5], [0.2, 0.3, 0.5]]
    state, W, L, _ = active_set([FIVE] * 3, p, [[0, 1, 2], [0, 0, 2], [0, 1, 2]], kmax=5)
    enter(state, W, L, [3, 4, 3], [True, True, False])
    assert state.top.tolist() == [[0, 1, 2, 3], [0, 4, 2, 0], [0, 1, 2, 0]]
    np.testing.assert_allclose(state.p[0], mixed_in(FIVE, [0, 1, 2, 3], p[0] + [0], 3), atol=2e-6)
    np.testing.assert_allclose(state.p[1], mixed_in(FIVE, [0, 4, 2, 0], p[1] + [0], 1), atol=2e-6)
    np.testing.assert_array_equal(state.p[2], p[2] + [0])


def test_enter_exchanges_a_model_when_all_class_slots_are_full():
    # c = 3 slots full: model 3 enters by the pivot that keeps q, W_3 = sum_x lam_x W_x, the
    # first weight to reach zero leaves (row 0, model 3 outside the hull); inside the hull
    # (row 1) the pivot cannot raise I and nothing changes; row 2 has a free slot
    hull = [[0.1, 0.8, 0.1], [0.05, 0.15, 0.8], [0.8, 0.15, 0.05]]
    channels = [hull + [[0.85, 0.1, 0.05]], hull + [[0.5, 0.3, 0.2]], hull + [[0.95, 0.04, 0.01]]]
    p = [[0.5, 0.3, 0.2], [0.5, 0.3, 0.2], [0.5, 0.5, 0.0]]
    state, W, L, _ = active_set(channels, p, [[0, 1, 2], [0, 1, 2], [0, 1, 0]])
    enter(state, W, L, [3, 3, 3], [True, True, True])
    lam = np.linalg.solve(np.array(hull).T, channels[0][3])
    ratio = np.where(lam > 0, np.array(p[0]) / lam, np.inf)
    slot = ratio.argmin()
    expected = np.array(p[0]) - ratio[slot] * lam
    expected[slot] = ratio[slot]
    assert lam.min() < 0 and slot == 2
    assert state.top.tolist() == [[0, 1, 3], [0, 1, 2], [0, 1, 3]]
    np.testing.assert_allclose(state.p[0], expected, rtol=1e-12)
    np.testing.assert_allclose(state.p[0] @ W[0][[0, 1, 3]], np.array(p[0]) @ hull, rtol=1e-12)
    np.testing.assert_array_equal(state.p[1], p[1])
    np.testing.assert_allclose(state.p[2], mixed_in(W[2], [0, 1, 3], p[2], 2), atol=2e-6)


# --- _ActiveSet.run: which model enters ---------------------------------------------------------


def test_run_enters_the_best_outside_model_and_never_a_copy_of_an_active_one():
    # row 0: model 1 alone, its free slot still naming model 0; model 0 (close to model 1, small
    # D) must enter, model 2 (a copy of model 1) cannot. Row 1: A and B at their best mix, with
    # I far above row 0's D; model 2 is a copy of A, whose D equals A's: nothing enters
    X0, X1 = [0.5, 0.3, 0.2], [0.45, 0.35, 0.2]
    A, B = [0.8, 0.15, 0.05], [0.1, 0.2, 0.7]
    t = best_mix_weight(np.array([A, B, A]), np.array([1.0, 0.0, 0.0]), 1)
    state, W, L, _ = active_set(
        [[X0, X1, X1], [A, B, A]], [[1.0, 0.0], [1 - t, t]], [[1, 0], [0, 1]]
    )
    lo, hi = state.run(W, L, np.full(2, -np.inf), np.full(2, np.inf), 1)
    assert state.top.shape == (2, 2)
    assert state.top[0].tolist() == [1, 0] and (state.p[0] > 0).all()
    assert state.top[1].tolist() == [0, 1]
    np.testing.assert_allclose(state.p[1], [1 - t, t], atol=2e-6)
    assert lo[1] > 0.3 and hi[0] < 0.01  # per row


def test_a_step_that_keeps_information_unchanged_is_accepted():
    # the noiseless channel from the uniform input: a fixed point, I does not drop, mu doubles
    W, L = channel_rows(np.eye(3))
    ba = capacity._BlahutArimoto.start(W, L)
    info = ba.info.copy()
    for _ in range(3):
        ba.step(W, L, info, ba.D.max(1))
    assert ba.info.tolist() == info.tolist() and ba.mu.tolist() == [8.0]
