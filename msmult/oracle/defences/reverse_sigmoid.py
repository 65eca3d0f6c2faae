"""Reverse-sigmoid defence (Lee, Edraki, Qi, Lin, "Defending Against NN Model Stealing Attacks
Using Deceptive Perturbations", IEEE S&P Workshops 2019, Eq. 3-4).

Each probability p is answered as ``alpha * (p - beta * (sigmoid(gamma * logit(p)) - 1/2))``,
``alpha`` renormalising the row: confident scores are pulled towards 1/2 by a perturbation whose
gradient misleads a thief's loss. msmult follows IBM ART's ``ReverseSigmoid`` postprocessor: p is
clipped to [1e-9, 1 - 1e-9] inside the logit and the perturbed scores to [0, 1] before
renormalising (the paper does not say what to do with negative scores).
"""

from __future__ import annotations

import numpy as np

from msmult.oracle.defences.base import Defence
from msmult.validation import Number

CLIP = 1e-9  # ART's clip_min: keeps logit(p) finite


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class ReverseSigmoid(Defence):
    """Answer ``p - beta * (sigmoid(gamma * logit(p)) - 0.5)``, clipped to [0, 1] (the API
    renormalises the rows after)."""

    parameters = {
        "beta": Number(
            0, open_low=True, what=" (size of the reverse-sigmoid perturbation)", example=1.0
        ),
        "gamma": Number(0, open_low=True, what=" (slope of the reverse sigmoid)", example=0.1),
    }

    def __init__(self, beta: float, gamma: float) -> None:
        self.set_parameters(beta=beta, gamma=gamma)

    def __call__(self, proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        p = np.clip(proba, CLIP, 1.0 - CLIP)
        perturbation = self.beta * (sigmoid(self.gamma * np.log(p / (1.0 - p))) - 0.5)
        return np.clip(proba - perturbation, 0.0, 1.0)
