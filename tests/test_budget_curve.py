"""Budget curves: nested prefixes of the fit rows in query order, one holdout, checkpoints."""

import numpy as np
import pandas as pd
import pytest

from msmult.analysis.budget_curve import budget_curve, check_checkpoints, fit_rows_at
from msmult.attacks.transfer_set import TransferSet
from msmult.data.splits import Splits
from msmult.errors import MsmultError
from msmult.metrics import GAPS
from msmult.metrics.registry import SET_METRICS
from msmult.metrics.verdict import Verdict
from msmult.rashomon import Exploration, ExplorationTask


class Mean:
    """A 'surrogate' answering the mean of the targets it was fitted on, for every row."""

    def fit(self, x, targets):
        self.fitted_on = x.copy()
        self.answer = targets.mean(axis=0)
        return self

    def predict_proba(self, x):
        return np.tile(self.answer, (len(x), 1))


class Recorder:
    """An explorer that returns the base surrogate alone and remembers every task."""

    name = "recorder"

    def __init__(self):
        self.tasks = []

    def explore(self, task):
        self.tasks.append(task)
        scores = {"test": task.surrogate.predict_proba(task.eval_sets["test"])[None]}
        return Exploration(pd.DataFrame({"kind": ["base"]}), np.zeros(1), scores, task.epsilon)


def tiny_run(checkpoints):
    rows = np.arange(40.0)[:, None]  # row i = the i-th query
    targets = np.column_stack([rows[:, 0] % 2, 1 - rows[:, 0] % 2])
    fit, held = TransferSet(rows, targets, 40, "toy").split(0.25, seed=3)
    x_test = np.zeros((6, 1))
    splits = Splits(
        "toy",
        rows,
        np.zeros(40, int),
        rows,
        x_test,
        np.array([0, 1] * 3),
        np.array([0, 0, 0, 1, 1, 1]),
        ("a", "b"),
        "g",
    )
    task = ExplorationTask(
        Mean().fit(fit.x, fit.targets),
        lambda seed: Mean(),
        fit.x,
        fit.targets,
        held.x,
        held.targets,
        {"test": x_test},
        0.1,
        (0.0,),
        0,
    )
    explorer = Recorder()
    victim = np.tile([0.3, 0.7], (6, 1))
    fixed = Verdict(tolerances="fixed")
    points = budget_curve(
        checkpoints, task, explorer, "recorder", 0.25, splits, victim, 1e-9, fixed, None
    )
    return fit, held, explorer.tasks, points


def test_split_keeps_query_order_in_both_parts():
    fit, held, _, _ = tiny_run([])
    assert (np.diff(fit.x[:, 0]) > 0).all() and (np.diff(held.x[:, 0]) > 0).all()
    assert len(held.x) == 10 and len(np.intersect1d(fit.x, held.x)) == 0


def test_checkpoints_fit_nested_query_order_prefixes_with_one_holdout():
    fit, held, tasks, points = tiny_run([8, 20, 40])
    # fit rows of a run with budget b: b - round(0.25 b) -> 6, 15, 30 (all 30 at the full budget)
    assert [p["fit_rows"] for p in points] == [6, 15, 30]
    assert [p["budget"] for p in points] == [8, 20, 40]
    for task, rows in zip(tasks, (6, 15, 30)):
        np.testing.assert_array_equal(task.fit_x, fit.x[:rows])
        np.testing.assert_array_equal(task.surrogate.fitted_on, fit.x[:rows])
        np.testing.assert_array_equal(task.holdout_x, held.x)
        assert task.epsilon_grid == () and list(task.eval_sets) == ["test"]
    keys = {
        "budget",
        "fit_rows",
        "fidelity",
        "set_size",
        *(m.name for m in SET_METRICS),
        *(f"{gap}_range" for gap in GAPS),
    }
    assert all(set(p) == keys for p in points)
    # the mean answer leans to class 0 or 1 with the prefix: 6 rows 3/3 -> argmax 0, fidelity 0
    assert points[0]["fidelity"] == 0.0 and points[0]["set_size"] == 1


def test_checkpoints_are_checked_against_the_budget_and_the_rows_left():
    assert check_checkpoints([500, 250, 500], 2000, 0.2) == [250, 500]
    assert check_checkpoints([], 2000, 0.2) == []
    for bad in ([2500], [0], [1.5], "250", [11]):  # 11 queries leave 9 fit rows: too few
        with pytest.raises(MsmultError, match="budget_checkpoints"):
            check_checkpoints(bad, 2000, 0.2)
    assert fit_rows_at(2000, 0.2) == 1600 and fit_rows_at(250, 0.2) == 200
    with pytest.raises(MsmultError, match="budget_checkpoints holds 60"):
        tiny_run([60])  # would need 45 fit rows of 30
