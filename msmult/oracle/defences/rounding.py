"""Rounding defence: answer probabilities rounded to ``decimals`` places (Tramer, Zhang, Juels,
Reiter, Ristenpart, "Stealing Machine Learning Models via Prediction APIs", USENIX Security 2016,
Section 8: rounding confidences as a countermeasure)."""

from __future__ import annotations

import numpy as np

from msmult.oracle.defences.base import Defence
from msmult.validation import Whole


class Rounding(Defence):
    """Round every probability to ``decimals`` places (the API renormalises the rows after)."""

    config_key = "api"
    parameters = {"decimals": Whole(0, what=" (decimal places kept)", example=2)}

    def __init__(self, decimals: int) -> None:
        self.set_parameters(decimals=decimals)

    def __call__(self, proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.round(proba, self.decimals)
