"""Explorers that refit the surrogate: the models a thief could have trained instead of the base.

``RetrainExplorer`` refits on the same rows with other seeds (Black, Raghavan & Barocas, FAccT
2022; Marx, Calmon & Ustun, ICML 2020 use retraining as the reference for multiplicity).
``BootstrapExplorer`` refits each model on a bootstrap resample of the fit rows (same size, drawn
with replacement, its own seed), so the thief's query draw varies without spending more budget
(Cooper et al., AAAI 2024 use bootstrap resamples for self-consistency). Membership is the same
fidelity-loss rule as for every explorer, out of sample: a refit's loss on the held-out rows, or
with cross-fitting (bootstrap only) on its out-of-bag loss rows, the ones its resample left out
(a retrain has seen every answer, so ``rashomon=retrain`` runs in split mode). All refits train
together (``msmult.models.fit_many``). Where msmult differs: row 0 is always the base surrogate
itself and ``n_models`` counts it, so ``n_models - 1`` models are refitted.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from msmult.errors import MsmultError
from msmult.models.fitting import FitData, fit_many
from msmult.rashomon.base import Explorer
from msmult.rashomon.exploration import Exploration, ExplorationTask, fidelity_loss
from msmult.seeding import BOOTSTRAP, RETRAIN, refit_seeds
from msmult.validation import Whole

log = logging.getLogger("msmult")


def fit_refits(
    task: ExplorationTask, count: int, seed: int, bootstrap: bool, label: str, stream: int = 0
) -> tuple[list[Any], pd.DataFrame, list[np.ndarray | None]]:
    """``count`` surrogates from ``task.new_surrogate``, each with its own seed (from ``seed`` and
    ``stream``); with ``bootstrap`` each is fitted on a resample (with replacement, same size) of
    the fit rows drawn from that seed. Returns the fitted models, one table row per model and
    each model's resample (row indices into ``task.fit_x``; None without ``bootstrap``)."""
    seeds = refit_seeds(seed, stream, count)
    n = len(task.fit_x)
    resamples = [
        np.random.default_rng(model_seed).integers(0, n, n) if bootstrap else None
        for model_seed in seeds
    ]
    log.info("refitting %d surrogates (%s)", count, label)
    models = fit_many(
        [task.new_surrogate(model_seed) for model_seed in seeds],
        [FitData(task.fit_x, task.fit_targets, rows=rows) for rows in resamples],
    )
    rows = [
        {
            "kind": label,
            "model_seed": model_seed,
            "distinct_rows": n if resample is None else len(np.unique(resample)),
        }
        for model_seed, resample in zip(seeds, resamples)
    ]
    return models, pd.DataFrame(rows), resamples


def refit_losses(
    task: ExplorationTask, models: list[Any], resamples: list[np.ndarray | None]
) -> np.ndarray:
    """(m,) out-of-sample fidelity losses of refitted ``models``: on the held-out rows, or with
    cross-fitting on the loss rows each model's resample left out (its out-of-bag rows)."""
    if not task.folds:
        return np.array(
            [fidelity_loss(m.predict_proba(task.holdout_x), task.holdout_targets) for m in models]
        )
    if any(resample is None for resample in resamples):
        raise MsmultError(
            "A surrogate retrained on every answer has no held-out rows under cross-fitting; "
            "use holdout.mode=split for rashomon=retrain."
        )
    losses = []
    for model, resample in zip(models, resamples):
        out_of_bag = np.setdiff1d(task.loss_rows, resample)
        if len(out_of_bag) == 0:
            raise MsmultError(
                "A bootstrap resample covered every loss row, so its refit has no out-of-bag "
                "rows to measure its fidelity loss on; use more queries or holdout.mode=split."
            )
        proba = model.predict_proba(task.fit_x[out_of_bag])
        losses.append(fidelity_loss(proba, task.fit_targets[out_of_bag]))
    return np.array(losses)


def refit_exploration(
    task: ExplorationTask,
    models: list[Any],
    table: pd.DataFrame,
    resamples: list[np.ndarray | None],
) -> Exploration:
    """The base surrogate (row 0) then ``models``: their out-of-sample fidelity losses and
    scores."""
    everyone = [task.surrogate, *models]
    base = pd.DataFrame(
        [{"kind": "base", "model_seed": task.seed, "distinct_rows": len(task.fit_x)}]
    )
    losses = np.concatenate([[task.base_loss()], refit_losses(task, models, resamples)])
    scores = {
        name: np.stack([m.predict_proba(x) for m in everyone]).astype(np.float32)
        for name, x in task.eval_sets.items()
    }
    candidates = pd.concat([base, table], ignore_index=True)
    return Exploration(candidates, losses, scores, task.epsilon, task.epsilon_grid)


class RetrainExplorer(Explorer):
    """The base surrogate and ``n_models - 1`` surrogates refitted on the same rows with other
    seeds (Black et al. 2022; Marx et al. 2020). Differs: ``n_models`` counts the base."""

    name = "retrain"
    bootstrap = False
    crossfit = False  # a retrain sees every answer: no out-of-sample rows under cross-fitting
    parameters = {
        "n_models": Whole(2, what=" (models in the set, the base surrogate included)", example=20),
        "seed": Whole(0, example=0),
    }

    def __init__(self, n_models: int, seed: int) -> None:
        self.set_parameters(n_models=n_models, seed=seed)

    def explore(self, task: ExplorationTask) -> Exploration:
        stream = BOOTSTRAP if self.bootstrap else RETRAIN
        fitted = fit_refits(task, self.n_models - 1, self.seed, self.bootstrap, self.name, stream)
        return refit_exploration(task, *fitted)


class BootstrapExplorer(RetrainExplorer):
    """The base surrogate and ``n_models - 1`` surrogates each refitted on a bootstrap resample
    of the fit rows with its own seed (Cooper et al., AAAI 2024). Differs: ``n_models`` counts
    the base, which keeps the full fit rows."""

    name = "bootstrap"
    bootstrap = True
    crossfit = True  # a refit's loss rows: those its resample left out (out of bag)
