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
from torch import nn

from msmult.errors import MsmultError
from msmult.models.layers import MaskSite
from msmult.models.torch_classifier import as_tensor, require_torch
from msmult.progress import progress_bar
from msmult.rashomon.exploration import (
    Exploration,
    ExplorationTask,
    fidelity_loss,
    within_reach,
)
from msmult.validation import choices, numbers, whole

KINDS = ("bernoulli", "gaussian")


def draw_mask(kind: str, rate: float, units: int, rng: np.random.Generator) -> np.ndarray:
    """One fixed multiplicative mask over ``units`` hidden units."""
    if kind == "bernoulli":
        return (rng.random(units) >= rate).astype(np.float32) / (1.0 - rate)
    return (1.0 + rate * rng.standard_normal(units)).astype(np.float32)


class MaskedForward:
    """Evaluates a batch of B masked copies of a module in one pass: every ``MaskSite`` multiplies
    copy b by its own mask b.

    Everything before the first site is the same for all copies, so where the module's output is
    the output of an ``nn.Sequential`` holding that site (msmult's MLP, CNN and text models),
    ``prefix(x)`` computes each row's activations at the first site once and ``proba`` runs only
    the rest of that Sequential on B copies of them; any other module gets B copies of its inputs.
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.sites = [m for m in module.modules() if isinstance(m, MaskSite)]
        if not self.sites:
            raise MsmultError(
                "Dropout exploration needs a surrogate with MaskSite layers (msmult's MLP, CNN "
                "and text models have them); the configured surrogate has none."
            )
        self.masks: list[torch.Tensor] = []
        for index, site in enumerate(self.sites):
            site.register_forward_hook(lambda _m, _i, out, index=index: self._apply(index, out))
        self.tail: nn.Module | None = None  # first site onwards, once ``unit_counts`` checked it

    def _apply(self, index: int, out: torch.Tensor) -> torch.Tensor:
        if not self.masks:
            return out
        mask = self.masks[index]
        copies = mask.shape[0]
        shaped = out.reshape(copies, -1, *out.shape[1:])
        view = mask.reshape(copies, 1, mask.shape[1], *([1] * (out.dim() - 2)))
        return (shaped * view).reshape(out.shape)

    @torch.no_grad()
    def unit_counts(self, example: torch.Tensor) -> list[int]:
        """Hidden units (features or channels) at each site, found by one forward pass, which also
        finds the part of the module from the first site on (``tail``) when there is one."""
        counts: list[int] = []
        hooks = [
            s.register_forward_hook(lambda _m, _i, o: counts.append(o.shape[1])) for s in self.sites
        ]
        parent, index = self._parent_of_first_site()
        outputs: list[torch.Tensor] = []
        if parent is not None:
            hooks.append(parent.register_forward_hook(lambda _m, _i, o: outputs.append(o)))
        result = self.module(example)
        for hook in hooks:
            hook.remove()
        if outputs and outputs[-1] is result:  # the module returns that Sequential's output
            self.tail = nn.Sequential(*list(parent)[index:])
        return counts

    def _parent_of_first_site(self) -> tuple[nn.Sequential | None, int]:
        for parent in self.module.modules():
            if isinstance(parent, nn.Sequential):
                for index, child in enumerate(parent):
                    if child is self.sites[0]:
                        return parent, index
        return None, 0

    @torch.no_grad()
    def prefix(self, x: torch.Tensor, batch_rows: int = 8192) -> torch.Tensor:
        """Each row's activations at the first site, unmasked (``x`` itself without a tail)."""
        if self.tail is None:
            return x
        captured: list[torch.Tensor] = []
        hook = self.sites[0].register_forward_hook(lambda _m, _i, o: captured.append(o))
        for start in range(0, len(x), batch_rows):
            self.module(x[start : start + batch_rows])
        hook.remove()
        return torch.cat(captured) if captured else x[:0]

    @torch.no_grad()
    def proba(
        self, masks: list[torch.Tensor], x: torch.Tensor, batch_rows: int = 8192
    ) -> torch.Tensor:
        """(B, n, c) probabilities of the B masked models on inputs ``x``."""
        return self.proba_from(masks, self.prefix(x, batch_rows), batch_rows)

    @torch.no_grad()
    def proba_from(
        self, masks: list[torch.Tensor], prefix: torch.Tensor, batch_rows: int = 8192
    ) -> torch.Tensor:
        """(B, n, c) probabilities of the B masked models from ``prefix(x)``; one forward pass
        holds at most ``batch_rows`` rows (B copies of each row), which bounds memory for conv
        nets."""
        module = self.module if self.tail is None else self.tail
        self.masks = masks
        copies = masks[0].shape[0]
        rows = max(1, batch_rows // copies)
        outputs = []
        for start in range(0, len(prefix), rows):
            chunk = prefix[start : start + rows]
            repeated = chunk.repeat(copies, *([1] * (chunk.dim() - 1)))
            logits = module(repeated).reshape(copies, len(chunk), -1)
            outputs.append(torch.softmax(logits, dim=-1))
        self.masks = []
        return torch.cat(outputs, dim=1)


class DropoutExplorer:
    """Samples ``len(kinds) * len(rates) * draws_per_rate`` fixed-mask candidates around the base
    surrogate and scores each on the holdout (loss) and on every evaluation set (probabilities)."""

    name = "dropout"
    crossfit = True  # reads ExplorationTask.folds: membership losses stay out-of-sample

    def __init__(
        self,
        rates: Sequence[float],
        draws_per_rate: int,
        kinds: Sequence[str] = KINDS,
        models_per_pass: int = 32,
        batch_rows: int = 8192,
        seed: int = 0,
        threads: int = 2,
    ) -> None:
        self.kinds = choices("rashomon.kinds", kinds, KINDS)
        self.rates = numbers("rashomon.rates", rates, 0, 1, open_high=True,
                             example="rashomon.rates=[0.01,0.05,0.1]")  # fmt: skip
        self.draws_per_rate = whole("rashomon.draws_per_rate", draws_per_rate, 1)
        self.models_per_pass = whole("rashomon.models_per_pass", models_per_pass, 1)
        self.batch_rows = whole("rashomon.batch_rows", batch_rows, 1)
        self.seed = whole("seed", seed, 0)
        self.threads = whole("rashomon.threads", threads, 1, example="rashomon.threads=2")

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
        surrogate = require_torch(task.surrogate, "Dropout exploration masks hidden units (an "
                                  "explorer that retrains, e.g. rashomon=retrain, works with any)")
        module, device = surrogate.module_, surrogate.device_
        module.eval()
        forward = MaskedForward(module)
        holdout = as_tensor(task.holdout_x, device)
        units = forward.unit_counts(holdout[:1])
        table = self.candidates()
        sets = len(task.eval_sets)
        with progress_bar("exploring Rashomon set (dropout)", (1 + sets) * len(table)) as advance:
            losses = self._membership_losses(forward, table, units, task, advance)
            scored = within_reach(losses, task.largest_epsilon)
            advance(sets * int((~scored).sum()))
            chosen = table[scored]
            scores = {
                name: self._scores(forward, chosen, units, forward.prefix(as_tensor(x, device)),
                                   surrogate.n_classes, advance)
                for name, x in task.eval_sets.items()
            }  # fmt: skip
        return Exploration(table, losses, scores, task.epsilon, task.epsilon_grid, scored)

    def _passes(
        self, table: pd.DataFrame, units: list[int], device: torch.device
    ) -> Iterator[tuple[int, int, list[torch.Tensor]]]:
        """(start, batch size, masks) of each pass of at most ``models_per_pass`` candidates."""
        for start in range(0, len(table), self.models_per_pass):
            batch = table.iloc[start : start + self.models_per_pass]
            yield start, len(batch), self._masks(batch, units, device)

    def _membership_losses(
        self, forward: MaskedForward, table: pd.DataFrame, units: list[int],
        task: ExplorationTask, advance: Callable[[int], None],
    ) -> np.ndarray:  # fmt: skip
        """Each candidate's loss on the holdout rows; with cross-fitting (``task.folds``) the
        row-weighted mean over folds of the SAME mask on fold model k, scored on fold k's rows,
        which that model never saw (``msmult.rashomon.crossfit``)."""
        device = task.surrogate.device_
        parts = [(forward, task.holdout_x, task.holdout_targets)] if not task.folds else [
            (MaskedForward(fold.surrogate.module_.eval()), fold.x, fold.targets)
            for fold in task.folds
        ]  # fmt: skip
        return sum(
            len(x) / len(task.holdout_x) * self._losses(
                part, table, units, part.prefix(as_tensor(x, device)), targets, advance
            ) for part, x, targets in parts
        )  # fmt: skip

    def _losses(
        self, forward: MaskedForward, table: pd.DataFrame, units: list[int],
        holdout: torch.Tensor, targets: np.ndarray, advance: Callable[[int], None],
    ) -> np.ndarray:  # fmt: skip
        losses = np.empty(len(table))
        for start, size, masks in self._passes(table, units, holdout.device):
            proba = forward.proba_from(masks, holdout, self.batch_rows).cpu().numpy()
            losses[start : start + size] = fidelity_loss(proba, targets)
            advance(size)
        return losses

    def _scores(
        self, forward: MaskedForward, table: pd.DataFrame, units: list[int],
        prefix: torch.Tensor, n_classes: int, advance: Callable[[int], None],
    ) -> np.ndarray:  # fmt: skip
        scores = np.empty((len(table), len(prefix), n_classes), np.float32)
        for start, size, masks in self._passes(table, units, prefix.device):
            scores[start : start + size] = forward.proba_from(masks, prefix, self.batch_rows).cpu()
            advance(size)
        return scores

    @staticmethod
    def _masks(batch: pd.DataFrame, units: list[int], device: torch.device) -> list[torch.Tensor]:
        """Per site, a (B, units) tensor of the batch's masks (ones for the base model)."""
        per_model = []
        for kind, rate, seed in zip(batch["kind"], batch["rate"], batch["mask_seed"]):
            if kind == "base":
                per_model.append([np.ones(u, np.float32) for u in units])
            else:
                rng = np.random.default_rng(int(seed))
                per_model.append([draw_mask(kind, rate, u, rng) for u in units])
        return [
            torch.as_tensor(np.stack([m[i] for m in per_model]), device=device)
            for i in range(len(units))
        ]
