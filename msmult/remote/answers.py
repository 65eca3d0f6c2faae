"""Checks on the class probabilities a victim msmult did not train answered, before any is kept."""

from __future__ import annotations

import numpy as np

from msmult.errors import MsmultError

FLOAT32_ROUNDING = 1e-6  # a row this close to summing to one is kept as answered


def checked_probabilities(
    scores: np.ndarray, rows: int, n_classes: int, tolerance: float, source: str, kept: str = ""
) -> np.ndarray:
    """``scores`` when they are a (rows, n_classes) array of finite, non-negative numbers whose
    rows sum to one; a row that misses by more than float32 rounding (1e-6) and at most
    ``tolerance`` is renormalised, one that misses by more is refused, saying by how much (the
    message names ``source`` and ends with ``kept``: what became of earlier answers)."""
    problem = None
    if scores.shape != (rows, n_classes):
        problem = (
            f"an array of shape {scores.shape} for {rows} rows; expected ({rows}, {n_classes}): "
            "one probability per class of the dataset (check victim.output and victim.classes)"
        )
    elif not np.isfinite(scores).all():
        bad = np.flatnonzero(~np.isfinite(scores).all(axis=1))
        problem = f"NaN or infinite values in {len(bad)} rows (first: row {bad[0]})"
    elif (scores < 0).any():
        bad = np.flatnonzero((scores < 0).any(axis=1))
        problem = f"negative values in {len(bad)} rows (first: row {bad[0]}: {scores[bad[0]]})"
    else:
        miss = np.abs(scores.sum(axis=1) - 1.0)
        if miss.max() > tolerance:
            worst = int(miss.argmax())
            problem = (
                f"rows that do not sum to one: {int((miss > tolerance).sum())} rows miss by more "
                f"than victim.sum_tolerance={tolerance} (worst: row {worst} sums to "
                f"{scores[worst].sum():.6g}, off by {miss[worst]:.3g}); if the endpoint answers "
                "partial scores (top-k), raise victim.sum_tolerance to have them renormalised"
            )
    if problem:
        raise MsmultError(f"{source} answered {problem}.{kept}")
    off = np.abs(scores.sum(axis=1) - 1.0) > FLOAT32_ROUNDING
    if off.any():
        scores = scores.copy()
        scores[off] /= scores[off].sum(axis=1, keepdims=True)
    return scores
