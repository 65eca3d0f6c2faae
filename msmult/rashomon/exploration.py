"""The explorer contract: what an explorer is given (``ExplorationTask``) and what it returns
(``Exploration``), plus ``fidelity_loss``, the cross-entropy that defines Rashomon membership.

An explorer is any object with ``explore(task: ExplorationTask) -> Exploration``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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

    ``folds`` (``holdout.mode=crossfit``, only for an explorer with ``crossfit = True``; see
    ``msmult.rashomon.crossfit``): ``HoldoutFold(surrogate, x, targets)`` per fold. Empty:
    ``holdout_x`` is disjoint from ``fit_x`` and a candidate's loss is its loss there. Non-empty:
    ``surrogate`` is fitted on ALL answers (``fit_x`` holds ``holdout_x``), so a loss measured with
    it on ``holdout_x`` is in-sample and must not decide membership; a candidate's loss is the
    row-weighted mean over folds of its counterpart built from ``fold.surrogate`` (fitted without
    ``fold.x``) scored on ``fold.x`` (``crossfit.out_of_fold_loss``), or, for a model refitted on
    a resample of ``fit_x``, its loss on the ``loss_rows`` (indices into ``fit_x``) its resample
    left out; ``holdout_x`` / ``holdout_targets`` are the folds' rows concatenated.
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
    folds: tuple[Any, ...] = ()
    loss_rows: np.ndarray | None = None

    def __post_init__(self) -> None:
        number("membership.epsilon", self.epsilon, 0, example="membership.epsilon=0.02")
        example = "membership.epsilon_grid=[0,0.01]"
        if as_list("membership.epsilon_grid", self.epsilon_grid, example):
            numbers("membership.epsilon_grid", self.epsilon_grid, 0, example=example)
        object.__setattr__(self, "epsilon_grid", tuple(float(e) for e in self.epsilon_grid))
        if "test" not in self.eval_sets:
            raise ValueError("eval_sets must hold the test rows under 'test'")

    @classmethod
    def from_base(
        cls,
        base: Any,
        new_surrogate: SurrogateFactory,
        eval_sets: Mapping[str, np.ndarray],
        epsilon_grid: Sequence[float],
        seed: int,
    ) -> ExplorationTask:
        """The task around a ``crossfit.BaseFit`` (its epsilon 0 until membership resolves it)."""
        return cls(
            surrogate=base.surrogate,
            new_surrogate=new_surrogate,
            fit_x=base.fit_x,
            fit_targets=base.fit_targets,
            holdout_x=base.holdout_x,
            holdout_targets=base.holdout_targets,
            eval_sets=eval_sets,
            epsilon=0.0,
            epsilon_grid=tuple(epsilon_grid),
            seed=seed,
            folds=base.folds,
            loss_rows=base.loss_rows,
        )

    def base_loss(self) -> float:
        """The base surrogate's out-of-sample fidelity loss: on the held-out rows, or with
        cross-fitting its fold models' out-of-fold loss."""
        if self.folds:
            return float(
                sum(
                    len(fold.x)
                    / len(self.holdout_x)
                    * fidelity_loss(fold.surrogate.predict_proba(fold.x), fold.targets)
                    for fold in self.folds
                )
            )
        return float(
            fidelity_loss(self.surrogate.predict_proba(self.holdout_x), self.holdout_targets)
        )

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
    holdout rows; ``scores``: per evaluation set name, (k, n, c) probabilities of the ``scored``
    candidates; ``epsilon``: the Rashomon parameter; ``epsilon_grid``: the epsilons of the epsilon
    curve.

    ``scored`` (optional, (m,) booleans): which candidates ``scores`` holds, in candidate order.
    ``None`` (the default) means all of them, so ``scores[name]`` is (m, n, c). An explorer may
    score on the evaluation sets only the candidates within ``ExplorationTask.largest_epsilon`` of
    the base loss (``within_reach``): the others are in no reported set, so only their loss is
    kept (their per-candidate fidelity, accuracy and gaps read NaN). It must score row 0 and every
    candidate within that epsilon (``check_exploration`` refuses it otherwise).

    ``per_row`` (optional, a ``msmult.rashomon.per_row.RowReach``): per-row reachable scores of an
    explorer that searches one row at a time (``rashomon=awp``); the report then gives per-row
    metrics only, not set-level ones.
    """

    candidates: pd.DataFrame
    losses: np.ndarray
    scores: dict[str, np.ndarray]
    epsilon: float
    epsilon_grid: tuple[float, ...] = ()
    scored: np.ndarray | None = None
    per_row: Any = None

    @property
    def base_loss(self) -> float:
        return float(self.losses[0])

    @property
    def scored_mask(self) -> np.ndarray:
        """(m,) booleans: the candidates whose rows ``scores`` holds."""
        if self.scored is None:
            return np.ones(len(self.losses), bool)
        return np.asarray(self.scored, bool)

    def member_scores(self, name: str) -> np.ndarray:
        """(members, n, c) scores of the Rashomon set members on evaluation set ``name``."""
        return self.scores[name][self.in_set[self.scored_mask]]

    @property
    def in_set(self) -> np.ndarray:
        """Members: loss <= base loss + epsilon; row 0, the base, is one by definition."""
        return rashomon_set(self.losses, self.base_loss, self.epsilon)


def within_reach(losses: np.ndarray, epsilon: float) -> np.ndarray:
    """(m,) booleans: the candidates (row 0 the base) whose loss is within ``epsilon`` of the
    base's, the ones an explorer must score (``epsilon`` = ``ExplorationTask.largest_epsilon``)."""
    return rashomon_set(losses, float(losses[0]), epsilon)


def check_exploration(exploration: Any, task: ExplorationTask, name: str, classes: int) -> None:
    """Refuse an explorer's result whose rows or score shapes do not match the task."""
    expected = "an Exploration with m >= 1 candidates (row 0 = the base surrogate), m losses and, "
    expected += "per evaluation set, (m, rows, classes) scores"
    if not isinstance(exploration, Exploration):
        raise MsmultError(
            f"explorer {name} returned {type(exploration).__name__}; expected {expected}."
        )
    m = len(exploration.losses)
    problems = []
    if m < 1 or len(exploration.candidates) != m or np.ndim(exploration.losses) != 1:
        problems.append(
            f"{len(exploration.candidates)} candidate rows and losses of shape "
            f"{np.shape(exploration.losses)}"
        )
    elif not np.isfinite(exploration.losses).all():
        problems.append("non-finite losses")
    else:
        problems += _unscored(exploration, task)
    k = int(exploration.scored_mask.sum()) if not problems else m
    for set_name, x in task.eval_sets.items():
        scores = exploration.scores.get(set_name)
        shape = None if scores is None else np.shape(scores)
        if shape != (k, len(x), classes):
            problems.append(f"scores[{set_name!r}] of shape {shape}, not {(k, len(x), classes)}")
        elif not np.isfinite(scores).all():
            problems.append(f"non-finite scores[{set_name!r}]")
    if problems:
        raise MsmultError(f"explorer {name} returned {'; '.join(problems)}; expected {expected}.")


def _unscored(exploration: Exploration, task: ExplorationTask) -> list[str]:
    """A problem when ``scored`` is malformed or leaves out a candidate some epsilon may hold."""
    scored = exploration.scored
    m = len(exploration.losses)
    if scored is None:
        return []
    if np.shape(scored) != (m,) or np.asarray(scored).dtype != bool:
        return [f"scored of shape {np.shape(scored)}, not ({m},) booleans"]
    missing = within_reach(exploration.losses, task.largest_epsilon) & ~scored
    if missing.any():
        return [f"{int(missing.sum())} candidates within epsilon {task.largest_epsilon} unscored"]
    return []
