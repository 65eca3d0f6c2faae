"""Metrics of nested Rashomon sets in one pass over the models sorted by loss.

The sets of an epsilon curve are nested: each is the first k models by loss. ``NestedSets`` grows
one set into the next, keeping running quantities (flips, minima and maxima of scores, vote
counts), so a metric at every epsilon costs one pass over the models instead of one per epsilon.
Every running value equals the metric computed from scratch on the prefix (same float
operations, tested in tests/test_speed_equivalence.py); Rashomon Capacity with more than two
classes is certified to the same ``tol`` (``msmult.metrics.nested_capacity``).
"""

from __future__ import annotations

import numpy as np

from msmult.metrics.multiplicity import _label_scores
from msmult.metrics.nested_capacity import NestedCapacity


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
        for label in range(self.classes):
            self.votes[:, label] += (d == label).sum(0)
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
