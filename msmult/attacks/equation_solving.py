"""Equation-solving extraction of a logistic regression (Tramer, Zhang, Juels, Reiter,
Ristenpart, USENIX Security 2016, Sec. 4.1).

A binary logistic regression answers p = sigmoid(w.x + b), so every answered probability gives
one linear equation log(p1 / p0) = w.x + b in the d + 1 unknowns (w, b): d + 1 queries at random
inputs (standard normal in model-input space, full rank almost surely) identify the victim, and a
least-squares solve recovers it. The recovered model is handed to the pipeline as the base
surrogate, embedded exactly in the run's MLP surrogate (no hidden layer: the head holds (w, b);
with hidden layers: two ReLU units carry relu(z) and relu(-z), whose difference is z).

Where msmult differs: ``verify_rows`` extra queries (default 10) overdetermine the system, so a
victim that is not a logistic regression (whose answers no (w, b) reproduces) is detected and
refused instead of silently returning a wrong model.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from msmult.attacks.base import Attack
from msmult.attacks.stealing import SurrogateFactory
from msmult.attacks.transfer_set import TransferSet
from msmult.errors import MsmultError
from msmult.models.mlp import MLP
from msmult.models.torch_classifier import TorchClassifier
from msmult.oracle import PredictionAPI
from msmult.validation import Number, Whole, bad_value

NEEDS = "attack=equation_solving needs victim=logreg, api=probabilities and a binary task"


def solve_logistic(x: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(w, b, worst probability residual) of the fit log(p1/p0) = w.x + b, least squares with
    each equation weighted by p1 p0 (a logit's error is the answer's error over p1 p0, so the
    weights keep answers rounded to float32 from dominating near 0 and 1)."""
    p = np.clip(proba, 1e-300, 1.0)
    logits = np.log(p[:, 1]) - np.log(p[:, 0])
    design = np.hstack([x, np.ones((len(x), 1))])
    weight = (p[:, 1] * p[:, 0])[:, None]
    solution, *_ = np.linalg.lstsq(design * weight, logits * weight[:, 0], rcond=None)
    fitted = 1.0 / (1.0 + np.exp(-np.clip(design @ solution, -500, 500)))
    residual = float(np.abs(fitted - proba[:, 1]).max())
    return solution[:-1], float(solution[-1]), residual


def embed_linear(
    surrogate: TorchClassifier, input_shape: tuple[int, ...], w: np.ndarray, b: float
) -> TorchClassifier:
    """Set a binary MLP surrogate's weights so that its logit difference is exactly w.x + b."""
    module = surrogate.build(input_shape) if isinstance(surrogate, TorchClassifier) else None
    layers = [m for m in module.modules() if isinstance(m, nn.Linear)] if module else []
    if not isinstance(module, MLP) or any(layer.out_features < 2 for layer in layers[:-1]):
        raise MsmultError(
            f"{NEEDS}, with surrogate=mlp or surrogate=linear (an MLP whose hidden "
            "layers have at least 2 units each) to hold the recovered weights."
        )
    weight = torch.as_tensor(w, dtype=torch.float32)
    with torch.no_grad():
        for layer in layers:
            layer.weight.zero_()
            layer.bias.zero_()
        head = layers[-1]
        if len(layers) == 1:
            head.weight[1], head.bias[1] = weight, b
        else:
            first = layers[0]
            first.weight[0], first.bias[0] = weight, b
            first.weight[1], first.bias[1] = -weight, -b
            for layer in layers[1:-1]:  # carry relu(z) and relu(-z) through
                layer.weight[0, 0] = layer.weight[1, 1] = 1.0
            head.weight[1, 0], head.weight[1, 1] = 1.0, -1.0
    module.eval()
    return surrogate


class EquationSolvingAttack(Attack):
    """d + 1 (+ ``verify_rows``) random queries and one linear solve recover a logistic victim."""

    name = "equation_solving"
    parameters = {
        "verify_rows": Whole(1, example=10),
        "tolerance": Number(0, open_low=True, example=1e-4),
        "seed": Whole(0, example=0),
    }

    def __init__(self, verify_rows: int, tolerance: float, seed: int) -> None:
        self.set_parameters(verify_rows=verify_rows, tolerance=tolerance, seed=seed)

    def check(self, budget: int, pool_rows: int) -> None:
        if budget < 2 + self.verify_rows:
            raise bad_value(
                "budget",
                budget,
                f"{NEEDS}; it queries d + 1 + attack.verify_rows "
                "rows (d: the number of model inputs) after the fidelity holdout",
                "budget=2000",
            )

    def run(
        self, api: PredictionAPI, pool: np.ndarray, new_surrogate: SurrogateFactory
    ) -> TransferSet:
        if api.mode != "probabilities" or api.n_classes != 2:
            raise MsmultError(
                f"{NEEDS}; this run's API answers mode={api.mode} for "
                f"{api.n_classes} classes (use api=probabilities)."
            )
        shape = pool.shape[1:]
        d = int(np.prod(shape))
        n_rows = d + 1 + self.verify_rows
        if n_rows > api.remaining:
            raise bad_value(
                "budget",
                api.budget,
                f"{NEEDS}; it queries d + 1 + attack.verify_rows"
                f" = {n_rows} rows after the fidelity holdout, but only "
                f"{api.remaining} queries remain",
                f"budget={4 * n_rows}",
            )
        rng = np.random.default_rng(self.seed)
        x = rng.standard_normal((n_rows, *shape)).astype(pool.dtype)
        answers = api.query(x)
        w, b, residual = solve_logistic(x.reshape(n_rows, d).astype(np.float64), answers)
        if not residual <= self.tolerance:
            raise MsmultError(
                f"{NEEDS}: no logistic model reproduces the API's answers on the "
                f"{n_rows} queried rows (worst probability residual {residual:.3g} > "
                f"{self.tolerance}); the victim is not a logistic regression or "
                "its answers are perturbed (defences, rounding)."
            )
        surrogate = embed_linear(new_surrogate(self.seed), shape, w, b)
        return TransferSet(
            x, api.as_targets(answers), api.queries_used, self.name, surrogate=surrogate
        )
