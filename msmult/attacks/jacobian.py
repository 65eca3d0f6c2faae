"""Jacobian-based dataset augmentation (Papernot, McDaniel, Goodfellow, Jha, Celik, Swami,
AsiaCCS 2017).

A seed set drawn from the attacker pool is queried; then each round trains the surrogate on every
answer so far and adds, for every row x already queried, x + lambda_r * sign(d score_y(x) / dx),
where score_y is the surrogate's logit for the API's label y of x (the top class of its answer).
The step lambda_r = lambda * (-1)^floor(r / tau) changes sign every ``tau`` rounds (the paper's
periodic step size; the reference cleverhans tutorial uses lambda 0.1 and flips after 3 rounds).
The set doubles each round until the budget: the last round queries a seeded random subset of
its new rows so that the attack stops exactly at the budget.

Where msmult differs: new rows are projected back to valid inputs with the dataset's
``InputDomain`` (each one-hot block to its largest entry, numbers and pixels clipped to the range
observed in the victim's split), and the seed set comes from the attacker pool rather than the
victim's test set. Token ids (text) are not a continuous space: the attack refuses them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from msmult.attacks.base import Attack
from msmult.attacks.querying import query_all
from msmult.attacks.stealing import SurrogateFactory
from msmult.attacks.transfer_set import TransferSet
from msmult.data.splits import InputDomain
from msmult.errors import MsmultError
from msmult.models.torch_classifier import TorchClassifier, as_tensor, require_torch
from msmult.oracle import PredictionAPI
from msmult.validation import Number, Whole, bad_value


def project(x: np.ndarray, domain: InputDomain) -> np.ndarray:
    """Rows made valid: values clipped to [low, high], each one-hot block one-hot at its argmax."""
    valid = x.copy()
    if domain.low is not None and domain.high is not None:
        valid = np.clip(valid, domain.low, domain.high)
    for start, stop in domain.one_hot_blocks:
        block = np.zeros_like(valid[:, start:stop])
        block[np.arange(len(valid)), valid[:, start:stop].argmax(axis=1)] = 1
        valid[:, start:stop] = block
    return valid.astype(x.dtype)


def label_gradient_sign(
    surrogate: TorchClassifier, x: np.ndarray, labels: np.ndarray, batch_size: int = 4096
) -> np.ndarray:
    """sign(d logit_label(x) / dx) of the fitted torch surrogate, row by row."""
    signs = []
    for start in range(0, len(x), batch_size):
        rows = as_tensor(x[start : start + batch_size], surrogate.device_).requires_grad_(True)
        chosen = torch.as_tensor(labels[start : start + batch_size], device=surrogate.device_)
        surrogate.module_(rows).gather(1, chosen[:, None]).sum().backward()
        signs.append(torch.sign(rows.grad).cpu().numpy())
    return np.concatenate(signs).astype(x.dtype)


class JacobianAttack(Attack):
    """Seed set from the pool, then rounds of Jacobian augmentation until the budget is spent.

    ``lambda`` (a Python keyword, so passed as a config key) is the step size."""

    name = "jacobian"
    parameters = {
        "seed_rows": Whole(1, example=150),
        "lambda": Number(0, open_low=True, example=0.1),
        "tau": Whole(1, example=3),
        "seed": Whole(0, example=0),
    }

    def __init__(self, seed_rows: int, tau: int, seed: int, **step: Any) -> None:
        unknown = sorted(set(step) - {"lambda"})
        if unknown or "lambda" not in step:
            raise bad_value(
                f"attack.{unknown[0]}" if unknown else "attack.lambda",
                step[unknown[0]] if unknown else None,
                "attack=jacobian takes seed_rows, lambda, tau and seed",
                "attack.lambda=0.1",
            )
        self.set_parameters(seed_rows=seed_rows, tau=tau, seed=seed, **step)
        self.step = getattr(self, "lambda")
        self.domain: InputDomain | None = None

    def use_domain(self, domain: InputDomain | None) -> None:
        """Keep the input domain new rows are projected to; refuse token ids."""
        if domain is not None and domain.kind == "tokens":
            raise MsmultError(
                "attack=jacobian is not allowed on token-id inputs (text): Jacobian augmentation "
                "steps along the surrogate's input gradient, which needs continuous inputs "
                "(tabular features or pixels); use attack=knockoff, knockoff_adaptive or active."
            )
        self.domain = domain

    def check(self, budget: int, pool_rows: int) -> None:
        if self.seed_rows > pool_rows:
            raise bad_value(
                "attack.seed_rows",
                self.seed_rows,
                f"it must be at most the attacker pool's {pool_rows} rows",
                "attack.seed_rows=150",
            )
        if budget <= self.seed_rows:
            raise bad_value(
                "budget",
                budget,
                "attack=jacobian needs more queries than its seed "
                f"set (attack.seed_rows={self.seed_rows}) after the fidelity holdout",
                f"budget={10 * self.seed_rows}",
            )

    def run(
        self, api: PredictionAPI, pool: np.ndarray, new_surrogate: SurrogateFactory
    ) -> TransferSet:
        if self.domain is None:
            raise MsmultError(
                "attack=jacobian needs the dataset's input domain: call "
                "use_domain(splits.domain) first (msmult.attacks.prepare does)."
            )
        require_torch(new_surrogate(self.seed), "attack=jacobian follows the surrogate's gradients")
        self.check(api.remaining, len(pool))
        rng = np.random.default_rng(self.seed)
        seed_set = pool[rng.choice(len(pool), size=self.seed_rows, replace=False)]
        transfer = query_all(api, seed_set, self.name)
        rounds = 0
        while api.remaining > 0:
            surrogate = new_surrogate(self.seed + rounds).fit(transfer.x, transfer.targets)
            step = self.step * (-1) ** (rounds // self.tau)
            signs = label_gradient_sign(surrogate, transfer.x, transfer.targets.argmax(axis=1))
            new = project(transfer.x + step * signs, self.domain)
            if len(new) > api.remaining:
                new = new[np.sort(rng.choice(len(new), size=api.remaining, replace=False))]
            transfer = transfer.extend(query_all(api, new, self.name))
            rounds += 1
        return transfer
