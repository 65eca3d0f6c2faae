"""Scoring a Rashomon exploration against the victim: per-surrogate and set-level numbers.

Plain arrays in, plain (JSON-ready) numbers out; all the maths lives in ``msmult.metrics``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from msmult import metrics
from msmult.rashomon.exploration import Exploration

GAPS = (
    "demographic_parity_difference",
    "equalized_odds_difference",
    "equal_opportunity_difference",
)
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)


def summary(values: np.ndarray) -> dict[str, float]:
    return {"min": float(values.min()), "max": float(values.max()), "range": float(np.ptp(values)),
            "mean": float(values.mean())}  # fmt: skip


def member_table(
    exploration: Exploration,
    decisions: np.ndarray,
    victim_decisions: np.ndarray,
    y_true: np.ndarray,
    group: np.ndarray,
    positive_class: int,
) -> pd.DataFrame:
    """One row per candidate (``decisions`` (m, n)): loss, membership, fidelity, accuracy and
    the fairness gaps."""
    table = exploration.candidates.copy()
    table.insert(0, "model", [f"m{i:04d}" for i in range(len(table))])
    table["loss"] = exploration.losses
    table["in_set"] = exploration.in_set
    table["fidelity"] = (decisions == victim_decisions).mean(axis=1)
    table["accuracy"] = (decisions == y_true).mean(axis=1)
    gaps = metrics.fairness_gaps_many(y_true, decisions, group, pos_label=positive_class)
    for gap in GAPS:
        table[gap] = gaps[gap]
    return table


def multiplicity(
    scores: np.ndarray,
    decisions: np.ndarray,
    victim_decisions: np.ndarray,
    y_true: np.ndarray,
    capacity_tol: float,
) -> tuple[dict, np.ndarray]:
    """Set-level multiplicity of the members' (m, n, c) scores and (m, n) decisions, vs the victim
    and vs the base (row 0), with the per-row Rashomon Capacity; score-based metrics (VPR,
    variance) look at the score of each row's true class."""
    base = decisions[0]
    capacity = metrics.rashomon_capacity(scores, capacity_tol)
    return {
        "set_size": int(len(scores)),
        "ambiguity_vs_victim": metrics.ambiguity(decisions, victim_decisions),
        "discrepancy_vs_victim": metrics.discrepancy(decisions, victim_decisions),
        "ambiguity_vs_base": metrics.ambiguity(decisions, base),
        "discrepancy_vs_base": metrics.discrepancy(decisions, base),
        "rashomon_capacity": {
            "mean": float(capacity.mean()),
            "max": float(capacity.max()),
            "quantiles": {f"p{round(q * 100)}": float(np.quantile(capacity, q)) for q in QUANTILES},
        },
        "viable_prediction_range_mean": float(
            metrics.viable_prediction_range(scores, y_true).mean()
        ),
        "score_variance_mean": float(metrics.score_variance(scores, y_true).mean()),
        "pairwise_disagreement_mean": float(metrics.pairwise_disagreement(decisions).mean()),
    }, capacity


def fairness(table: pd.DataFrame, victim_gaps: dict[str, float]) -> dict:
    """Each gap: the victim's value, the base surrogate's, and min/max/range/mean over the set."""
    members = table[table["in_set"]]
    return {
        gap: {
            "victim": float(victim_gaps[gap]),
            "base": float(table[gap].iloc[0]),
            **summary(members[gap].to_numpy()),
        }  # fmt: skip
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
    decisions = scores.argmax(axis=2)
    victim_decisions = victim_proba.argmax(axis=1)
    table = member_table(exploration, decisions, victim_decisions, y_true, group, positive_class)
    victim_gaps = metrics.fairness_gaps(y_true, victim_decisions, group, pos_label=positive_class)
    members = exploration.in_set
    set_multiplicity, capacity = multiplicity(
        scores[members], decisions[members], victim_decisions, y_true, capacity_tol
    )
    curve = (
        metrics.epsilon_curve(
            losses=exploration.losses,
            base_loss=exploration.base_loss,
            epsilons=exploration.epsilon_grid,
            decisions=decisions,
            scores=scores,
            reference_victim=victim_decisions,
            reference_base=decisions[0],
            labels=y_true,
            tol=capacity_tol,
        )
        if with_curve and exploration.epsilon_grid
        else []
    )
    return {
        "table": table,
        "capacity": capacity,
        "victim": {
            "accuracy": float((victim_decisions == y_true).mean()),
            "fairness": {gap: float(value) for gap, value in victim_gaps.items() if gap in GAPS},
        },
        "multiplicity": {**set_multiplicity, "epsilon_curve": curve},
        "fairness": fairness(table, victim_gaps),
        "members": {
            "fidelity": summary(table.loc[members, "fidelity"].to_numpy()),
            "accuracy": summary(table.loc[members, "accuracy"].to_numpy()),
        },
    }
