"""Scoring a Rashomon exploration against the victim: per-surrogate and set-level numbers.

Plain arrays in, plain (JSON-ready) numbers out; all the maths lives in ``msmult.metrics``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from msmult import metrics
from msmult.comparison import compare_explorers
from msmult.metrics import GAPS
from msmult.metrics.closeness import model_figures
from msmult.metrics.verdict import Verdict
from msmult.rashomon.exploration import Exploration

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)


def summary(values: np.ndarray) -> dict[str, float]:
    return {
        "min": float(values.min()),
        "max": float(values.max()),
        "range": float(np.ptp(values)),
        "mean": float(values.mean()),
    }


def member_table(exploration: Exploration, figures: pd.DataFrame) -> pd.DataFrame:
    """One row per candidate: loss, membership, then the closeness ``figures`` of the scored
    candidates (``metrics.closeness.model_figures``; NaN for the unscored ones)."""
    table = exploration.candidates.copy()
    table.insert(0, "model", [f"m{i:04d}" for i in range(len(table))])
    table["loss"] = exploration.losses
    table["in_set"] = exploration.in_set
    scored = exploration.scored_mask
    for column in figures.columns:
        table[column] = np.nan
        table.loc[scored, column] = figures[column].to_numpy()
    return table


def multiplicity(point: dict, capacity: np.ndarray) -> dict:
    """Set-level multiplicity of the members: the set size and every registered metric (a point
    of ``metrics.epsilon_curve``), and the maximum and quantiles of the per-row Rashomon
    Capacity ``capacity`` (n,)."""
    return {
        **{key: value for key, value in point.items() if key != "epsilon"},
        "rashomon_capacity_max": float(capacity.max()),
        "rashomon_capacity_quantiles": {
            f"p{round(q * 100)}": float(np.quantile(capacity, q)) for q in QUANTILES
        },
    }


def fairness(table: pd.DataFrame, victim_gaps: dict[str, float]) -> dict:
    """Each gap: the victim's value, the base surrogate's, and min/max/range/mean over the set."""
    members = table[table["in_set"]]
    return {
        gap: {
            "victim": float(victim_gaps[gap]),
            "base": float(table[gap].iloc[0]),
            **summary(members[gap].to_numpy()),
        }
        for gap in GAPS
    }


def evaluate_set(
    exploration: Exploration,
    name: str,
    victim_proba: np.ndarray,
    y_true: np.ndarray,
    group: np.ndarray,
    positive_class: int,
    with_curve: bool = True,
    capacity_tol: float = 1e-9,
) -> dict:
    """Everything reported for one evaluation set (the test split, or e.g. HateCheck); the
    epsilon curve only when ``with_curve`` and the exploration has an epsilon grid."""
    scores = exploration.scores[name]
    decisions = metrics.decisions_of(scores)  # scores.argmax(axis=2), faster
    victim_decisions = victim_proba.argmax(axis=1)
    figures = model_figures(scores, victim_proba, y_true, group, positive_class, decisions)
    table = member_table(exploration, figures)
    # fairness_gaps_many equals fairlearn's fairness_gaps (tests/test_fairness_metrics.py), faster
    victim_gaps = {
        gap: float(values[0])
        for gap, values in metrics.fairness_gaps_many(
            y_true, victim_decisions[None], group, pos_label=positive_class
        ).items()
    }
    members = exploration.in_set
    # the set at the run's epsilon is one more point of the (one-pass) epsilon curve
    epsilon = float(exploration.epsilon)
    capacities: dict[float, np.ndarray] = {}
    point, *curve = metrics.epsilon_curve(
        losses=exploration.losses[exploration.scored_mask],
        base_loss=exploration.base_loss,
        epsilons=[epsilon, *(exploration.epsilon_grid if with_curve else ())],
        decisions=decisions,
        scores=scores,
        reference_victim=victim_decisions,
        reference_base=decisions[0],
        labels=y_true,
        tol=capacity_tol,
        capacities=capacities,
    )
    return {
        "table": table,
        "capacity": capacities[epsilon],
        "victim": {
            "accuracy": float((victim_decisions == y_true).mean()),
            "fairness": {gap: float(value) for gap, value in victim_gaps.items() if gap in GAPS},
        },
        "multiplicity": {**multiplicity(point, capacities[epsilon]), "epsilon_curve": curve},
        "fairness": fairness(table, victim_gaps),
        "members": {
            "fidelity": summary(table.loc[members, "fidelity"].to_numpy()),
            "accuracy": summary(table.loc[members, "accuracy"].to_numpy()),
        },
    }


def verdict_and_comparison(
    exploration: Exploration, test: dict, victim_proba: np.ndarray, verdict: Verdict, seed: int
) -> dict:
    """The equivalence verdict on the test rows and, when the candidates name their explorer
    (``rashomon=compare``), the comparison of the explorers: keys to add to ``test``."""
    comparison = None
    if "explorer" in test["table"]:  # rashomon=compare
        decisions = metrics.decisions_of(exploration.member_scores("test"))
        comparison = compare_explorers(test["table"], decisions, victim_proba.argmax(1), seed)
    return {"verdict": verdict.judge(test["table"], test["victim"]), "comparison": comparison}
