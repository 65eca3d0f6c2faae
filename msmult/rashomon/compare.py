"""``rashomon=compare``: several explorers on the same base surrogate, as ONE exploration.

Each explorer runs on the same task; their candidates are stacked with an ``explorer`` column
(row 0, the base surrogate every explorer returns first, once, labelled ``base``; the other
explorers' copies of it are dropped) and a ``seconds`` column (the explorer's wall time divided
by its candidates), so every output of a run still works and ``msmult.analysis.comparison`` can compare
them. Not from a paper: it sets side by side the dropout sets of Hsu et al. (ICLR 2024) and the
refits that Black et al. (FAccT 2022) and Cooper et al. (AAAI 2024) use as the reference.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from msmult.rashomon.base import Explorer
from msmult.rashomon.dropout import DropoutExplorer
from msmult.rashomon.exploration import Exploration, ExplorationTask
from msmult.rashomon.refit import BootstrapExplorer, RetrainExplorer
from msmult.validation import SomeOf, Whole

EXPLORERS = ("dropout", "retrain", "bootstrap")


class CompareExplorer(Explorer):
    """Runs ``explorers`` (any of dropout, retrain, bootstrap) on the same task; ``dropout`` holds
    the keys of ``rashomon=dropout`` (passed on as they are), ``retrain_models`` /
    ``bootstrap_models`` the refitting explorers' ``n_models``."""

    name = "compare"
    parameters = {
        "explorers": SomeOf(EXPLORERS),
        "retrain_models": Whole(2, example=20),
        "bootstrap_models": Whole(2, example=20),
        "seed": Whole(0, example=0),
    }

    def __init__(
        self,
        explorers: Sequence[str],
        retrain_models: int,
        bootstrap_models: int,
        seed: int,
        **dropout: Any,
    ) -> None:
        self.set_parameters(
            explorers=explorers,
            retrain_models=retrain_models,
            bootstrap_models=bootstrap_models,
            seed=seed,
        )
        built = {
            "dropout": lambda: DropoutExplorer(seed=seed, **dropout),
            "retrain": lambda: RetrainExplorer(retrain_models, seed),
            "bootstrap": lambda: BootstrapExplorer(bootstrap_models, seed),
        }
        self.explorers = {name: built[name]() for name in dict.fromkeys(self.explorers)}
        # cross-fitting when every explorer reads folds (dropout, bootstrap; not retrain)
        self.crossfit = all(e.crossfit for e in self.explorers.values())

    def explore(self, task: ExplorationTask) -> Exploration:
        parts = []
        for name, explorer in self.explorers.items():
            began = time.perf_counter()
            part = explorer.explore(task)
            seconds = (time.perf_counter() - began) / len(part.losses)
            parts.append((name, part, seconds))
        return stack(parts, task)


def stack(parts: list[tuple[str, Exploration, float]], task: ExplorationTask) -> Exploration:
    """One exploration from (explorer name, its exploration, seconds per candidate): the first
    explorer's row 0 as the shared base, then every explorer's rows 1..m-1 (row 0 is always
    scored, so each part's scores after the first drop their first row too)."""
    tables, losses, scored, scores = [], [], [], {name: [] for name in task.eval_sets}
    for index, (name, part, seconds) in enumerate(parts):
        keep = slice(0, None) if index == 0 else slice(1, None)
        tables.append(part.candidates.iloc[keep].assign(explorer=name, seconds=seconds))
        losses.append(part.losses[keep])
        scored.append(part.scored_mask[keep])
        for set_name in scores:
            scores[set_name].append(part.scores[set_name][keep])
    candidates = pd.concat(tables, ignore_index=True)
    candidates.loc[0, "explorer"] = "base"
    mask = np.concatenate(scored)
    return Exploration(
        candidates,
        np.concatenate(losses),
        {k: np.concatenate(v) for k, v in scores.items()},
        task.epsilon,
        task.epsilon_grid,
        scored=None if mask.all() else mask,
    )
