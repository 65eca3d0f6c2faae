"""Knockoff Nets, adaptive strategy (Orekondy, Schiele, Fritz, CVPR 2019).

A gradient bandit (Sutton & Barto, Sec. 2.8) learns which part of the attacker's pool is worth
querying. Its actions are the pool's k-means clusters in model-input space (the paper's actions
are the label hierarchy of the attacker's image set; msmult's pool has no labels). Each step
draws an action from the softmax policy over the action preferences, queries ``step_rows``
not-yet-queried rows of that cluster and rewards the action with the paper's ``cert`` (margin of
the answer's top two probabilities), ``div`` (how much the answer exceeds the mean of the last
``window`` answers, summed over classes), ``loss`` (cross-entropy of the surrogate against the
answer) or ``all`` (their sum); each reward is standardised by its running mean and standard
deviation, as in the paper. The surrogate is retrained from scratch between ``rounds``.

Where msmult differs: the surrogate is refitted ``rounds - 1`` times instead of after every step
(a refit costs a full training run), so during the first round the ``loss`` reward is 0. Unlike
IBM ART's implementation, rows are never queried twice (an exhausted cluster leaves the policy)
and the rewards cannot overflow (probabilities clipped before the log, preferences shifted by
their maximum before the softmax, zero spread standardised to 0).
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import MiniBatchKMeans
from threadpoolctl import threadpool_limits

from msmult.attacks.active import round_sizes
from msmult.attacks.base import Attack
from msmult.attacks.stealing import SurrogateFactory
from msmult.attacks.transfer_set import TransferSet
from msmult.oracle import PredictionAPI
from msmult.progress import progress_bar
from msmult.validation import Number, OneOf, Whole, bad_value

REWARDS = ("cert", "div", "loss", "all")


def certainty(answers: np.ndarray) -> np.ndarray:
    """Margin between each answer's two largest probabilities."""
    top = np.sort(answers, axis=1)
    return top[:, -1] - top[:, -2]


def diversity(answers: np.ndarray, recent: np.ndarray) -> np.ndarray:
    """Sum over classes of max(0, y_k - mean_k), the mean over ``recent`` answers and this one."""
    mean = np.concatenate([recent, answers]).mean(axis=0)
    return np.maximum(answers - mean, 0.0).sum(axis=1)


def surrogate_loss(answers: np.ndarray, proba: np.ndarray | None) -> np.ndarray:
    """Cross-entropy of the surrogate's probabilities against the answers (0 without one)."""
    if proba is None:
        return np.zeros(len(answers))
    return -(answers * np.log(np.clip(proba, 1e-12, 1.0))).sum(axis=1)


class RunningScale:
    """Standardises a stream of rewards by their running mean and variance (Welford)."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def __call__(self, value: float) -> float:
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)
        std = np.sqrt(self.m2 / self.n)
        return float((value - self.mean) / std) if std > 1e-12 else 0.0


class GradientBandit:
    """Softmax policy over action preferences H, updated by H += lr (r - mean r)(1[a] - pi)."""

    def __init__(self, n_actions: int, lr: float) -> None:
        self.preferences = np.zeros(n_actions)
        self.lr = lr
        self.n, self.baseline = 0, 0.0

    def policy(self, available: np.ndarray) -> np.ndarray:
        """Action probabilities; unavailable actions get 0 (shifted by the max: no overflow)."""
        h = np.where(available, self.preferences, -np.inf)
        weights = np.exp(h - h.max())
        return weights / weights.sum()

    def update(self, action: int, reward: float, pi: np.ndarray) -> None:
        self.n += 1
        self.baseline += (reward - self.baseline) / self.n
        chosen = np.zeros_like(pi)
        chosen[action] = 1.0
        self.preferences += self.lr * (reward - self.baseline) * (chosen - pi)


class AdaptiveKnockoffAttack(Attack):
    """Gradient-bandit sampling over the pool's k-means clusters, surrogate refitted per round."""

    name = "knockoff_adaptive"
    parameters = {
        "n_clusters": Whole(2, example=32),
        "reward": OneOf(REWARDS),
        "rounds": Whole(1, example=4),
        "step_rows": Whole(1, example=1),
        "lr": Number(0, open_low=True, example=0.1),
        "window": Whole(1, example=25),
        "seed": Whole(0, example=0),
    }

    def __init__(
        self,
        n_clusters: int,
        reward: str,
        rounds: int,
        step_rows: int,
        lr: float,
        window: int,
        seed: int,
    ) -> None:
        self.set_parameters(
            n_clusters=n_clusters,
            reward=reward,
            rounds=rounds,
            step_rows=step_rows,
            lr=lr,
            window=window,
            seed=seed,
        )
        self.scales = {name: RunningScale() for name in REWARDS[:3]}

    def check(self, budget: int, pool_rows: int) -> None:
        if self.n_clusters > pool_rows:
            raise bad_value(
                "attack.n_clusters",
                self.n_clusters,
                f"it must be at most the attacker pool's {pool_rows} rows",
                "attack.n_clusters=32",
            )
        if budget > pool_rows:
            raise bad_value(
                "budget",
                budget,
                f"it is larger than the attacker pool ({pool_rows} "
                "rows) and knockoff_adaptive queries distinct pool rows",
                f"budget={pool_rows}",
            )
        if budget < self.rounds:
            raise bad_value(
                "budget",
                budget,
                f"attack.rounds={self.rounds} needs at least one "
                "query per round after the fidelity holdout",
                f"budget={10 * self.rounds}",
            )

    def clusters(self, pool: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        """Each k-means cluster's pool rows, in a seeded random order (the order they are drawn).
        One BLAS/OpenMP thread: on 2 shared cores two threads made it about 6x slower."""
        flat = pool.reshape(len(pool), -1).astype(np.float32)
        with threadpool_limits(1):
            labels = MiniBatchKMeans(
                self.n_clusters, random_state=self.seed, n_init=3, batch_size=2048
            ).fit_predict(flat)
        return [rng.permutation(np.flatnonzero(labels == k)) for k in range(self.n_clusters)]

    def step_reward(
        self, answers: np.ndarray, proba: np.ndarray | None, recent: np.ndarray
    ) -> float:
        """The configured reward for one step's answers, each part standardised."""
        raw = {
            "cert": certainty(answers),
            "div": diversity(answers, recent),
            "loss": surrogate_loss(answers, proba),
        }
        scaled = {name: self.scales[name](float(values.mean())) for name, values in raw.items()}
        return sum(scaled.values()) if self.reward == "all" else scaled[self.reward]

    def run(
        self, api: PredictionAPI, pool: np.ndarray, new_surrogate: SurrogateFactory
    ) -> TransferSet:
        self.check(api.remaining, len(pool))
        rng = np.random.default_rng(self.seed)
        self.scales = {name: RunningScale() for name in REWARDS[:3]}
        members = self.clusters(pool, rng)
        bandit = GradientBandit(self.n_clusters, self.lr)
        rows: list[np.ndarray] = []
        answers: list[np.ndarray] = []
        sizes, surrogate = round_sizes(api.remaining, self.rounds), None
        with progress_bar(f"querying API ({self.name})", api.remaining) as advance:
            for r, size in enumerate(sizes):
                while size > 0:
                    pi = bandit.policy(np.array([len(m) > 0 for m in members]))
                    action = int(rng.choice(len(pi), p=pi))
                    take = members[action][: min(self.step_rows, size)]
                    members[action] = members[action][len(take) :]
                    got = api.as_targets(api.query(pool[take]))
                    recent = np.concatenate(answers)[-self.window :] if answers else got[:0]
                    proba = None if surrogate is None else surrogate.predict_proba(pool[take])
                    bandit.update(action, self.step_reward(got, proba, recent), pi)
                    rows.append(take)
                    answers.append(got)
                    size -= len(take)
                    advance(len(take))
                if r < len(sizes) - 1:
                    seen = pool[np.concatenate(rows)]
                    surrogate = new_surrogate(self.seed + r).fit(seen, np.concatenate(answers))
        return self.transfer(pool, rows, answers, sizes, api.queries_used)

    def transfer(
        self,
        pool: np.ndarray,
        rows: list[np.ndarray],
        answers: list[np.ndarray],
        sizes: list[int],
        queries_used: int,
    ) -> TransferSet:
        """The queried rows and answers in query order, one round per surrogate refit."""
        chosen = np.concatenate(rows)
        return TransferSet(
            pool[chosen], np.concatenate(answers), queries_used, self.name, tuple(sizes)
        )
