"""Probability of superiority: how often a thief's copy is at least as close to the victim as the
owner's own retrain.

For distances ``x`` (m copies) and ``y`` (n owner retrains), lower meaning closer,
``A = mean over all pairs of psi(x_i, y_j)`` with ``psi = 1`` when ``x_i < y_j``, ``0.5`` on a
tie and ``0`` otherwise: the common-language effect size (McGraw & Wong 1992), i.e. the
Mann-Whitney U statistic over m*n, the area under the ROC curve. 0.5: the copies are as close as
the owner's retrains; 1: always closer.

The 95% interval uses DeLong, DeLong & Clarke-Pearson's (Biometrics 1988) variance,
``S10 / m + S01 / n`` from the placement values ``V10_i = mean_j psi(x_i, y_j)`` and
``V01_j = mean_i psi(x_i, y_j)`` (sample variances, ``ddof=1``; a sample of one adds 0), with a
Wald interval on the logit scale so it stays inside (0, 1) (Pohar Perme & Manevski, SMMR 2018).
When one sample lies wholly on one side of the other (A = 0 or 1, variance 0), the interval is
computed as if their closest pair were tied, a continuity correction in the spirit of theirs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Superiority:
    """``estimate`` (A) with its 95% interval [``low``, ``high``] from m copies, n retrains."""

    estimate: float
    low: float
    high: float
    copies: int
    retrains: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "copies": self.copies,
            "retrains": self.retrains,
        }


def pair_scores(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(m, n) psi: 1 where copy i is closer than retrain j, 0.5 on a tie, 0 where farther."""
    x, y = np.asarray(x, float)[:, None], np.asarray(y, float)[None, :]
    return (x < y) + 0.5 * (x == y)


def delong_variance(scores: np.ndarray) -> float:
    """``S10 / m + S01 / n`` of an (m, n) matrix of pair scores."""
    m, n = scores.shape
    s10 = float(np.var(scores.mean(axis=1), ddof=1)) if m > 1 else 0.0
    s01 = float(np.var(scores.mean(axis=0), ddof=1)) if n > 1 else 0.0
    return s10 / m + s01 / n


def logit_interval(estimate: float, variance: float, z: float = Z95) -> tuple[float, float]:
    """Wald interval of a probability on the logit scale (delta method)."""
    logit = math.log(estimate / (1 - estimate))
    half = z * math.sqrt(variance) / (estimate * (1 - estimate))
    return 1 / (1 + math.exp(-(logit - half))), 1 / (1 + math.exp(-(logit + half)))


def superiority(x: np.ndarray, y: np.ndarray) -> Superiority:
    """P(a copy is at least as close as a retrain), ties half, with its 95% interval (module
    docstring); ``x``: the copies' distances, ``y``: the retrains' (lower = closer)."""
    scores = pair_scores(x, y)
    m, n = scores.shape
    if m == 0 or n == 0:
        raise ValueError("superiority needs at least one copy and one retrain")
    estimate = float(scores.mean())
    if estimate in (0.0, 1.0):  # complete separation: tie the closest pair
        corrected = scores.copy()
        gaps = np.abs(np.asarray(x, float)[:, None] - np.asarray(y, float)[None, :])
        corrected[np.unravel_index(np.argmin(gaps), gaps.shape)] = 0.5
        low, high = logit_interval(float(corrected.mean()), delong_variance(corrected))
        low, high = (0.0, high) if estimate == 0.0 else (low, 1.0)
    else:
        low, high = logit_interval(estimate, delong_variance(scores))
    return Superiority(estimate, low, high, m, n)
