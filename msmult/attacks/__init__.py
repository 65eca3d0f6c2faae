"""Extraction attacks: how the thief chooses queries and what the API answered.

An attack is any object with a ``name`` and
``run(api, pool, new_surrogate) -> TransferSet``: it queries ``api`` (at most ``api.remaining``
rows) about rows it builds from ``pool`` (the attacker's own unlabelled data), and may train
surrogates between rounds with ``new_surrogate(seed)`` (an unfitted estimator configured like the
run's surrogate: ``fit(x, targets)`` / ``predict_proba(x)`` on arrays). Optional attributes:
``exchangeable_rows = True`` says the rows do not depend on the answers (random draws), so a
random share of them is an unbiased fidelity holdout; ``check(budget, pool_rows)`` refuses a
budget before any work; ``use_domain(domain)`` receives the dataset's ``InputDomain`` (what a
valid model input looks like: one-hot blocks, observed value ranges, or token ids) before
``check``, for attacks that synthesise rows (see ``prepare``). An attack may hand over a fitted
surrogate in ``TransferSet.surrogate``, used instead of fitting one. See ``steal`` for how the
fidelity holdout is obtained.
"""

from typing import Protocol

import numpy as np

from msmult.attacks.stealing import SurrogateFactory, Theft, prepare, steal
from msmult.attacks.transfer_set import TransferSet
from msmult.oracle import PredictionAPI


class Attack(Protocol):
    name: str

    def run(
        self, api: PredictionAPI, pool: np.ndarray, new_surrogate: SurrogateFactory
    ) -> TransferSet: ...


__all__ = ["Attack", "SurrogateFactory", "Theft", "TransferSet", "prepare", "steal"]
