"""Cross-fitted fidelity holdout: the base surrogate sees every answer, membership losses stay
out-of-sample (each row's loss comes from a fold model that never saw it)."""

import logging
import math
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from helpers import shipped

from msmult.attacks import Theft, TransferSet
from msmult.errors import MsmultError
from msmult.models.mlp import MLP
from msmult.models.torch_classifier import TorchClassifier
from msmult.rashomon import ExplorationTask
from msmult.rashomon.crossfit import FidelityHoldout, out_of_fold_loss
from msmult.rashomon.dropout import DropoutExplorer
from msmult.rashomon.exploration import fidelity_loss


class Memoriser:
    """Answers a row it was fitted on with that row's target, any other row with 1/2 - 1/2."""

    def __init__(self, seed: int = 0) -> None:
        self.seen: dict[float, np.ndarray] = {}

    def fit(self, x, targets):
        self.seen = {float(row[0]): t for row, t in zip(x, targets)}
        return self

    def predict_proba(self, x):
        return np.array([self.seen.get(float(row[0]), np.full(2, 0.5)) for row in x])


class Exchangeable:
    exchangeable_rows = True


class Adaptive:
    exchangeable_rows = False


def theft(n_fit: int, n_holdout: int) -> Theft:
    x = np.arange(n_fit + n_holdout, dtype=np.float32)[:, None]
    targets = np.eye(2, dtype=np.float32)[np.arange(len(x)) % 2]
    n = len(x)
    return Theft(
        TransferSet(x[:n_fit], targets[:n_fit], n, "t"),
        TransferSet(x[n_fit:], targets[n_fit:], n, "t"),
        "share",
        n,
    )


def memoriser_proba(model, x):
    return model.predict_proba(x)


def test_crossfit_fits_the_base_on_every_answer_and_measures_losses_out_of_fold():
    base = FidelityHoldout("crossfit", 5).fit(Exchangeable(), theft(8, 2), Memoriser, seed=0)
    assert len(base.fit_x) == 10 and len(base.surrogate.seen) == 10  # the base saw every answer
    # in-sample, the memoriser is perfect (loss 0): the split would call it a perfect fit
    assert fidelity_loss(base.surrogate.predict_proba(base.holdout_x), base.holdout_targets) == 0
    # out-of-fold, it knows nothing: 1/2 - 1/2 on one-hot answers costs exactly log 2
    assert out_of_fold_loss(base.folds, memoriser_proba) == pytest.approx(math.log(2))
    fold_rows = np.concatenate([f.x[:, 0] for f in base.folds])
    assert sorted(fold_rows) == list(range(10)) and len(base.folds) == 5  # a partition
    for fold in base.folds:
        assert not set(fold.x[:, 0]) & set(fold.surrogate.seen)  # never saw its own rows
        assert len(fold.surrogate.seen) == 8


def test_an_adaptive_attack_cross_fits_only_its_uniform_holdout_draw():
    base = FidelityHoldout("crossfit", 2).fit(Adaptive(), theft(6, 4), Memoriser, seed=0)
    assert sorted(base.holdout_x[:, 0]) == [6, 7, 8, 9]  # the uniform draw, not the attack's
    for fold in base.folds:
        assert set(range(6)) <= set(fold.surrogate.seen) and len(fold.surrogate.seen) == 8


def test_split_mode_keeps_the_fit_and_holdout_rows_apart():
    base = FidelityHoldout("split", 5).fit(Exchangeable(), theft(8, 2), Memoriser, seed=0)
    assert base.folds == () and len(base.surrogate.seen) == 8 and len(base.holdout_x) == 2
    assert not set(base.holdout_x[:, 0]) & set(base.surrogate.seen)


class Unaware:
    name = "unaware"


def test_crossfit_falls_back_to_split_for_anything_that_reads_the_holdout_in_sample():
    plan = FidelityHoldout("crossfit", 5)
    assert plan.for_run(Unaware()).mode == "split"
    assert plan.for_run(shipped(DropoutExplorer, [0.1], 1), calibration=True).mode == "split"
    assert plan.for_run(shipped(DropoutExplorer, [0.1], 1), calibration=False).mode == "crossfit"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("holdout", 5), "holdout.mode='holdout'"),
        (("crossfit", 1), "holdout.folds=1"),
    ],
)
def test_bad_holdout_settings_are_refused(args, message):
    with pytest.raises(MsmultError, match=re.escape(message)):
        FidelityHoldout(*args)


def test_more_folds_than_holdout_rows_is_refused():
    with pytest.raises(MsmultError, match="holdout.folds=5"):
        FidelityHoldout("crossfit", 5).fit(Adaptive(), theft(6, 3), Memoriser, seed=0)


@pytest.fixture
def one_thread():
    """One torch thread, as msmult runs (threads=1): tiny models crawl on two shared cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def memorising_mlp(seed: int) -> TorchClassifier:
    module = lambda **shape: MLP(hidden=(64, 64), **shape)  # noqa: E731
    return TorchClassifier(module, 2, epochs=200, batch_size=64, lr=1e-2, seed=seed)


def random_label_folds():
    """40 rows with random labels, split 30 / 10, and a 2-fold cross-fitted memorising MLP."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    targets = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 40)]
    stolen = Theft(
        TransferSet(x[:30], targets[:30], 40, "t"),
        TransferSet(x[30:], targets[30:], 40, "t"),
        "share",
        40,
    )
    base = FidelityHoldout("crossfit", 2).fit(Exchangeable(), stolen, memorising_mlp, seed=0)
    return x, base


def test_dropout_membership_losses_are_out_of_sample_under_crossfit(one_thread):
    """Random labels: an MLP that memorises its rows has ~0 loss on them, a high loss elsewhere.
    Dropout's base loss (row 0) must be the high, out-of-fold one."""
    x, base = random_label_folds()
    task = replace(
        ExplorationTask.from_base(base, memorising_mlp, {"test": x[:3]}, (), seed=0),
        epsilon=0.05,
    )
    in_sample = fidelity_loss(base.surrogate.predict_proba(base.holdout_x), base.holdout_targets)
    losses = shipped(DropoutExplorer, [0.05], 2, ["bernoulli"]).explore(task).losses
    assert in_sample < 0.05 and losses[0] > 0.7  # memorised rows vs rows it never saw
    expected = out_of_fold_loss(base.folds, lambda model, rows: model.predict_proba(rows))
    assert losses[0] == pytest.approx(expected, rel=1e-5)


def test_dropout_progress_counts_every_fold_once(one_thread, monkeypatch):
    # the bar's total counts each candidate once per fold (it ended at 28 of 21 with 2 folds)
    import msmult.rashomon.dropout as dropout_module

    bars = []

    class Bar:
        def __init__(self, description, total):
            bars.append({"total": total, "advanced": 0})

        def __enter__(self):
            return lambda steps=1: bars[-1].__setitem__("advanced", bars[-1]["advanced"] + steps)

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(dropout_module, "progress_bar", Bar)
    x, base = random_label_folds()
    task = replace(
        ExplorationTask.from_base(
            base, memorising_mlp, {"test": x[:3], "more": x[3:6]}, (), seed=0
        ),
        epsilon=10.0,
    )
    shipped(DropoutExplorer, [0.05], 3, ["bernoulli"]).explore(task)
    assert bars == [{"total": (2 + 2) * 4, "advanced": (2 + 2) * 4}]


class Nameless:
    pass


@pytest.mark.parametrize(
    ("explorer", "readers", "blockers"),
    [
        (Unaware(), {}, "explorer unaware"),
        (Nameless(), {"calibration": True, "other": False}, "calibration, explorer Nameless"),
        (shipped(DropoutExplorer, [0.1], 1), {"calibration": True}, "calibration"),
    ],
)
def test_crossfit_falls_back_to_split_with_one_warning_naming_why(
    caplog, explorer, readers, blockers
):
    with caplog.at_level(logging.WARNING, logger="msmult"):
        plan = FidelityHoldout("crossfit", 4).for_run(explorer, **readers)
    assert (plan.mode, plan.folds) == ("split", 4)
    assert caplog.messages == [
        f"holdout.mode=split for this run: {blockers} read(s) no cross-fitting folds"
    ]
