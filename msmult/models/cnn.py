"""A small convolutional network for 28x28 RGB images (HAM10000 dermoscopy)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from msmult.errors import MsmultError
from msmult.models.layers import MaskSite, check_row_shape, hidden_and_head, named_layers, widths
from msmult.validation import bad_value, is_whole, whole


class CNN(nn.Module):
    """Conv blocks (3x3 conv -> ReLU -> MaskSite -> 2x2 max-pool), then Linear -> ReLU -> MaskSite
    blocks and a linear head producing class logits. The first convolution has stride
    ``first_stride`` (2 by default: 28x28 -> 14 -> 7 -> 3), which makes the network ~5x cheaper
    than a stride-1 stem on CPU; 200 masked forward passes over a 2,000-image test set then take
    seconds rather than minutes.

    Dropout exploration masks whole *channels* after each convolution (one mask value per channel,
    broadcast over the spatial axes) and single *units* after each hidden linear layer; the input
    and the output head are never masked. With the defaults (channels 16, 32; hidden 64) that is
    16 + 32 + 64 = 112 explorable units, about 24 k parameters: about a second per epoch on two
    CPU cores for ~2,000 28x28 images.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        n_classes: int,
        channels: Sequence[int] = (16, 32),
        hidden: Sequence[int] = (64,),
        kernel_size: int = 3,
        first_stride: int = 2,
    ) -> None:
        super().__init__()
        check_row_shape(
            input_shape,
            3,
            "The CNN",
            "(channels, height, width): use an image "
            "dataset (e.g. dataset=ham10000) or an MLP / text architecture",
        )
        if not is_whole(kernel_size) or kernel_size < 1 or kernel_size % 2 == 0:
            allowed = "it must be a positive odd number"
            raise bad_value(
                "module.kernel_size", kernel_size, allowed, "victim.module.kernel_size=3"
            )
        first_stride = whole(
            "module.first_stride", first_stride, 1, example="victim.module.first_stride=2"
        )
        channels = widths("channels", channels, "[16,32]")
        in_channels, height, width = (int(v) for v in input_shape)
        layers: list[nn.Module] = []
        for block, out_channels in enumerate(channels):
            stride = first_stride if block == 0 else 1
            layers += [
                nn.Conv2d(
                    in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2
                ),
                nn.ReLU(),
                MaskSite(),
                nn.MaxPool2d(2),
            ]
            height = (height + 2 * (kernel_size // 2) - kernel_size) // stride + 1
            width = (width + 2 * (kernel_size // 2) - kernel_size) // stride + 1
            in_channels, height, width = out_channels, height // 2, width // 2
        if min(height, width) < 1:
            raise MsmultError(
                f"{len(channels)} conv blocks (first stride {first_stride}, each followed by 2x2 "
                f"pooling) shrink {tuple(input_shape)[1:]} images to nothing; use fewer entries in "
                "channels or first_stride=1."
            )
        head = hidden_and_head(in_channels * height * width, hidden, n_classes)
        self.net = nn.Sequential(*layers, nn.Flatten(), *head)

    def stacked_layers(self) -> list[tuple[str, nn.Module]]:
        """The layers ``forward`` applies, for batched training (``msmult.models.stacked``)."""
        return named_layers("net", self.net)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
