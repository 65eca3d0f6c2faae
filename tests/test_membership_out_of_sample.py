"""Membership losses and the calibrated epsilon are measured out of sample: on rows the model did
not train on, in split mode and with cross-fitting. A model that memorises its training rows tells
the two apart: its loss is 0 on a row it saw and log 2 on any other."""

import math

import numpy as np
import pytest

from msmult.rashomon.crossfit import HoldoutFold
from msmult.rashomon.exploration import ExplorationTask
from msmult.rashomon.membership import calibrate_epsilon
from msmult.rashomon.refit import BootstrapExplorer

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3)).astype(np.float32)
TARGETS = np.eye(2, dtype=np.float32)[RNG.integers(0, 2, 60)]
UNSEEN = math.log(2)


class Memoriser:
    """Answers a training row's target exactly, any other row one half each."""

    def __init__(self, seed: int = 0) -> None:
        self.seen: dict[bytes, np.ndarray] = {}

    def fit(self, x: np.ndarray, targets: np.ndarray) -> "Memoriser":
        self.seen = {row.tobytes(): target for row, target in zip(x, targets)}
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.stack([self.seen.get(row.tobytes(), np.full(2, 0.5)) for row in x])


def crossfit_task() -> ExplorationTask:
    """The base memoriser fitted on every answer; four fold memorisers, each without its fold."""
    folds = np.array_split(np.arange(60), 4)
    fold_models = [
        HoldoutFold(
            Memoriser().fit(np.delete(X, rows, 0), np.delete(TARGETS, rows, 0)),
            X[rows],
            TARGETS[rows],
        )
        for rows in folds
    ]
    return ExplorationTask(
        Memoriser().fit(X, TARGETS),
        Memoriser,
        X,
        TARGETS,
        X,
        TARGETS,
        {"test": X},
        0.0,
        folds=tuple(fold_models),
        loss_rows=np.arange(60),
    )


def split_task() -> ExplorationTask:
    fit, held = slice(0, 45), slice(45, 60)
    return ExplorationTask(
        Memoriser().fit(X[fit], TARGETS[fit]),
        Memoriser,
        X[fit],
        TARGETS[fit],
        X[held],
        TARGETS[held],
        {"test": X},
        0.0,
    )


@pytest.mark.parametrize("task", [crossfit_task, split_task], ids=["crossfit", "split"])
def test_the_base_surrogates_loss_is_out_of_sample(task):
    assert task().base_loss() == pytest.approx(UNSEEN)  # in sample it would be 0


@pytest.mark.parametrize("task", [crossfit_task, split_task], ids=["crossfit", "split"])
def test_calibration_compares_out_of_sample_losses_only(task):
    epsilon, how = calibrate_epsilon(task(), 5)
    # both sides unseen: every refit's loss equals the base's. A base measured in sample (0)
    # would make each excess log 2; refits measured in sample would make them negative.
    np.testing.assert_allclose(how["excess_losses"], 0.0, atol=1e-12)
    assert epsilon == pytest.approx(0.0, abs=1e-12)


def test_bootstrap_refits_are_scored_on_their_out_of_bag_rows_under_crossfit():
    exploration = BootstrapExplorer(n_models=5, seed=3).explore(crossfit_task())
    np.testing.assert_allclose(exploration.losses, UNSEEN)
