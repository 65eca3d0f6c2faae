"""Check the model and API configs before any data is loaded or model trained.

The victim, the surrogate and the API are built for real only once the data says how many classes
there are; here each is built once beforehand with a stand-in class count, so a bad
``victim.*``, ``surrogate.*`` or ``api.*`` value is refused in seconds, not after training. Checks
that need the data (``api.k`` against the real class count, layer sizes against the input shape)
run again when the real objects are built, still before any training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from omegaconf import DictConfig

STAND_IN_CLASSES = 2**31 - 1  # any api.k >= 1 passes here; the real bound is checked later


@dataclass(frozen=True)
class StandInVictim:
    """What the API's constructor reads from a victim: its class count."""

    n_classes: int = STAND_IN_CLASSES

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        raise RuntimeError("the stand-in victim is never queried")


def check_models(cfg: DictConfig, build: Callable[..., Any]) -> None:
    """Build the victim, surrogate and API configs once with stand-ins (values checked, nothing
    trained); ``build`` is the pipeline's instantiate that passes msmult's errors through."""
    build(cfg.victim, n_classes=2)
    build(cfg.surrogate, n_classes=2, seed=int(cfg.seed))
    build(cfg.api, victim=StandInVictim())
