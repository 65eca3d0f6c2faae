"""Multilayer perceptron for flat feature vectors (tabular data)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from msmult.models.layers import hidden_and_head, named_layers


class MLP(nn.Module):
    """Linear -> ReLU -> MaskSite blocks, then a linear head producing class logits.

    Inputs of any shape after the row axis are flattened, so an MLP also runs on images.
    """

    def __init__(
        self, input_shape: Sequence[int], n_classes: int, hidden: Sequence[int] = (64, 64)
    ) -> None:
        super().__init__()
        head = hidden_and_head(math.prod(input_shape), hidden, n_classes)
        self.net = nn.Sequential(nn.Flatten(), *head)

    def stacked_layers(self) -> list[tuple[str, nn.Module]]:
        """The layers ``forward`` applies, for batched training (``msmult.models.stacked``)."""
        return named_layers("net", self.net)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
