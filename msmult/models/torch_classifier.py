"""A scikit-learn-style estimator around any torch module: fit / predict_proba on plain arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from msmult.errors import MsmultError
from msmult.models.device import resolve_device
from msmult.models.early_stopping import LR_SCHEDULES
from msmult.models.training import FitData, as_tensor, train
from msmult.validation import choice, number, whole

ModuleFactory = Callable[..., nn.Module]


def require_torch(model: object, stage: str) -> TorchClassifier:
    """``model`` when it is a ``TorchClassifier``; else a clear error: ``stage`` (e.g.
    "Dropout exploration masks its hidden units") needs a torch surrogate's module."""
    if not isinstance(model, TorchClassifier):
        raise MsmultError(
            f"{stage}, so it needs a torch surrogate (surrogate=mlp, cnn, text: "
            f"msmult.models.torch_classifier.TorchClassifier); the surrogate is a "
            f"{type(model).__name__}."
        )
    return model


class TorchClassifier:
    """Trains ``module(input_shape=..., n_classes=...)`` with Adam on soft cross-entropy, the
    learning rate following ``lr_schedule`` (``constant`` or ``cosine`` down to ``final_lr``), with
    optional early stopping on held-out answers (``validation_share``, ``patience``).

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
        lr_schedule: str = "constant",
        final_lr: float = 0.0,
        validation_share: float = 0.0,
        patience: int | None = None,
        memory_gb: float = 4.0,
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
        self.lr_schedule = choice(f"{name}.lr_schedule", lr_schedule, LR_SCHEDULES)
        self.final_lr = number(
            f"{name}.final_lr", final_lr, 0, self.lr, example=f"{name}.final_lr=1e-5"
        )
        self.validation_share = number(
            f"{name}.validation_share",
            validation_share,
            0,
            1,
            open_high=True,
            example=f"{name}.validation_share=0.1",
        )
        self.patience = None if patience is None else whole(f"{name}.patience", patience, 1)
        self.memory_gb = number(
            "memory_gb",
            memory_gb,
            0,
            open_low=True,
            what=" (GiB that models trained together may take)",
            example="memory_gb=4",
        )

    def build_device(self) -> torch.device:
        """The torch device of the ``device`` setting."""
        self.device_ = resolve_device(self.device)
        return self.device_

    def build(self, input_shape: tuple[int, ...]) -> nn.Module:
        """Create the (untrained) module for inputs of ``input_shape`` on this estimator's device,
        initialised from this estimator's seed."""
        torch.manual_seed(self.seed)
        self.build_device()
        self.module_ = self.module(input_shape=tuple(input_shape), n_classes=self.n_classes)
        self.module_.to(self.device_)
        return self.module_

    def fit(
        self, x: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None = None
    ) -> TorchClassifier:
        """Train on (x, y). Validation rows (``validation``, else a seeded ``validation_share``
        of ``x`` set aside, none by default) drive early stopping: the best validation epoch's
        weights are kept (``best_epoch_``), training stopping after ``patience`` epochs without
        improvement. The same trainer fits many models at once (``msmult.models.fit_many``); a
        model fitted alone equals the same model fitted among others."""
        train([self], [FitData(x, y, validation=validation)])
        return self

    def schedule(self) -> tuple[str, float, float, int]:
        """``(lr_schedule, lr, final_lr, epochs)``: the arguments of ``learning_rate``."""
        return self.lr_schedule, self.lr, self.final_lr, self.epochs

    def training_signature(self) -> tuple:
        """Everything that shapes training except the seed: models with equal signatures can
        be trained together."""
        return (
            repr(self.module),
            self.n_classes,
            self.epochs,
            self.batch_size,
            self.lr,
            self.weight_decay,
            self.device,
            self.lr_schedule,
            self.final_lr,
            self.validation_share,
            self.patience,
            self.memory_gb,
        )

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
