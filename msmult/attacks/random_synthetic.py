"""Random synthetic queries: each feature drawn independently from the attacker pool's marginal.

A data-free baseline in the spirit of Tramer et al. (USENIX Security 2016) and the ``random``
baselines of Papernot et al. (2017) / Orekondy et al. (2019). Features are drawn per column of
the model-ready arrays (so one-hot groups are not kept consistent, and pixels / token positions
are drawn independently): rows look nothing like real data, which is the point of the baseline.
"""

from __future__ import annotations

import numpy as np

from msmult.attacks.base import Attack
from msmult.attacks.querying import query_all
from msmult.attacks.stealing import SurrogateFactory
from msmult.attacks.transfer_set import TransferSet
from msmult.oracle import PredictionAPI
from msmult.validation import Whole


class RandomSyntheticAttack(Attack):
    """Query ``api.remaining`` synthetic rows; feature j of each row is a random pool value of j."""

    name = "random"
    exchangeable_rows = True
    parameters = {"seed": Whole(0, example=0)}

    def __init__(self, seed: int) -> None:
        self.set_parameters(seed=seed)

    def run(
        self, api: PredictionAPI, pool: np.ndarray, new_surrogate: SurrogateFactory
    ) -> TransferSet:
        rng = np.random.default_rng(self.seed)
        flat = pool.reshape(len(pool), -1)
        n = api.remaining
        picks = rng.integers(0, len(pool), size=(n, flat.shape[1]))
        synthetic = np.take_along_axis(flat, picks, axis=0).reshape((n, *pool.shape[1:]))
        return query_all(api, synthetic, self.name)
