"""Fitting many classifiers at once: ``fit_many(models, data)``.

Torch classifiers configured alike but for their seed (``TorchClassifier.training_signature``)
train together (``msmult.models.training``): refits, cross-fitting folds and an owner's retrains
cost about what one fit costs. Any other estimator (scikit-learn) is fitted on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from msmult.models.torch_classifier import TorchClassifier
from msmult.models.training import FitData, train

__all__ = ["FitData", "fit_many"]


def fit_many(models: Sequence[Any], data: Sequence[FitData]) -> list[Any]:
    """Fit ``models[i]`` on ``data[i]`` (each model keeps its own seed and rows, as if fitted
    alone) and return the fitted models in order."""
    if len(models) != len(data):
        raise ValueError(f"fit_many got {len(models)} models and {len(data)} datasets")
    groups: dict[tuple, list[int]] = {}
    for index, (model, item) in enumerate(zip(models, data)):
        if isinstance(model, TorchClassifier):
            key = (model.training_signature(), item.x.shape[1:], item.x.dtype.kind)
            groups.setdefault(key, []).append(index)
        else:
            rows = slice(None) if item.rows is None else item.rows
            model.fit(item.x[rows], item.y[rows])
    for indices in groups.values():
        train([models[i] for i in indices], [data[i] for i in indices])
    return list(models)
