"""A scikit-learn-style estimator around any torch module: fit / predict_proba on plain arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from msmult.models.device import resolve_device
from msmult.progress import progress_bar
from msmult.targets import as_targets
from msmult.validation import number, whole

ModuleFactory = Callable[..., nn.Module]


def as_tensor(x: np.ndarray, device: torch.device) -> torch.Tensor:
    """Floats become float32 (features, pixels); integers stay int64 (token ids)."""
    tensor = torch.as_tensor(x)
    tensor = tensor.long() if not tensor.is_floating_point() else tensor.float()
    return tensor.to(device)


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
        self.epochs = whole(f"{name}.epochs", epochs, 1)
        self.batch_size = whole(f"{name}.batch_size", batch_size, 1)
        self.lr = number(f"{name}.lr", lr, 0, open_low=True, example=f"{name}.lr=1e-3")
        self.weight_decay = number(f"{name}.weight_decay", weight_decay, 0)
        self.seed = whole("seed", seed, 0)
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
        targets = torch.as_tensor(as_targets(y, self.n_classes), device=self.device_)
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
                    # cross-entropy against probability targets (one-hot rows give the usual CE)
                    loss = F.cross_entropy(module(inputs[batch]), targets[batch])
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
