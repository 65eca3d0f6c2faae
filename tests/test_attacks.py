"""Knockoff and random-synthetic attacks: what they query, and only through the API."""

import numpy as np
import pytest
from helpers import shipped

from msmult.attacks.knockoff import KnockoffAttack
from msmult.attacks.random_synthetic import RandomSyntheticAttack
from msmult.errors import MsmultError
from msmult.oracle import PredictionAPI


class SumVictim:
    n_classes = 2

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = 1 / (1 + np.exp(-x.reshape(len(x), -1).sum(axis=1)))
        return np.stack([1 - p, p], axis=1)


POOL = np.arange(40, dtype=np.float32).reshape(20, 2)


def NO_SURROGATE(seed: int):  # noqa: N802  the random attacks never train a surrogate
    raise AssertionError("a random attack asked for a surrogate")


def test_knockoff_queries_distinct_pool_rows_and_spends_the_budget():
    api = PredictionAPI(SumVictim(), budget=8)
    transfer = shipped(KnockoffAttack, seed=1).run(api, POOL, NO_SURROGATE)
    rows = {tuple(r) for r in transfer.x}
    assert len(rows) == 8 and rows <= {tuple(r) for r in POOL}
    assert transfer.queries_used == api.queries_used == 8
    np.testing.assert_allclose(transfer.targets, SumVictim().predict_proba(transfer.x))


def test_knockoff_is_seeded():
    first = (
        shipped(KnockoffAttack, seed=3)
        .run(PredictionAPI(SumVictim(), budget=5), POOL, NO_SURROGATE)
        .x
    )
    again = (
        shipped(KnockoffAttack, seed=3)
        .run(PredictionAPI(SumVictim(), budget=5), POOL, NO_SURROGATE)
        .x
    )
    np.testing.assert_array_equal(first, again)


def test_knockoff_refuses_a_budget_beyond_the_pool():
    with pytest.raises(MsmultError, match="larger than the attacker pool"):
        shipped(KnockoffAttack).check(21, len(POOL))


def test_random_rows_draw_each_feature_from_its_pool_marginal():
    transfer = shipped(RandomSyntheticAttack, seed=0).run(
        PredictionAPI(SumVictim(), budget=50), POOL, NO_SURROGATE
    )
    assert transfer.x.shape == (50, 2)
    assert set(transfer.x[:, 0]) <= set(POOL[:, 0]) and set(transfer.x[:, 1]) <= set(POOL[:, 1])
    # features are drawn independently, so some rows are not pool rows
    assert not {tuple(r) for r in transfer.x} <= {tuple(r) for r in POOL}


def test_transfer_split_is_disjoint_and_seeded():
    transfer = shipped(KnockoffAttack, seed=0).run(
        PredictionAPI(SumVictim(), budget=10), POOL, NO_SURROGATE
    )
    fit, held = transfer.split(0.2, seed=5)
    assert len(fit.x) == 8 and len(held.x) == 2
    assert not {tuple(r) for r in fit.x} & {tuple(r) for r in held.x}
