"""Dropout-based Rashomon set exploration (Hsu, Li, Hu, Chen, ICLR 2024).

Around the trained base surrogate, each candidate model multiplies the hidden units at every
``MaskSite`` by a random mask: Bernoulli (keep with probability 1 - p, kept units scaled by
1 / (1 - p), as inverted dropout) or Gaussian (multiplier 1 + p * N(0, 1)), over a grid of rates
times draws per rate. Where msmult differs from the reference code: each candidate is a FIXED
mask drawn from its own seed, so it is a real model that answers the same way every time; the
reference code redraws masks for every row (it calls dropout in training mode at inference).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from msmult.errors import MsmultError
from msmult.models.layers import MaskSite
from msmult.models.torch_classifier import TorchClassifier, as_tensor
from msmult.progress import progress_bar
from msmult.rashomon.exploration import Exploration, ExplorationTask, fidelity_loss
from msmult.validation import choices, numbers, whole

KINDS = ("bernoulli", "gaussian")


def draw_mask(kind: str, rate: float, units: int, rng: np.random.Generator) -> np.ndarray:
    """One fixed multiplicative mask over ``units`` hidden units."""
    if kind == "bernoulli":
        return (rng.random(units) >= rate).astype(np.float32) / (1.0 - rate)
    return (1.0 + rate * rng.standard_normal(units)).astype(np.float32)


class MaskedForward:
    """Evaluates a batch of B masked copies of a module in one pass: inputs are repeated B times
    along the row axis and every ``MaskSite`` multiplies copy b by its own mask b."""

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
        """Hidden units (features or channels) at each site, found by one forward pass."""
        counts: list[int] = []
        hooks = [
            s.register_forward_hook(lambda _m, _i, o: counts.append(o.shape[1])) for s in self.sites
        ]
        self.module(example)
        for hook in hooks:
            hook.remove()
        return counts

    @torch.no_grad()
    def proba(
        self, masks: list[torch.Tensor], x: torch.Tensor, batch_rows: int = 8192
    ) -> torch.Tensor:
        """(B, n, c) probabilities of the B masked models on ``x``; one forward pass holds at most
        ``batch_rows`` rows (B copies of each input row), which bounds memory for conv nets."""
        self.masks = masks
        copies = masks[0].shape[0]
        rows = max(1, batch_rows // copies)
        outputs = []
        for start in range(0, len(x), rows):
            chunk = x[start : start + rows]
            repeated = chunk.repeat(copies, *([1] * (chunk.dim() - 1)))
            logits = self.module(repeated).reshape(copies, len(chunk), -1)
            outputs.append(torch.softmax(logits, dim=-1))
        self.masks = []
        return torch.cat(outputs, dim=1)


class DropoutExplorer:
    """Samples ``len(kinds) * len(rates) * draws_per_rate`` fixed-mask candidates around the base
    surrogate and scores each on the holdout (loss) and on every evaluation set (probabilities)."""

    name = "dropout"

    def __init__(
        self,
        rates: Sequence[float],
        draws_per_rate: int,
        kinds: Sequence[str] = KINDS,
        models_per_pass: int = 32,
        batch_rows: int = 8192,
        seed: int = 0,
    ) -> None:
        self.kinds = choices("rashomon.kinds", kinds, KINDS)
        self.rates = numbers("rashomon.rates", rates, 0, 1, open_high=True,
                             example="rashomon.rates=[0.01,0.05,0.1]")  # fmt: skip
        self.draws_per_rate = whole("rashomon.draws_per_rate", draws_per_rate, 1)
        self.models_per_pass = whole("rashomon.models_per_pass", models_per_pass, 1)
        self.batch_rows = whole("rashomon.batch_rows", batch_rows, 1)
        self.seed = whole("seed", seed, 0)

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
        surrogate = task.surrogate
        if not isinstance(surrogate, TorchClassifier):
            raise MsmultError(
                f"Dropout exploration masks a torch surrogate's hidden units; the surrogate is a "
                f"{type(surrogate).__name__}. Use a torch surrogate (surrogate=mlp, cnn, text) or "
                "an explorer that retrains (see README, Extending msmult)."
            )
        module, device = surrogate.module_, surrogate.device_
        module.eval()
        forward = MaskedForward(module)
        holdout = as_tensor(task.holdout_x, device)
        evals = {name: as_tensor(x, device) for name, x in task.eval_sets.items()}
        units = forward.unit_counts(holdout[:1])
        table = self.candidates()
        losses = np.empty(len(table))
        scores = {
            name: np.empty((len(table), len(x), surrogate.n_classes), np.float32)
            for name, x in task.eval_sets.items()
        }
        with progress_bar("exploring Rashomon set (dropout)", len(table)) as advance:
            for start in range(0, len(table), self.models_per_pass):
                batch = table.iloc[start : start + self.models_per_pass]
                masks = self._masks(batch, units, device)
                proba = forward.proba(masks, holdout, self.batch_rows).cpu().numpy()
                losses[start : start + len(batch)] = fidelity_loss(proba, task.holdout_targets)
                for name, x in evals.items():
                    scores[name][start : start + len(batch)] = (
                        forward.proba(masks, x, self.batch_rows).cpu().numpy()
                    )
                advance(len(batch))
        return Exploration(table, losses, scores, task.epsilon, task.epsilon_grid)

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
