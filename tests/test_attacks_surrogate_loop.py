"""Attacks with the surrogate in the loop: adaptive Knockoff, Jacobian augmentation, ActiveThief,
equation solving. Hand-made victims and pools; the real torch surrogate, trained briefly."""

from functools import partial

import numpy as np
import pytest
from helpers import shipped

from msmult.attacks import prepare, steal
from msmult.attacks.active import ActiveThiefAttack, entropy, k_center, round_sizes
from msmult.attacks.equation_solving import EquationSolvingAttack, embed_linear, solve_logistic
from msmult.attacks.jacobian import JacobianAttack, project
from msmult.attacks.knockoff_adaptive import (
    AdaptiveKnockoffAttack,
    GradientBandit,
    certainty,
    diversity,
)
from msmult.data.splits import InputDomain
from msmult.errors import MsmultError
from msmult.models.mlp import MLP
from msmult.models.torch_classifier import TorchClassifier
from msmult.oracle import PredictionAPI

W, B = np.array([1.0, -2.0, 0.5, 0.0, 0.25]), 0.3


class LogisticVictim:
    """p1 = sigmoid(w.x + b): the model equation solving recovers exactly."""

    n_classes = 2

    def __init__(self, square: bool = False) -> None:
        self.square = square  # True: p1 = sigmoid(x0^2 + ...), not a logistic model of x

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        z = x @ W + B + (x[:, 0] ** 2 if self.square else 0.0)
        p = 1 / (1 + np.exp(-z))
        return np.stack([1 - p, p], axis=1)


def surrogate_factory(hidden=(8,)):
    return lambda seed: TorchClassifier(partial(MLP, hidden=list(hidden)), 2, epochs=2, seed=seed)


# a tabular pool: two numbers in [-1, 1], then a one-hot block of three categories
DOMAIN = InputDomain(
    "tabular", np.array([-1, -1, 0, 0, 0.0]), np.array([1, 1, 1, 1, 1.0]), ((2, 5),)
)


def tabular_pool(n: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    numbers = rng.uniform(-1, 1, size=(n, 2))
    return np.hstack([numbers, np.eye(3)[rng.integers(0, 3, n)]]).astype(np.float32)


ATTACKS = {
    "knockoff_adaptive": lambda: shipped(
        AdaptiveKnockoffAttack, n_clusters=5, rounds=3, step_rows=2
    ),
    "jacobian": lambda: shipped(JacobianAttack, seed_rows=10),
    "active kcenter": lambda: shipped(ActiveThiefAttack, "kcenter", rounds=3),
    "active entropy": lambda: shipped(ActiveThiefAttack, "entropy", rounds=2, seed_share=0.3),
}


@pytest.mark.parametrize("name", ATTACKS)
@pytest.mark.parametrize("budget", [37, 120])
def test_every_query_is_counted_and_the_budget_spent_exactly(name, budget):
    attack, api, pool = ATTACKS[name](), PredictionAPI(LogisticVictim(), budget), tabular_pool()
    prepare(attack, budget, pool, DOMAIN)
    theft = steal(attack, api, pool, surrogate_factory(), holdout_share=0.2, seed=0)
    assert api.queries_used == budget == len(theft.fit.x) + len(theft.holdout.x)
    assert sum(theft.fit.rounds) == len(theft.fit.x) and len(theft.fit.rounds) > 1


@pytest.mark.parametrize("name", ["knockoff_adaptive", "active kcenter", "active entropy"])
def test_pool_attacks_never_query_a_row_twice(name):
    pool = tabular_pool()
    pool[:, 0] = np.arange(len(pool))  # every row unique
    theft = steal(
        ATTACKS[name](), PredictionAPI(LogisticVictim(), 150), pool, surrogate_factory(), 0.2, 0
    )
    rows = np.concatenate([theft.fit.x[:, 0], theft.holdout.x[:, 0]])
    assert len(np.unique(rows)) == len(rows) == 150


def test_jacobian_rows_stay_valid_inputs():
    attack, pool = shipped(JacobianAttack, seed_rows=10, **{"lambda": 0.7}), tabular_pool()
    attack.use_domain(DOMAIN)
    api = PredictionAPI(LogisticVictim(), 200)
    transfer = attack.run(api, pool, surrogate_factory())
    assert len(transfer.x) == api.queries_used == 200
    assert transfer.rounds == (10, 10, 20, 40, 80, 40)  # doubling, cut at the budget
    assert (transfer.x[:, :2] >= -1).all() and (transfer.x[:, :2] <= 1).all()
    block = transfer.x[:, 2:]
    assert set(np.unique(block)) == {0.0, 1.0} and (block.sum(axis=1) == 1).all()
    # the steps moved the numbers: most rows after the seed set are not pool rows
    pool_rows = {tuple(row) for row in pool}
    assert sum(tuple(row) not in pool_rows for row in transfer.x[10:]) > 100


def test_project_clips_numbers_and_snaps_one_hot_blocks_to_their_largest_entry():
    rows = np.array([[1.75, -3.0, 0.1, 0.9, 0.4], [0.25, 0.5, 0.6, -0.1, 0.6]], dtype=np.float32)
    assert project(rows, DOMAIN).tolist() == [[1, -1, 0, 1, 0], [0.25, 0.5, 1, 0, 0]]


def test_jacobian_refuses_text_and_a_step_of_zero():
    with pytest.raises(MsmultError, match="token-id"):
        shipped(JacobianAttack).use_domain(InputDomain("tokens"))
    with pytest.raises(MsmultError, match=r"attack.lambda=0 is not allowed"):
        shipped(JacobianAttack, **{"lambda": 0})


def test_equation_solving_recovers_a_logistic_victim_exactly():
    api = PredictionAPI(LogisticVictim(), 100)
    pool = np.zeros((50, 5), dtype=np.float64)  # only its shape is used
    transfer = shipped(EquationSolvingAttack, verify_rows=3).run(api, pool, surrogate_factory([]))
    assert api.queries_used == len(transfer.x) == 5 + 1 + 3
    layer = transfer.surrogate.module_.net[-1]
    recovered = (layer.weight[1] - layer.weight[0]).detach().numpy()
    np.testing.assert_allclose(recovered, W, atol=1e-5)
    assert abs(float((layer.bias[1] - layer.bias[0]).detach()) - B) < 1e-5
    rows = np.random.default_rng(3).normal(size=(200, 5)).astype(np.float32)
    np.testing.assert_allclose(
        transfer.surrogate.predict_proba(rows), LogisticVictim().predict_proba(rows), atol=1e-5
    )


def test_a_logistic_model_embeds_exactly_in_an_mlp_with_hidden_layers():
    surrogate = embed_linear(surrogate_factory([4, 3])(0), (5,), W, B)
    rows = np.random.default_rng(4).normal(size=(100, 5)).astype(np.float32)
    np.testing.assert_allclose(
        surrogate.predict_proba(rows), LogisticVictim().predict_proba(rows), atol=1e-5
    )


def test_solve_logistic_on_three_hand_rows():
    x = np.array([[0.0], [1.0], [2.0]])
    p1 = 1 / (1 + np.exp(-(2 * x[:, 0] - 1)))  # w = 2, b = -1
    w, b, residual = solve_logistic(x, np.stack([1 - p1, p1], axis=1))
    assert w.tolist() == pytest.approx([2.0]) and b == pytest.approx(-1.0) and residual < 1e-12


def test_equation_solving_refuses_a_victim_that_is_not_logistic_and_a_label_api():
    pool = np.zeros((50, 5))
    with pytest.raises(MsmultError, match="victim=logreg"):
        shipped(EquationSolvingAttack).run(
            PredictionAPI(LogisticVictim(square=True), 100), pool, surrogate_factory([])
        )
    with pytest.raises(MsmultError, match="mode=label"):
        shipped(EquationSolvingAttack).run(
            PredictionAPI(LogisticVictim(), 100, mode="label"), pool, surrogate_factory([])
        )


def test_bandit_rewards_and_policy_stay_finite_under_extreme_inputs():
    attack = shipped(AdaptiveKnockoffAttack, reward="all")
    bandit = GradientBandit(3, lr=1e3)
    certain, wrong = np.array([[1.0, 0.0]] * 4), np.array([[0.0, 1.0]] * 4)
    for step in range(2000):  # certain answers, a surrogate sure of the wrong class, then not
        proba = wrong if step % 7 else certain
        reward = attack.step_reward(certain, proba, certain[:1])
        assert np.isfinite(reward)
        pi = bandit.policy(np.array([True, True, step < 1000]))  # action 2 runs out of rows
        action = step % 3 if step < 1000 else step % 2
        bandit.update(action, reward, pi)
        assert np.isfinite(pi).all() and pi.sum() == pytest.approx(1.0)
    assert np.isfinite(bandit.preferences).all() and pi[2] == 0
    assert abs(bandit.preferences).max() > 1e3  # the preferences did grow far past exp's range


def test_reward_parts_on_hand_vectors():
    answers = np.array([[0.7, 0.2, 0.1]])
    assert certainty(answers) == pytest.approx([0.5])
    # mean of (recent [0, 1, 0] and this answer) = [0.35, 0.6, 0.05]: gains 0.35 + 0.05
    assert diversity(answers, np.array([[0.0, 1.0, 0.0]])) == pytest.approx([0.4])
    assert entropy(np.array([[0.5, 0.5], [1.0, 0.0]])) == pytest.approx([np.log(2), 0.0])


def test_k_center_picks_the_farthest_point_then_the_next_farthest():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [2.0, 0.0]])
    assert k_center(points, np.array([[0.0, 0.0]]), 2).tolist() == [2, 3]


def test_round_sizes_add_up():
    assert round_sizes(10, 3) == [4, 3, 3]


def test_bad_attack_settings_are_refused():
    with pytest.raises(MsmultError, match="attack.n_clusters=50 is not allowed"):
        shipped(AdaptiveKnockoffAttack, n_clusters=50).check(10, pool_rows=40)
    with pytest.raises(MsmultError, match="attack.reward='gold' is not allowed"):
        shipped(AdaptiveKnockoffAttack, reward="gold")
    with pytest.raises(MsmultError, match="attack.rounds=0 is not allowed"):
        shipped(ActiveThiefAttack, rounds=0)
    with pytest.raises(MsmultError, match="budget=100 is not allowed"):
        shipped(JacobianAttack, seed_rows=150).check(100, pool_rows=1000)
