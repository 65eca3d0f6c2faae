"""The image CNN and the text EmbeddingBagClassifier: shapes, MaskSite placement, errors, and that
a TorchClassifier with each learns a small subset of the real data better than chance."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score
from torch import nn

from msmult.data.davidson import DavidsonDataset
from msmult.data.ham10000 import Ham10000Dataset
from msmult.errors import MsmultError
from msmult.models.cnn import CNN
from msmult.models.layers import MaskSite, hidden_and_head
from msmult.models.text import EmbeddingBagClassifier
from msmult.models.torch_classifier import TorchClassifier
from msmult.rashomon.masked_forward import MaskedForward


def site_output_shapes(module: nn.Module, x: torch.Tensor) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    sites = [m for m in module.modules() if isinstance(m, MaskSite)]
    hooks = [
        s.register_forward_hook(lambda _m, _i, o: shapes.append(tuple(o.shape))) for s in sites
    ]
    with torch.no_grad():
        module(x)
    for hook in hooks:
        hook.remove()
    return shapes


def test_cnn_shapes_and_mask_sites():
    model = CNN(input_shape=(3, 28, 28), n_classes=7)
    x = torch.randn(5, 3, 28, 28)
    assert model(x).shape == (5, 7)
    # conv channels (16 at 14x14 after the stride-2 stem, 32 at 7x7) and 64 hidden units
    assert site_output_shapes(model, x) == [(5, 16, 14, 14), (5, 32, 7, 7), (5, 64)]
    deeper = CNN(input_shape=(3, 28, 28), n_classes=2, channels=(8, 16, 32), first_stride=1)
    assert deeper(x).shape == (5, 2)
    assert [s[1] for s in site_output_shapes(deeper, x)] == [8, 16, 32, 64]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"input_shape": (784,)},
        {"input_shape": (3, 28, 28), "channels": (8, 8, 8, 8, 8)},
        {"input_shape": (3, 28, 28), "kernel_size": 4},
        {"input_shape": (3, 28, 28), "first_stride": 0},
        {"input_shape": (3, 28, 28), "channels": (8, 0)},
        {"input_shape": (3, 28, 28), "hidden": (64, "wide")},
    ],
)
def test_cnn_rejects_bad_shapes(kwargs):
    with pytest.raises(MsmultError):
        CNN(n_classes=2, **kwargs)


def test_hidden_and_head_builds_masked_blocks_then_a_head():
    layers = hidden_and_head(10, [8, 4], n_classes=3)
    assert [type(m) for m in layers] == [nn.Linear, nn.ReLU, MaskSite] * 2 + [nn.Linear]
    assert (layers[0].in_features, layers[3].in_features, layers[-1].out_features) == (10, 8, 3)
    assert [type(m) for m in hidden_and_head(10, [], n_classes=3)] == [nn.Linear]
    with pytest.raises(MsmultError, match=r"module.hidden=\[8, 0\] is not allowed"):
        hidden_and_head(10, [8, 0], n_classes=3)


def test_dropout_masks_broadcast_over_cnn_channels():
    torch.manual_seed(0)
    model = CNN(input_shape=(3, 28, 28), n_classes=3).eval()
    forward = MaskedForward(model)
    x = torch.randn(6, 3, 28, 28)
    assert forward.unit_counts(x[:1]) == [16, 32, 64]
    ones = [torch.ones(2, units) for units in (16, 32, 64)]
    dropped = [m.clone() for m in ones]
    dropped[0][1, :8] = 0  # second model loses half of the first conv's channels
    proba = forward.proba(dropped, x)
    with torch.no_grad():
        plain = torch.softmax(model(x), dim=-1)
    torch.testing.assert_close(proba[0], plain)
    assert not torch.allclose(proba[1], plain)


def test_embedding_bag_shapes_padding_and_order():
    torch.manual_seed(0)
    model = EmbeddingBagClassifier(input_shape=(6,), n_classes=3, vocab_size=100, embed_dim=8)
    ids = torch.tensor([[5, 7, 9, 0, 0, 0], [9, 5, 7, 0, 0, 0], [0] * 6, [1, 2, 3, 4, 5, 99]])
    out = model(ids)
    assert out.shape == (4, 3)
    torch.testing.assert_close(out[0], out[1])  # a bag: order does not matter
    # same as EmbeddingBag(mode="mean", padding_idx=0) on the shared table
    reference = nn.EmbeddingBag(100, 8, mode="mean", padding_idx=0)
    reference.weight.data.copy_(model.embedding.weight.data)
    torch.testing.assert_close(model.net(reference(ids)), out)
    assert site_output_shapes(model, ids) == [(4, 64)]
    widened = torch.cat([ids, torch.zeros(4, 10, dtype=torch.long)], dim=1)
    torch.testing.assert_close(model(widened), out)  # extra padding changes nothing


def test_embedding_bag_rejects_bad_inputs():
    model = EmbeddingBagClassifier(input_shape=(4,), n_classes=2, vocab_size=10)
    with pytest.raises(MsmultError, match="vocab_size"):
        model(torch.tensor([[1, 2, 10, 0]]))
    with pytest.raises(MsmultError, match="integer token ids"):
        model(torch.zeros(1, 4))
    with pytest.raises(MsmultError):
        EmbeddingBagClassifier(input_shape=(3, 28, 28), n_classes=2)


def test_cnn_classifier_learns_ham10000_subset():
    splits = Ham10000Dataset(subsample=0.5).load(seed=0)
    model = TorchClassifier(CNN, n_classes=7, epochs=10, batch_size=64, lr=2e-3, seed=0)
    model.fit(splits.x_victim, splits.y_victim)
    proba = model.predict_proba(splits.x_test)
    assert proba.shape == (len(splits.x_test), 7)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    predicted = proba.argmax(axis=1)
    majority = np.bincount(splits.y_test).max() / len(splits.y_test)
    assert (predicted == splits.y_test).mean() >= majority
    assert balanced_accuracy_score(splits.y_test, predicted) > 1 / 7 + 0.03


def test_text_classifier_learns_davidson_subset():
    splits = DavidsonDataset(n_buckets=2**14, hatecheck=False, subsample=0.25).load(seed=0)
    module = functools.partial(EmbeddingBagClassifier, vocab_size=2**14, embed_dim=16)
    model = TorchClassifier(module, n_classes=3, epochs=8, batch_size=64, lr=3e-3, seed=0)
    model.fit(splits.x_victim, splits.y_victim)
    predicted = model.predict(splits.x_test)
    majority = np.bincount(splits.y_test).max() / len(splits.y_test)
    assert (predicted == splits.y_test).mean() > majority
    assert balanced_accuracy_score(splits.y_test, predicted) > 1 / 3 + 0.05
