"""The defender's side of a run: what the API's defences cost the answers it serves.

Measured on the test rows, outside the budget and with a generator of its own, so the attacker's
answers are exactly those of a run without the measurement.
"""

from __future__ import annotations

import numpy as np

from msmult.oracle.api import OUTPUTS, PredictionAPI


def served_quality(served: np.ndarray, truth: np.ndarray, y_true: np.ndarray) -> dict[str, float]:
    """Accuracy of the ``served`` (n, c) answers against the labels ``y_true``, the share whose
    top-1 class differs from the true probabilities ``truth``, and their mean L1 distance."""
    return {
        "accuracy": float((served.argmax(axis=1) == y_true).mean()),
        "top1_changed": float((served.argmax(axis=1) != truth.argmax(axis=1)).mean()),
        "mean_l1": float(np.abs(served - truth).sum(axis=1).mean()),
    }


def defender_side(
    api: PredictionAPI, victim_proba: np.ndarray, x: np.ndarray, y_true: np.ndarray, seed: int
) -> dict[str, float]:
    """``served_quality`` of the test rows served through ``api``'s defences and output mode (as
    (n, c) targets: a label answer is its one-hot row), with ``numpy.random.default_rng([seed,
    2])`` for the defences; nothing counts against the budget."""
    served = api.served_proba(victim_proba, x, np.random.default_rng([seed, 2]))
    answers = api.as_targets(OUTPUTS[api.mode](served, api.k))
    return {**served_quality(answers, victim_proba, y_true), "rows": int(len(y_true))}
