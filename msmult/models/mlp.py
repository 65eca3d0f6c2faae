"""Multilayer perceptron for flat feature vectors (tabular data)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import nn

from msmult.models.layers import MaskSite


class MLP(nn.Module):
    """Linear -> ReLU -> MaskSite blocks, then a linear head producing class logits.

    Inputs of any shape after the row axis are flattened, so an MLP also runs on images.
    """

    def __init__(
        self, input_shape: Sequence[int], n_classes: int, hidden: Sequence[int] = (64, 64)
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(input_shape)
        for units in hidden:
            layers += [nn.Linear(width, units), nn.ReLU(), MaskSite()]
            width = units
        layers.append(nn.Linear(width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
