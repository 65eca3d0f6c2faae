"""The fast paths (holdout-first scoring, shared prefix activations, one-pass epsilon curve,
warm-started capacity) give the numbers of the straightforward computation."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import shipped
from scipy.special import xlogy
from torch import nn

from msmult.analysis.evaluation import evaluate_set
from msmult.errors import MsmultError
from msmult.metrics import epsilon_curve, rashomon_capacity
from msmult.metrics import nested_capacity as nested_module
from msmult.metrics.nested_capacity import NestedCapacity
from msmult.metrics.registry import SET_METRICS, SetView, measure
from msmult.models.cnn import CNN
from msmult.models.layers import MaskSite
from msmult.models.mlp import MLP
from msmult.models.text import EmbeddingBagClassifier
from msmult.models.torch_classifier import TorchClassifier
from msmult.rashomon.dropout import DropoutExplorer
from msmult.rashomon.exploration import (
    Exploration,
    ExplorationTask,
    check_exploration,
    within_reach,
)
from msmult.rashomon.masked_forward import MaskedForward


def random_sets(m: int, n: int, c: int, seed: int):
    """Near-identical models (softmax of base logits plus small noise), losses, references."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, c)) + 0.3 * rng.normal(size=(m, n, c))
    scores = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    losses = np.concatenate([[0.3], 0.3 + rng.uniform(0, 0.05, m - 1)])
    return scores, scores.argmax(-1), losses, rng.integers(0, c, n), rng.integers(0, c, n)


@pytest.mark.parametrize("c", [2, 3, 5])
def test_one_pass_curve_equals_each_set_measured_from_scratch(c):
    scores, decisions, losses, victim, labels = random_sets(40, 60, c, seed=c)
    epsilons = [0.05, 0.0, 0.01, 0.02, 0.021, 0.03]
    curve = epsilon_curve(losses, 0.3, epsilons, decisions, scores, victim, decisions[0], labels)
    for point, eps in zip(curve, epsilons):
        # the members in loss order (a mean over models is exact only in one order)
        members = np.argsort(losses, kind="stable")[: (losses <= 0.3 + eps).sum()]
        expected = measure(
            SetView(scores[members], decisions[members], victim, decisions[0], labels)
        )
        assert point["set_size"] == len(members)
        got = {k: point[k] for k in expected}
        capacity = got.pop("rashomon_capacity_mean"), expected.pop("rashomon_capacity_mean")
        assert got == expected  # the running forms use the same float operations
        if c == 2:
            assert capacity[0] == capacity[1]  # closed form of the same running min / max
        else:
            assert capacity[0] == pytest.approx(capacity[1], rel=1e-9)  # both certified to tol


def test_every_running_metric_is_used_by_the_curve():
    assert {m.name for m in SET_METRICS if m.running} >= {
        "ambiguity_vs_victim",
        "discrepancy_vs_victim",
        "ambiguity_vs_base",
        "discrepancy_vs_base",
        "viable_prediction_range_mean",
        "pairwise_disagreement_mean",
    }


def test_warm_started_capacity_is_certified_on_every_prefix():
    scores = random_sets(30, 80, 4, seed=7)[0]
    nested = NestedCapacity(scores, tol=1e-9)
    for k in (1, 2, 5, 6, 15, 30):
        np.testing.assert_allclose(nested.at(k), rashomon_capacity(scores[:k]), rtol=1e-9)
    duplicates = np.repeat(scores[:1], 3, axis=0)
    assert NestedCapacity(duplicates).at(3).tolist() == [1.0] * 80  # identical models: exactly 1


def test_warm_start_certifies_rows_a_new_model_cannot_change(monkeypatch):
    # a new model repeating model 0 cannot change any row: no row is solved again
    scores = random_sets(4, 20, 3, seed=3)[0]
    nested = NestedCapacity(np.concatenate([scores, scores[:1]]))
    before = nested.at(4)
    solved = []
    real = nested_module.solve_by_columns
    monkeypatch.setattr(
        nested_module, "solve_by_columns", lambda W, *a: solved.append(len(W)) or real(W, *a)
    )
    np.testing.assert_allclose(nested.at(5), before, rtol=1e-12)
    assert solved == []


@pytest.mark.parametrize(("columns", "added", "rounds"), [(8, 8, 4), (1, 1, 1), (2, 1, 40)])
def test_column_generation_gives_the_capacity_over_every_model(monkeypatch, columns, added, rounds):
    # (1, 1, 1): one round cannot certify most rows, so they fall back to every model
    for name, value in (("_COLUMNS", columns), ("_ADDED", added), ("_ROUNDS", rounds)):
        monkeypatch.setattr(nested_module, name, value)
    scores = random_sets(40, 60, 4, seed=11)[0]
    W = np.moveaxis(scores, 0, 1)
    bits, weights = nested_module.solve_by_columns(W, xlogy(W, W).sum(-1), 1e-9)
    np.testing.assert_allclose(np.exp2(bits), rashomon_capacity(scores), rtol=1e-9)
    np.testing.assert_allclose(weights.sum(1), 1.0)
    q = np.einsum("rk,rkc->rc", weights, W)  # the weights attain the returned lower bound
    info = (weights * (xlogy(W, W).sum(-1) - np.einsum("rkc,rc->rk", W, np.log(q)))).sum(1)
    np.testing.assert_allclose(info / np.log(2), bits, atol=1e-12)


def test_column_generation_starts_from_the_previous_support():
    scores = random_sets(30, 20, 3, seed=5)[0]
    W = np.moveaxis(scores, 0, 1)
    L = xlogy(W, W).sum(-1)
    _, previous = nested_module.solve_by_columns(W[:, :20], L[:, :20], 1e-9)
    bits, _ = nested_module.solve_by_columns(W, L, 1e-9, np.pad(previous, ((0, 0), (0, 10))))
    np.testing.assert_allclose(np.exp2(bits), rashomon_capacity(scores), rtol=1e-9)


def test_a_model_gets_the_same_numbers_whatever_its_batch():
    torch.manual_seed(0)
    module = MLP((4,), 3, hidden=(5, 6)).eval()
    x = torch.randn(37, 4)
    forward = MaskedForward(module)
    units = forward.unit_counts(x[:1])
    rng = np.random.default_rng(0)
    masks = [torch.as_tensor(rng.uniform(0, 2, (6, u)).astype(np.float32)) for u in units]
    together = forward.proba(masks, x, rows=8)
    for b in range(6):
        alone = forward.proba([m[b : b + 1] for m in masks], x, rows=8)
        assert torch.equal(alone[0], together[b])


def masked_models():
    torch.manual_seed(0)
    text = EmbeddingBagClassifier((6,), 3, vocab_size=50, embed_dim=8, hidden=(5,))
    return [
        (MLP((4,), 3, hidden=(5, 6)), torch.randn(9, 4)),
        (CNN((3, 28, 28), 3, channels=(4, 6), hidden=(5,)), torch.randn(9, 3, 28, 28)),
        (text, torch.randint(0, 50, (9, 6))),
    ]


@pytest.mark.parametrize(("module", "x"), masked_models(), ids=["mlp", "cnn", "text"])
def test_shared_prefix_equals_the_whole_network_per_copy(module, x):
    module.eval()
    fast, slow = MaskedForward(module), MaskedForward(module)
    units = fast.unit_counts(x[:1])
    slow.unit_counts(x[:1])
    slow.tail = None  # the straightforward path: every copy runs the whole network
    assert fast.tail is not None
    rng = np.random.default_rng(0)
    masks = [torch.as_tensor(rng.uniform(0, 2, (3, u)).astype(np.float32)) for u in units]
    assert fast.prefix(x).shape[0] == len(x) and slow.prefix(x) is x
    torch.testing.assert_close(fast.proba(masks, x, rows=4), slow.proba(masks, x, rows=4))


class Residual(nn.Module):
    """Output is not the Sequential's output: no shared prefix may be used."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), MaskSite(), nn.Linear(4, 2))

    def forward(self, x):
        return self.net(x) + 1.0


def test_a_module_that_changes_the_sequential_output_gets_no_tail():
    forward = MaskedForward(Residual().eval())
    forward.unit_counts(torch.zeros(1, 3))
    assert forward.tail is None


def fitted():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 3)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    model = TorchClassifier(partial(MLP, hidden=(16,)), n_classes=2, epochs=5, batch_size=32)
    return model.fit(x[:160], y[:160]), x, y, np.eye(2)[y]


def explore(epsilon, grid):
    surrogate, x, y, targets = fitted()
    task = ExplorationTask(
        surrogate,
        None,
        x[:160],
        targets[:160],
        x[160:200],
        targets[160:200],
        {"test": x[200:]},
        epsilon,
        grid,
    )
    explorer = shipped(DropoutExplorer, rates=[0.05, 0.3, 0.6], draws_per_rate=4, models_per_pass=5)
    return explorer.explore(task), task, y[200:]


def test_holdout_first_scores_only_candidates_within_the_largest_epsilon():
    everyone, _, y = explore(10.0, ())
    assert everyone.scored_mask.all()
    some, task, _ = explore(0.0, (0.0, 0.01))
    np.testing.assert_array_equal(some.losses, everyone.losses)  # every candidate's loss kept
    scored = some.scored
    np.testing.assert_array_equal(scored, within_reach(some.losses, 0.01))
    assert scored[0] and 1 < scored.sum() < len(scored)  # the grid leaves some candidates out
    np.testing.assert_allclose(some.scores["test"], everyone.scores["test"][scored], atol=1e-6)
    check_exploration(some, task, "dropout", 2)
    # evaluation equals the one over fully scored candidates, restricted to the same epsilons
    full = Exploration(everyone.candidates, everyone.losses, everyone.scores, 0.0, (0.0, 0.01))
    victim = np.eye(2)[y]
    group = np.array(["a", "b"] * 20)
    fast, slow = (evaluate_set(e, "test", victim, y, group, 1) for e in (some, full))
    assert fast["multiplicity"] == slow["multiplicity"]
    assert fast["fairness"] == slow["fairness"]
    table = fast["table"]
    assert table["fidelity"].isna().tolist() == (~scored).tolist()
    pd.testing.assert_frame_equal(table[scored], slow["table"][scored])


def test_an_exploration_missing_a_candidate_within_reach_is_refused():
    some, task, _ = explore(0.0, (0.0, 0.01))
    scored = some.scored.copy()
    dropped = np.flatnonzero(scored)[-1]
    scored[dropped] = False
    keep = scored[some.scored]
    broken = Exploration(
        some.candidates, some.losses, {"test": some.scores["test"][keep]}, 0.0, (0.0, 0.01), scored
    )
    with pytest.raises(MsmultError, match="within epsilon 0.01 unscored"):
        check_exploration(broken, task, "dropout", 2)
