"""Masked forward passes (msmult.rashomon.masked_forward): every masked copy of a network at
once, by hooks or with masks folded into the next Linear, equals each copy run alone."""

from __future__ import annotations

import numpy as np
import pytest

from msmult.errors import MsmultError


def masked_by_hand(layers, x, masks):
    """Copy b of a Sequential run layer by layer, each MaskSite's output times masks[site][b]."""
    import torch

    from msmult.models.layers import MaskSite

    out = []
    for b in range(len(masks[0])):
        h, site = x, 0
        for layer in layers:
            h = layer(h)
            if isinstance(layer, MaskSite):  # one value per feature or channel
                mask = masks[site][b].reshape(-1, *[1] * (h.dim() - 2))
                h, site = h * mask, site + 1
        out.append(torch.softmax(h, dim=-1))
    return torch.stack(out)


@pytest.mark.parametrize("kind", ["hook", "folded"])
def test_masked_forward_equals_each_masked_copy(kind):
    import torch
    from torch import nn

    from msmult.models.layers import MaskSite
    from msmult.rashomon.masked_forward import MaskedForward

    torch.manual_seed(0)
    middle = nn.Tanh() if kind == "hook" else nn.ReLU()  # Tanh breaks the Linear/ReLU chain
    layers = nn.Sequential(
        nn.Linear(3, 4),
        nn.ReLU(),
        MaskSite(),
        nn.Linear(4, 5, bias=False),
        nn.ReLU(),
        nn.Linear(5, 5),
        middle,
        MaskSite(),
        nn.Linear(5, 3),
        MaskSite(),
    ).eval()
    x = torch.randn(7, 3)
    rng = np.random.default_rng(2)
    masks = [
        torch.as_tensor(rng.uniform(0, 2, (4, units)).astype(np.float32)) for units in (4, 5, 3)
    ]
    forward = MaskedForward(layers)
    assert forward.unit_counts(x[:1]) == [4, 5, 3]
    assert forward.chain is (kind == "folded")
    with torch.no_grad():
        expected = masked_by_hand(layers, x, masks)
        got = forward.proba_from(masks, forward.prefix(x), rows=3)
        plain = layers(x)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(forward.proba(masks, x, rows=5), expected, atol=1e-6, rtol=1e-5)
    assert forward.masks == []  # the hooks are off again: the module answers unmasked
    if kind == "folded":  # each mask folded into the next Linear's weights; the last stays a mask
        from msmult.rashomon.masked_forward import folded

        shapes = [type(layer).__name__ for layer in folded(forward.tail, masks)]
        assert shapes == ["tuple", "ReLU", "Linear", "ReLU", "tuple", "Tensor"]
    with torch.no_grad():
        torch.testing.assert_close(layers(x), plain)


def test_masked_forward_refuses_a_module_without_mask_sites():
    from torch import nn

    from msmult.rashomon.masked_forward import MaskedForward

    with pytest.raises(MsmultError, match="needs a surrogate with MaskSite layers .* has none"):
        MaskedForward(nn.Sequential(nn.Linear(2, 2)))


def test_masked_forward_of_conv_channels_and_of_a_module_without_a_sequential():
    import torch
    from torch import nn

    from msmult.models.layers import MaskSite
    from msmult.rashomon.masked_forward import MaskedForward

    torch.manual_seed(0)
    conv = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.ReLU(), MaskSite(), nn.Flatten(), nn.Linear(8, 3)
    ).eval()
    x = torch.randn(5, 1, 4, 4)
    masks = [torch.tensor([[0.0, 2.0], [1.5, 0.5], [1.0, 1.0]])]
    forward = MaskedForward(conv)
    assert forward.unit_counts(x[:1]) == [2] and not forward.chain
    with torch.no_grad():
        got = forward.proba_from(masks, forward.prefix(x), rows=2)
        torch.testing.assert_close(got, masked_by_hand(conv, x, masks), atol=1e-6, rtol=1e-5)

    class Net(nn.Module):  # its site is an attribute, in no Sequential: no shared prefix
        def __init__(self):
            super().__init__()
            self.a, self.site, self.b = nn.Linear(3, 4), MaskSite(), nn.Linear(4, 2)

        def forward(self, z):
            return self.b(self.site(torch.relu(self.a(z))))

    net = Net().eval()
    rows = torch.randn(6, 3)
    forward = MaskedForward(net)
    assert forward.unit_counts(rows[:1]) == [4] and forward.tail is None
    mask = torch.tensor([[1.0, 0.0, 2.0, 1.0], [0.5, 0.5, 0.5, 0.5]])  # 2 copies, 1 site
    with torch.no_grad():
        assert forward.prefix(rows) is rows
        got = forward.proba([mask], rows, rows=4)
        for b in range(2):
            expected = torch.softmax(net.b(torch.relu(net.a(rows)) * mask[b]), dim=-1)
            torch.testing.assert_close(got[b], expected, atol=1e-6, rtol=1e-5)


def test_softmax_in_place_subtracts_the_row_maximum_whichever_class_holds_it():
    from msmult.rashomon.masked_forward import softmax_in_place

    logits = np.array(
        [[1000.0, 0.0, 0.0], [0.0, 1000.0, 0.0], [0.0, 0.0, 1000.0], [0.0, np.log(3.0), 0.0]],
        np.float32,
    )
    with np.errstate(over="raise", invalid="raise"):
        result = softmax_in_place(logits)
    assert result is logits
    np.testing.assert_allclose(logits[:3], np.eye(3), atol=1e-7)
    np.testing.assert_allclose(logits[3], [0.2, 0.6, 0.2], rtol=1e-6)
