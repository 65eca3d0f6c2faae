"""API defences: callables that perturb the victim's probabilities before the API answers.

A defence is any object with ``__call__(proba, rng) -> proba``: ``proba`` is the victim's (n, c)
probabilities, ``rng`` the API's seeded ``numpy.random.Generator`` (draw all randomness from it,
so a defence is deterministic for a given API seed). The API applies its defences in order,
before the output mode (probabilities / label / top-k), then checks and renormalises the rows.
Configure them as a list of ``_target_`` entries in ``api.defences``.

Optional extension: a defence with ``needs_inputs = True`` is called as
``defence(proba, rng, x=x)`` with the queried rows ``x`` (n, ...) as well, e.g. to run a proxy
model on them (``mad.py``).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Defence(Protocol):
    def __call__(self, proba: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...


def needs_inputs(defence: Defence) -> bool:
    """True when ``defence`` asks for the queried rows (``needs_inputs = True``)."""
    return bool(getattr(defence, "needs_inputs", False))


def apply(
    defence: Defence, proba: np.ndarray, rng: np.random.Generator, x: np.ndarray | None
) -> np.ndarray:
    """``defence``'s answer for ``proba``, handing it the queried rows ``x`` when it needs them."""
    if needs_inputs(defence):
        return defence(proba, rng, x=x)  # type: ignore[call-arg]
    return defence(proba, rng)


def describe(defence: Defence) -> dict:
    """A defence's name (its class, or its own name for a function) and its public parameters
    (its non-underscore attributes), for reports and error messages."""
    name = getattr(defence, "__name__", None) or type(defence).__name__
    params = {k: v for k, v in vars(defence).items() if not k.startswith("_")}
    return {"name": name, **params}
