"""What an extraction attack returns: the queried rows and the API's answers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TransferSet:
    """Queried rows ``x`` and the API's answers as (n, c) probability ``targets``."""

    x: np.ndarray
    targets: np.ndarray
    queries_used: int
    attack: str

    def split(self, holdout: float, seed: int) -> tuple[TransferSet, TransferSet]:
        """Seeded (fit, holdout) parts; the holdout measures the fidelity loss."""
        order = np.random.default_rng(seed).permutation(len(self.x))
        n_holdout = max(1, int(round(holdout * len(self.x))))
        fit, held = order[n_holdout:], order[:n_holdout]
        return (
            TransferSet(self.x[fit], self.targets[fit], self.queries_used, self.attack),
            TransferSet(self.x[held], self.targets[held], self.queries_used, self.attack),
        )
