"""Adversarial weight perturbation (AWP) for per-row Rashomon Capacity (Hsu & Calmon, "Rashomon
Capacity: A Metric for Predictive Multiplicity in Classification", NeurIPS 2022; reference code
github.com/HsiangHsu/rashomon-capacity, ``awp/utils/training.py``).

For each sampled test row and each class k, a copy of the base surrogate's weights takes SGD steps
(with momentum) on minus the class-k logit of that row, until the class-k score reaches
``target_score`` or the fidelity loss leaves the tolerance; the score vector at the last step whose
loss stayed within base + epsilon is the row's reachable score for class k. One optimisation serves
the whole epsilon grid (each epsilon stops at its own first step past its tolerance).

Where msmult differs from the reference code: the tolerance is on the fidelity loss on the holdout
rows (the reference uses the loss on the test rows, which it then reports on); the step count is
capped (``steps``); every sampled row's copies are optimised together (``torch.func.vmap``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch.func import functional_call, grad, vmap

from msmult.models.torch_classifier import TorchClassifier, as_tensor, require_torch
from msmult.progress import progress_bar
from msmult.rashomon.base import Explorer
from msmult.rashomon.exploration import Exploration, ExplorationTask, fidelity_loss
from msmult.rashomon.per_row import RowReach
from msmult.validation import Number, Whole, whole


class AwpExplorer(Explorer):
    """Per-row reachable scores by adversarial weight perturbation; the ``Exploration`` holds the
    base surrogate only, plus a ``RowReach`` for the per-row metrics."""

    name = "awp"
    parameters = {
        "rows": Whole(1, what=" (test rows sampled)", example=200),
        "steps": Whole(1, example=200),
        "lr": Number(0, open_low=True, example=1e-3),
        "momentum": Number(0, 1, open_high=True, example=0.9),
        "target_score": Number(0, 1, open_low=True, example=0.9),
        "rows_per_pass": Whole(1, example=200),
        "seed": Whole(0, example=0),
    }

    def __init__(
        self,
        rows: int,
        steps: int,
        lr: float,
        momentum: float,
        target_score: float,
        rows_per_pass: int,
        seed: int,
    ) -> None:
        self.set_parameters(
            rows=rows,
            steps=steps,
            lr=lr,
            momentum=momentum,
            target_score=target_score,
            rows_per_pass=rows_per_pass,
            seed=seed,
        )

    def check(self, test_rows: int) -> None:
        """Refuse a sample larger than the test split, before any model is trained."""
        whole(
            "rashomon.rows",
            self.rows,
            1,
            test_rows,
            what=f" (test rows sampled; the test split has {test_rows})",
            example=f"rashomon.rows={min(200, test_rows)}",
        )

    def explore(self, task: ExplorationTask) -> Exploration:
        surrogate = require_torch(task.surrogate, "AWP exploration perturbs the weights")
        test = task.eval_sets["test"]
        self.check(len(test))
        rows = np.sort(np.random.default_rng(self.seed).choice(len(test), self.rows, replace=False))
        epsilons = np.array(sorted({task.epsilon, *task.epsilon_grid}))
        search = WeightSearch(surrogate, task.holdout_x, task.holdout_targets, epsilons, self)
        c = surrogate.n_classes
        reached = np.empty((len(epsilons), len(rows), c, c))
        steps = np.zeros((len(rows), c), int)
        with progress_bar("exploring per-row reachable scores (AWP)", len(rows) * c) as advance:
            for k in range(c):
                for start in range(0, len(rows), self.rows_per_pass):
                    chunk = slice(start, start + self.rows_per_pass)
                    reached[:, chunk, k], steps[chunk, k] = search.push(test[rows[chunk]], k)
                    advance(len(rows[chunk]))
        scores = {name: surrogate.predict_proba(x)[None] for name, x in task.eval_sets.items()}
        losses = np.array(
            [fidelity_loss(surrogate.predict_proba(task.holdout_x), task.holdout_targets)]
        )
        reach = RowReach(rows, epsilons, scores["test"][0, rows], reached, steps, task.epsilon)
        return Exploration(
            pd.DataFrame({"kind": ["base"]}),
            losses,
            scores,
            task.epsilon,
            task.epsilon_grid,
            per_row=reach,
        )


class WeightSearch:
    """Batched momentum-SGD on per-row copies of a module's weights (``torch.func``)."""

    def __init__(
        self,
        surrogate: TorchClassifier,
        holdout_x: np.ndarray,
        holdout_targets: np.ndarray,
        epsilons: np.ndarray,
        settings: AwpExplorer,
    ) -> None:
        self.module, self.device = surrogate.module_.eval(), surrogate.device_
        self.params = {n: p.detach() for n, p in self.module.named_parameters()}
        self.buffers = {n: b.detach() for n, b in self.module.named_buffers()}
        self.holdout = as_tensor(holdout_x, self.device)
        self.targets = torch.as_tensor(holdout_targets, dtype=torch.float32, device=self.device)
        self.epsilons = torch.as_tensor(epsilons, dtype=torch.float32, device=self.device)
        self.settings = settings

    def _logits(self, params: dict, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.module, (params, self.buffers), (x,))

    def _loss(self, params: dict) -> torch.Tensor:
        proba = torch.softmax(self._logits(params, self.holdout), dim=-1)
        return -(self.targets * proba.clamp_min(1e-12).log()).sum(-1).mean()

    def _score(self, params: dict, row: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self._logits(params, row[None])[0], dim=-1)

    def push(self, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(E, b, c) reached scores and (b,) steps taken, pushing class ``k`` on rows ``x``."""
        s = self.settings
        rows = as_tensor(x, self.device)
        b = len(rows)
        params = {n: p.expand(b, *p.shape).clone() for n, p in self.params.items()}
        velocity = {n: torch.zeros_like(p) for n, p in params.items()}
        gradient = vmap(grad(lambda p, row: -self._logits(p, row[None])[0, k]))
        loss, score = vmap(self._loss), vmap(self._score)
        with torch.no_grad():
            base_loss = self._loss(self.params)
            reached = score(params, rows).expand(len(self.epsilons), b, -1).clone()
        limit = base_loss + self.epsilons[:, None]
        alive = torch.ones(len(self.epsilons), b, dtype=torch.bool, device=self.device)
        alive[:, reached[0, :, k] >= s.target_score] = False
        steps = torch.zeros(b, dtype=torch.long, device=self.device)
        for _ in range(s.steps):
            active = alive.any(0).nonzero().squeeze(1)
            if len(active) == 0:
                break
            sub = {n: p[active] for n, p in params.items()}
            grads = gradient(sub, rows[active])
            with torch.no_grad():
                for n, g in grads.items():
                    velocity[n][active] = s.momentum * velocity[n][active] + g
                    params[n][active] = sub[n] - s.lr * velocity[n][active]
                sub = {n: p[active] for n, p in params.items()}
                within = loss(sub)[None] <= limit
                keep = alive[:, active] & within
                now = score(sub, rows[active])
                block = reached[:, active]
                reached[:, active] = torch.where(keep[..., None], now[None], block)
                keep[:, now[:, k] >= s.target_score] = False
                alive[:, active] = keep
                steps[active] += 1
        return reached.cpu().numpy().astype(float), steps.cpu().numpy()
