"""The explorer contract: fidelity loss, membership, and the checks on an explorer's result."""

import numpy as np
import pandas as pd
import pytest
from helpers import modelless_task

from msmult.errors import MsmultError
from msmult.rashomon import Exploration, fidelity_loss
from msmult.rashomon.exploration import check_exploration, within_reach


def test_fidelity_loss_is_the_mean_cross_entropy_in_nats():
    targets = np.array([[1.0, 0.0], [0.5, 0.5]])
    proba = np.array([[0.5, 0.5], [0.25, 0.75]])
    # row 1: -ln 0.5; row 2: -(0.5 ln 0.25 + 0.5 ln 0.75)
    expected = (np.log(2) + 0.5 * (np.log(4) + np.log(4 / 3))) / 2
    assert fidelity_loss(proba, targets) == pytest.approx(expected, rel=1e-12)
    batched = fidelity_loss(np.stack([proba, targets.clip(1e-12)]), targets)
    np.testing.assert_allclose(batched, [expected, np.log(2) / 2], rtol=1e-9)


def test_task_checks_epsilons_with_the_key_name():
    with pytest.raises(MsmultError, match="membership.epsilon='abc'"):
        modelless_task(epsilon="abc")
    with pytest.raises(MsmultError, match="membership.epsilon_grid"):
        modelless_task(grid=[0.0, -1.0])
    assert modelless_task(grid=[0, 0.02]).largest_epsilon == pytest.approx(0.1)


def exploration(m=2, rows=3):
    return Exploration(
        pd.DataFrame({"kind": ["base"] * m}), np.zeros(m), {"test": np.full((m, rows, 2), 0.5)}, 0.1
    )


def test_a_matching_exploration_passes_and_a_wrong_one_is_named():
    check_exploration(exploration(), modelless_task(), "mine", classes=2)
    with pytest.raises(MsmultError, match=r"explorer mine returned scores\['test'\] of shape"):
        check_exploration(exploration(rows=5), modelless_task(), "mine", classes=2)
    with pytest.raises(MsmultError, match="explorer mine returned dict"):
        check_exploration({}, modelless_task(), "mine", classes=2)


EXPECTED = "; expected an Exploration with m >= 1 candidates (row 0 = the base surrogate)"


def found(losses, scores, scored=None, rows=None):
    rows = len(losses) if rows is None else rows
    return Exploration(
        pd.DataFrame({"k": range(rows)}), np.array(losses), scores, 0.1, scored=scored
    )


def half(m, classes=2, value=0.5):
    return {"test": np.full((m, 3, classes), value)}


def test_task_needs_test_rows_and_normalises_its_grid():
    with pytest.raises(ValueError, match="eval_sets must hold the test rows under 'test'"):
        modelless_task(grid=(0.3, 0.05), eval_sets={"val": np.zeros((3, 1))})
    task = modelless_task(0.1, [0, 0.05])
    assert task.epsilon_grid == (0.0, 0.05) and type(task.epsilon_grid[0]) is float
    assert modelless_task(0.1, (0.3, 0.05)).largest_epsilon == 0.3
    assert modelless_task(0.4, (0.3,)).largest_epsilon == 0.4
    assert modelless_task(0.2, ()).largest_epsilon == 0.2
    assert modelless_task(0.0, ()).epsilon == 0.0  # the boundary: 0 is allowed
    assert (task.seed, task.folds) == (0, ())


@pytest.mark.parametrize(
    ("exploration", "problems"),
    [
        (found([1.0, 1.1], half(2), rows=3), "3 candidate rows and losses of shape (2,)"),
        (
            found([], {"test": np.zeros((0, 3, 2))}, rows=0),
            "0 candidate rows and losses of shape (0,)",
        ),
        (found([[1.0, 1.1]], half(1), rows=1), "1 candidate rows and losses of shape (1, 2)"),
        (found([1.0, np.nan], half(2)), "non-finite losses"),
        (found([1.0, np.inf], half(2)), "non-finite losses"),
        (found([1.0, 1.1], half(2, classes=3)), "scores['test'] of shape (2, 3, 3), not (2, 3, 2)"),
        (found([1.0, 1.1], {}), "scores['test'] of shape None, not (2, 3, 2)"),
        (found([1.0, 1.1], half(2, value=np.nan)), "non-finite scores['test']"),
        (
            found([1.0, 1.1, 5.0], half(1), np.array([True, False, False])),
            "1 candidates within epsilon 0.3 unscored; scores['test'] of shape (1, 3, 2), not (3, 3, 2)",
        ),
        (
            found([1.0, 1.1, 5.0], half(2), np.array([1, 1, 0])),
            "scored of shape (3,), not (3,) booleans; scores['test'] of shape (2, 3, 2), not (3, 3, 2)",
        ),
        (
            found([1.0, 1.1, 5.0], half(2), np.array([True, True])),
            "scored of shape (2,), not (3,) booleans; scores['test'] of shape (2, 3, 2), not (3, 3, 2)",
        ),
    ],
)
def test_each_contract_breach_is_named_exactly(exploration, problems):
    with pytest.raises(MsmultError) as refused:
        check_exploration(exploration, modelless_task(grid=(0.3, 0.05)), "mine", 2)
    assert str(refused.value).startswith(f"explorer mine returned {problems}{EXPECTED}")


def test_a_foreign_result_and_the_accepted_boundaries():
    with pytest.raises(MsmultError) as refused:
        check_exploration({}, modelless_task(grid=(0.3, 0.05)), "mine", 2)
    assert str(refused.value).startswith(f"explorer mine returned dict{EXPECTED}")
    task = modelless_task(grid=(0.3, 0.05))
    assert check_exploration(found([1.0], half(1)), task, "mine", 2) is None  # m = 1
    # the candidate at exactly base + 0.3 (the largest epsilon) must be scored; the one above not
    losses = [1.0, 1.3, 1.3 + 1e-6]
    edge = found(losses, half(2), np.array([True, True, False]))
    assert check_exploration(edge, task, "mine", 2) is None
    assert check_exploration(found(losses, half(3), np.ones(3, bool)), task, "mine", 2) is None
    assert within_reach(np.array(losses), 0.3).tolist() == [True, True, False]
    with pytest.raises(MsmultError, match="1 candidates within epsilon 0.3 unscored"):
        check_exploration(found(losses, half(1), np.array([True, False, False])), task, "mine", 2)


def test_exploration_members_and_scored_rows():
    exploration = found(
        [1.0, 1.05, 1.2, 0.9],
        {"test": np.arange(3.0)[:, None, None]},
        np.array([True, True, False, True]),
    )
    assert exploration.base_loss == 1.0 and type(exploration.base_loss) is float
    assert exploration.in_set.tolist() == [True, True, False, True]
    assert exploration.scored_mask.tolist() == [True, True, False, True]
    assert exploration.member_scores("test")[:, 0, 0].tolist() == [0.0, 1.0, 2.0]
    everyone = found([1.0, 1.2], {"test": np.arange(2.0)[:, None, None]})
    assert everyone.scored_mask.tolist() == [True, True]
    assert everyone.member_scores("test")[:, 0, 0].tolist() == [0.0]


def test_fidelity_loss_by_hand_and_its_clipping():
    targets = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])  # 3 rows, 2 classes
    proba = np.array([[0.5, 0.5], [0.25, 0.75], [0.2, 0.8]])
    expected = (np.log(2) + 0.5 * (np.log(4) + np.log(4 / 3)) + np.log(1.25)) / 3
    assert fidelity_loss(proba, targets) == pytest.approx(expected, rel=1e-12)
    assert type(fidelity_loss(proba, targets)) is float
    both = fidelity_loss(np.stack([proba, np.full((3, 2), 0.5)]), targets)
    np.testing.assert_allclose(both, [expected, np.log(2)], rtol=1e-12)
    miss = fidelity_loss(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
    assert miss == pytest.approx(-np.log(1e-12), rel=1e-12)  # about 27.6 nats, not infinity
