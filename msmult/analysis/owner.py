"""The owner's yardstick: how far from the deployed victim the owner's own retrains are.

Each retrain (``msmult.models.owner_retrains``) is scored on the test rows like a surrogate:
agreement with the victim's decisions, |accuracy difference|, |difference| of each fairness gap
and the probability distance (``msmult.metrics.closeness``); plus the owner's own ambiguity and
discrepancy against the victim over its K retrains. The ``envelope`` at a quantile q gives, per
closeness figure, the distance of the owner's q-quantile retrain: q = 1 is the least close of the
K, so every retrain lies within it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from msmult.data.splits import Splits
from msmult.metrics import ambiguity, decisions_of, discrepancy
from msmult.metrics.closeness import FIGURES, distances, model_figures
from msmult.models.owner_retrains import OwnerRetrains


@dataclass(frozen=True)
class Yardstick:
    """``figures``: one row per retrain (``model`` o01.., ``seed``, fidelity, accuracy, the gaps,
    ``probability_distance``); ``distances``: its closeness ``FIGURES``; ``scores``: (K, n, c)
    test probabilities; ``cache``: how the retrains were obtained; ``note``: a sentence when the
    yardstick is degenerate (zero spread)."""

    figures: pd.DataFrame
    distances: pd.DataFrame
    scores: np.ndarray
    ambiguity: float
    discrepancy: float
    cache: str
    note: str | None = None

    @property
    def models(self) -> int:
        return len(self.figures)

    def envelope(self, quantile: float) -> dict[str, float]:
        """Per closeness figure, the owner's ``quantile``-quantile distance (linear
        interpolation; 1: the least close retrain)."""
        return {f: float(np.quantile(self.distances[f].to_numpy(), quantile)) for f in FIGURES}

    def as_report(self) -> dict:
        """The ``owner`` section of report.json."""
        spread = {
            figure: {
                "min": float(values.min()),
                "median": float(values.median()),
                "max": float(values.max()),
            }
            for figure, values in self.distances.items()
        }
        return {
            "models": self.models,
            "cache": self.cache,
            "note": self.note,
            "agreement": {
                "min": float(self.figures["fidelity"].min()),
                "max": float(self.figures["fidelity"].max()),
            },
            "distances": spread,
            "ambiguity_vs_victim": self.ambiguity,
            "discrepancy_vs_victim": self.discrepancy,
            "retrains": [
                {**row, **dist}
                for row, dist in zip(
                    self.figures.to_dict("records"), self.distances.to_dict("records")
                )
            ],
        }


def owner_yardstick(
    retrains: OwnerRetrains, victim_proba: np.ndarray, victim: dict, splits: Splits
) -> Yardstick | None:
    """The yardstick of ``retrains`` on the test rows (None when there are none); ``victim``
    holds the victim's test ``accuracy`` and ``fairness`` {gap: value}."""
    if not retrains.models:
        return None
    scores = np.stack([m.predict_proba(splits.x_test) for m in retrains.models]).astype(np.float32)
    decisions = decisions_of(scores)
    figures = model_figures(
        scores, victim_proba, splits.y_test, splits.group_test, splits.positive_class, decisions
    )
    figures.insert(0, "seed", retrains.seeds)
    figures.insert(0, "model", [f"o{i + 1:02d}" for i in range(len(scores))])
    reference = victim_proba.argmax(axis=1)
    return Yardstick(
        figures,
        distances(figures, victim),
        scores,
        ambiguity(decisions, reference),
        discrepancy(decisions, reference),
        retrains.cache,
        retrains.note,
    )
