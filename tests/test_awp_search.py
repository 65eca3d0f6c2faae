"""The AWP weight search and explorer on hand-set models whose every step is derived by hand.

The hand-set models: a bias-free linear layer ``logits = W x`` with W = 0. Pushing class k on a
row x takes the gradient of minus logit k, which is ``-x`` on W's row k and 0 elsewhere, whatever
the weights: so with learning rate lr and momentum m, after t steps W's row k has moved by
``lr * S_t * x`` with ``S_t = sum_{j=1..t} (1 - m**j) / (1 - m)`` (``S_t = t`` for m = 0), the
row's class-k logit is ``lr * S_t * |x|^2`` and the other logit stays 0. With x = (a, 0) and
holdout rows (0, .), the holdout logits never move: the fidelity loss stays exactly the base loss.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import shipped
from torch import nn

from msmult.errors import MsmultError
from msmult.models.torch_classifier import TorchClassifier
from msmult.rashomon import ExplorationTask, awp
from msmult.rashomon.awp import AwpExplorer, WeightSearch
from msmult.rashomon.exploration import fidelity_loss


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def pushed(z: float, k: int) -> list[float]:
    """The 2-class score vector whose class-k logit is z and the other 0."""
    return [sigmoid(z), 1 - sigmoid(z)] if k == 0 else [1 - sigmoid(z), sigmoid(z)]


def linear(input_shape: tuple[int, ...], n_classes: int) -> nn.Module:
    return nn.Linear(input_shape[0], n_classes, bias=False)


class SineToy(nn.Module):
    """logits (-z, z) with z = x0 * theta + x1 * sin(theta) / 2, theta a scalar starting at 0: on
    the row (1, 0) pushing class 1 moves theta by +lr per step (gradient -1, momentum 0); on the
    holdout row (0, 1) the fidelity loss against (0.5, 0.5) is log(2 cosh(sin(theta) / 2)), which
    leaves the base loss log 2 and comes back to it as theta passes pi (not convex)."""

    def __init__(self, input_shape: tuple[int, ...], n_classes: int) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x[:, 0] * self.theta + x[:, 1] * torch.sin(self.theta) / 2
        return torch.stack([-z, z], dim=-1)


def hand_set(module=linear, weights: np.ndarray | None = None, features: int = 2):
    """A fitted-looking TorchClassifier (2 classes) with hand-set weights, no training."""
    model = TorchClassifier(module, 2)
    model.build((features,))
    if weights is not None:
        with torch.no_grad():
            model.module_.weight.copy_(torch.as_tensor(weights, dtype=torch.float32))
    else:
        with torch.no_grad():
            for p in model.module_.parameters():
                p.zero_()
    model.module_.eval()
    return model


ORTHOGONAL_HOLDOUT = np.array([[0.0, 1.0], [0.0, 2.0]], np.float32)
ORTHOGONAL_TARGETS = np.array([[0.7, 0.3], [0.2, 0.8]])


def search_on(surrogate, settings: AwpExplorer, epsilons, holdout=None, targets=None):
    holdout = ORTHOGONAL_HOLDOUT if holdout is None else holdout
    targets = ORTHOGONAL_TARGETS if targets is None else targets
    return WeightSearch(surrogate, holdout, targets, np.array(epsilons, float), settings)


# --- what the search needs ------------------------------------------------------------------


class Uniform:
    n_classes = 2

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.full((len(x), 2), 0.5)


def test_a_surrogate_without_torch_weights_is_refused():
    x = np.zeros((4, 2), np.float32)
    t = np.full((4, 2), 0.5)
    task = ExplorationTask(Uniform(), lambda seed: Uniform(), x, t, x, t, {"test": x}, 0.0)
    with pytest.raises(
        MsmultError, match=r"needs a torch surrogate .*; the surrogate is a Uniform"
    ):
        shipped(AwpExplorer, rows=2).explore(task)


# --- the weight search ----------------------------------------------------------------------


def test_the_holdout_loss_is_the_mean_cross_entropy_against_the_answers():
    # W = [[0, 0], [ln 3, 0]]: row (1, 0) scores (1/4, 3/4); row (0, 1) scores (1/2, 1/2);
    # row (100, 0) scores (0, 1) in float32 (e^-109.9 underflows), clipped at 1e-12.
    surrogate = hand_set(weights=np.array([[0.0, 0.0], [math.log(3), 0.0]]))
    holdout = np.array([[1.0, 0.0], [0.0, 1.0], [100.0, 0.0]], np.float32)
    targets = np.array([[0.5, 0.5], [1.0, 0.0], [1.0, 0.0]])
    search = search_on(surrogate, shipped(AwpExplorer), [0.0], holdout, targets)
    loss = search._loss(search.params)
    expected = (0.5 * math.log(16 / 3) + math.log(2) - math.log(1e-12)) / 3
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert loss.item() == pytest.approx(
        fidelity_loss(surrogate.predict_proba(holdout), targets), rel=1e-5
    )
    assert loss.shape == () and loss.dtype == torch.float32  # the model's precision


def test_the_search_works_in_float32():
    search = search_on(hand_set(), shipped(AwpExplorer), [0.0, 0.01])
    assert search.holdout.dtype == search.targets.dtype == search.epsilons.dtype == torch.float32
    assert search._loss(search.params).dtype == torch.float32


@pytest.mark.parametrize("k", [0, 1])
def test_pushing_a_class_stops_at_the_first_step_reaching_the_target(k):
    # lr 0.25, momentum 0, row (1, 0): the class-k logit after t steps is 0.25 t (exact);
    # sigmoid(z) >= 0.75 iff z >= ln 3 = 1.0986: step 5 (z = 1.25) is the first.
    # One epsilon, 0: the holdout loss never moves, so a loss equal to the base's is within.
    settings = shipped(AwpExplorer, steps=50, lr=0.25, momentum=0.0, target_score=0.75)
    reached, steps = search_on(hand_set(), settings, [0.0]).push(np.array([[1.0, 0.0]]), k)
    assert steps.tolist() == [5] and steps.dtype == np.int64
    assert reached.shape == (1, 1, 2) and reached.dtype == np.float64
    np.testing.assert_allclose(reached[0, 0], pushed(1.25, k), atol=1e-6)


def test_momentum_accumulates_the_gradient():
    # momentum 0.5: velocities 1, 1.5, 1.75, 1.875 times the gradient, so the logit after t
    # steps is 0.25 * (1, 2.5, 4.25, 6.125): first >= ln 3 at step 4 (z = 1.53125)
    settings = shipped(AwpExplorer, steps=50, lr=0.25, momentum=0.5, target_score=0.75)
    reached, steps = search_on(hand_set(), settings, [0.0]).push(np.array([[1.0, 0.0]]), 1)
    assert steps.tolist() == [4]
    np.testing.assert_allclose(reached[0, 0], pushed(1.53125, 1), atol=1e-6)


def test_the_step_cap_ends_the_search():
    # target 1 is never reached (sigmoid(1.75) < 1): the search stops after `steps` = 7 steps
    settings = shipped(AwpExplorer, steps=7, lr=0.25, momentum=0.0, target_score=1.0)
    search = search_on(hand_set(), settings, [0.0, 0.5])
    reached, steps = search.push(np.array([[1.0, 0.0], [2.0, 0.0]]), 0)
    assert steps.tolist() == [7, 7]
    # row (2, 0): logit 0.25 * 4 * t = 7 after 7 steps
    np.testing.assert_allclose(reached[:, 0], [pushed(1.75, 0)] * 2, atol=1e-6)
    np.testing.assert_allclose(reached[:, 1], [pushed(7.0, 0)] * 2, atol=1e-6)


def test_a_row_already_at_the_target_takes_no_step():
    # W = 0: every row scores (0.5, 0.5), already at target_score = 0.5
    settings = shipped(AwpExplorer, steps=10, lr=0.25, momentum=0.0, target_score=0.5)
    reached, steps = search_on(hand_set(), settings, [0.0, 1.0]).push(np.array([[1.0, 0.0]]), 1)
    assert steps.tolist() == [0]
    np.testing.assert_array_equal(reached, np.full((2, 1, 2), 0.5))


def test_a_score_exactly_at_the_target_stops_the_search():
    # the class-1 logit starts at -0.25 on row (1, 0) and is 0 after one step (lr 0.25, exact):
    # the row then scores exactly (0.5, 0.5), which reaches target_score = 0.5
    surrogate = hand_set(weights=np.array([[0.0, 0.0], [-0.25, 0.0]]))
    settings = shipped(AwpExplorer, steps=50, lr=0.25, momentum=0.0, target_score=0.5)
    reached, steps = search_on(surrogate, settings, [0.0]).push(np.array([[1.0, 0.0]]), 1)
    assert steps.tolist() == [1]
    np.testing.assert_array_equal(reached, np.full((1, 1, 2), 0.5))


def test_each_epsilon_keeps_the_last_step_within_its_tolerance():
    # holdout row (1, 0) against (0.5, 0.5): after t steps (lr 0.1, momentum 0) the class-1 logit
    # is z = 0.1 t on the pushed row and on the holdout row, whose loss is log(2 cosh(z / 2)),
    # base + log cosh(z / 2). Tolerance 0: no step; 0.01: z <= 0.2834 (step 2); 0.1: z <= 0.9094
    # (step 9); 10: until sigmoid(z) >= 0.9, z >= ln 9 = 2.197 (step 22).
    settings = shipped(AwpExplorer, steps=50, lr=0.1, momentum=0.0, target_score=0.9)
    holdout, targets = np.array([[1.0, 0.0]], np.float32), np.array([[0.5, 0.5]])
    search = search_on(hand_set(), settings, [0.0, 0.01, 0.1, 10.0], holdout, targets)
    reached, steps = search.push(np.array([[1.0, 0.0]]), 1)
    assert steps.tolist() == [22]
    expected = [pushed(0.0, 1), pushed(0.2, 1), pushed(0.9, 1), pushed(2.2, 1)]
    np.testing.assert_allclose(reached[:, 0], expected, atol=1e-5)


def test_a_tolerance_once_left_ends_that_epsilon_even_if_the_loss_comes_back():
    # SineToy, lr 0.5: theta = 0.5 t and the row scores sigmoid(2 theta) for class 1. The loss
    # excess is log cosh(sin(theta) / 2): within 0.01 iff |sin theta| <= 0.2834 (steps 0 and
    # 6 only, theta = 3), within 0.1 iff |sin theta| <= 0.9094 (steps 0-2, then 5-7).
    settings = shipped(AwpExplorer, steps=7, lr=0.5, momentum=0.0, target_score=1.0)
    holdout, targets = np.array([[0.0, 1.0]], np.float32), np.array([[0.5, 0.5]])
    search = search_on(hand_set(SineToy), settings, [0.01, 0.1, 10.0], holdout, targets)
    reached, steps = search.push(np.array([[1.0, 0.0]]), 1)
    assert steps.tolist() == [7]
    expected = [pushed(0.0, 1), pushed(2.0, 1), pushed(7.0, 1)]  # theta 0, 1 and 3.5
    np.testing.assert_allclose(reached[:, 0], expected, atol=1e-5)


# --- the explorer ---------------------------------------------------------------------------

# test row i is (a, 0) with a cycling through 1, 2, 0.5, 0.75: with lr 0.25, momentum 0 and
# target 0.75 the pushed logit 0.25 a^2 t first reaches ln 3 at step 5 (z = 1.25), 2 (z = 2),
# 18 (z = 1.125) and 8 (z = 1.125); the holdout loss never moves, so every epsilon agrees.
A = np.array([1.0, 2.0, 0.5, 0.75] * 10)
STEPS = {1.0: 5, 2.0: 2, 0.5: 18, 0.75: 8}
LOGIT = {1.0: 1.25, 2.0: 2.0, 0.5: 1.125, 0.75: 1.125}


def hand_set_task(epsilon: float = 0.02, grid: tuple[float, ...] = (0.1, 0.0, 0.02)):
    test = np.stack([A, np.zeros_like(A)], axis=1).astype(np.float32)
    return ExplorationTask(
        hand_set(),
        lambda seed: hand_set(),
        ORTHOGONAL_HOLDOUT,
        ORTHOGONAL_TARGETS,
        ORTHOGONAL_HOLDOUT,
        ORTHOGONAL_TARGETS,
        {"test": test, "other": test[:3]},
        epsilon,
        grid,
    )


def explorer(**options) -> AwpExplorer:
    return shipped(
        AwpExplorer,
        **{
            "rows": 5,
            "steps": 50,
            "lr": 0.25,
            "momentum": 0.0,
            "target_score": 0.75,
            "seed": 3,
            **options,
        },
    )


def check_reach(exploration, task, seed: int = 3, rows: int = 5) -> None:
    reach = exploration.per_row
    sampled = np.sort(np.random.default_rng(seed).choice(len(A), rows, replace=False))
    np.testing.assert_array_equal(reach.rows, sampled)
    np.testing.assert_array_equal(reach.epsilons, [0.0, 0.02, 0.1])
    assert reach.epsilon == 0.02
    np.testing.assert_array_equal(reach.base, np.full((rows, 2), 0.5))
    a = A[sampled]
    assert reach.steps.dtype.kind == "i"
    assert reach.steps.tolist() == [[STEPS[v]] * 2 for v in a]
    expected = np.array([[pushed(LOGIT[v], k) for k in (0, 1)] for v in a])
    assert reach.reached.shape == (3, rows, 2, 2)
    np.testing.assert_allclose(reach.reached, np.broadcast_to(expected, (3, rows, 2, 2)), atol=1e-6)


@pytest.mark.parametrize("rows_per_pass", [1, 2, 200])
def test_explore_returns_each_sampled_rows_reach_whatever_the_pass_size(rows_per_pass):
    task = hand_set_task()
    exploration = explorer(rows_per_pass=rows_per_pass).explore(task)
    check_reach(exploration, task)
    pd.testing.assert_frame_equal(exploration.candidates, pd.DataFrame({"kind": ["base"]}))
    assert exploration.epsilon == 0.02 and exploration.epsilon_grid == (0.1, 0.0, 0.02)
    np.testing.assert_array_equal(exploration.scores["other"], np.full((1, 3, 2), 0.5))
    np.testing.assert_allclose(
        exploration.losses, [fidelity_loss(np.full((2, 2), 0.5), ORTHOGONAL_TARGETS)]
    )


def test_explore_with_one_epsilon_and_another_seed():
    task = hand_set_task(epsilon=0.0, grid=())
    exploration = explorer(rows=3, seed=11).explore(task)
    reach = exploration.per_row
    sampled = np.sort(np.random.default_rng(11).choice(len(A), 3, replace=False))
    np.testing.assert_array_equal(reach.rows, sampled)
    np.testing.assert_array_equal(reach.epsilons, [0.0])
    assert reach.steps.tolist() == [[STEPS[v]] * 2 for v in A[sampled]]
    assert exploration.epsilon == 0.0 and exploration.epsilon_grid == ()


@pytest.mark.parametrize(
    ("rows_per_pass", "advances"), [(1, [1, 1, 1, 1, 1] * 2), (2, [2, 2, 1] * 2), (200, [5, 5])]
)
def test_explore_advances_its_progress_bar_by_each_pass(monkeypatch, rows_per_pass, advances):
    bars = []

    @contextmanager
    def recording_bar(description, total):
        bar = {"description": description, "total": total, "advances": []}
        bars.append(bar)
        yield bar["advances"].append

    monkeypatch.setattr(awp, "progress_bar", recording_bar)
    explorer(rows_per_pass=rows_per_pass).explore(hand_set_task())
    assert bars == [
        {
            "description": "exploring per-row reachable scores (AWP)",
            "total": 10,
            "advances": advances,
        }
    ]
    assert type(bars[0]["total"]) is int
