"""Scikit-learn estimators as msmult classifiers (victims such as logistic regression, GBDT)."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, clone


class SklearnClassifier:
    """Fits a scikit-learn classifier on flattened rows; ``predict_proba`` always has one column
    per class in ``range(n_classes)``, even for classes the training rows lacked."""

    def __init__(self, estimator: ClassifierMixin, n_classes: int, name: str = "model") -> None:
        self.estimator = estimator
        self.n_classes = n_classes
        self.name = name

    def fit(self, x: np.ndarray, y: np.ndarray) -> SklearnClassifier:
        self.estimator_ = clone(self.estimator).fit(x.reshape(len(x), -1), y)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        proba = self.estimator_.predict_proba(x.reshape(len(x), -1))
        full = np.zeros((len(x), self.n_classes))
        full[:, self.estimator_.classes_.astype(int)] = proba
        return full

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1)
