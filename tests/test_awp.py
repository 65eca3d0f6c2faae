"""Adversarial weight perturbation (rashomon=awp) and its per-row metrics."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from helpers import shipped

from msmult.fileio import shipped_folder
from msmult.models.mlp import MLP
from msmult.models.torch_classifier import TorchClassifier
from msmult.rashomon import ExplorationTask
from msmult.rashomon.awp import AwpExplorer
from msmult.rashomon.per_row import row_metrics

CONF = shipped_folder("conf")


def line_task(epsilon: float, grid: tuple[float, ...]) -> ExplorationTask:
    """A 1-feature task: class 1 iff x > 0, soft targets; test rows at x = 0.05 (next to the
    boundary) and x = 3 (far on the class-1 side)."""
    x = np.linspace(-3, 3, 200, dtype=np.float32)[:, None]
    p1 = 1 / (1 + np.exp(-4 * x[:, 0]))
    targets = np.stack([1 - p1, p1], axis=1)
    new = partial(TorchClassifier, partial(MLP, hidden=[8]), 2, epochs=100, batch_size=100, lr=1e-2)
    surrogate = new(seed=0).fit(x, targets)
    test = np.array([[0.05], [3.0]], np.float32)
    return ExplorationTask(
        surrogate, lambda s: new(seed=s), x, targets, x, targets, {"test": test}, epsilon, grid
    )


EPSILONS = (0.0, 0.01, 0.2, 2.0)


@pytest.fixture(scope="module")
def explored():
    task = line_task(0.2, EPSILONS)
    return task, shipped(AwpExplorer, rows=2, steps=300, lr=1e-3).explore(task)


def test_awp_holds_the_base_only_and_a_per_row_reach(explored):
    task, exploration = explored
    reach = exploration.per_row
    assert len(exploration.losses) == 1 and exploration.scores["test"].shape == (1, 2, 2)
    assert reach.reached.shape == (4, 2, 2, 2)  # epsilons x rows x pushed class x classes
    assert np.allclose(reach.base, task.surrogate.predict_proba(task.eval_sets["test"]), atol=1e-6)


def test_awp_flips_the_row_next_to_the_boundary_within_a_small_tolerance(explored):
    reach = explored[1].per_row
    near = np.flatnonzero(reach.rows == 0)[0]
    assert reach.base[near].argmax() == 1
    decisions = reach.reached[:, near, 0].argmax(-1)  # pushed towards class 0, per epsilon
    assert decisions.tolist() == [1, 0, 0, 0]  # epsilon 0: no step allowed; 0.01 flips it


def test_awp_reaches_a_flip_of_the_far_row_only_with_a_loose_tolerance(explored):
    reach = explored[1].per_row
    far = np.flatnonzero(reach.rows == 1)[0]
    assert reach.base[far, 1] > 0.99
    assert reach.reached[:, far, 0].argmax(-1).tolist() == [1, 1, 1, 0]
    assert reach.steps[far, 1] == 0  # class 1 already above target_score: no step taken
    summary, _ = row_metrics(reach, np.array([1, 1]), np.array([1, 1]))
    assert [p["flip_share"] for p in summary["epsilon_curve"]] == [0.0, 0.5, 0.5, 1.0]


def test_the_boundary_values_are_accepted():
    built = shipped(
        AwpExplorer, rows=1, steps=1, lr=1e-9, momentum=0, target_score=1, rows_per_pass=1, seed=0
    )
    assert (
        built.rows,
        built.steps,
        built.lr,
        built.momentum,
        built.target_score,
        built.rows_per_pass,
        built.seed,
    ) == (1, 1, 1e-9, 0.0, 1.0, 1, 0)


def test_every_test_row_may_be_sampled():
    shipped(AwpExplorer, rows=1).check(1)
    shipped(AwpExplorer, rows=250).check(250)
