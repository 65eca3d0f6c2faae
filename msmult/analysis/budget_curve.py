"""Budget curves in one run: the base surrogate and its Rashomon set at growing query budgets.

A checkpoint ``b`` (queries) refits the base surrogate on the first
``b - max(1, round(fidelity_holdout * b))`` fit rows in query order, the fit rows a run with
``budget=b`` would train on, and explores its Rashomon set with the same explorer and the same
fidelity holdout as the full run, so every point's membership test uses the same rows. Each point
reports the base surrogate's fidelity, the set size, every registered set metric and each fairness
gap's range over the set, on the test rows, and how many of the thieves' copies pass the verdict:
every model of a refitting lens (``retrain`` / ``bootstrap``) and the base surrogate, members of
the set or not, since a thief does not filter its copy by Rashomon membership.

The budget to equivalence is the fewest checkpoint queries at which at least ``verdict.target`` of
the thieves' copies pass (with the owner's envelope): a number, or not reached within the largest
checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from msmult.analysis.comparison import REFERENCES
from msmult.analysis.evaluation import evaluate_test
from msmult.data.splits import Splits
from msmult.errors import MsmultError
from msmult.metrics import GAPS
from msmult.metrics.registry import SET_METRICS
from msmult.metrics.verdict import Verdict, explorer_rows
from msmult.models.fitting import FitData, fit_many
from msmult.rashomon.exploration import ExplorationTask, check_exploration
from msmult.validation import as_list, bad_value, is_whole

log = logging.getLogger("msmult")
MIN_FIT_ROWS = 10  # fewest answers a checkpoint's surrogate (and its bootstrap refits) is fitted on


def check_checkpoints(values: Any, budget: int, holdout_share: float) -> list[int]:
    """``budget_checkpoints``: whole numbers of queries up to ``budget``, each leaving at least
    ``MIN_FIT_ROWS`` fit rows after the fidelity holdout; sorted, unique."""
    items = as_list("budget_checkpoints", values, "budget_checkpoints=[250,500,1000,2000]")
    if not all(is_whole(v) and 1 <= v <= budget for v in items):
        raise bad_value(
            "budget_checkpoints",
            items,
            f"each checkpoint must be a whole number of queries up to budget={budget}",
            "budget_checkpoints=[250,500,1000,2000]",
        )
    small = [v for v in items if fit_rows_at(v, holdout_share) < MIN_FIT_ROWS]
    if small:
        smallest = next(
            b for b in range(1, budget + 1) if fit_rows_at(b, holdout_share) >= MIN_FIT_ROWS
        )
        raise bad_value(
            "budget_checkpoints",
            items,
            f"{small[0]} queries leave {fit_rows_at(small[0], holdout_share)} fit rows after the "
            f"fidelity holdout (holdout.share={holdout_share}), fewer than the {MIN_FIT_ROWS} a "
            f"surrogate and its refits need; the smallest checkpoint is {smallest}",
            f"budget_checkpoints=[{max(smallest, 250)},{budget}]",
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
    verdict: Verdict,
    envelope: dict[str, float] | None,
) -> list[dict]:
    """One point per checkpoint (see the module docstring); ``task`` is the full run's
    exploration task, whose fit rows are in query order; ``envelope``: the owner's, for the
    verdict (None: the fixed tolerances)."""
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
        result = evaluate_test(exploration, victim_proba, splits, capacity_tol, with_curve=False)
        point = curve_point(budget, rows, result)
        thieves = thieves_rows(result["table"], explorer_name)
        if thieves.any():
            passed = verdict.passes(result["table"], result["victim"], envelope) & thieves
            point |= {
                "thieves": int(thieves.sum()),
                "thieves_passed": int(passed.sum()),
                "thieves_share": float(passed.sum() / thieves.sum()),
            }
        points.append(point)
    return points


def thieves_rows(table: pd.DataFrame, explorer_name: str) -> np.ndarray:
    """(m,) the candidates that are thieves' copies: the refitting lenses' models (and the base
    surrogate, row 0, which every lens holds); none for a set with no refitting lens."""
    if "explorer" not in table:
        return np.full(len(table), explorer_name in REFERENCES)
    lenses = explorer_rows(table["explorer"])
    rows = np.zeros(len(table), bool)
    for name in REFERENCES:
        if name in lenses:
            rows |= lenses[name]
    return rows


def budget_to_equivalence(points: list[dict], target: float) -> dict:
    """The fewest checkpoint queries at which at least ``target`` of the thieves' copies pass;
    ``budget`` is None when no checkpoint reaches it (``within``: the largest checkpoint)."""
    reached = [p["budget"] for p in points if p.get("thieves_share", 0.0) >= target]
    return {
        "target": target,
        "budget": min(reached) if reached else None,
        "within": max(p["budget"] for p in points),
        "shares": {str(p["budget"]): p.get("thieves_share") for p in points},
    }


def curve_point(budget: int, rows: int, result: dict) -> dict:
    """A budget-curve point from an ``evaluate_test`` result."""
    multiplicity = result["multiplicity"]
    return {
        "budget": budget,
        "fit_rows": rows,
        "fidelity": float(result["table"]["fidelity"].iloc[0]),
        "set_size": int(multiplicity["set_size"]),
        **{metric.name: float(multiplicity[metric.name]) for metric in SET_METRICS},
        **{f"{gap}_range": float(result["fairness"][gap]["range"]) for gap in GAPS},
    }
