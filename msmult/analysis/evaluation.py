"""Scoring a Rashomon exploration against the victim: per-surrogate and set-level numbers, the
verdict, the comparison of lenses and the owner's yardstick, in one ``Evaluation``.

Plain arrays in, plain (JSON-ready) numbers out; all the maths lives in ``msmult.metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from msmult import metrics
from msmult.analysis.comparison import compare_explorers
from msmult.analysis.owner import Yardstick, owner_yardstick
from msmult.analysis.yardstick import against_owner
from msmult.data.splits import Splits
from msmult.metrics import GAPS
from msmult.metrics.closeness import model_figures
from msmult.metrics.verdict import Verdict
from msmult.models.owner_retrains import OwnerRetrains
from msmult.rashomon.exploration import Exploration
from msmult.rashomon.per_row import row_metrics

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


def evaluate_test(
    exploration: Exploration,
    victim_proba: np.ndarray,
    splits: Splits,
    capacity_tol: float,
    with_curve: bool = True,
) -> dict:
    """``evaluate_set`` on the test split of ``splits``."""
    return evaluate_set(
        exploration,
        "test",
        victim_proba,
        splits.y_test,
        splits.group_test,
        splits.positive_class,
        with_curve=with_curve,
        capacity_tol=capacity_tol,
    )


@dataclass(frozen=True)
class Scoring:
    """How a run scores its exploration: the ``verdict`` settings, the explorer's name (the lens
    of a single explorer), the seed of its subsamples and Rashomon Capacity's tolerance."""

    verdict: Verdict
    explorer: str
    seed: int
    capacity_tol: float


@dataclass
class Evaluation:
    """Everything a run reports about its exploration, computed once and asked by name, as
    fairlearn's ``MetricFrame`` answers grouped questions: ``sets`` (evaluation-set name ->
    ``evaluate_set`` result, always ``test``), the victim's test probabilities, the ``verdict`` on the test rows, the
    ``comparison`` of the explorers (``rashomon=compare``), the ``owner`` yardstick and the
    thieves against it (``yardstick``; ``owner_note`` says why the yardstick is degenerate or
    missing), and ``per_row`` results of a per-row explorer (AWP).
    ``by_lens()``: one row per lens (explorer) with its members and how they fare."""

    sets: dict[str, dict]
    victim_proba: np.ndarray
    verdict: dict
    comparison: dict | None = None
    owner: Yardstick | None = None
    owner_note: str | None = None
    yardstick: dict | None = None
    per_row: dict | None = None

    @property
    def test(self) -> dict:
        return self.sets["test"]

    @classmethod
    def of(
        cls,
        exploration: Exploration,
        splits: Splits,
        victim: Any,
        victim_proba: np.ndarray,
        owner_retrains: OwnerRetrains,
        scoring: Scoring,
    ) -> Evaluation:
        """Score ``exploration`` on every evaluation set of ``splits`` against the victim, and
        judge it (with the owner's envelope when ``verdict.tolerances=owner`` and the owner's
        retrains are there, else the fixed tolerances)."""
        verdict, explorer, seed = scoring.verdict, scoring.explorer, scoring.seed
        capacity_tol = scoring.capacity_tol
        sets = {
            "test": evaluate_test(exploration, victim_proba, splits, capacity_tol),
            **{
                name: evaluate_set(
                    exploration,
                    name,
                    victim.predict_proba(extra.x),
                    extra.y,
                    extra.group,
                    splits.positive_class,
                    with_curve=False,
                    capacity_tol=capacity_tol,
                )
                for name, extra in splits.extra_eval.items()
            },
        }
        test = sets["test"]
        owner = owner_yardstick(owner_retrains, victim_proba, test["victim"], splits)
        envelope = None
        if owner is not None and verdict.tolerances == "owner":
            envelope = owner.envelope(verdict.owner_quantile)
        member_scores = exploration.member_scores("test")
        reference = victim_proba.argmax(axis=1)
        comparison = None
        if "explorer" in test["table"]:  # rashomon=compare
            comparison = compare_explorers(
                test["table"], metrics.decisions_of(member_scores), reference, seed
            )
        against = None
        if owner is not None and exploration.per_row is None:
            against = against_owner(
                test["table"], member_scores, victim_proba, test["victim"], owner, explorer, seed
            )
        per_row = None
        if exploration.per_row is not None:  # rashomon=awp: per-row metrics only
            per_row, capacity = row_metrics(
                exploration.per_row, reference, splits.y_test, capacity_tol
            )
            test["capacity"] = capacity
        table = test["table"]
        table["passes"] = verdict.passes(table, test["victim"], envelope) & table["in_set"]
        return cls(
            sets=sets,
            victim_proba=victim_proba,
            verdict=verdict.judge(table, test["victim"], envelope),
            comparison=comparison,
            owner=owner,
            owner_note=owner_retrains.note,
            yardstick=against,
            per_row=per_row,
        )

    def by_lens(self) -> pd.DataFrame:
        """One row per lens: its members, how many pass the verdict, and (with the owner's
        yardstick) the probability of superiority of its agreement."""
        shares = self.verdict.get("explorers") or {"set": self.verdict}
        rows = []
        for lens, share in shares.items():
            row = {"lens": lens, "members": share["members"], "passed": share["passed"]}
            if self.yardstick is not None:
                key = lens if lens in self.yardstick else next(iter(self.yardstick))
                row["superiority_agreement"] = self.yardstick[key]["superiority"]["disagreement"][
                    "estimate"
                ]
            rows.append(row)
        return pd.DataFrame(rows).set_index("lens")
