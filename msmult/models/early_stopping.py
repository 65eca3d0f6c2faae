"""Training aids for ``TorchClassifier``: the learning-rate schedule and early stopping on
held-out answers (the weights of the best validation epoch are restored)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

LR_SCHEDULES = ("constant", "cosine")


def lr_scheduler(
    optimiser: torch.optim.Optimizer, schedule: str, epochs: int, final_lr: float
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """``cosine``: the rate falls from its initial value to ``final_lr`` over the epochs, the last
    epoch running at exactly ``final_lr`` (SGDR, Loshchilov & Hutter, ICLR 2017, one cycle without
    restarts); stepped once per epoch. ``constant``: no scheduler."""
    if schedule == "constant":
        return None
    return torch.optim.lr_scheduler.CosineAnnealingLR(
        optimiser, T_max=max(1, epochs - 1), eta_min=final_lr
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
