"""Training and fidelity targets as (n, c) probability rows, from labels or from scores."""

from __future__ import annotations

import numpy as np


def as_targets(answers: np.ndarray, n_classes: int) -> np.ndarray:
    """Labels (n,) become one-hot rows; scores (n, c) are renormalised to sum to one (a row of
    zeros becomes uniform). Always float32, the dtype the models train in."""
    if answers.ndim == 1:
        return np.eye(n_classes, dtype=np.float32)[answers.astype(np.int64)]
    scores = np.asarray(answers, dtype=np.float64)
    totals = scores.sum(axis=1, keepdims=True)
    uniform = np.full_like(scores, 1.0 / n_classes)
    normalised = np.where(totals > 0, scores / np.where(totals > 0, totals, 1.0), uniform)
    return normalised.astype(np.float32)
