"""What a Rashomon explorer returns: every candidate model's loss and test scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Exploration:
    """Candidates around the base surrogate; row 0 is always the base surrogate itself.

    ``candidates``: one row per model (``kind``, ``rate``, ``draw``, ``mask_seed``);
    ``losses`` (m,): fidelity loss on the held-out transfer rows; ``scores``: per evaluation set
    name, (m, n, c) probabilities; ``epsilon``: the Rashomon parameter; ``epsilon_grid``: the
    epsilons at which every metric is also reported (the epsilon curve).
    """

    candidates: pd.DataFrame
    losses: np.ndarray
    scores: dict[str, np.ndarray]
    epsilon: float
    epsilon_grid: tuple[float, ...] = ()

    @property
    def base_loss(self) -> float:
        return float(self.losses[0])

    @property
    def in_set(self) -> np.ndarray:
        """Members: loss <= base loss + epsilon (the base model is always a member)."""
        members = self.losses <= self.base_loss + self.epsilon
        members[0] = True
        return members
