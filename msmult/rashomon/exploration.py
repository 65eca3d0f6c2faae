"""The explorer contract: what an explorer is given (``ExplorationTask``) and what it returns
(``Exploration``), plus ``fidelity_loss``, the cross-entropy that defines Rashomon membership.

An explorer is any object with ``explore(task: ExplorationTask) -> Exploration``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from msmult.errors import MsmultError
from msmult.metrics import rashomon_set
from msmult.validation import as_list, number, numbers

SurrogateFactory = Callable[[int], Any]  # seed -> unfitted estimator with fit / predict_proba


def fidelity_loss(proba: np.ndarray, targets: np.ndarray) -> np.ndarray | float:
    """Mean cross-entropy of probabilities against the API's answers (n, c): one float for one
    model's (n, c) probabilities, or (m,) losses for m models' (m, n, c). Probabilities are
    clipped at 1e-12 so a confident miss costs about 27.6 nats, not infinity."""
    proba = np.asarray(proba)
    losses = -(np.asarray(targets) * np.log(np.clip(proba, 1e-12, None))).sum(axis=-1).mean(-1)
    return float(losses) if proba.ndim == 2 else losses


@dataclass(frozen=True)
class ExplorationTask:
    """Everything an explorer may use.

    ``surrogate``: the fitted base surrogate; ``new_surrogate(seed)``: an unfitted estimator
    configured exactly like it (``fit(x, targets)`` / ``predict_proba(x)`` on arrays);
    ``fit_x`` / ``fit_targets``: the rows the base surrogate was fitted on and their (n, c)
    targets; ``holdout_x`` / ``holdout_targets``: the rows that measure the fidelity loss;
    ``eval_sets``: name -> rows to score (always holds ``"test"``); ``epsilon``: the Rashomon
    parameter (loss tolerance over the base surrogate); ``epsilon_grid``: the epsilons of the
    epsilon curve; ``seed``: the run's seed.
    """

    surrogate: Any
    new_surrogate: SurrogateFactory
    fit_x: np.ndarray
    fit_targets: np.ndarray
    holdout_x: np.ndarray
    holdout_targets: np.ndarray
    eval_sets: Mapping[str, np.ndarray]
    epsilon: float
    epsilon_grid: tuple[float, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        self.check_epsilons(self.epsilon, self.epsilon_grid)
        object.__setattr__(self, "epsilon_grid", tuple(float(e) for e in self.epsilon_grid))
        if "test" not in self.eval_sets:
            raise ValueError("eval_sets must hold the test rows under 'test'")

    @staticmethod
    def check_epsilons(epsilon: Any, grid: Sequence[Any]) -> None:
        """``rashomon.epsilon`` a number >= 0; ``rashomon.epsilon_grid`` empty or such numbers."""
        number("rashomon.epsilon", epsilon, 0, what=" (a fidelity-loss tolerance)",
               example="rashomon.epsilon=0.02")  # fmt: skip
        if as_list("rashomon.epsilon_grid", grid):
            numbers("rashomon.epsilon_grid", grid, 0, example="rashomon.epsilon_grid=[0,0.01]")

    @property
    def largest_epsilon(self) -> float:
        """The largest epsilon any reported number uses (the run's and its grid's)."""
        return max([self.epsilon, *self.epsilon_grid])


@dataclass(frozen=True)
class Exploration:
    """Candidate models found by an explorer. Row 0 is ALWAYS the base surrogate itself, so every
    Rashomon set (at any epsilon >= 0) holds it and metrics "vs base" compare with row 0.

    ``candidates``: one row per model (explorer-specific columns, e.g. ``kind``, ``rate``,
    ``draw``, ``mask_seed`` for dropout); ``losses`` (m,): each model's fidelity loss on the
    holdout rows; ``scores``: per evaluation set name, (m, n, c) probabilities; ``epsilon``: the
    Rashomon parameter; ``epsilon_grid``: the epsilons of the epsilon curve.
    """

    candidates: pd.DataFrame
    losses: np.ndarray
    scores: dict[str, np.ndarray]
    epsilon: float
    epsilon_grid: tuple[float, ...] = ()

    @property
    def base_loss(self) -> float:
        return float(self.losses[0])

    @property
    def in_set(self) -> np.ndarray:
        """Members: loss <= base loss + epsilon; row 0, the base, is one by definition."""
        return rashomon_set(self.losses, self.base_loss, self.epsilon)


class Explorer(Protocol):
    def explore(self, task: ExplorationTask) -> Exploration: ...


def check_exploration(exploration: Any, task: ExplorationTask, name: str, classes: int) -> None:
    """Refuse an explorer's result whose rows or score shapes do not match the task."""
    expected = "an Exploration with m >= 1 candidates (row 0 = the base surrogate), m losses and, "
    expected += "per evaluation set, (m, rows, classes) scores"
    if not isinstance(exploration, Exploration):
        raise MsmultError(f"explorer {name} returned {type(exploration).__name__}; expected "
                          f"{expected}.")  # fmt: skip
    m = len(exploration.losses)
    problems = []
    if m < 1 or len(exploration.candidates) != m or np.ndim(exploration.losses) != 1:
        problems.append(f"{len(exploration.candidates)} candidate rows and losses of shape "
                        f"{np.shape(exploration.losses)}")  # fmt: skip
    elif not np.isfinite(exploration.losses).all():
        problems.append("non-finite losses")
    for set_name, x in task.eval_sets.items():
        scores = exploration.scores.get(set_name)
        shape = None if scores is None else np.shape(scores)
        if shape != (m, len(x), classes):
            problems.append(f"scores[{set_name!r}] of shape {shape}, not {(m, len(x), classes)}")
        elif not np.isfinite(scores).all():
            problems.append(f"non-finite scores[{set_name!r}]")
    if problems:
        raise MsmultError(f"explorer {name} returned {'; '.join(problems)}; expected {expected}.")


def explorer_settings(rashomon: Mapping[str, Any]) -> tuple[dict, float, Sequence[float]]:
    """Split a ``rashomon`` config into the explorer's own arguments and the run-wide epsilon and
    epsilon grid (which every explorer takes through its task)."""
    settings = dict(rashomon)
    epsilon = settings.pop("epsilon", 0.0)
    grid = settings.pop("epsilon_grid", ())
    return settings, epsilon, grid
