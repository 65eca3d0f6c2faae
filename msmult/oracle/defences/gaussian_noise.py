"""Gaussian-noise defence: random perturbation of the answers, the baseline that perturbation
defences are compared against (Orekondy, Schiele, Fritz, "Prediction Poisoning", ICLR 2020,
Section 6: random noise). msmult adds the noise to the probabilities themselves, clips them at 0
and renormalises; the reference code instead adds noise in logit space within a norm ball.
"""

from __future__ import annotations

import numpy as np

from msmult.oracle.defences.base import Defence
from msmult.validation import Number


class GaussianNoise(Defence):
    """Answer ``max(p + N(0, scale^2), 0)`` per class, renormalised; a row whose every score
    falls below 0 is answered uniform (it has no mass left to renormalise)."""

    parameters = {
        "scale": Number(
            0, what=" (standard deviation of the noise added to each probability)", example=0.1
        )
    }

    def __init__(self, scale: float) -> None:
        self.set_parameters(scale=scale)

    def __call__(self, proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noisy = np.clip(proba + rng.normal(0.0, self.scale, size=proba.shape), 0.0, None)
        empty = noisy.sum(axis=1) <= 0
        noisy[empty] = 1.0 / proba.shape[1]
        return noisy / noisy.sum(axis=1, keepdims=True)
