"""How close a model is to the victim: the closeness figures that the owner's yardstick, the
probability of superiority and the owner-tolerance verdict read, each as a distance (lower is
closer) so every figure compares the same way.

Per model, on the test rows: ``disagreement`` (1 - agreement of decisions with the victim's, i.e.
1 - fidelity), ``accuracy_diff`` (|accuracy - victim's|), ``<gap>_diff`` for each fairness gap
(|gap - victim's|) and ``probability_distance`` (the mean over rows of the total variation
distance between the model's and the victim's class probabilities, half the L1 distance).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from msmult.metrics.fairness import GAP_LABELS, GAPS, fairness_gaps_many
from msmult.metrics.multiplicity import decisions_of

FIGURES = (
    "disagreement",
    "accuracy_diff",
    *(f"{gap}_diff" for gap in GAPS),
    "probability_distance",
)
FIGURE_LABELS = {
    "disagreement": "disagreement with the victim",
    "accuracy_diff": "|accuracy difference|",
    **{f"{gap}_diff": f"|{label} gap difference|" for gap, label in GAP_LABELS.items()},
    "probability_distance": "probability distance (mean total variation)",
}


def probability_distance(scores: np.ndarray, reference: np.ndarray, chunk: int = 64) -> np.ndarray:
    """(m,) mean over rows of half the L1 distance between each model's (m, n, c) probabilities
    and the (n, c) reference's (``chunk`` models at a time, in the scores' precision)."""
    reference = np.asarray(reference, scores.dtype)[None]
    return np.concatenate(
        [
            0.5
            * np.abs(scores[start : start + chunk] - reference)
            .sum(axis=2)
            .mean(axis=1, dtype=np.float64)
            for start in range(0, len(scores), chunk)
        ]
    )


def model_figures(
    scores: np.ndarray,
    victim_proba: np.ndarray,
    y_true: np.ndarray,
    group: np.ndarray,
    positive_class: int,
    decisions: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per model of (m, n, c) ``scores``: ``fidelity`` (agreement with the victim's
    decisions), ``accuracy``, each fairness gap and ``probability_distance``; ``decisions``:
    the scores' (m, n) decisions when already known."""
    decisions = decisions_of(scores) if decisions is None else decisions
    victim = victim_proba.argmax(axis=1)
    return pd.DataFrame(
        {
            "fidelity": (decisions == victim).mean(axis=1),
            "accuracy": (decisions == y_true).mean(axis=1),
            **fairness_gaps_many(y_true, decisions, group, pos_label=positive_class),
            "probability_distance": probability_distance(scores, victim_proba),
        }
    )


def distances(figures: pd.DataFrame, victim: dict) -> pd.DataFrame:
    """The closeness ``FIGURES`` of each row of a table with ``fidelity``, ``accuracy``, the
    gaps and ``probability_distance`` (``model_figures``, or a member table), against the
    ``victim``'s ``accuracy`` and ``fairness`` {gap: value} (as ``evaluate_set`` reports them)."""
    return pd.DataFrame(
        {
            "disagreement": 1.0 - figures["fidelity"].to_numpy(),
            "accuracy_diff": (figures["accuracy"] - victim["accuracy"]).abs().to_numpy(),
            **{
                f"{gap}_diff": (figures[gap] - victim["fairness"][gap]).abs().to_numpy()
                for gap in GAPS
            },
            "probability_distance": figures["probability_distance"].to_numpy(),
        },
        index=figures.index,
    )
