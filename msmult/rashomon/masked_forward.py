"""Batched forward passes of B masked copies of one network (dropout exploration's engine).

Every ``MaskSite`` of copy b multiplies its hidden units by copy b's own mask. Two shortcuts keep
this fast without changing what is computed: everything before the first site is the same for all
copies, so it runs once per row (``prefix``); and where the rest is a chain of ``Linear`` and
``ReLU`` layers (msmult's MLP and text models), each mask is folded into the weights of the
``Linear`` after it, so one matrix product serves all B copies (``(h * m) W^T == h (W * m)^T``, equal
up to float rounding).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from msmult.errors import MsmultError
from msmult.models.layers import MaskSite

CHAIN_LAYERS = (MaskSite, nn.Linear, nn.ReLU)


class MaskedForward:
    """Evaluates a batch of B masked copies of a module in one pass: every ``MaskSite`` multiplies
    copy b by its own mask b.

    Where the module's output is the output of an ``nn.Sequential`` holding the first site
    (msmult's MLP, CNN and text models), ``prefix(x)`` computes each row's activations at that site
    once and ``proba_from`` runs only the rest of that Sequential (``tail``) on them: as a folded
    Linear/ReLU chain when it is one, else on B copies of the rows with the masks applied by hooks.
    Any other module gets B copies of its inputs.
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
        self.tail: nn.Sequential | None = None  # first site onwards, once ``unit_counts`` ran

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

    @property
    def chain(self) -> bool:
        """Whether the tail is MaskSite / Linear / ReLU layers only, so the masks fold."""
        return self.tail is not None and all(isinstance(m, CHAIN_LAYERS) for m in self.tail)

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
    def proba(self, masks: list[torch.Tensor], x: torch.Tensor, rows: int = 256) -> torch.Tensor:
        """(B, n, c) probabilities of the B masked models on inputs ``x``."""
        return self.proba_from(masks, self.prefix(x), rows)

    @torch.no_grad()
    def proba_from(
        self,
        masks: list[torch.Tensor],
        prefix: torch.Tensor,
        rows: int = 256,
        out: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, n, c) probabilities of the B masked models from ``prefix(x)``, on the CPU (written
        into ``out`` when given). Each forward pass takes ``rows`` input rows (B copies of each on
        the hook path), which bounds memory; no step depends on B, so a model's numbers do not
        depend on the other models in its batch."""
        copies = masks[0].shape[0]
        layers = folded(self.tail, masks) if self.chain else None
        module = self.module if self.tail is None else self.tail
        for start in range(0, len(prefix), rows):
            chunk = prefix[start : start + rows]
            if layers is not None:
                logits = run_folded(layers, chunk)
            else:
                self.masks = masks
                repeated = chunk.repeat(copies, *([1] * (chunk.dim() - 1)))
                logits = module(repeated).reshape(copies, len(chunk), -1)
                self.masks = []
            if out is None:
                out = torch.empty((copies, len(prefix), logits.shape[-1]))
            out[:, start : start + rows] = logits
        if out is None:
            return torch.empty((copies, 0, 0))
        softmax_in_place(out.numpy())
        return out


def softmax_in_place(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last (class) axis of float32 ``logits``, in place. NumPy's float32 exp
    takes one SIMD path for every element, so a row's result does not depend on the array's
    shape or the row's place in it (torch's softmax is slow over a short last axis and, over
    other axes, shape-dependent in the last bits); the rest is exact elementwise arithmetic."""
    top = logits[..., 0].copy()
    for k in range(1, logits.shape[-1]):
        np.maximum(top, logits[..., k], out=top)
    np.subtract(logits, top[..., None], out=logits)
    np.exp(logits, out=logits)
    total = logits[..., 0].copy()
    for k in range(1, logits.shape[-1]):
        total += logits[..., k]
    logits /= total[..., None]
    return logits


def folded(chain: nn.Sequential, masks: list[torch.Tensor]) -> list:
    """The chain's layers with each site's (B, units) mask folded into the next Linear's weights,
    as (B, out, in) weight tensors; a site with no Linear after it stays a (B, 1, units) mask."""
    layers, site, pending = [], 0, None
    for layer in chain:
        if isinstance(layer, MaskSite):
            pending, site = masks[site], site + 1
            layers.append(pending[:, None, :])
        elif isinstance(layer, nn.Linear) and pending is not None:
            layers[-1] = (layer.weight[None] * pending[:, None, :], layer.bias)
            pending = None
        else:
            layers.append(layer)
    return layers


def run_folded(layers: list, rows: torch.Tensor) -> torch.Tensor:
    """(B, r, out) logits of the folded chain on (r, in) rows shared by all B copies."""
    z = rows
    for layer in layers:
        if isinstance(layer, tuple):  # (B, out, in) folded weights and the Linear's bias
            weight, bias = layer
            z = linear_per_copy(z, weight, bias)
        elif isinstance(layer, torch.Tensor):  # a mask with no Linear after it
            z = z * layer
        elif isinstance(layer, nn.ReLU) and z is not rows:
            z = z.relu_()  # z is this chunk's own intermediate
        else:  # ReLU on the rows themselves, or an unmasked Linear
            z = layer(z)
    return z


def linear_per_copy(
    z: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """Copy b's Linear with weights ``weight[b]`` (B, out, in) on ``z``: (r, in) rows shared by
    every copy or (B, r, in) rows of each copy; (B, r, out) out. One batched product in which
    each copy's is computed alone, so a copy's numbers do not depend on the others in its pass."""
    if z.dim() == 2:
        z = z.expand(len(weight), *z.shape)
    if bias is None:
        return torch.bmm(z, weight.transpose(1, 2))
    return torch.baddbmm(bias, z, weight.transpose(1, 2))
