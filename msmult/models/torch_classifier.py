"""A scikit-learn-style estimator around any torch module: fit / predict_proba on plain arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from msmult.models.device import resolve_device
from msmult.progress import progress_bar

ModuleFactory = Callable[..., nn.Module]


def as_tensor(x: np.ndarray, device: torch.device) -> torch.Tensor:
    """Floats become float32 (features, pixels); integers stay int64 (token ids)."""
    tensor = torch.as_tensor(x)
    tensor = tensor.long() if not tensor.is_floating_point() else tensor.float()
    return tensor.to(device)


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy against probability targets (one-hot targets give the usual CE)."""
    return -(targets * torch.log_softmax(logits, dim=-1)).sum(dim=-1).mean()


def one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Targets as (n, c) probabilities: hard labels become one-hot, soft ones pass through."""
    if y.ndim == 2:
        return y.astype(np.float32)
    return np.eye(n_classes, dtype=np.float32)[y.astype(np.int64)]


class TorchClassifier:
    """Trains ``module(input_shape=..., n_classes=...)`` with Adam on soft cross-entropy.

    ``y`` may be hard labels (n,) or probabilities (n, c); both train the same loss, so the same
    class fits a victim on true labels and a surrogate on an API's answers.
    """

    def __init__(
        self,
        module: ModuleFactory,
        n_classes: int,
        epochs: int = 20,
        batch_size: int = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        seed: int = 0,
        device: str = "cpu",
        name: str = "model",
    ) -> None:
        self.module = module
        self.n_classes = n_classes
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.device = device
        self.name = name

    def build(self, input_shape: tuple[int, ...]) -> nn.Module:
        """Create the (untrained) module for inputs of ``input_shape`` on this estimator's device."""
        torch.manual_seed(self.seed)
        self.device_ = resolve_device(self.device)
        self.module_ = self.module(input_shape=tuple(input_shape), n_classes=self.n_classes)
        self.module_.to(self.device_)
        return self.module_

    def fit(self, x: np.ndarray, y: np.ndarray) -> TorchClassifier:
        module = self.build(x.shape[1:])
        inputs = as_tensor(x, self.device_)
        targets = torch.as_tensor(one_hot(y, self.n_classes), device=self.device_)
        optimiser = torch.optim.Adam(
            module.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        generator = torch.Generator().manual_seed(self.seed)
        n_batches = -(-len(x) // self.batch_size)
        module.train()
        with progress_bar(f"training {self.name}", self.epochs * n_batches) as advance:
            for _ in range(self.epochs):
                order = torch.randperm(len(x), generator=generator).to(self.device_)
                for start in range(0, len(x), self.batch_size):
                    batch = order[start : start + self.batch_size]
                    optimiser.zero_grad()
                    loss = soft_cross_entropy(module(inputs[batch]), targets[batch])
                    loss.backward()
                    optimiser.step()
                    advance(1)
        module.eval()
        return self

    def save(self, path: str) -> None:
        """Weights only (a state dict), loadable with ``weights_only=True``."""
        torch.save(self.module_.state_dict(), path)

    def load(self, path: str, input_shape: tuple[int, ...]) -> TorchClassifier:
        """Rebuild the module for ``input_shape`` and load saved weights (no pickled code)."""
        module = self.build(input_shape)
        module.load_state_dict(torch.load(path, map_location=self.device_, weights_only=True))
        module.eval()
        return self

    @torch.no_grad()
    def predict_proba(self, x: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        outputs = [
            torch.softmax(self.module_(as_tensor(x[i : i + batch_size], self.device_)), dim=-1)
            for i in range(0, len(x), batch_size)
        ]
        return torch.cat(outputs).cpu().numpy().astype(np.float64)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1)
