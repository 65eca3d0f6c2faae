"""ActiveThief (Pal, Gupta, Shukla, Kanade, Shevade, Ganapathy, AAAI 2020): active learning
with the surrogate in the loop.

A random seed set from the attacker pool is queried; then each of ``rounds`` rounds retrains the
surrogate on every answer so far and queries the pool rows it picks: ``entropy`` (the rows whose
predicted class distribution has the largest entropy) or ``kcenter`` (greedy k-center on the
surrogate's output probabilities: each pick is the row farthest from every row queried so far).
Rows are never queried twice. Where msmult differs: no validation queries (the paper uses part
of the budget as a validation set for early stopping; msmult trains the surrogate for its fixed
epochs, so every query goes into the transfer set) and fewer rounds, for speed.
"""

from __future__ import annotations

import numpy as np

from msmult.attacks.base import Attack
from msmult.attacks.querying import query_all
from msmult.attacks.stealing import SurrogateFactory
from msmult.attacks.transfer_set import TransferSet
from msmult.oracle import PredictionAPI
from msmult.validation import Number, OneOf, Whole, bad_value

STRATEGIES = ("entropy", "kcenter")


def entropy(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row, with 0 log 0 = 0."""
    p = np.clip(proba, 1e-12, 1.0)
    return -(proba * np.log(p)).sum(axis=1)


def k_center(points: np.ndarray, centers: np.ndarray, k: int, chunk: int = 256) -> np.ndarray:
    """Greedy k-center: ``k`` indices of ``points``, each the point farthest (Euclidean) from
    ``centers`` and from the points already picked."""
    nearest = np.full(len(points), np.inf)
    for start in range(0, len(centers), chunk):
        block = centers[start : start + chunk]
        gaps = ((points[:, None, :] - block[None, :, :]) ** 2).sum(axis=2)
        nearest = np.minimum(nearest, gaps.min(axis=1))
    picks = []
    for _ in range(k):
        pick = int(np.argmax(nearest))
        picks.append(pick)
        nearest = np.minimum(nearest, ((points - points[pick]) ** 2).sum(axis=1))
    return np.array(picks, dtype=np.int64)


def round_sizes(total: int, rounds: int) -> list[int]:
    """``total`` rows split into ``rounds`` near-equal positive parts (the first ones larger)."""
    return [total // rounds + (1 if r < total % rounds else 0) for r in range(rounds)]


class ActiveThiefAttack(Attack):
    """Random seed set, then ``rounds`` rounds of entropy or k-center picks from the pool."""

    name = "active"
    parameters = {
        "strategy": OneOf(STRATEGIES),
        "rounds": Whole(1, example=4),
        "seed_share": Number(0, 1, open_low=True, open_high=True, example=0.1),
        "seed": Whole(0, example=0),
    }

    def __init__(self, strategy: str, rounds: int, seed_share: float, seed: int) -> None:
        self.set_parameters(strategy=strategy, rounds=rounds, seed_share=seed_share, seed=seed)

    def seed_rows(self, budget: int) -> int:
        return max(1, int(round(self.seed_share * budget)))

    def check(self, budget: int, pool_rows: int) -> None:
        """The budget must pay for the seed set and one row per round, from distinct pool rows."""
        needed = self.seed_rows(budget) + self.rounds
        if budget < needed:
            raise bad_value(
                "budget",
                budget,
                f"attack=active needs the seed set "
                f"({self.seed_rows(budget)} rows, attack.seed_share={self.seed_share}) "
                f"plus one row for each of attack.rounds={self.rounds} after the "
                "fidelity holdout",
                f"budget={4 * needed}",
            )
        if budget > pool_rows:
            raise bad_value(
                "budget",
                budget,
                f"it is larger than the attacker pool ({pool_rows} "
                "rows) and attack=active queries distinct pool rows",
                f"budget={pool_rows}",
            )

    def run(
        self, api: PredictionAPI, pool: np.ndarray, new_surrogate: SurrogateFactory
    ) -> TransferSet:
        self.check(api.remaining, len(pool))
        rng = np.random.default_rng(self.seed)
        n_seed = self.seed_rows(api.remaining)
        queried = rng.choice(len(pool), size=n_seed, replace=False)
        transfer = query_all(api, pool[queried], self.name)
        for r, size in enumerate(round_sizes(api.remaining, self.rounds)):
            surrogate = new_surrogate(self.seed + r).fit(transfer.x, transfer.targets)
            picks = self.pick(surrogate, pool, queried, size)
            queried = np.concatenate([queried, picks])
            transfer = transfer.extend(query_all(api, pool[picks], self.name))
        return transfer

    def pick(self, surrogate, pool: np.ndarray, queried: np.ndarray, size: int) -> np.ndarray:
        """``size`` pool rows not queried yet, chosen by the strategy."""
        left = np.setdiff1d(np.arange(len(pool)), queried)
        proba = surrogate.predict_proba(pool[left])
        if self.strategy == "entropy":
            chosen = np.argsort(-entropy(proba), kind="stable")[:size]
        else:
            chosen = k_center(proba, surrogate.predict_proba(pool[queried]), size)
        return left[chosen]
