"""The victim's prediction API: the attacker's only door to the victim, with a query budget."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from msmult.errors import MsmultError

MODES = ("probabilities", "label", "top_k")


class Classifier(Protocol):
    n_classes: int

    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...


def check_budget(budget: object) -> int:
    """The query budget as a positive integer, or a clear error naming the bad value."""
    if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
        raise MsmultError(
            f"budget={budget!r} is not allowed: the query budget must be a positive integer "
            "(number of rows the attacker may send to the API), e.g. budget=2000."
        )
    return budget


class BudgetExceeded(MsmultError):
    """A query would take the API past its budget."""


class PredictionAPI:
    """Answers queries from the victim in one of these modes:

    - ``probabilities``: the full probability vector, optionally rounded to ``decimals``;
    - ``label``: the top-1 class id only;
    - ``top_k``: the ``k`` largest probabilities (others reported as 0), optionally rounded.

    Every queried row counts against ``budget``; a query that would exceed it is refused whole.
    """

    def __init__(
        self,
        victim: Classifier,
        budget: int,
        mode: str = "probabilities",
        k: int = 1,
        decimals: int | None = None,
    ) -> None:
        if mode not in MODES:
            raise MsmultError(f"api.mode={mode!r} is not an API mode; allowed: {', '.join(MODES)}.")
        if mode == "top_k" and not 1 <= k <= victim.n_classes:
            raise MsmultError(f"api.k={k!r} must be between 1 and the number of classes.")
        self._victim = victim
        self.budget = check_budget(budget)
        self.mode = mode
        self.k = k
        self.decimals = decimals
        self.n_classes = victim.n_classes
        self.queries_used = 0

    @property
    def remaining(self) -> int:
        return self.budget - self.queries_used

    def query(self, x: np.ndarray) -> np.ndarray:
        """Answers for the rows of ``x``: (n, c) scores, or (n,) class ids in ``label`` mode."""
        if len(x) > self.remaining:
            raise BudgetExceeded(
                f"The attack asked the prediction API for {len(x)} rows but only {self.remaining} "
                f"of the budget of {self.budget} queries remain; raise budget= or query fewer rows."
            )
        self.queries_used += len(x)
        proba = self._victim.predict_proba(x)
        if self.mode == "label":
            return proba.argmax(axis=1)
        if self.mode == "top_k":
            cutoff = -np.sort(-proba, axis=1)[:, self.k - 1 : self.k]
            proba = np.where(proba >= cutoff, proba, 0.0)
        if self.decimals is not None:
            proba = np.round(proba, self.decimals)
        return proba

    def as_targets(self, answers: np.ndarray) -> np.ndarray:
        """Answers as (n, c) probability targets for training and for the fidelity loss: labels
        become one-hot, truncated or rounded scores are renormalised to sum to one."""
        if answers.ndim == 1:
            return np.eye(self.n_classes)[answers]
        totals = answers.sum(axis=1, keepdims=True)
        uniform = np.full_like(answers, 1.0 / self.n_classes)
        return np.where(totals > 0, answers / np.where(totals > 0, totals, 1.0), uniform)
