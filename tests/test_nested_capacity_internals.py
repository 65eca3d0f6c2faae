"""White-box tests of the nested capacity driver (msmult.metrics.nested_capacity): warm starts
and column generation, i.e. which rows are solved again, on which models, from which start.
Internals, as tests/test_capacity_solver_internals.py explains.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import xlogy

from msmult.metrics import nested_capacity as nested_module
from msmult.metrics.capacity import _divergences
from msmult.metrics.nested_capacity import NestedCapacity

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
