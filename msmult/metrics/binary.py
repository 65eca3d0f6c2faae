"""Closed-form Rashomon Capacity of two-class channels (used by ``rashomon_capacity``)."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, rel_entr, xlogy

_LN2 = np.log(2.0)


def binary_capacity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Capacity in bits of the 2x2 channels [[1-a, a], [1-b, b]], elementwise, a <= b.

    Every channel with binary output has the capacity of the 2x2 channel of its two extreme rows
    (the others are mixtures of them). With p the weight on row b, the output is q = a + p (b - a)
    and I = h(q) - (1-p) h(a) - p h(b), h the binary entropy; dI/dq = 0 gives
    h'(q*) = log2((1-q*)/q*) = s := (h(b) - h(a)) / (b - a), so q* = 1 / (1 + 2**s) and
    C = log2(1 + 2**s) - h(a) - (1 - a) s. We evaluate the same optimum as
    C = (1-p*) D(a || q*) + p* D(b || q*) with p* = (q* - a) / (b - a) clipped to [0, 1]: no
    cancellation between large terms, never negative, and a == b (or rounding in s when b - a is
    tiny) only moves p* inside [0, 1], which costs at most the (tiny) true capacity.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    d = b - a
    live = d > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slope = (_entropy2(b) - _entropy2(a)) / d
        p = np.clip((expit(-slope * _LN2) - a) / d, 0.0, 1.0)
    p = np.where(live, p, 0.0)
    q = (1 - p) * a + p * b
    with np.errstate(invalid="ignore"):
        low = np.where(p < 1, (1 - p) * _kl2(a, q), 0.0)
        high = np.where(p > 0, p * _kl2(b, q), 0.0)
    return np.where(live, np.maximum(low + high, 0.0), 0.0)


def _entropy2(x: np.ndarray) -> np.ndarray:
    """Binary entropy in bits."""
    return -(xlogy(x, x) + xlogy(1 - x, 1 - x)) / _LN2


def _kl2(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Binary KL divergence D(x || y) in bits."""
    return (rel_entr(x, y) + rel_entr(1 - x, 1 - y)) / _LN2
