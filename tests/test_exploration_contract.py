"""The explorer contract: fidelity loss, membership, and the checks on an explorer's result."""

import numpy as np
import pandas as pd
import pytest

from msmult.errors import MsmultError
from msmult.rashomon import Exploration, ExplorationTask, fidelity_loss
from msmult.rashomon.exploration import check_exploration


def test_fidelity_loss_is_the_mean_cross_entropy_in_nats():
    targets = np.array([[1.0, 0.0], [0.5, 0.5]])
    proba = np.array([[0.5, 0.5], [0.25, 0.75]])
    # row 1: -ln 0.5; row 2: -(0.5 ln 0.25 + 0.5 ln 0.75)
    expected = (np.log(2) + 0.5 * (np.log(4) + np.log(4 / 3))) / 2
    assert fidelity_loss(proba, targets) == pytest.approx(expected, rel=1e-12)
    batched = fidelity_loss(np.stack([proba, targets.clip(1e-12)]), targets)
    np.testing.assert_allclose(batched, [expected, np.log(2) / 2], rtol=1e-9)


def make_task(epsilon=0.1, grid=()):
    x = np.zeros((4, 2))
    targets = np.full((4, 2), 0.5)
    return ExplorationTask(
        None, None, x, targets, x, targets, {"test": np.zeros((3, 2))}, epsilon, grid
    )


def test_task_checks_epsilons_with_the_key_name():
    with pytest.raises(MsmultError, match="rashomon.epsilon='abc'"):
        make_task(epsilon="abc")
    with pytest.raises(MsmultError, match="rashomon.epsilon_grid"):
        make_task(grid=[0.0, -1.0])
    assert make_task(grid=[0, 0.02]).largest_epsilon == pytest.approx(0.1)


def exploration(m=2, rows=3):
    return Exploration(
        pd.DataFrame({"kind": ["base"] * m}), np.zeros(m), {"test": np.full((m, rows, 2), 0.5)}, 0.1
    )


def test_a_matching_exploration_passes_and_a_wrong_one_is_named():
    check_exploration(exploration(), make_task(), "mine", classes=2)
    with pytest.raises(MsmultError, match=r"explorer mine returned scores\['test'\] of shape"):
        check_exploration(exploration(rows=5), make_task(), "mine", classes=2)
    with pytest.raises(MsmultError, match="explorer mine returned dict"):
        check_exploration({}, make_task(), "mine", classes=2)
