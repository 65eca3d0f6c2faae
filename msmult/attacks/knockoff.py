"""Knockoff Nets, random strategy (Orekondy, Schiele, Fritz, CVPR 2019).

The attacker holds natural data from a related distribution (here: the attacker pool, disjoint
from the victim's training rows) and queries a uniformly random sample of it. This is the paper's
``random`` sampling strategy; its reinforcement-learning ``adaptive`` strategy is a separate attack.
"""

from __future__ import annotations

import numpy as np

from msmult.attacks.base import Attack
from msmult.attacks.querying import query_all
from msmult.attacks.stealing import SurrogateFactory
from msmult.attacks.transfer_set import TransferSet
from msmult.oracle import PredictionAPI
from msmult.validation import Whole, bad_value


class KnockoffAttack(Attack):
    """Query every remaining budget row, drawn without replacement from the attacker's pool."""

    name = "knockoff"
    exchangeable_rows = True
    parameters = {"seed": Whole(0, example=0)}

    def __init__(self, seed: int) -> None:
        self.set_parameters(seed=seed)

    def check(self, budget: int, pool_rows: int) -> None:
        """Knockoff queries distinct pool rows, so the budget cannot exceed the pool."""
        if budget > pool_rows:
            raise bad_value(
                "budget",
                budget,
                f"it is larger than the attacker pool ({pool_rows} "
                "rows) and knockoff queries distinct pool rows",
                f"budget={pool_rows}",
            )

    def run(
        self, api: PredictionAPI, pool: np.ndarray, new_surrogate: SurrogateFactory
    ) -> TransferSet:
        self.check(api.remaining, len(pool))
        rng = np.random.default_rng(self.seed)
        rows = rng.choice(len(pool), size=api.remaining, replace=False)
        return query_all(api, pool[np.sort(rows)], self.name)
