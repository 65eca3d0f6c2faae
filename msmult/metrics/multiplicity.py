"""Predictive-multiplicity metrics over a set of m models evaluated on the same n rows.

``decisions`` is (m, n) integer class ids, ``scores`` is (m, n, c) probability vectors, a
``reference`` is (n,) class ids (the victim's or the base surrogate's decisions), ``labels`` is (n,)
true class ids. Everything is vectorised over models and rows.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy


def ambiguity(decisions: np.ndarray, reference: np.ndarray) -> float:
    """Share of rows where at least one model's decision differs from the reference (Marx, Calmon
    & Ustun, "Predictive Multiplicity in Classification", ICML 2020)."""
    return float(_flips(decisions, reference).any(0).mean())


def discrepancy(decisions: np.ndarray, reference: np.ndarray) -> float:
    """Largest share of rows on which a single model differs from the reference (Marx et al.,
    ICML 2020)."""
    return float(_flips(decisions, reference).mean(1).max())


def viable_prediction_range(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per row, max minus min over models of the score given to the true label (Watson-Daniels,
    Parkes & Ustun, "Predictive Multiplicity in Probabilistic Classification", AAAI 2023)."""
    s = _label_scores(scores, labels)
    return s.max(0) - s.min(0)


def score_variance(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per row, variance over models (ddof=0) of the score given to the true label."""
    return _label_scores(scores, labels).var(0)


def pairwise_disagreement(decisions: np.ndarray) -> np.ndarray:
    """Per row, share of ordered pairs of distinct models whose decisions differ:
    1 - sum_k n_k (n_k - 1) / (m (m - 1)), n_k the votes for class k; zeros when m == 1."""
    d = _decisions(decisions)
    m = d.shape[0]
    if m == 1:
        return np.zeros(d.shape[1])
    counts = _vote_counts(d, int(d.max()) + 1)
    return 1.0 - (counts * (counts - 1.0)).sum(1) / (m * (m - 1.0))


def self_consistency(decisions: np.ndarray) -> np.ndarray:
    """Per row, the chance two distinct models agree, 1 - pairwise disagreement (Cooper et al.,
    "Arbitrariness and Social Prediction: The Confounding Role of Variance in Fair
    Classification", AAAI 2024)."""
    return 1.0 - pairwise_disagreement(decisions)


def vote_entropy(decisions: np.ndarray, n_classes: int) -> np.ndarray:
    """Per row, entropy in bits of the share of models voting for each class."""
    d = _decisions(decisions)
    shares = _vote_counts(d, n_classes) / d.shape[0]
    return -xlogy(shares, shares).sum(1) / np.log(2.0)


def rashomon_set(losses: np.ndarray, base_loss: float, epsilon: float) -> np.ndarray:
    """Boolean mask of the models whose loss is within ``epsilon`` of ``base_loss``."""
    if epsilon < 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon}")
    return np.asarray(losses, dtype=float) <= base_loss + epsilon


def _decisions(decisions: np.ndarray) -> np.ndarray:
    d = np.asarray(decisions)
    if d.ndim != 2 or d.shape[0] == 0:
        raise ValueError(f"decisions must be (models, rows) with models >= 1, got {d.shape}")
    return d


def _flips(decisions: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(m, n) mask of decisions that differ from the reference."""
    d, ref = _decisions(decisions), np.asarray(reference)
    if ref.shape != d.shape[1:]:
        raise ValueError(f"reference must be (rows,) = {d.shape[1:]}, got {ref.shape}")
    return d != ref


def _label_scores(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(m, n) score each model gives to each row's true label."""
    s, y = np.asarray(scores), np.asarray(labels)
    if s.ndim != 3 or y.shape != s.shape[1:2]:
        shapes = f"{s.shape}, {y.shape}"
        raise ValueError(f"scores must be (models, rows, classes) and labels (rows,), got {shapes}")
    m, n, c = s.shape
    # a flat gather (take_along_axis's values, faster), in C order as take_along_axis returns:
    # a sum over models then runs in the same order (the same float result)
    return np.ascontiguousarray(s.reshape(m, n * c)[:, np.arange(n) * c + y])


def decisions_of(scores: np.ndarray) -> np.ndarray:
    """(m, n) ``scores.argmax(axis=2)`` for (m, n, c) scores (the first class among equal
    maxima), as the smallest unsigned integer type that holds the class ids (uint8 up to 256
    classes: the (m, n) decisions are the largest arrays the metrics read), by c - 1 elementwise
    comparisons: much faster than argmax over a short last axis."""
    s = np.asarray(scores)
    classes = s.shape[-1]
    if classes == 2:
        return (s[..., 1] > s[..., 0]).view(np.uint8)
    best, decisions = s[..., 0], np.zeros(s.shape[:-1], np.min_scalar_type(max(classes - 1, 0)))
    for k in range(1, classes):
        better = s[..., k] > best
        decisions[better], best = k, np.where(better, s[..., k], best)
    return decisions


def _vote_counts(d: np.ndarray, n_classes: int) -> np.ndarray:
    """(n, n_classes) number of models voting for each class on each row."""
    if d.min() < 0 or d.max() >= n_classes:
        raise ValueError(f"decisions must be class ids in [0, {n_classes})")
    n = d.shape[1]
    flat = (d.astype(np.intp) + n_classes * np.arange(n)).ravel()
    return np.bincount(flat, minlength=n * n_classes).reshape(n, n_classes).astype(float)
