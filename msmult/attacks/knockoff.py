"""Knockoff Nets, random strategy (Orekondy, Schiele, Fritz, CVPR 2019).

The attacker holds natural data from a related distribution (here: the attacker pool, disjoint
from the victim's training rows) and queries a uniformly random sample of it. msmult implements
the paper's ``random`` sampling strategy, not its reinforcement-learning ``adaptive`` one.
"""

from __future__ import annotations

import numpy as np

from msmult.attacks.querying import query_all
from msmult.attacks.transfer_set import TransferSet
from msmult.errors import MsmultError
from msmult.oracle import PredictionAPI


class KnockoffAttack:
    """Query ``api.budget`` rows drawn without replacement from the attacker's pool."""

    name = "knockoff"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def check(self, budget: int, pool_rows: int) -> None:
        """Knockoff queries distinct pool rows, so the budget cannot exceed the pool."""
        if budget > pool_rows:
            raise MsmultError(
                f"budget={budget} is larger than the attacker pool ({pool_rows} rows); knockoff "
                f"queries distinct pool rows, so choose budget <= {pool_rows}."
            )

    def run(self, api: PredictionAPI, pool: np.ndarray) -> TransferSet:
        self.check(api.budget, len(pool))
        rows = np.random.default_rng(self.seed).choice(len(pool), size=api.budget, replace=False)
        return query_all(api, pool[np.sort(rows)], self.name)
