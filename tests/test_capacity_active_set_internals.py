"""White-box tests of the capacity solver's active-set method (msmult.metrics.capacity): the
bordered Newton step, the best mix on a segment, and which model enters or leaves an active slot.
Internals, as tests/test_capacity_solver_internals.py explains.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import TWO_ROWS, channel_rows, information
from scipy.special import xlogy

from msmult.metrics import capacity
from msmult.metrics.capacity import _divergences

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
