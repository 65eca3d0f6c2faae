"""Rashomon Capacity of nested sets of models (the first k models, k growing), per row.

Two classes use the closed form of the running minimum and maximum of the class-1 score, exactly
as ``rashomon_capacity``. More classes reuse the certified solver of ``msmult.metrics.capacity``
with two savings that keep its guarantee (every value within ``tol`` bits below the capacity):

- warm start: the previous set's input weights, padded with zeros, still give a lower bound, and
  their output distribution q an upper bound max_x D(W_x || q) over the new models too; rows they
  certify keep that bound;
- column generation: the capacity-achieving input needs at most c models, those with the largest
  D(W_x || q) at the optimum. The other rows are solved on a few models each (the previous
  support and the largest D under the previous weights), then checked against every model: the
  subset's weights are a lower bound, and max_x D(W_x || q) over all models an upper bound; rows
  the check does not certify get their most violating models added and are solved again.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from msmult.metrics.capacity import _LN2, _certified_capacity, _divergences, binary_capacity

_BLOCK = 32  # models per block of the binary running minimum and maximum
_COLUMNS = 8  # models per row in the first column-generation solve
_ADDED = 8  # most violating models added per row and round
_ROUNDS = 4  # column-generation rounds before the remaining rows are solved on every model


def checked(block: np.ndarray) -> np.ndarray:
    """``block`` (k, n, c) after the checks ``rashomon_capacity`` makes (finite, non-negative,
    a positive sum per vector), on its own float type: elementwise, so no float64 copy."""
    s = np.asarray(block)
    positive = s[..., 0] > 0
    for k in range(1, s.shape[-1]):
        positive |= s[..., k] > 0
    if not (np.isfinite(s).all() and (s.size == 0 or s.min() >= 0) and positive.all()):
        raise ValueError("scores must be finite, non-negative, with a positive sum per vector")
    return s


class NestedCapacity:
    """Rashomon Capacity per row (2**C, in [1, c]) of the first k of the m models in ``scores``
    (m, n, c), for growing k (see the module docstring)."""

    def __init__(self, scores: np.ndarray, tol: float = 1e-9) -> None:
        if tol <= 0:
            raise ValueError(f"tol must be positive, got {tol}")
        self.scores, self.tol, self.k = scores, tol, 0
        m, n, self.c = scores.shape
        self.bits = np.zeros(n)
        self.low = self.high = self.weights = None
        if self.c > 2:  # each row's channel: normalised vectors (n, m, c) and sum W log W (n, m)
            self.W, self.L = np.empty((n, m, self.c)), np.empty((n, m))
            self.same = np.ones(n, bool)  # rows on which every model so far gives the same vector
            self.first: np.ndarray | None = None  # (n, c) scores of the first model

    def at(self, k: int) -> np.ndarray:
        """(n,) capacity of the first ``k`` models; ``k`` never decreases between calls."""
        if k > self.k:
            self._grow(k)
        return np.clip(np.exp2(self.bits), 1.0, self.c)

    def _grow(self, k: int) -> None:
        if self.c == 2:
            for start in range(self.k, k, _BLOCK):  # small blocks: float64 temporaries in cache
                block = checked(self.scores[start : min(k, start + _BLOCK)])
                s0, s1 = block[..., 0].astype(float), block[..., 1].astype(float)
                p1 = s1 / (s0 + s1)  # in float64, as rashomon_capacity
                low, high = p1.min(0), p1.max(0)
                if self.low is not None:
                    low, high = np.minimum(self.low, low), np.maximum(self.high, high)
                self.low, self.high = low, high
            self.bits = binary_capacity(self.low, self.high)
        elif self.c > 2:
            self._add_models(k)
            if k > 1:
                self._solve(k)
        self.k = k

    def _add_models(self, k: int) -> None:
        block = checked(self.scores[self.k : k])
        if self.first is None:
            self.first = block[0]
        self.same &= (block == self.first).all(axis=(0, 2))
        W = np.moveaxis(block, 0, 1).astype(float)
        W /= W.sum(-1, keepdims=True)
        self.W[:, self.k : k], self.L[:, self.k : k] = W, xlogy(W, W).sum(-1)

    def _solve(self, k: int) -> None:
        W, L = self.W[:, :k], self.L[:, :k]
        rows, start = np.arange(len(W)), None
        if self.weights is not None:
            padded = np.pad(self.weights, ((0, 0), (0, k - self.weights.shape[1])))
            D = _divergences(W, L, padded)[1]
            lower = np.maximum(self.bits * _LN2, (padded * D).sum(1))
            certain = D.max(1) - lower <= self.tol * _LN2
            self.bits[certain] = lower[certain] / _LN2
            self.weights = padded
            rows = np.flatnonzero(~certain)
            start = padded[rows]
        else:
            self.weights = np.zeros((len(W), k))
        if rows.size:
            self.bits[rows], self.weights[rows] = solve_by_columns(
                W[rows], L[rows], self.tol, start
            )
        self.bits[self.same] = 0.0  # identical models: exactly 1


def solve_by_columns(
    W: np.ndarray, L: np.ndarray, tol: float, previous: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Capacity in bits of each row's channel W (r, k, c) (rows normalised, L = sum W log W),
    certified to ``tol`` bits over all k models, and (r, k) input weights; ``previous`` (r, k):
    weights of a smaller set to start from (see the module docstring)."""
    r, k, c = W.shape
    bits, weights = np.empty(r), np.zeros((r, k))
    if k <= _COLUMNS + c:
        bits[:], weights[:] = _certified_capacity(np.moveaxis(W, 1, 0), tol)
        return bits, weights
    guess = np.full((r, k), 1.0 / k) if previous is None else 0.5 * previous + 0.5 / k
    D = _divergences(W, L, guess)[1]
    columns = np.argpartition(-D, _COLUMNS - 1, axis=1)[:, :_COLUMNS]
    if previous is not None:  # the previous support: at most c models
        columns = np.concatenate([np.argsort(-previous, axis=1)[:, :c], columns], axis=1)
    todo = np.arange(r)
    for _ in range(_ROUNDS):
        chosen = np.take_along_axis(W[todo], columns[..., None], axis=1)
        sub_bits, sub_weights = _certified_capacity(np.moveaxis(chosen, 1, 0), tol)
        full = np.zeros((len(todo), k))
        np.add.at(full, (np.arange(len(todo))[:, None], columns), sub_weights)
        D = _divergences(W[todo], L[todo], full)[1]
        lower = np.maximum(sub_bits * _LN2, (full * D).sum(1))
        done = D.max(1) - lower <= tol * _LN2
        bits[todo[done]], weights[todo[done]] = lower[done] / _LN2, full[done]
        todo, D, columns = todo[~done], D[~done], columns[~done]
        if not todo.size:
            return bits, weights
        np.put_along_axis(D, columns, -np.inf, axis=1)  # models not yet in the subset
        added = min(_ADDED, k - columns.shape[1])
        if added <= 0:
            break
        columns = np.concatenate([columns, np.argpartition(-D, added - 1, axis=1)[:, :added]], 1)
    bits[todo], weights[todo] = _certified_capacity(np.moveaxis(W[todo], 1, 0), tol)
    return bits, weights
