"""Running an attack and setting aside the fidelity holdout that defines Rashomon membership.

The holdout must be an unbiased sample of the attacker's query distribution:
- an attack whose rows are exchangeable (``exchangeable_rows = True``: Knockoff's random strategy,
  random synthetic rows) spends the whole budget, and a seeded random share
  (``fidelity_holdout``) of its transfer set is held out, as in msmult 0.1;
- any other attack (adaptive ones choose rows from earlier answers, so their rows are not a
  uniform sample) first gets ``round(fidelity_holdout * budget)`` rows drawn uniformly without
  replacement from the pool, queried through the API and counted against the budget; the attack
  then runs on the rest of the pool with the remaining budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from msmult.attacks.base import Attack, SurrogateFactory, as_attack
from msmult.attacks.querying import query_all
from msmult.attacks.transfer_set import TransferSet
from msmult.errors import MsmultError
from msmult.oracle import PredictionAPI


@dataclass(frozen=True)
class Theft:
    """The attack's outcome: rows to fit the surrogate on, the fidelity holdout, and how the
    holdout was obtained."""

    fit: TransferSet
    holdout: TransferSet
    holdout_source: str
    queries_used: int

    def base_surrogate(self, new_surrogate: SurrogateFactory, seed: int) -> Any:
        """The surrogate the attack handed over ready, else one fitted on the fit rows."""
        if self.fit.surrogate is not None:
            return self.fit.surrogate
        return new_surrogate(seed).fit(self.fit.x, self.fit.targets)


def prepare(attack: Attack, budget: int, pool: np.ndarray, domain: Any = None) -> None:
    """Before any work: hand the attack the input domain (``use_domain``, for attacks that
    synthesise rows; it may refuse a domain it cannot work in) and let it refuse the budget
    (``check``)."""
    attack = as_attack(attack)
    attack.use_domain(domain)
    attack.check(budget, len(pool))


def steal(
    attack: Attack,
    api: PredictionAPI,
    pool: np.ndarray,
    new_surrogate: SurrogateFactory,
    holdout_share: float,
    seed: int,
) -> Theft:
    """Run ``attack`` through ``api`` and return the fit rows and an unbiased fidelity holdout."""
    attack = as_attack(attack)
    if attack.exchangeable_rows:
        transfer = checked(attack, attack.run(api, pool, new_surrogate), api)
        fit, holdout = transfer.split(holdout_share, seed)
        return Theft(fit, holdout, "share of the transfer set", api.queries_used)
    n_holdout = max(1, int(round(holdout_share * api.budget)))
    if n_holdout >= min(api.budget, len(pool)):
        raise MsmultError(
            f"fidelity_holdout={holdout_share} of budget={api.budget} is {n_holdout} rows, which "
            f"leaves no queries or pool rows (pool: {len(pool)}) for the attack "
            f"{attack.name}; raise budget= or lower "
            "fidelity_holdout."
        )
    rows = np.random.default_rng([seed, 1]).choice(len(pool), size=n_holdout, replace=False)
    holdout = query_all(api, pool[rows], "fidelity holdout")
    rest = np.delete(pool, rows, axis=0)
    transfer = checked(attack, attack.run(api, rest, new_surrogate), api)
    return Theft(transfer, holdout, "separate uniform pool draw", api.queries_used)


def checked(attack: Attack, transfer: Any, api: PredictionAPI) -> TransferSet:
    """The attack's transfer set, after checking it is one and matches the API's answers."""
    name = attack.name
    if not isinstance(transfer, TransferSet):
        raise MsmultError(
            f"attack {name} returned {type(transfer).__name__}; an attack's run(api, pool, "
            "new_surrogate) must return msmult.attacks.TransferSet."
        )
    if len(transfer.x) != len(transfer.targets) or len(transfer.x) == 0:
        raise MsmultError(
            f"attack {name} returned {len(transfer.x)} rows with {len(transfer.targets)} "
            "answers; expected the same, positive number of rows and answers."
        )
    if transfer.targets.shape[1:] != (api.n_classes,):
        raise MsmultError(
            f"attack {name} returned answers of shape {transfer.targets.shape}; expected "
            f"(rows, {api.n_classes}) probability targets (use api.as_targets)."
        )
    return transfer
