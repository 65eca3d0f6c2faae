"""Dropout-based Rashomon set exploration (Hsu, Li, Hu, Chen, ICLR 2024).

Around the trained base surrogate, each candidate model multiplies the hidden units at every
``MaskSite`` by a random mask: Bernoulli (keep with probability 1 - p, kept units scaled by
1 / (1 - p), as inverted dropout) or Gaussian (multiplier 1 + p * N(0, 1)), over a grid of rates
times draws per rate. Where msmult differs from the reference code: each candidate is a FIXED
mask drawn from its own seed, so it is a real model that answers the same way every time; the
reference code redraws masks for every row (it calls dropout in training mode at inference).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import torch

from msmult.models.torch_classifier import as_tensor, require_torch
from msmult.progress import progress_bar
from msmult.rashomon.base import Explorer
from msmult.rashomon.exploration import (
    Exploration,
    ExplorationTask,
    fidelity_loss,
    within_reach,
)
from msmult.rashomon.masked_forward import MaskedForward
from msmult.validation import Numbers, SomeOf, Whole

KINDS = ("bernoulli", "gaussian")


def draw_mask(kind: str, rate: float, units: int, rng: np.random.Generator) -> np.ndarray:
    """One fixed multiplicative mask over ``units`` hidden units."""
    if kind == "bernoulli":
        return (rng.random(units) >= rate).astype(np.float32) / (1.0 - rate)
    return (1.0 + rate * rng.standard_normal(units)).astype(np.float32)


class DropoutExplorer(Explorer):
    """Samples ``len(kinds) * len(rates) * draws_per_rate`` fixed-mask candidates around the base
    surrogate and scores each on the holdout (loss) and on every evaluation set (probabilities)."""

    name = "dropout"
    crossfit = True  # reads ExplorationTask.folds: membership losses stay out-of-sample
    parameters = {
        "kinds": SomeOf(KINDS),
        "rates": Numbers(0, 1, open_high=True, example=[0.01, 0.05, 0.1]),
        "draws_per_rate": Whole(1, example=10),
        "models_per_pass": Whole(1, example=32),
        "batch_rows": Whole(1, example=8192),
        "threads": Whole(1, example=2),
        "seed": Whole(0, example=0),
    }

    def __init__(
        self,
        rates: Sequence[float],
        draws_per_rate: int,
        kinds: Sequence[str],
        models_per_pass: int,
        batch_rows: int,
        seed: int,
        threads: int,
    ) -> None:
        self.set_parameters(
            kinds=kinds,
            rates=rates,
            draws_per_rate=draws_per_rate,
            models_per_pass=models_per_pass,
            batch_rows=batch_rows,
            threads=threads,
            seed=seed,
        )
        # input rows per forward pass, whatever the pass's size: a candidate's numbers never
        # depend on the candidates batched with it
        self.pass_rows = max(1, self.batch_rows // self.models_per_pass)

    def candidates(self) -> pd.DataFrame:
        """The base model (row 0) then every (kind, rate, draw), each with its own mask seed."""
        rows = [{"kind": "base", "rate": 0.0, "draw": 0, "mask_seed": -1}]
        for kind_id, kind in enumerate(self.kinds):
            for rate_id, rate in enumerate(self.rates):
                for draw in range(self.draws_per_rate):
                    seed = int(
                        np.random.SeedSequence([self.seed, kind_id, rate_id, draw]).generate_state(
                            1
                        )[0]
                    )
                    rows.append(
                        {"kind": kind, "rate": float(rate), "draw": draw, "mask_seed": seed}
                    )
        return pd.DataFrame(rows)

    def explore(self, task: ExplorationTask) -> Exploration:
        """Losses of every candidate on the holdout first; then scores on the evaluation sets of
        only those within ``task.largest_epsilon`` (``Exploration.scored``). The batched passes
        run on ``threads`` torch threads (training keeps the run's ``threads``)."""
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            return self._explore(task)
        finally:
            torch.set_num_threads(previous)

    def _explore(self, task: ExplorationTask) -> Exploration:
        surrogate = require_torch(
            task.surrogate,
            "Dropout exploration masks hidden units (an "
            "explorer that retrains, e.g. rashomon=retrain, works with any)",
        )
        module, device = surrogate.module_, surrogate.device_
        module.eval()
        forward = MaskedForward(module)
        holdout = as_tensor(task.holdout_x, device)
        units = forward.unit_counts(holdout[:1])
        table = self.candidates()
        masks = self._masks(table, units, device)
        sets, parts = len(task.eval_sets), max(1, len(task.folds))  # loss parts: folds or holdout
        total = (parts + sets) * len(table)
        with progress_bar("exploring Rashomon set (dropout)", total) as advance:
            losses = self._membership_losses(forward, masks, task, advance)
            scored = within_reach(losses, task.largest_epsilon)
            advance(sets * int((~scored).sum()))
            chosen = [site[torch.as_tensor(scored, device=device)] for site in masks]
            scores = {
                name: self._scores(
                    forward,
                    chosen,
                    forward.prefix(as_tensor(x, device)),
                    surrogate.n_classes,
                    advance,
                )
                for name, x in task.eval_sets.items()
            }
        return Exploration(table, losses, scores, task.epsilon, task.epsilon_grid, scored)

    def _passes(self, masks: list[torch.Tensor]) -> Iterator[tuple[int, list[torch.Tensor]]]:
        """(start, masks) of each pass of at most ``models_per_pass`` candidates."""
        for start in range(0, len(masks[0]), self.models_per_pass):
            yield start, [site[start : start + self.models_per_pass] for site in masks]

    def _membership_losses(
        self,
        forward: MaskedForward,
        masks: list[torch.Tensor],
        task: ExplorationTask,
        advance: Callable[[int], None],
    ) -> np.ndarray:
        """Each candidate's loss on the holdout rows; with cross-fitting (``task.folds``) the
        row-weighted mean over folds of the SAME mask on fold model k, scored on fold k's rows,
        which that model never saw (``msmult.rashomon.crossfit``)."""
        device = task.surrogate.device_
        parts = [(forward, task.holdout_x, task.holdout_targets)]
        if task.folds:
            parts = [
                (MaskedForward(fold.surrogate.module_.eval()), fold.x, fold.targets)
                for fold in task.folds
            ]
        total = np.zeros(len(masks[0]))
        for part, x, targets in parts:
            rows = as_tensor(x, device)
            part.unit_counts(rows[:1])  # finds the fold model's tail: its shared prefix
            total += (
                len(x)
                / len(task.holdout_x)
                * self._losses(part, masks, part.prefix(rows), targets, advance)
            )
        return total

    def _losses(
        self,
        forward: MaskedForward,
        masks: list[torch.Tensor],
        holdout: torch.Tensor,
        targets: np.ndarray,
        advance: Callable[[int], None],
    ) -> np.ndarray:
        losses = np.empty(len(masks[0]))
        for start, batch in self._passes(masks):
            proba = forward.proba_from(batch, holdout, self.pass_rows).numpy()
            losses[start : start + len(proba)] = fidelity_loss(proba, targets)
            advance(len(proba))
        return losses

    def _scores(
        self,
        forward: MaskedForward,
        masks: list[torch.Tensor],
        prefix: torch.Tensor,
        n_classes: int,
        advance: Callable[[int], None],
    ) -> np.ndarray:
        scores = np.empty((len(masks[0]), len(prefix), n_classes), np.float32)
        for start, batch in self._passes(masks):
            target = torch.from_numpy(scores[start : start + len(batch[0])])  # filled in place
            forward.proba_from(batch, prefix, self.pass_rows, out=target)
            advance(len(target))
        return scores

    @staticmethod
    def _masks(table: pd.DataFrame, units: list[int], device: torch.device) -> list[torch.Tensor]:
        """Per site, a (candidates, units) tensor of every candidate's mask (ones for the base)."""
        per_model = []
        for kind, rate, seed in zip(table["kind"], table["rate"], table["mask_seed"]):
            if kind == "base":
                per_model.append([np.ones(u, np.float32) for u in units])
            else:
                rng = np.random.default_rng(int(seed))
                per_model.append([draw_mask(kind, rate, u, rng) for u in units])
        return [
            torch.as_tensor(np.stack([m[i] for m in per_model]), device=device)
            for i in range(len(units))
        ]
