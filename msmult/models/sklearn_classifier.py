"""Scikit-learn estimators as msmult classifiers (victims such as logistic regression, GBDT)."""

from __future__ import annotations

import re

import numpy as np
from sklearn.base import ClassifierMixin, clone

from msmult.validation import bad_value


class SklearnClassifier:
    """Fits a scikit-learn classifier on flattened rows; ``predict_proba`` always has one column
    per class in ``range(n_classes)``, even for classes the training rows lacked."""

    def __init__(self, estimator: ClassifierMixin, n_classes: int, name: str = "model") -> None:
        check_estimator_params(estimator, name)
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


def check_estimator_params(estimator: ClassifierMixin, name: str) -> None:
    """Scikit-learn's own parameter constraints, checked now rather than at ``fit``, and reported
    as ``<name>.estimator.<param>=<value> is not allowed: ...``."""
    validate = getattr(estimator, "_validate_params", None)  # scikit-learn >= 1.2
    if validate is None:
        return
    try:
        validate()
    except (ValueError, TypeError) as err:
        found = re.search(r"The '(\w+)' parameter of \w+ (must be .*?)\. Got", str(err))
        if found is None:
            raise bad_value(f"{name}.estimator", type(estimator).__name__, str(err)) from None
        param, allowed = found.groups()
        value = estimator.get_params()[param]
        raise bad_value(f"{name}.estimator.{param}", value, f"it {allowed}") from None
