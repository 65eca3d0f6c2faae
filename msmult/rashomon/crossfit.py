"""Which answers fit the base surrogate and which measure Rashomon membership (``holdout.mode``):
a held-out split, or cross-fitting so every answer trains it.

``split`` (msmult 0.1): the base surrogate is fitted on the fit rows of ``steal``; a candidate's
fidelity loss is its loss on the disjoint holdout rows (``holdout.share`` of the queries).

``crossfit`` (cross-fitting, Chernozhukov et al., "Double/debiased machine learning",
Econometrics Journal 2018, applied to the membership test): the loss rows U are the unbiased
sample ``steal`` provides (the whole transfer set for an attack with exchangeable rows, else its
separate uniform pool draw). U is split, seeded, into ``holdout.folds`` folds; fold model k is
``new_surrogate(seed)`` fitted on every answer except fold k's rows. A candidate's loss is the
row-weighted mean over folds of its fold-k counterpart's loss on fold k (the same perturbation
applied to fold model k, so no row's loss comes from a model that saw that row); the base
surrogate that the report describes, and every score on the evaluation sets, is fitted on ALL
answers, together with the fold models (``fit_many``). Only explorers that declare
``crossfit = True`` (they read ``ExplorationTask.folds``) get it; any other explorer runs in
``split`` mode (report.json ``attack.holdout_mode``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from msmult.attacks.base import Attack, as_attack
from msmult.attacks.stealing import SurrogateFactory, Theft
from msmult.errors import MsmultError
from msmult.models.fitting import FitData, fit_many
from msmult.rashomon.base import Explorer, as_explorer
from msmult.rashomon.exploration import fidelity_loss
from msmult.validation import choice, number, whole

log = logging.getLogger("msmult")
MODES = ("split", "crossfit")


@dataclass(frozen=True)
class HoldoutFold:
    """One cross-fitting fold: ``surrogate`` was fitted on every answer except ``x``'s rows."""

    surrogate: Any
    x: np.ndarray
    targets: np.ndarray


@dataclass(frozen=True)
class BaseFit:
    """The base surrogate and the fields of ``ExplorationTask`` that depend on the mode."""

    surrogate: Any
    fit_x: np.ndarray
    fit_targets: np.ndarray
    holdout_x: np.ndarray
    holdout_targets: np.ndarray
    folds: tuple[HoldoutFold, ...]
    mode: str  # "split" or "crossfit, K folds" (report.json attack.holdout_mode)
    loss_rows: np.ndarray | None = None  # crossfit: indices into fit_x of the loss rows


def out_of_fold_loss(
    folds: tuple[HoldoutFold, ...], proba: Callable[[Any, np.ndarray], np.ndarray]
) -> np.ndarray | float:
    """Row-weighted mean over folds of ``fidelity_loss(proba(fold.surrogate, fold.x),
    fold.targets)``: a candidate's cross-fitted loss when ``proba(model, x)`` applies the
    candidate's perturbation to ``model`` ((n, c) for one candidate, (m, n, c) for m)."""
    total = sum(len(fold.x) for fold in folds)
    return sum(
        len(fold.x) / total * fidelity_loss(proba(fold.surrogate, fold.x), fold.targets)
        for fold in folds
    )


class FidelityHoldout:
    """``holdout.share`` (of the queries held out), ``holdout.mode`` (split | crossfit) and
    ``holdout.folds`` (K >= 2), resolved against the explorer (``crossfit`` only for an explorer
    with ``crossfit = True``)."""

    def __init__(self, mode: str = "crossfit", folds: int = 5, share: float = 0.2) -> None:
        self.mode = choice("holdout.mode", mode, MODES)
        self.folds = whole(
            "holdout.folds", folds, 2, what=" (cross-fitting folds)", example="holdout.folds=5"
        )
        self.share = number(
            "holdout.share",
            share,
            0,
            1,
            open_low=True,
            open_high=True,
            what=" (share of the queries held out to measure the fidelity loss)",
            example="holdout.share=0.2",
        )

    def for_run(self, explorer: Explorer, **in_sample_readers: bool) -> FidelityHoldout:
        """``split`` instead of ``crossfit`` when the explorer does not read folds or a run
        feature that is on (``in_sample_readers``, name -> on) scores the base surrogate on the
        holdout rows itself (the extremal search, budget curves)."""
        explorer = as_explorer(explorer)
        blockers = [k for k, on in in_sample_readers.items() if on]
        blockers += [] if explorer.crossfit else [f"explorer {explorer.name}"]
        if self.mode == "crossfit" and blockers:
            log.warning(
                "holdout.mode=split for this run: %s read(s) no cross-fitting folds",
                ", ".join(blockers),
            )
            return FidelityHoldout("split", self.folds, self.share)
        return self

    def fit(
        self, attack: Attack, theft: Theft, new_surrogate: SurrogateFactory, seed: int
    ) -> BaseFit:
        """The base surrogate and its membership rows for this mode (see the module doc)."""
        if self.mode == "split" or theft.fit.surrogate is not None:
            surrogate = theft.base_surrogate(new_surrogate, seed)
            return BaseFit(
                surrogate,
                theft.fit.x,
                theft.fit.targets,
                theft.holdout.x,
                theft.holdout.targets,
                (),
                "split",
            )
        x = np.concatenate([theft.fit.x, theft.holdout.x])
        targets = np.concatenate([theft.fit.targets, theft.holdout.targets])
        exchangeable = as_attack(attack).exchangeable_rows
        loss_rows = np.arange(0 if exchangeable else len(theft.fit.x), len(x))
        if len(loss_rows) < self.folds:
            raise MsmultError(
                f"holdout.folds={self.folds} is not allowed: the fidelity holdout has only "
                f"{len(loss_rows)} rows to split into folds, e.g. holdout.folds=2 or "
                "holdout.mode=split."
            )
        order = np.random.default_rng([seed, 3]).permutation(loss_rows)
        held_out = [np.sort(rows) for rows in np.array_split(order, self.folds)]
        everything = np.arange(len(x))
        models = fit_many(
            [new_surrogate(seed) for _ in range(self.folds + 1)],
            [FitData(x, targets)]
            + [FitData(x, targets, rows=np.delete(everything, rows)) for rows in held_out],
        )
        folds = tuple(
            HoldoutFold(model, x[rows], targets[rows]) for model, rows in zip(models[1:], held_out)
        )
        return BaseFit(
            models[0],
            x,
            targets,
            np.concatenate([f.x for f in folds]),
            np.concatenate([f.targets for f in folds]),
            folds,
            f"crossfit, {self.folds} folds",
            loss_rows,
        )
