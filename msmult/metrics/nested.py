"""Metrics of nested Rashomon sets in one pass over the models sorted by loss.

The sets of an epsilon curve are nested: each is the first k models by loss. ``NestedSets`` grows
one set into the next, keeping running quantities (flips, minima and maxima of scores, vote
counts), so a metric at every epsilon costs one pass over the models instead of one per epsilon.
Every running value equals the metric computed from scratch on the prefix (same float
operations, tested in tests/test_speed_equivalence.py); Rashomon Capacity with more than two
classes is warm-started from the previous set's solution and certified to the same ``tol``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from msmult.metrics.capacity import _LN2, _certified_capacity, _divergences, binary_capacity
from msmult.metrics.multiplicity import _label_scores


def _checked(block: np.ndarray) -> np.ndarray:
    """``block`` (k, n, c) as floats after the checks ``rashomon_capacity`` makes."""
    s = np.asarray(block, dtype=float)
    total = s @ np.ones(s.shape[-1])
    if not np.isfinite(total).all() or (total <= 0).any() or (s.size and s.min() < 0):
        raise ValueError("scores must be finite, non-negative, with a positive sum per vector")
    return s


class NestedCapacity:
    """Rashomon Capacity per row (2**C, in [1, c]) of the first k models, for growing k.

    Two classes: the closed form of the running minimum and maximum of the class-1 score, exactly
    as ``rashomon_capacity``. More classes: the previous set's input weights, padded with zeros,
    still give a lower bound, and their output distribution an upper bound over the new models
    too; rows certified to ``tol`` bits by them keep that bound, the others are solved again
    starting from those weights (mixed with uniform weights on the new models).
    """

    def __init__(self, scores: np.ndarray, tol: float = 1e-9) -> None:
        if tol <= 0:
            raise ValueError(f"tol must be positive, got {tol}")
        self.scores, self.tol, self.k = scores, tol, 0
        _, n, self.c = scores.shape
        self.bits = np.zeros(n)
        self.low = self.high = self.weights = None

    def at(self, k: int) -> np.ndarray:
        """(n,) capacity of the first ``k`` models; ``k`` never decreases between calls."""
        if k > self.k:
            self._grow(k)
        return np.clip(np.exp2(self.bits), 1.0, self.c)

    def _grow(self, k: int) -> None:
        block = _checked(self.scores[self.k : k])
        if self.c == 2:
            p1 = block[..., 1] / (block @ np.ones(2))
            low, high = p1.min(0), p1.max(0)
            if self.low is not None:
                low, high = np.minimum(self.low, low), np.maximum(self.high, high)
            self.low, self.high = low, high
            self.bits = binary_capacity(low, high)
        elif self.c > 2 and k > 1:
            self._solve(k)
        self.k = k

    def _solve(self, k: int) -> None:
        s = _checked(self.scores[:k])
        rows = np.arange(s.shape[1])
        start = None
        if self.weights is not None:
            padded = np.pad(self.weights, ((0, 0), (0, k - self.weights.shape[1])))
            certain, lower = self._certified(s, padded)
            self.bits[certain] = lower[certain]
            self.weights = padded
            rows = np.flatnonzero(~certain)
            start = 0.5 * padded[rows] + 0.5 / k
        else:
            self.weights = np.zeros((s.shape[1], k))
        if rows.size:
            bits, weights = _certified_capacity(s[:, rows], self.tol, start)
            self.bits[rows], self.weights[rows] = bits, weights
        self.bits[(s == s[:1]).all(axis=(0, 2))] = 0.0  # identical models: exactly 1

    def _certified(self, s: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows whose bounds from ``weights`` are within ``tol`` bits, and the lower bound."""
        W = np.moveaxis(s, 0, 1)
        W = W / W.sum(-1, keepdims=True)
        D = _divergences(W, xlogy(W, W).sum(-1), weights)[1]
        lower = np.maximum(self.bits * _LN2, (weights * D).sum(1))
        return D.max(1) - lower <= self.tol * _LN2, lower / _LN2


class NestedSets:
    """Running state of the first k models (k growing) in ``order`` (indices into the m models,
    e.g. sorted by loss) of ``scores`` (m, n, c) and ``decisions`` (m, n) against the ``victim``
    and ``base`` decisions and the true ``labels`` (n,). Rows are gathered set by set: the
    models are never copied as a whole."""

    def __init__(self, scores, decisions, order, victim, base, labels, tol: float = 1e-9) -> None:
        self.decisions, self.order, self.k = decisions, np.asarray(order), 0
        self.classes = max(int(decisions.max()) + 1, scores.shape[2])
        self.capacity = NestedCapacity(_Reordered(scores, self.order), tol)
        self.label_scores = _label_scores(scores, labels)[self.order]
        self.rates, self.any_flip, self.references = {}, {}, {"victim": victim, "base": base}
        for name, reference in self.references.items():
            self.rates[name] = (decisions != reference).mean(1)[self.order]
            self.any_flip[name] = np.zeros(decisions.shape[1], bool)
        self.low = self.high = None
        self.votes = np.zeros((decisions.shape[1], self.classes))

    def grow(self, k: int) -> None:
        """Extend the set to the first ``k`` models."""
        d = self.decisions[self.order[self.k : k]]
        for name, reference in self.references.items():
            self.any_flip[name] |= (d != reference).any(0)
        block = self.label_scores[self.k : k]
        low, high = block.min(0), block.max(0)
        if self.low is not None:
            low, high = np.minimum(self.low, low), np.maximum(self.high, high)
        self.low, self.high = low, high
        n = d.shape[1]
        flat = (d.astype(np.intp) + self.classes * np.arange(n)).ravel()
        self.votes += np.bincount(flat, minlength=n * self.classes).reshape(n, self.classes)
        self.k = k

    def ambiguity(self, reference: str) -> float:
        return float(self.any_flip[reference].mean())

    def discrepancy(self, reference: str) -> float:
        return float(self.rates[reference][: self.k].max())

    def viable_prediction_range(self) -> np.ndarray:
        return self.high - self.low

    def score_variance(self) -> np.ndarray:
        return self.label_scores[: self.k].var(0)

    def pairwise_disagreement(self) -> np.ndarray:
        m = self.k
        if m == 1:
            return np.zeros(len(self.votes))
        return 1.0 - (self.votes * (self.votes - 1.0)).sum(1) / (m * (m - 1.0))


class _Reordered:
    """``scores[order]`` sliced lazily: ``self[a:b]`` gathers only models a..b-1."""

    def __init__(self, scores: np.ndarray, order: np.ndarray) -> None:
        self.scores, self.order, self.shape = scores, order, scores.shape

    def __getitem__(self, rows: slice) -> np.ndarray:
        return self.scores[self.order[rows]]
