"""The equivalence verdict: how many of the set's members would pass as the victim.

``tolerances=owner`` (the default): a member passes when every closeness figure
(``msmult.metrics.closeness``: disagreement with the victim, |accuracy difference|, |difference|
of each fairness gap, probability distance) is no larger than the owner's envelope, the
``owner_quantile``-quantile of the owner's own retrains (1: the least close of them, so every
retrain passes). ``tolerances=fixed``: a member passes when its test accuracy is within
``accuracy`` of the victim's, each fairness gap within ``gap`` of the victim's, and its decisions
agree with the victim's on at least ``agreement`` of the test rows (msmult's own numbers; no
published standard). The share of passing members comes with a Wilson 95% score interval
(Wilson, JASA 1927), which stays inside [0, 1] for small sets. ``target`` is the share a thieves'
set must reach for the budget to equivalence (``msmult.analysis.budget_curve``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msmult.metrics.closeness import FIGURES, distances
from msmult.metrics.fairness import GAPS
from msmult.validation import choice, flag, number

Z95 = 1.959963984540054  # two-sided 95% standard-normal quantile


def wilson_interval(passed: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of the share ``passed / total`` ((0, 1) when ``total`` is 0)."""
    if total == 0:
        return 0.0, 1.0
    share, z2 = passed / total, z * z
    centre = (share + z2 / (2 * total)) / (1 + z2 / total)
    half = z / (1 + z2 / total) * math.sqrt(share * (1 - share) / total + z2 / (4 * total**2))
    return max(0.0, centre - half), min(1.0, centre + half)


TOLERANCES = ("owner", "fixed")


@dataclass(frozen=True)
class Verdict:
    """The verdict's settings (``verdict.*`` in the config; see the module docstring)."""

    tolerances: str = "owner"
    owner_quantile: float = 1.0
    target: float = 0.95
    budget_to_equivalence: bool = False
    accuracy: float = 0.01
    gap: float = 0.02
    agreement: float = 0.98

    def __post_init__(self) -> None:
        choice("verdict.tolerances", self.tolerances, TOLERANCES)
        number(
            "verdict.owner_quantile",
            self.owner_quantile,
            0,
            1,
            what=" (the quantile of the owner's retrains that sets the envelope; 1: the least close)",
            example="verdict.owner_quantile=1.0",
        )
        number(
            "verdict.target",
            self.target,
            0,
            1,
            open_low=True,
            what=" (the share of a thieves' set that must pass for the budget to equivalence)",
            example="verdict.target=0.95",
        )
        flag("verdict.budget_to_equivalence", self.budget_to_equivalence)
        for key, example in (("accuracy", 0.01), ("gap", 0.02), ("agreement", 0.98)):
            number(
                f"verdict.{key}",
                getattr(self, key),
                0,
                1,
                what=" (a tolerance on a 0-1 scale)",
                example=f"verdict.{key}={example}",
            )

    def passes(
        self, table: pd.DataFrame, victim: dict, envelope: dict[str, float] | None = None
    ) -> np.ndarray:
        """(m,) whether each row of a member table passes as the victim (``victim`` holds
        ``accuracy`` and ``fairness`` {gap: value}, as ``evaluate_set`` reports it): within the
        owner's ``envelope`` (figure -> largest distance) when given, else the fixed tolerances."""
        if envelope is not None:
            gaps = distances(table, victim)
            return np.all([gaps[f].to_numpy() <= envelope[f] for f in FIGURES], axis=0)
        ok = (table["accuracy"] - victim["accuracy"]).abs() <= self.accuracy
        ok &= table["fidelity"] >= self.agreement
        for gap in GAPS:
            ok &= (table[gap] - victim["fairness"][gap]).abs() <= self.gap
        return ok.to_numpy()

    def judge(
        self, table: pd.DataFrame, victim: dict, envelope: dict[str, float] | None = None
    ) -> dict:
        """The verdict on the members (``in_set``) of ``table``: for the whole set and, when the
        table has an ``explorer`` column, per explorer (each with the base surrogate, row 0).
        ``envelope``: the owner's (``Yardstick.envelope``) for ``tolerances=owner``; without it
        the fixed tolerances apply."""
        passed = self.passes(table, victim, envelope) & table["in_set"].to_numpy()
        if envelope is None:
            tolerances = {
                "mode": "fixed",
                "accuracy": self.accuracy,
                "gap": self.gap,
                "agreement": self.agreement,
            }
        else:
            tolerances = {"mode": "owner", "owner_quantile": self.owner_quantile, **envelope}
        result = {"tolerances": tolerances, **share(passed, table["in_set"].to_numpy())}
        if "explorer" in table:
            result["explorers"] = {
                name: share(passed[rows], table["in_set"].to_numpy()[rows])
                for name, rows in explorer_rows(table["explorer"]).items()
            }
        return result


def share(passed: np.ndarray, members: np.ndarray) -> dict:
    """Passing members, members, their share and its Wilson 95% interval."""
    k, m = int(passed.sum()), int(members.sum())
    low, high = wilson_interval(k, m)
    return {"passed": k, "members": m, "share": k / m if m else 0.0, "low": low, "high": high}


def explorer_rows(explorer: pd.Series) -> dict[str, np.ndarray]:
    """Explorer name -> boolean rows of its candidates, the shared base surrogate (row 0, labelled
    ``base``) included in every explorer's."""
    labels = explorer.to_numpy()
    names = [name for name in dict.fromkeys(labels) if name != "base"]
    return {name: (labels == name) | (np.arange(len(labels)) == 0) for name in names}


def sentence(verdict: dict, what: str = "surrogates", tolerances: dict | None = None) -> str:
    """'k of m surrogates (share, 95% CI low-high) lie within the owner's envelope' (or 'would
    pass as the victim on accuracy and fairness' under the fixed tolerances)."""
    owner = (tolerances or {}).get("mode") == "owner"
    judged = (
        "lie within the owner's envelope"
        if owner
        else ("would pass as the victim on accuracy and fairness")
    )
    return (
        f"{verdict['passed']} of {verdict['members']} {what} ({verdict['share']:.2f}, 95% CI "
        f"{verdict['low']:.2f}-{verdict['high']:.2f}) {judged}"
    )
