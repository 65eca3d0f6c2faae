"""Rounding defence: answer probabilities rounded to ``decimals`` places (Tramer, Zhang, Juels,
Reiter, Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016,
Section 8: rounding confidences as a countermeasure)."""

from __future__ import annotations

import numpy as np

from msmult.validation import whole


class Rounding:
    """Round every probability to ``decimals`` places (the API renormalises the rows after)."""

    def __init__(self, decimals: int = 2) -> None:
        self.decimals = whole(
            "api.decimals", decimals, 0, what=" (decimal places kept)", example="api.decimals=2"
        )

    def __call__(self, proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.round(proba, self.decimals)
