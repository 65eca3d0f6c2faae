"""Marker layers shared by every torch architecture in msmult."""

from torch import nn


class MaskSite(nn.Identity):
    """Where Rashomon exploration may drop hidden units: placed right after a hidden activation.

    Identity in normal use. Dropout exploration finds every ``MaskSite`` in a model and multiplies
    its output by a fixed per-unit mask (one value per feature of a linear layer, one per channel of
    a conv layer, broadcast over the row axis and any spatial axes).
    """
