"""N models of one architecture as one: parameters stacked on a leading model axis.

``StackedNet(modules)`` copies the parameters of N modules of the same architecture into leaf
tensors of shape (N, ...) and runs all N on (N, rows, ...) inputs, model i on its own rows. Each
layer is computed per model with the same kernels whatever N is (batched matrix products, whose
slices equal the single products; torch's own convolution, model by model; one flat embedding table
with per-model id offsets), so a model's numbers do not depend on how many models share its
stack, nor on which.

Each parameter of the N models lives in one (N, P) tensor, model i's values in row i, P rounded up
to a multiple of 64 floats: torch's vectorised kernels (Adam's update above all) then handle every
model's values the same way, whatever N and the thread count (a short tensor's tail otherwise
takes a scalar path that rounds differently).

An architecture opts in with ``stacked_layers()``: its layers as ``(parameter prefix, layer)`` in
the order its ``forward`` applies them (msmult's MLP, CNN and text models do). Supported layers:
``Flatten``, ``Linear``, ``ReLU``, ``Identity`` (``MaskSite``), ``Conv2d`` (zero padding),
``MaxPool2d`` and the text model's ``MeanEmbedding``. Anything else
raises ``NotStackable``, and the caller trains those models one at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from msmult.models.text import MeanEmbedding

Layer = Callable[["StackedNet", torch.Tensor], torch.Tensor]
ALIGN = 64  # floats: each model's row of a parameter is padded to a multiple of this


class NotStackable(Exception):
    """The architecture has a layer (or a forward) that ``StackedNet`` cannot run stacked."""


def linear(prefix: str, layer: nn.Linear) -> Layer:
    weight, bias = f"{prefix}.weight", f"{prefix}.bias"
    if layer.bias is None:
        return lambda net, x: torch.bmm(x, net.params[weight].transpose(1, 2))
    return lambda net, x: torch.baddbmm(
        net.params[bias].unsqueeze(1), x, net.params[weight].transpose(1, 2)
    )


def conv2d(prefix: str, layer: nn.Conv2d) -> Layer:
    """A 2-D convolution, model by model: torch's own convolution kernel on each model's rows
    (on the CPU, stacking convolutions into one batched product or a grouped convolution was
    slower than this loop and rounds differently from one model alone)."""
    weight, bias = f"{prefix}.weight", f"{prefix}.bias"
    settings = {
        "stride": layer.stride,
        "padding": layer.padding,
        "dilation": layer.dilation,
        "groups": layer.groups,
    }
    if layer.padding_mode != "zeros":
        raise NotStackable(f"{prefix}: Conv2d with padding_mode={layer.padding_mode!r}")

    def forward(net: StackedNet, x: torch.Tensor) -> torch.Tensor:
        # unbind, not x[i]: the gradient of N unbound slices is one stack, while each indexed
        # slice's gradient is a zero-filled copy of the whole (N, ...) tensor
        w, b = net.params[weight], net.params.get(bias)
        biases = [None] * len(x) if b is None else b.unbind(0)
        return torch.stack(
            [
                F.conv2d(rows, kernel, shift, **settings)
                for rows, kernel, shift in zip(x.unbind(0), w.unbind(0), biases)
            ]
        )

    return forward


def per_row(fn: Callable[[torch.Tensor], torch.Tensor]) -> Layer:
    """A layer that acts on each row alone (pooling): applied to all models' rows at once."""

    def forward(net: StackedNet, x: torch.Tensor) -> torch.Tensor:
        out = fn(x.flatten(0, 1))
        return out.view(*x.shape[:2], *out.shape[1:])

    return forward


def mean_embedding(prefix: str, layer: MeanEmbedding) -> Layer:
    """The text model's mean of non-padding embeddings: the table's (N, P) tensor read as one
    table of D-wide rows, model i's ids shifted to its own rows, each row's embeddings gathered
    and summed with its weights (a gather rather than ``embedding_bag``, whose gradient adds up
    repeated ids in an order that depends on the other models' ids)."""
    weight = f"{prefix}.weight"

    def forward(net: StackedNet, ids: torch.Tensor) -> torch.Tensor:
        n = ids.shape[0]
        table, first = net.table(weight)
        vectors = F.embedding(ids + first.view(n, 1, 1), table)
        return (vectors * MeanEmbedding.row_weights(ids).unsqueeze(-1)).sum(2)

    return forward


def stacked_layer(prefix: str, layer: nn.Module) -> Layer:
    """The stacked form of one layer, or ``NotStackable``."""
    if isinstance(layer, nn.Linear):
        return linear(prefix, layer)
    if isinstance(layer, nn.Conv2d):
        return conv2d(prefix, layer)
    if isinstance(layer, MeanEmbedding):
        return mean_embedding(prefix, layer)
    if isinstance(layer, nn.ReLU):
        return lambda net, x: torch.relu(x)
    if isinstance(layer, nn.Identity):
        return lambda net, x: x
    if isinstance(layer, nn.Flatten) and layer.start_dim == 1 and layer.end_dim == -1:
        return lambda net, x: x.flatten(2)
    if isinstance(layer, nn.MaxPool2d):
        settings = (layer.kernel_size, layer.stride, layer.padding, layer.dilation)
        return per_row(lambda x: F.max_pool2d(x, *settings, ceil_mode=layer.ceil_mode))
    raise NotStackable(f"{prefix}: {type(layer).__name__} has no stacked form")


class StackedNet:
    """N modules of one architecture trained as one (see the module docstring).

    ``leaves``: name -> (N, P) leaf tensor (requiring grad) holding that parameter of every
    model, row i model i's values (P: its size rounded up to ``ALIGN``); ``params``: name ->
    (N, ...) views of them in the parameter's shape; ``thread_safe``: whether a model's numbers
    are the same on any number of threads when N > 1 (not with convolutions);
    ``forward(x)``: (N, rows, ...) inputs -> (N, rows, classes) logits;
    ``copy_into(modules, state)`` writes parameters back."""

    def __init__(self, modules: Sequence[nn.Module]) -> None:
        template = modules[0]
        plan = getattr(template, "stacked_layers", None)
        if plan is None:
            raise NotStackable(f"{type(template).__name__} has no stacked_layers()")
        if any(True for _ in template.buffers()):
            raise NotStackable(f"{type(template).__name__} has buffers (e.g. batch norm)")
        layers = plan()
        self.layers = [stacked_layer(prefix, layer) for prefix, layer in layers]
        # torch's CPU convolution sums in an order that depends on its thread count
        self.thread_safe = not any(isinstance(layer, nn.Conv2d) for _, layer in layers)
        self.shapes = {name: value.shape for name, value in template.named_parameters()}
        # an embedding's rows of D values stay whole: its padding is a multiple of D too
        self.aligns = {
            f"{prefix}.weight": math.lcm(ALIGN, layer.embedding_dim)
            for prefix, layer in layers
            if isinstance(layer, MeanEmbedding)
        }
        self.leaves = {
            name: self.stacked(name, [dict(m.named_parameters())[name] for m in modules])
            for name in self.shapes
        }
        self.params = self.views(self.leaves)

    def stacked(self, name: str, values: list[torch.Tensor]) -> torch.Tensor:
        """One parameter of every model as an (N, P) leaf, zeros after each model's values."""
        size, align = math.prod(self.shapes[name]), self.aligns.get(name, ALIGN)
        leaf = values[0].new_zeros((len(values), -(-size // align) * align))
        with torch.no_grad():
            for row, value in zip(leaf, values):
                row[:size] = value.detach().flatten()
        return leaf.requires_grad_()

    def views(self, leaves: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Name -> (N, ...) view of that parameter's (N, P) tensor, in the parameter's shape."""
        return {
            name: leaf[:, : math.prod(self.shapes[name])].view(-1, *self.shapes[name])
            for name, leaf in leaves.items()
        }

    def table(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """An embedding's (N, P) tensor read as one table of D-wide rows, and the row where each
        model's embedding starts in it."""
        leaf, width = self.leaves[name], self.shapes[name][1]
        first = torch.arange(len(leaf), device=leaf.device) * (leaf.shape[1] // width)
        return leaf.view(-1, width), first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(self, x)
        return x

    def zero_grad(self) -> None:
        for leaf in self.leaves.values():
            leaf.grad = None

    def snapshot(self) -> dict[str, torch.Tensor]:
        """A copy of every model's parameters (name -> (N, P))."""
        return {name: leaf.detach().clone() for name, leaf in self.leaves.items()}

    @torch.no_grad()
    def copy_into(self, modules: Sequence[nn.Module], state: dict[str, torch.Tensor]) -> None:
        """Load model i's parameters from row i of each of ``state``'s (N, P) tensors."""
        views = self.views(state)
        for index, module in enumerate(modules):
            module.load_state_dict({name: value[index].clone() for name, value in views.items()})

    def parameter_count(self) -> int:
        """Values per model, padding included."""
        return sum(leaf.shape[1] for leaf in self.leaves.values())
