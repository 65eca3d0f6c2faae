"""Extremal fairness: the smallest and largest group-fairness gap reachable inside the Rashomon set
(in the spirit of Coston, Rambachan & Chouldechova, "Characterizing Fairness Over the Set of Good
Models Under Selective Labels", ICML 2021, and Aivodji et al., "Characterizing the risk of
fairwashing", NeurIPS 2021).

For each gap and direction, a copy of the base surrogate is fine-tuned (Adam) on
``direction * relaxed gap + multiplier * fidelity loss on the fit rows``, for each multiplier of a
small grid (the multiplier search). The relaxed gap replaces decisions by the predicted probability
of the positive class: group means of it (demographic parity), of it on the positive rows (equal
opportunity) and the worse of that and its mean on the negative rows (equalized odds). It is
computed on the attacker pool's rows with their true labels and groups (an auditor's data); the test
rows are never used for the search. Each path stops at its first step whose holdout fidelity loss
leaves base + epsilon; of its steps within, the one with the most extreme exact gap on the pool rows
is kept, then re-scored with the exact fairlearn metric on the test rows and kept only if it is a
member. Where msmult differs: a penalty with a multiplier grid and path tracking instead of an exact
constrained solver, so the attainable range is an inner bound (a sampled member may lie outside;
the report lists those).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from msmult.data.splits import Splits
from msmult.metrics import GAPS, fairness_gaps, fairness_gaps_many
from msmult.models.torch_classifier import TorchClassifier, as_tensor
from msmult.progress import progress_bar
from msmult.rashomon.exploration import ExplorationTask, fidelity_loss
from msmult.validation import bad_value, number, numbers, whole

DIRECTIONS = {"min": 1.0, "max": -1.0}
OUTSIDE_REASON = (
    "the search is local (gradient steps from the base surrogate on a relaxed gap computed on the "
    "attacker pool's rows, chosen by the pool's exact gap), so its range is an inner bound on the "
    "attainable one; a sampled member beyond it is a model the search did not reach"
)


class ExtremeSearch:
    """Fine-tunes the base surrogate to each end of each fairness gap within the Rashomon set."""

    def __init__(
        self,
        steps: int = 100,
        lr: float = 1e-3,
        multipliers: Sequence[float] = (0.0, 1.0, 10.0),
        pool_rows: int = 5000,
        seed: int = 0,
    ) -> None:
        self.steps = whole("extremes.steps", steps, 1, example="extremes.steps=100")
        self.lr = number(
            "extremes.lr",
            lr,
            0,
            open_low=True,
            what=" (Adam step size)",
            example="extremes.lr=1e-3",
        )
        self.multipliers = numbers(
            "extremes.multipliers",
            multipliers,
            0,
            example="extremes.multipliers=[0,1,10]",
        )
        self.pool_rows = whole(
            "extremes.pool_rows", pool_rows, 1, example="extremes.pool_rows=5000"
        )
        self.seed = whole("seed", seed, 0)

    def check(self, splits: Splits) -> None:
        """Refuse a dataset whose attacker pool carries no groups or labels for the auditor
        (before any model is trained)."""
        groups = splits.group_pool
        named = np.asarray([] if groups is None else groups).astype(str)
        known = np.unique(named[named != ""]).size
        if splits.y_pool is None or known < 2:
            raise bad_value(
                "extremes",
                "search",
                f"dataset {splits.name} gives no labels or fewer than two known sensitive groups "
                f"for its attacker pool ({known} found); extremal fairness computes its relaxed "
                "gaps on the pool's rows with their true labels and groups",
                "extremes=null",
            )

    def run(
        self, task: ExplorationTask, splits: Splits, base_loss: float, explorer: str, test: dict
    ) -> dict:
        """The report's ``extremes`` section, from the test evaluation ``test`` of the run's
        explorer (its member table and the victim's gaps)."""
        found = self.search(task, splits, base_loss)
        sampled = per_explorer(test["table"], explorer)
        return {"extremes": extremal_report(found, test["victim"]["fairness"], sampled)}

    def search(self, task: ExplorationTask, splits: Splits, base_loss: float) -> list[dict]:
        """One entry per (gap, direction, multiplier): the kept step's exact gaps on the test rows
        and its holdout loss, or ``found: False`` when no step after the first stayed a member."""
        surrogate = task.surrogate
        if not isinstance(surrogate, TorchClassifier):
            raise bad_value(
                "extremes",
                "search",
                "it needs a torch surrogate (surrogate=mlp, cnn, text) to fine-tune",
                "extremes=null",
            )
        pool = PoolRelaxation(splits, self.pool_rows, self.seed, surrogate.device_)
        runs = [(g, d, m) for g in GAPS for d in DIRECTIONS for m in self.multipliers]
        found = []
        with progress_bar("searching extremal fairness", len(runs)) as advance:
            for gap, direction, multiplier in runs:
                module = self._tune(surrogate, task, pool, gap, direction, multiplier, base_loss)
                found.append(
                    self._score(module, surrogate, task, splits, base_loss)
                    | {"gap": gap, "direction": direction, "multiplier": multiplier}
                )
                advance(1)
        return found

    def _tune(
        self,
        surrogate: TorchClassifier,
        task: ExplorationTask,
        pool: PoolRelaxation,
        gap: str,
        direction: str,
        multiplier: float,
        base_loss: float,
    ) -> torch.nn.Module | None:
        """The most extreme member (exact pool gap) along one fine-tuning path; None if the path
        left the set at its first step."""
        device = surrogate.device_
        module = copy.deepcopy(surrogate.module_).eval()
        fit_x, holdout = as_tensor(task.fit_x, device), as_tensor(task.holdout_x, device)
        fit_t = torch.as_tensor(task.fit_targets, dtype=torch.float32, device=device)
        hold_t = torch.as_tensor(task.holdout_targets, dtype=torch.float32, device=device)
        optimiser = torch.optim.Adam(module.parameters(), lr=self.lr)
        sign, limit = DIRECTIONS[direction], base_loss + task.epsilon
        best, best_value = None, None
        for step in range(self.steps + 1):
            logits = module(pool.x)
            if step > 0:
                with torch.no_grad():
                    proba = torch.softmax(module(holdout), -1).clamp_min(1e-12)
                    if -(hold_t * proba.log()).sum(-1).mean().item() > limit:
                        break
                    value = sign * pool.exact(logits, gap)
                    if best_value is None or value < best_value:
                        best, best_value = copy.deepcopy(module.state_dict()), value
            optimiser.zero_grad()
            objective = sign * pool.relaxed(logits, gap)
            if multiplier:
                objective = objective + multiplier * F.cross_entropy(module(fit_x), fit_t)
            objective.backward()
            optimiser.step()
        if best is None:
            return None
        module.load_state_dict(best)
        return module

    @staticmethod
    def _score(
        module: torch.nn.Module | None,
        surrogate: TorchClassifier,
        task: ExplorationTask,
        splits: Splits,
        base_loss: float,
    ) -> dict:
        if module is None:
            return {"found": False}
        tuned = copy.copy(surrogate)
        tuned.module_ = module
        loss = fidelity_loss(tuned.predict_proba(task.holdout_x), task.holdout_targets)
        if loss > base_loss + task.epsilon:  # float32 path vs numpy check: trust numpy
            return {"found": False}
        decisions = tuned.predict(task.eval_sets["test"])
        gaps = fairness_gaps(splits.y_test, decisions, splits.group_test, splits.positive_class)
        return {"found": True, "loss": float(loss), **{g: float(gaps[g]) for g in GAPS}}


class PoolRelaxation:
    """The pool's rows (a seeded sample), with per-group weights for the relaxed rates."""

    def __init__(self, splits: Splits, rows: int, seed: int, device: torch.device) -> None:
        groups = np.asarray(splits.group_pool).astype(str)
        known = np.flatnonzero(groups != "")
        rng = np.random.default_rng(seed)
        take = np.sort(rng.choice(known, min(rows, len(known)), replace=False))
        self.x = as_tensor(splits.x_pool[take], device)
        self.positive_class = splits.positive_class
        self.y = np.asarray(splits.y_pool)[take]
        self.groups = groups[take]
        onehot = (self.groups[:, None] == np.unique(self.groups)[None]).astype(np.float32)
        positive = (self.y == self.positive_class)[:, None]
        self.weights = {
            rate: self._normalised(onehot * rows_in, device)
            for rate, rows_in in (("selection", 1.0), ("tpr", positive), ("fpr", ~positive))
        }

    @staticmethod
    def _normalised(cells: np.ndarray, device: torch.device) -> torch.Tensor:
        counts = cells.sum(0)
        return torch.as_tensor(cells[:, counts > 0] / counts[counts > 0], device=device)

    def _spread(self, p: torch.Tensor, rate: str) -> torch.Tensor:
        rates = p @ self.weights[rate]
        return rates.max() - rates.min()

    def relaxed(self, logits: torch.Tensor, gap: str) -> torch.Tensor:
        """The differentiable gap: group means of P(positive class)."""
        p = torch.softmax(logits, -1)[:, self.positive_class]
        if gap == "demographic_parity_difference":
            return self._spread(p, "selection")
        if gap == "equal_opportunity_difference":
            return self._spread(p, "tpr")
        return torch.maximum(self._spread(p, "tpr"), self._spread(p, "fpr"))

    def exact(self, logits: torch.Tensor, gap: str) -> float:
        """The exact gap of the decisions on the pool rows (selects the kept step)."""
        decisions = logits.argmax(-1).cpu().numpy()[None]
        gaps = fairness_gaps_many(self.y, decisions, self.groups, self.positive_class)
        return float(gaps[gap][0])


def per_explorer(table: pd.DataFrame, name: str) -> dict[str, pd.DataFrame]:
    """Each explorer's candidates with the shared base (row 0) first: ``rashomon=compare`` tables
    carry an ``explorer`` column (row 0 labelled ``base``); any other is one explorer, ``name``."""
    if "explorer" not in table:
        return {name: table}
    names = list(dict.fromkeys(table["explorer"].iloc[1:]))
    return {n: table[(table["explorer"] == n) | (table.index == table.index[0])] for n in names}


def extremal_report(found: list[dict], victim: dict, sampled: dict[str, pd.DataFrame]) -> dict:
    """Per gap: the victim's value, each explorer's sampled member range, the attainable range
    (the base surrogate and every member any path found: a model tuned for one gap counts for all)
    and the sampled members outside it, with why; then every path's result."""
    models = [f for f in found if f["found"]]
    gaps = {}
    for gap in GAPS:
        base = [float(t[gap].iloc[0]) for t in sampled.values()][:1]
        values = base + [f[gap] for f in models]
        low, high = min(values), max(values)
        entry = {
            "victim": float(victim[gap]),
            "attainable": {"min": low, "max": high},
            "sampled": {},
            "outside": [],
        }
        for explorer, table in sampled.items():
            members = table[table["in_set"]]
            entry["sampled"][explorer] = {
                "min": float(members[gap].min()),
                "max": float(members[gap].max()),
            }
            beyond = members[(members[gap] < low - 1e-12) | (members[gap] > high + 1e-12)]
            entry["outside"] += [
                {
                    "explorer": explorer,
                    "model": str(row["model"]),
                    "value": float(row[gap]),
                    "reason": OUTSIDE_REASON,
                }
                for _, row in beyond.iterrows()
            ]
        gaps[gap] = entry
    return {"gaps": gaps, "models_found": len(models), "paths": len(found), "runs": found}
