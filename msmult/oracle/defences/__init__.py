"""API defences: callables that perturb the victim's probabilities before the API answers.

A defence is any object with ``__call__(proba, rng) -> proba``: ``proba`` is the victim's (n, c)
probabilities, ``rng`` the API's seeded ``numpy.random.Generator`` (draw all randomness from it,
so a defence is deterministic for a given API seed). The API applies its defences in order,
before the output mode (probabilities / label / top-k), then checks and renormalises the rows.
Configure them as a list of ``_target_`` entries in ``api.defences``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Defence(Protocol):
    def __call__(self, proba: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...


def describe(defence: Defence) -> dict:
    """A defence's name (its class, or its own name for a function) and its public parameters
    (its non-underscore attributes), for reports and error messages."""
    name = getattr(defence, "__name__", None) or type(defence).__name__
    params = {k: v for k, v in vars(defence).items() if not k.startswith("_")}
    return {"name": name, **params}
