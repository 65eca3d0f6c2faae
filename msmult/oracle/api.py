"""The victim's prediction API: the attacker's only door to the victim, with a query budget."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from msmult.errors import MsmultError
from msmult.oracle.defences import as_defence
from msmult.oracle.defences.rounding import Rounding
from msmult.targets import as_targets
from msmult.validation import choice, whole


class Classifier(Protocol):
    n_classes: int

    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...


class BudgetExceeded(MsmultError):
    """A query would take the API past its budget."""


def top_k(proba: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` largest probabilities of each row, the others reported as 0 (ties kept)."""
    cutoff = -np.sort(-proba, axis=1)[:, k - 1 : k]
    return np.where(proba >= cutoff, proba, 0.0)


# mode -> what the API returns for (defended, renormalised) probabilities and k
OUTPUTS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "probabilities": lambda proba, k: proba,
    "label": lambda proba, k: proba.argmax(axis=1),
    "top_k": top_k,
}


class PredictionAPI:
    """Answers queries from the victim.

    Each query runs the victim, then every defence in ``defences`` in order
    (``defence(proba, rng) -> proba``; ``decimals`` adds a ``Rounding`` defence at the end of the
    chain), renormalises the rows, and answers in ``mode``: ``probabilities`` (the vector),
    ``label`` (the top-1 class id) or ``top_k`` (the ``k`` largest probabilities, others 0).
    ``seed`` seeds the generator handed to the defences. Every queried row counts against
    ``budget``; a query that would exceed it is refused whole.
    """

    def __init__(
        self,
        victim: Classifier,
        budget: int,
        mode: str = "probabilities",
        k: int = 1,
        decimals: int | None = None,
        defences: Sequence[Any] = (),
        seed: int = 0,
    ) -> None:
        self.mode = choice("api.mode", mode, tuple(OUTPUTS))
        self.budget = whole(
            "budget",
            budget,
            1,
            what=" (rows the attacker may send to the API)",
            example="budget=2000",
        )
        self.k = whole("api.k", k, 1, victim.n_classes, " (the number of classes)")
        self.decimals = decimals
        rounding = [Rounding(decimals)] if decimals is not None else []
        self.defences = [as_defence(defence) for defence in [*defences, *rounding]]
        self.seed = whole("seed", seed, 0)
        self.n_classes = victim.n_classes
        self.queries_used = 0
        self._victim = victim
        self._rng = np.random.default_rng(seed)

    @property
    def remaining(self) -> int:
        return self.budget - self.queries_used

    def describe(self) -> dict:
        """Mode, k, decimals and each defence with its parameters (for the report)."""
        return {
            "mode": self.mode,
            "k": self.k,
            "decimals": self.decimals,
            "defences": [d.describe() for d in self.defences],
        }

    def query(self, x: np.ndarray) -> np.ndarray:
        """Answers for the rows of ``x``: (n, c) scores, or (n,) class ids in ``label`` mode."""
        if len(x) > self.remaining:
            raise BudgetExceeded(
                f"The attack asked the prediction API for {len(x)} rows but only {self.remaining} "
                f"of the budget of {self.budget} queries remain; raise budget= or query fewer rows."
            )
        self.queries_used += len(x)
        return OUTPUTS[self.mode](self.served_proba(self._victim.predict_proba(x), x), self.k)

    def served_proba(
        self,
        proba: np.ndarray,
        x: np.ndarray | None = None,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """The victim's probabilities for rows ``x`` after every defence, checked and
        renormalised; ``rng`` (default: the API's own generator) feeds the defences, so a
        measurement with its own generator leaves the attacker's answers undisturbed."""
        for defence in self.defences:
            generator = rng or self._rng
            answer = (
                defence(proba, generator, x=x)
                if defence.needs_inputs
                else defence(proba, generator)
            )
            answered = np.asarray(answer, dtype=np.float64)
            check_defended(answered, proba.shape, defence.describe()["name"])
            proba = answered / answered.sum(axis=1, keepdims=True)
        return proba

    def as_targets(self, answers: np.ndarray) -> np.ndarray:
        """Answers as (n, c) probability targets for training and for the fidelity loss."""
        return as_targets(answers, self.n_classes)


def check_defended(proba: np.ndarray, shape: tuple[int, ...], name: str) -> None:
    """A defence's output must keep the shape and be finite, non-negative, not all zero."""
    problem = None
    if proba.shape != shape:
        problem = f"an array of shape {proba.shape} for input of shape {shape}"
    elif not np.isfinite(proba).all():
        problem = "NaN or infinite values"
    elif (proba < 0).any():
        problem = "negative values"
    elif (proba.sum(axis=1) <= 0).any():
        problem = "a row of zeros"
    if problem:
        raise MsmultError(
            f"API defence {name} returned {problem}; a defence must return (n, c) finite, "
            "non-negative scores with a positive sum in every row (the API renormalises them)."
        )


def api_label(choice: str, described: dict) -> str:
    """One short string naming an API setting: its config choice, then whatever differs from a
    plain probabilities API (mode, k, decimals, each defence with its parameters)."""
    details = [] if described["mode"] in (choice, "probabilities") else [described["mode"]]
    if described["mode"] == "top_k":
        details.append(f"k={described['k']}")
    for defence in described["defences"]:
        params = ", ".join(f"{k}={v}" for k, v in defence.items() if k != "name")
        details.append(f"{defence['name']}({params})")
    return f"{choice} [{'; '.join(details)}]" if details else choice
