"""The extremal-fairness search (msmult.rashomon.extremes) step by step: hand-derived relaxed and
exact pool gaps, and the fine-tuning path on a tiny model (which step is kept, when the path
stops, the multiplier grid, the tensors' device)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from functools import partial

import numpy as np
import pytest
import torch
from helpers import shipped

from msmult.data.splits import Splits
from msmult.errors import MsmultError
from msmult.metrics import GAPS, fairness_gaps
from msmult.models.mlp import MLP
from msmult.models.torch_classifier import TorchClassifier
from msmult.rashomon import ExplorationTask, extremes, fidelity_loss
from msmult.rashomon.extremes import (
    ExtremeSearch,
    PoolRelaxation,
)

CPU = torch.device("cpu")
DP, EODDS, EOPP = (
    "demographic_parity_difference",
    "equalized_odds_difference",
    "equal_opportunity_difference",
)


def test_search_refuses_a_surrogate_that_is_not_torch():
    task = ExplorationTask(
        object(),
        None,
        np.zeros((2, 1)),
        np.zeros((2, 2)),
        np.zeros((2, 1)),
        np.zeros((2, 2)),
        {"test": np.zeros((2, 1))},
        0.1,
    )
    splits = sample_splits(4)
    with pytest.raises(
        MsmultError, match="extremes='search' is not allowed: it needs a torch surrogate"
    ):
        shipped(ExtremeSearch).search(task, splits, 0.5)


# --- PoolRelaxation: hand-derived relaxed and exact gaps ------------------------------------------

# (group, label, P(class 1)): three known groups and one unknown row (left out). Group c has one
# row, a positive: no negatives, so no false-positive rate (its column is dropped).
ROWS = [
    ("a", 1, 0.8),
    ("a", 0, 0.9),
    ("a", 0, 0.9),
    ("b", 1, 0.2),
    ("", 0, 0.99),
    ("b", 1, 0.4),
    ("b", 0, 0.1),
    ("c", 1, 0.7),
]


def hand_pool(positive_class: int = 1) -> tuple[PoolRelaxation, torch.Tensor]:
    groups = np.array([g for g, _, _ in ROWS])
    y = np.array([label for _, label, _ in ROWS])
    p = np.array([q for _, _, q in ROWS])
    x = np.arange(len(ROWS), dtype=np.float32)[:, None]
    splits = Splits(
        "hand", x, y, x, x, y, groups, ("0", "1"), "g", positive_class, y_pool=y, group_pool=groups
    )
    pool = PoolRelaxation(splits, rows=100, seed=0, device=CPU)
    known = groups != ""
    logits = torch.as_tensor(np.stack([np.zeros(known.sum()), np.log(p / (1 - p))[known]], 1))
    return pool, logits.float()


def test_the_pool_keeps_every_known_row_in_order():
    pool, _ = hand_pool()
    assert pool.groups.tolist() == ["a", "a", "a", "b", "b", "b", "c"]
    assert pool.y.tolist() == [1, 0, 0, 1, 1, 0, 1]
    assert pool.x[:, 0].tolist() == [0, 1, 2, 3, 5, 6, 7]
    assert pool.x.device == CPU
    # selection: 1/size of each group's rows; tpr over its positives; fpr over its negatives
    third = 1 / 3
    assert pool.weights["selection"].numpy() == pytest.approx(
        np.array([[third, 0, 0]] * 3 + [[0, third, 0]] * 3 + [[0, 0, 1]])
    )
    assert pool.weights["tpr"].numpy() == pytest.approx(
        np.array([[1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0.5, 0], [0, 0.5, 0], [0, 0, 0], [0, 0, 1]])
    )
    assert pool.weights["fpr"].numpy() == pytest.approx(
        np.array([[0, 0], [0.5, 0], [0.5, 0], [0, 0], [0, 0], [0, 1], [0, 0]])
    )
    assert all(w.dtype == torch.float32 and w.device == CPU for w in pool.weights.values())


def test_the_relaxed_gaps_are_the_spreads_of_group_mean_probabilities():
    pool, logits = hand_pool()
    # selection: a (0.8+0.9+0.9)/3, b (0.2+0.4+0.1)/3, c 0.7: spread 2.6/3 - 0.7/3
    # tpr: a 0.8, b 0.3, c 0.7: 0.5; fpr: a 0.9, b 0.1 (c has no negatives): 0.8
    assert pool.relaxed(logits, DP).item() == pytest.approx(1.9 / 3, abs=1e-6)
    assert pool.relaxed(logits, EOPP).item() == pytest.approx(0.5, abs=1e-6)
    assert pool.relaxed(logits, EODDS).item() == pytest.approx(0.8, abs=1e-6)


def test_the_relaxed_gap_is_differentiable():
    pool, logits = hand_pool()
    logits.requires_grad_(True)
    pool.relaxed(logits, DP).backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("positive_class", "want"), [(1, [1 / 3, 1.0, 0.0]), (0, [1 / 3, 1.0, 1.0])]
)
def test_the_exact_gaps_binarise_on_the_positive_class(positive_class, want):
    pool, _ = hand_pool(positive_class)
    # decisions of the known rows a a a b b b c (labels 1 0 0 1 1 0 1): 1 1 1 1 1 0 1
    decisions = np.array([1, 1, 1, 1, 1, 0, 1])
    logits = torch.as_tensor(np.stack([np.zeros(7), 2.0 * decisions - 1], 1), dtype=torch.float32)
    # class 1: selection a 1, b 2/3, c 1; tpr a 1, b 1, c 1; fpr a 1, b 0, c 0 (no negatives)
    # class 0: selection a 0, b 1/3, c 0; tpr (label-0 rows) a 0, b 1, c 0; fpr 0 everywhere
    assert [pool.exact(logits, g) for g in (DP, EODDS, EOPP)] == pytest.approx(want)


def sample_splits(n: int = 20) -> Splits:
    groups = np.array(["a", "b", ""] * n)[:n]
    y = np.arange(n) % 2
    x = np.arange(n, dtype=np.float32)[:, None]
    return Splits("s", x, y, x, x, y, groups, ("0", "1"), "g", y_pool=y, group_pool=groups)


def test_the_pool_sample_is_seeded_and_without_replacement():
    splits = sample_splits()
    known = np.flatnonzero(splits.group_pool != "")
    rows = lambda pool: pool.x[:, 0].numpy().astype(int).tolist()
    # as many rows as known: every known row once, in order
    assert rows(PoolRelaxation(splits, len(known), 0, CPU)) == known.tolist()
    assert rows(PoolRelaxation(splits, 10_000, 0, CPU)) == known.tolist()
    # fewer: a seeded sample of distinct known rows
    first, again = rows(PoolRelaxation(splits, 6, 5, CPU)), rows(PoolRelaxation(splits, 6, 5, CPU))
    assert first == again and len(set(first)) == 6 and set(first) <= set(known.tolist())
    assert first == sorted(first)


# --- _tune: the path on a tiny model ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2)).astype(np.float32)
    p1 = 1 / (1 + np.exp(-2 * (x[:, 0] + x[:, 1])))
    targets = np.stack([1 - p1, p1], 1).astype(np.float32)
    new = partial(TorchClassifier, partial(MLP, hidden=[4]), 2, epochs=30, batch_size=40, lr=5e-2)
    surrogate = new(seed=0).fit(x, targets)
    groups = np.where(x[:, 1] > 0, "b", "a")
    y = (p1 > 0.5).astype(int)
    task = ExplorationTask(
        surrogate,
        lambda s: new(seed=s),
        x[:50],
        targets[:50],
        x[50:],
        targets[50:],
        {"test": x},
        10.0,
    )
    splits = Splits(
        "tiny", x, y, x, x, y, groups, ("no", "yes"), "g", 0, y_pool=y, group_pool=groups
    )
    return task, splits


class ScriptedPool:
    """A stand-in pool: ``relaxed`` is ``weight`` * mean P(class 1) (zero weight: no gap pull),
    ``exact`` answers the scripted ``values`` in turn; each call's gap and logits are recorded."""

    def __init__(self, x: np.ndarray, values, weight: float = 1.0) -> None:
        self.x, self.values, self.weight = torch.as_tensor(x), list(values), weight
        self.relaxed_gaps, self.exact_gaps, self.logits = [], [], []

    def relaxed(self, logits, gap):
        self.relaxed_gaps.append(gap)
        return self.weight * torch.softmax(logits, -1)[:, 1].mean()

    def exact(self, logits, gap):
        self.exact_gaps.append(gap)
        self.logits.append(logits.detach().clone())
        return self.values[len(self.logits) - 1]


def tune(task, pool, *, steps, direction="min", multiplier=0.0, base_loss=0.0, lr=1e-2):
    search = shipped(ExtremeSearch, steps=steps, lr=lr, multipliers=[multiplier], pool_rows=10)
    return search._tune(task.surrogate, task, pool, EOPP, direction, multiplier, base_loss)


def holdout_loss(module, task) -> float:
    with torch.no_grad():
        proba = torch.softmax(module(torch.as_tensor(task.holdout_x)), -1).clamp_min(1e-12)
    return -(torch.as_tensor(task.holdout_targets) * proba.log()).sum(-1).mean().item()


@pytest.mark.parametrize(("direction", "kept"), [("min", 1), ("max", 0)])
def test_the_path_keeps_its_first_most_extreme_step(tiny, direction, kept):
    task, _ = tiny
    values = [0.5, 0.3, 0.3, 0.4]  # the pool's exact gap after steps 1..4 (min: step 2 first)
    pool = ScriptedPool(task.fit_x, values)
    before = {k: v.clone() for k, v in task.surrogate.module_.state_dict().items()}
    module = tune(task, pool, steps=4, direction=direction)
    # every step 0..4 takes a gradient step on the gap it was given; steps 1..4 are scored
    assert pool.relaxed_gaps == [EOPP] * 5
    assert pool.exact_gaps == [EOPP] * 4
    assert not torch.equal(pool.logits[1], pool.logits[2])  # the steps do move the model
    with torch.no_grad():
        assert torch.equal(module(pool.x), pool.logits[kept])
    # the base surrogate itself is never changed
    after = task.surrogate.module_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_one_step_is_one_scored_step(tiny):
    task, _ = tiny
    pool = ScriptedPool(task.fit_x, [0.2])
    module = tune(task, pool, steps=1)
    assert module is not None and len(pool.exact_gaps) == 1 and len(pool.relaxed_gaps) == 2


def test_a_path_at_exactly_the_loss_limit_stays_in_the_set(tiny):
    task, _ = tiny
    # no gap pull and no penalty: zero gradients, Adam leaves the weights as they are, so every
    # step's holdout loss is the base module's, here exactly base + epsilon (a member)
    still = replace(task, epsilon=0.0)
    loss = holdout_loss(task.surrogate.module_, task)
    pool = ScriptedPool(task.fit_x, [0.1, 0.2, 0.3], weight=0.0)
    module = tune(still, pool, steps=3, base_loss=loss)
    assert module is not None and len(pool.exact_gaps) == 3
    # just under: the first step already leaves the set
    pool = ScriptedPool(task.fit_x, [0.1, 0.2, 0.3], weight=0.0)
    assert tune(still, pool, steps=3, base_loss=np.nextafter(loss, -1)) is None
    assert pool.exact_gaps == []


def test_the_path_stops_at_its_first_step_outside_the_set(tiny):
    task, _ = tiny
    base = holdout_loss(task.surrogate.module_, task)
    tight = replace(task, epsilon=0.02)
    # maximising P(class 1) everywhere with a big step drives the loss up and out
    pool = ScriptedPool(task.fit_x, list(range(100)), weight=1.0)
    module = tune(tight, pool, steps=100, direction="max", base_loss=base, lr=0.05)
    assert 0 < len(pool.exact_gaps) < 100
    assert holdout_loss(module, task) <= base + 0.02


def test_the_fidelity_penalty_pulls_towards_the_answers(tiny):
    task, _ = tiny
    # no gap pull (weight 0): only the multiplier's fidelity loss on the fit rows moves the model;
    # the exact gap keeps falling, so the last step is kept
    pool = ScriptedPool(task.fit_x, [-s for s in range(20)], weight=0.0)
    module = tune(task, pool, steps=20, multiplier=2.0, lr=0.05)
    x, t = torch.as_tensor(task.fit_x), torch.as_tensor(task.fit_targets)
    with torch.no_grad():
        tuned = torch.nn.functional.cross_entropy(module(x), t).item()
        base = torch.nn.functional.cross_entropy(task.surrogate.module_(x), t).item()
    assert tuned < base


# --- _score and search -----------------------------------------------------------------------------


def test_score_keeps_a_member_with_its_test_gaps_for_the_positive_class(tiny):
    task, splits = tiny
    surrogate = task.surrogate
    member = replace(task, epsilon=0.0)
    base_loss = fidelity_loss(surrogate.predict_proba(task.holdout_x), task.holdout_targets)
    decisions = surrogate.predict(splits.x_test)
    gaps = fairness_gaps(splits.y_test, decisions, splits.group_test, 0)
    assert gaps != fairness_gaps(splits.y_test, decisions, splits.group_test, 1)
    scored = ExtremeSearch._score(surrogate.module_, surrogate, member, splits, base_loss)
    assert scored == {"found": True, "loss": base_loss, **gaps}  # loss == base + 0: a member
    outside = ExtremeSearch._score(surrogate.module_, surrogate, member, splits, base_loss - 1e-3)
    assert outside == {"found": False}
    assert ExtremeSearch._score(None, surrogate, member, splits, base_loss) == {"found": False}


def test_search_runs_every_gap_direction_and_multiplier(tiny, monkeypatch):
    task, splits = tiny
    calls, bars = [], []

    def fake_tune(self, surrogate, task_, pool, gap, direction, multiplier, base_loss):
        calls.append((gap, direction, multiplier, base_loss, surrogate is task.surrogate))

    @contextmanager
    def bar(description, total):
        steps = []
        bars.append((description, total, steps))
        yield steps.append

    monkeypatch.setattr(ExtremeSearch, "_tune", fake_tune)
    monkeypatch.setattr(extremes, "progress_bar", bar)
    search = shipped(ExtremeSearch, steps=1, multipliers=[0.0, 2.5], pool_rows=10)
    found = search.search(task, splits, 0.25)
    grid = [(g, d, m) for g in GAPS for d in ("min", "max") for m in (0.0, 2.5)]
    assert calls == [(g, d, m, 0.25, True) for g, d, m in grid]
    assert found == [
        {"found": False, "gap": g, "direction": d, "multiplier": m} for g, d, m in grid
    ]
    assert bars == [("searching extremal fairness", 12, [1] * 12)]


class TorchSpy:
    """``torch`` with every ``as_tensor`` call's dtype and device recorded."""

    def __init__(self) -> None:
        self.calls = []

    def __getattr__(self, name):
        return getattr(torch, name)

    def as_tensor(self, data, dtype=None, device=None):
        self.calls.append((dtype, device))
        return torch.as_tensor(data, dtype=dtype, device=device)


def test_search_puts_every_tensor_on_the_surrogates_device(tiny, monkeypatch):
    task, splits = tiny
    spy, placed, pools = TorchSpy(), [], []
    real_as_tensor = extremes.as_tensor

    def as_tensor(x, device):
        placed.append(device)
        return real_as_tensor(x, device)

    class RecordedPool(PoolRelaxation):
        def __init__(self, splits_, rows, seed, device):
            pools.append((rows, seed, device))
            super().__init__(splits_, rows, seed, device)

    monkeypatch.setattr(extremes, "torch", spy)
    monkeypatch.setattr(extremes, "as_tensor", as_tensor)
    monkeypatch.setattr(extremes, "PoolRelaxation", RecordedPool)
    search = shipped(ExtremeSearch, steps=1, lr=1e-3, multipliers=[1.0], pool_rows=30, seed=4)
    base_loss = fidelity_loss(task.surrogate.predict_proba(task.holdout_x), task.holdout_targets)
    found = search.search(task, splits, base_loss)
    device = task.surrogate.device_
    assert len(found) == 6 and pools == [(30, 4, device)]
    assert placed == [device] * (1 + 2 * 6)  # the pool's rows; each path's fit and holdout rows
    # three pool weights, then each path's fit and holdout targets as float32
    assert spy.calls == [(None, device)] * 3 + [(torch.float32, device)] * 2 * 6


# --- per_explorer and extremal_report on a small hand-made input -----------------------------------
