"""Training aids for ``TorchClassifier``: the learning-rate schedule, Adam, the validation split and
early stopping on held-out answers (the weights of the best validation epoch are restored)."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.optim.adam import adam

LR_SCHEDULES = ("constant", "cosine")


def learning_rate(schedule: str, lr: float, final_lr: float, epochs: int, epoch: int) -> float:
    """The rate of ``epoch`` (0-based). ``cosine``: from ``lr`` down to ``final_lr`` over the
    epochs, the last epoch running at exactly ``final_lr`` (SGDR, Loshchilov & Hutter, ICLR 2017,
    one cycle without restarts; the closed form of torch's ``CosineAnnealingLR``).
    ``constant``: ``lr``."""
    if schedule == "constant":
        return lr
    return final_lr + (lr - final_lr) * (1 + math.cos(math.pi * epoch / max(1, epochs - 1))) / 2


class Adam:
    """Adam with L2 weight decay on ``params``, as ``torch.optim.Adam`` computes it (its
    functional form, ``torch.optim.adam.adam``; ``fused``: torch's one-pass kernel), with the
    rate given at each step. Each tensor keeps one step count, so stacked models updated together
    must take the same steps. The ``Optimizer`` class is not used: building one imports torch's
    compiler stack, about 2 s per process."""

    def __init__(self, params: list[torch.Tensor], weight_decay: float, fused: bool) -> None:
        self.params, self.weight_decay, self.fused = params, weight_decay, fused
        self.exp_avg = [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in params]
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in params]

    @torch.no_grad()
    def step(self, lr: float) -> None:
        adam(
            self.params,
            [p.grad for p in self.params],
            self.exp_avg,
            self.exp_avg_sq,
            [],
            self.steps,
            foreach=False,
            fused=self.fused,
            amsgrad=False,
            beta1=0.9,
            beta2=0.999,
            lr=lr,
            weight_decay=self.weight_decay,
            eps=1e-8,
            maximize=False,
        )


def split_validation(n_rows: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) row indices; the validation part is ``round(share * n_rows)``
    rows (at least one), leaving at least one row to train on."""
    n_val = min(n_rows - 1, max(1, int(round(share * n_rows))))
    order = np.random.default_rng([seed, 2]).permutation(n_rows)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


class EarlyStopping:
    """Tracks the validation loss (soft cross-entropy on held-out answers) after every epoch,
    keeps a copy of the best epoch's weights, and says when ``patience`` epochs in a row brought
    no improvement (``None``: train every epoch, still keeping the best). Prechelt, "Early
    stopping - but when?", Neural Networks: Tricks of the Trade, 1998."""

    def __init__(
        self, module: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, patience: int | None
    ) -> None:
        self.module, self.inputs, self.targets, self.patience = module, inputs, targets, patience
        self.best_loss = float("inf")
        self.best_epoch = -1
        self.best_state: dict[str, torch.Tensor] = {}
        self.losses: list[float] = []

    @torch.no_grad()
    def should_stop(self, epoch: int) -> bool:
        """Record this epoch's validation loss; True when training should stop."""
        self.module.eval()
        loss = float(F.cross_entropy(self.module(self.inputs), self.targets))
        self.module.train()
        self.losses.append(loss)
        if loss < self.best_loss:
            self.best_loss, self.best_epoch = loss, epoch
            self.best_state = {k: v.detach().clone() for k, v in self.module.state_dict().items()}
        return self.patience is not None and epoch - self.best_epoch >= self.patience

    def restore(self) -> None:
        """Load the best epoch's weights back into the module."""
        self.module.load_state_dict(self.best_state)
