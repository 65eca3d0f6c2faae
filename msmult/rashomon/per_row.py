"""Per-row results of explorers that search one test row at a time (adversarial weight
perturbation): for each sampled row, the scores a different model reaches when pushed towards each
class. They support per-row metrics only (no single set of models exists to compute ambiguity,
discrepancy or fairness ranges over), so msmult reports them in a section of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from msmult.metrics import rashomon_capacity, viable_prediction_range


@dataclass(frozen=True)
class RowReach:
    """``rows`` (r,): sampled test-row indices; ``epsilons`` (E,): sorted tolerances;
    ``base`` (r, c): the base surrogate's scores on those rows; ``reached`` (E, r, c, c):
    ``reached[e, i, k]`` is the score vector on row i of the model pushed towards class k, taken
    at the last step whose fidelity loss stayed within base + ``epsilons[e]``; ``steps`` (r, c):
    gradient steps taken per (row, class); ``epsilon``: the run's epsilon (one of ``epsilons``)."""

    rows: np.ndarray
    epsilons: np.ndarray
    base: np.ndarray
    reached: np.ndarray
    steps: np.ndarray
    epsilon: float

    def models(self, index: int) -> np.ndarray:
        """(c + 1, r, c) channel per row at ``epsilons[index]``: the base, then one model per
        class."""
        return np.concatenate([self.base[None], self.reached[index].transpose(1, 0, 2)])


def row_metrics(
    reach: RowReach, victim: np.ndarray, labels: np.ndarray, tol: float = 1e-9
) -> tuple[dict, np.ndarray]:
    """Per-row metrics on the sampled rows at the run's epsilon, the same along the epsilon grid,
    and the (r,) Rashomon Capacity at the run's epsilon. ``victim`` / ``labels`` are the victim's
    decisions and the true classes on every test row."""
    points = [
        _measure(reach.models(i), reach, victim, labels, tol) for i in range(len(reach.epsilons))
    ]
    run = int(np.flatnonzero(np.isclose(reach.epsilons, reach.epsilon))[0])
    curve = [
        {"epsilon": float(e), **{k: v for k, v in p[0].items()}}
        for e, p in zip(reach.epsilons, points)
    ]
    summary = {
        "rows": int(len(reach.rows)),
        "epsilon": float(reach.epsilon),
        **points[run][0],
        "steps_mean": float(reach.steps.mean()),
        "steps_max": int(reach.steps.max()),
        "epsilon_curve": curve,
    }
    return summary, points[run][1]


def _measure(
    models: np.ndarray, reach: RowReach, victim: np.ndarray, labels: np.ndarray, tol: float
) -> tuple[dict, np.ndarray]:
    decisions = models.argmax(axis=2)
    capacity = rashomon_capacity(models, tol)
    return {
        "rashomon_capacity_mean": float(capacity.mean()),
        "rashomon_capacity_max": float(capacity.max()),
        "viable_prediction_range_mean": float(
            viable_prediction_range(models, labels[reach.rows]).mean()
        ),
        "flip_share": float((decisions != decisions[0]).any(axis=0).mean()),
        "victim_disagreement_share": float((decisions != victim[reach.rows]).any(axis=0).mean()),
    }, capacity
