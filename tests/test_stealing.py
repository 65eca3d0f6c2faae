"""The attack contract: every query counted, and an unbiased fidelity holdout."""

import numpy as np
import pytest
from helpers import shipped

from msmult.attacks import TransferSet, steal
from msmult.attacks.knockoff import KnockoffAttack
from msmult.attacks.querying import query_all
from msmult.errors import MsmultError
from msmult.oracle import PredictionAPI


class SumVictim:
    n_classes = 2

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-x.reshape(len(x), -1).sum(axis=1)))
        return np.stack([1 - p, p], axis=1)


POOL = np.arange(200, dtype=np.float32).reshape(100, 2) / 100


class LargestFirst:
    """An adaptive toy attack: two rounds, each querying the rows with the largest first feature
    that it has not queried yet; it asks for a surrogate between rounds."""

    name = "largest-first"

    def __init__(self) -> None:
        self.surrogate_seeds: list[int] = []

    def run(self, api, pool, new_surrogate):
        order = np.argsort(-pool[:, 0])
        half = api.remaining // 2
        transfer = query_all(api, pool[order[:half]], self.name)
        self.surrogate_seeds.append(new_surrogate(7))
        return transfer.extend(query_all(api, pool[order[half : half + api.remaining]], self.name))


def test_adaptive_attack_gets_a_separate_uniform_holdout_counted_against_the_budget():
    api = PredictionAPI(SumVictim(), budget=20)
    attack = LargestFirst()
    theft = steal(attack, api, POOL, lambda seed: seed, holdout_share=0.2, seed=0)
    assert api.queries_used == 20 == len(theft.fit.x) + len(theft.holdout.x)
    assert (len(theft.fit.x), len(theft.holdout.x)) == (16, 4)
    assert theft.fit.rounds == (8, 8) and attack.surrogate_seeds == [7]
    assert theft.holdout_source == "separate uniform pool draw"
    # the holdout rows are not the attack's rows, and the attack never saw them in its pool
    assert not {tuple(r) for r in theft.fit.x} & {tuple(r) for r in theft.holdout.x}
    # a uniform draw, not the attack's "largest first" choice
    assert theft.holdout.x[:, 0].min() < np.sort(theft.fit.x[:, 0])[0]


def test_exchangeable_attack_keeps_the_transfer_share_holdout():
    api = PredictionAPI(SumVictim(), budget=20)
    theft = steal(shipped(KnockoffAttack, seed=1), api, POOL, lambda seed: seed, 0.25, seed=0)
    assert (len(theft.fit.x), len(theft.holdout.x), api.queries_used) == (15, 5, 20)
    assert theft.holdout_source == "share of the transfer set"


def test_an_attack_that_returns_something_else_is_named_in_the_error():
    class Broken:
        name = "broken"

        def run(self, api, pool, new_surrogate):
            return pool

    with pytest.raises(MsmultError, match="attack broken returned ndarray"):
        steal(Broken(), PredictionAPI(SumVictim(), budget=10), POOL, lambda s: s, 0.2, 0)


def test_a_holdout_that_leaves_no_budget_is_refused():
    with pytest.raises(MsmultError, match="fidelity_holdout"):
        steal(LargestFirst(), PredictionAPI(SumVictim(), budget=1), POOL, lambda s: s, 0.5, 0)


def test_extend_appends_rounds():
    first = TransferSet(np.zeros((2, 1)), np.ones((2, 2)) / 2, 2, "a")
    both = first.extend(TransferSet(np.ones((3, 1)), np.ones((3, 2)) / 2, 5, "a"))
    assert (both.rounds, both.queries_used, len(both.x)) == ((2, 3), 5, 5)
