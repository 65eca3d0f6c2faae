"""The equivalence verdict: how many of the set's members would pass as the victim.

A member passes when its test accuracy is within ``accuracy`` of the victim's, each fairness gap
within ``gap`` of the victim's, and its decisions agree with the victim's on at least
``agreement`` of the test rows (its fidelity). The share of passing members comes with a Wilson
95% score interval (Wilson, JASA 1927), which stays inside [0, 1] for small sets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msmult.metrics.fairness import GAPS
from msmult.validation import number

Z95 = 1.959963984540054  # two-sided 95% standard-normal quantile


def wilson_interval(passed: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of the share ``passed / total`` ((0, 1) when ``total`` is 0)."""
    if total == 0:
        return 0.0, 1.0
    share, z2 = passed / total, z * z
    centre = (share + z2 / (2 * total)) / (1 + z2 / total)
    half = z / (1 + z2 / total) * math.sqrt(share * (1 - share) / total + z2 / (4 * total**2))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Verdict:
    """Tolerances of the verdict (``verdict.*`` in the config), each in [0, 1]."""

    accuracy: float = 0.01
    gap: float = 0.02
    agreement: float = 0.98

    def __post_init__(self) -> None:
        for key, example in (("accuracy", 0.01), ("gap", 0.02), ("agreement", 0.98)):
            number(
                f"verdict.{key}",
                getattr(self, key),
                0,
                1,
                what=" (a tolerance on a 0-1 scale)",
                example=f"verdict.{key}={example}",
            )

    def passes(self, table: pd.DataFrame, victim: dict) -> np.ndarray:
        """(m,) whether each row of a member table passes as the victim (``victim`` holds
        ``accuracy`` and ``fairness`` {gap: value}, as ``evaluate_set`` reports it)."""
        ok = (table["accuracy"] - victim["accuracy"]).abs() <= self.accuracy
        ok &= table["fidelity"] >= self.agreement
        for gap in GAPS:
            ok &= (table[gap] - victim["fairness"][gap]).abs() <= self.gap
        return ok.to_numpy()

    def judge(self, table: pd.DataFrame, victim: dict) -> dict:
        """The verdict on the members (``in_set``) of ``table``: for the whole set and, when the
        table has an ``explorer`` column, per explorer (each with the base surrogate, row 0)."""
        passed = self.passes(table, victim) & table["in_set"].to_numpy()
        result = {
            "tolerances": {"accuracy": self.accuracy, "gap": self.gap, "agreement": self.agreement},
            **share(passed, table["in_set"].to_numpy()),
        }
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


def sentence(verdict: dict, what: str = "surrogates") -> str:
    """'k of m surrogates (share, 95% CI low-high) would pass as the victim ...'."""
    return (
        f"{verdict['passed']} of {verdict['members']} {what} ({verdict['share']:.2f}, 95% CI "
        f"{verdict['low']:.2f}-{verdict['high']:.2f}) would pass as the victim on accuracy and "
        "fairness"
    )
