"""Budget curves in one run: the base surrogate and its Rashomon set at growing query budgets.

A checkpoint ``b`` (queries) refits the base surrogate on the first
``b - max(1, round(fidelity_holdout * b))`` fit rows in query order, the fit rows a run with
``budget=b`` would train on, and explores its Rashomon set with the same explorer and the same
fidelity holdout as the full run, so every point's membership test uses the same rows. Each point
reports the base surrogate's fidelity, the set size, every registered set metric and each fairness
gap's range over the set, on the test rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from msmult.data.splits import Splits
from msmult.errors import MsmultError
from msmult.evaluation import evaluate_set
from msmult.metrics import GAPS
from msmult.metrics.registry import SET_METRICS
from msmult.models.fitting import FitData, fit_many
from msmult.rashomon.exploration import ExplorationTask, check_exploration
from msmult.validation import as_list, bad_value, is_whole

log = logging.getLogger("msmult")


def check_checkpoints(values: Any, budget: int) -> list[int]:
    """``budget_checkpoints``: whole numbers from 2 to ``budget`` (queries), sorted, unique."""
    items = as_list("budget_checkpoints", values, "budget_checkpoints=[250,500,1000,2000]")
    if not all(is_whole(v) and 2 <= v <= budget for v in items):
        raise bad_value(
            "budget_checkpoints",
            items,
            f"each checkpoint must be a whole number of queries from 2 to budget={budget}",
            "budget_checkpoints=[250,500,1000,2000]",
        )
    return sorted(set(int(v) for v in items))


def fit_rows_at(budget: int, holdout_share: float) -> int:
    """Fit rows of a run with ``budget`` queries: the budget less its fidelity holdout."""
    return budget - max(1, int(round(holdout_share * budget)))


def budget_curve(
    checkpoints: Sequence[int],
    task: ExplorationTask,
    explorer: Any,
    explorer_name: str,
    holdout_share: float,
    splits: Splits,
    victim_proba: np.ndarray,
    capacity_tol: float,
) -> list[dict]:
    """One point per checkpoint (see the module docstring); ``task`` is the full run's
    exploration task, whose fit rows are in query order."""
    sizes = [fit_rows_at(budget, holdout_share) for budget in checkpoints]
    for budget, rows in zip(checkpoints, sizes):
        if rows > len(task.fit_x):
            raise MsmultError(
                f"budget_checkpoints holds {budget}, which needs {rows} fit rows, but the attack "
                f"left only {len(task.fit_x)} (it used fewer queries than budget); use "
                "checkpoints up to the queries the attack spends."
            )
    bases = fit_many(
        [task.new_surrogate(task.seed) for _ in checkpoints],
        [FitData(task.fit_x, task.fit_targets, rows=np.arange(rows)) for rows in sizes],
    )
    points = []
    for budget, rows, base in zip(checkpoints, sizes, bases):
        log.info("budget curve: %d queries, %d fit rows", budget, rows)
        x, targets = task.fit_x[:rows], task.fit_targets[:rows]
        prefix = replace(
            task,
            surrogate=base,
            fit_x=x,
            fit_targets=targets,
            eval_sets={"test": task.eval_sets["test"]},
            epsilon_grid=(),
        )
        exploration = explorer.explore(prefix)
        check_exploration(exploration, prefix, explorer_name, splits.n_classes)
        result = evaluate_set(
            exploration,
            "test",
            victim_proba,
            splits.y_test,
            splits.group_test,
            splits.positive_class,
            with_curve=False,
            capacity_tol=capacity_tol,
        )
        points.append(curve_point(budget, rows, result))
    return points


def curve_point(budget: int, rows: int, result: dict) -> dict:
    """A budget-curve point from an ``evaluate_set`` result."""
    multiplicity = result["multiplicity"]
    return {
        "budget": budget,
        "fit_rows": rows,
        "fidelity": float(result["table"]["fidelity"].iloc[0]),
        "set_size": int(multiplicity["set_size"]),
        **{metric.name: float(multiplicity[metric.name]) for metric in SET_METRICS},
        **{f"{gap}_range": float(result["fairness"][gap]["range"]) for gap in GAPS},
    }
