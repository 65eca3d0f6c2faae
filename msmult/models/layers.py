"""Building blocks shared by every torch architecture in msmult.

The modules do not know whether they are the victim or the surrogate, so their config errors name
the key below ``module`` (``module.hidden``) and give the victim's full key as the example."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from msmult.errors import MsmultError
from msmult.validation import as_list, bad_value, is_whole


class MaskSite(nn.Identity):
    """Where Rashomon exploration may drop hidden units: placed right after a hidden activation.

    Identity in normal use. Dropout exploration finds every ``MaskSite`` in a model and multiplies
    its output by a fixed per-unit mask (one value per feature of a linear layer, one per channel of
    a conv layer, broadcast over the row axis and any spatial axes).
    """


def check_row_shape(input_shape: Sequence[int], rank: int, model: str, needs: str) -> None:
    """Refuse inputs whose rows do not have ``rank`` axes (``needs`` says what they should be)."""
    if len(input_shape) != rank:
        raise MsmultError(
            f"{model} needs rows shaped {needs}; got rows of shape {tuple(input_shape)}."
        )


def widths(name: str, values: Sequence[int], example: str) -> list[int]:
    """``module.<name>``: a list of layer widths (whole numbers >= 1), else a clear error."""
    key = f"module.{name}"
    items = as_list(key, values)
    if not all(is_whole(v) and v >= 1 for v in items):
        allowed = "it must be a list of whole numbers >= 1, one per layer"
        raise bad_value(key, items, allowed, f"victim.{key}={example}")
    return items


def hidden_and_head(in_features: int, hidden: Sequence[int], n_classes: int) -> list[nn.Module]:
    """``Linear -> ReLU -> MaskSite`` for each width in ``hidden``, then a linear head producing
    ``n_classes`` logits: the classifier end of every msmult architecture."""
    layers: list[nn.Module] = []
    for units in widths("hidden", hidden, "[64,64]"):
        layers += [nn.Linear(in_features, units), nn.ReLU(), MaskSite()]
        in_features = units
    return [*layers, nn.Linear(in_features, n_classes)]


def named_layers(prefix: str, net: nn.Sequential) -> list[tuple[str, nn.Module]]:
    """``(parameter prefix, layer)`` for each layer of ``net`` (named ``prefix`` in its module),
    in order: what ``stacked_layers()`` returns for a module whose forward is ``net``."""
    return [(f"{prefix}.{name}", layer) for name, layer in net.named_children()]
