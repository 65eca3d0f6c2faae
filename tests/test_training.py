"""TorchClassifier training aids: early stopping on held-out answers, the cosine schedule."""

import math
import re

import numpy as np
import pytest
from torch import nn

from msmult.errors import MsmultError
from msmult.models.early_stopping import learning_rate, split_validation
from msmult.models.torch_classifier import TorchClassifier


def zero_linear(input_shape, n_classes):
    """Logits w * x with w starting at 0: every step moves the logit gap the same way."""
    layer = nn.Linear(input_shape[0], n_classes, bias=False)
    nn.init.zeros_(layer.weight)
    return layer


def overshooting(**kwargs) -> TorchClassifier:
    """Training rows say class 0 for sure; the validation answers say 0.6 / 0.4. Adam's first
    steps move the logit gap by about 2 * lr = 0.1 per epoch, so training passes the validation
    optimum (gap log 1.5 = 0.405, about epoch 4) and keeps going towards class 0."""
    model = TorchClassifier(zero_linear, 2, epochs=25, batch_size=8, lr=0.05, **kwargs)
    return model


X = np.ones((8, 1), np.float32)
TRAIN = np.eye(2, dtype=np.float32)[[0] * 8]
VALID = (np.ones((4, 1), np.float32), np.tile(np.float32([0.6, 0.4]), (4, 1)))


def test_early_stopping_restores_the_best_validation_epoch():
    model = overshooting().fit(X, TRAIN, validation=VALID)
    losses = model.val_losses_
    assert len(losses) == 25 and model.best_epoch_ == int(np.argmin(losses))
    assert 2 <= model.best_epoch_ <= 6 and losses[-1] > min(losses) + 0.05  # it overshot
    # the kept weights are the best epoch's: their answer is the validation optimum, 0.6
    np.testing.assert_allclose(model.predict_proba(X[:1])[0], [0.6, 0.4], atol=0.03)
    assert overshooting().fit(X, TRAIN).predict_proba(X[:1])[0, 0] > 0.8  # without it


def test_patience_stops_training_after_that_many_epochs_without_improvement():
    model = overshooting(patience=3).fit(X, TRAIN, validation=VALID)
    assert len(model.val_losses_) == model.best_epoch_ + 4  # best, then 3 worse epochs


def test_validation_share_sets_aside_seeded_rows():
    train, held = split_validation(20, 0.1, seed=0)
    assert len(held) == 2 and len(train) == 18 and not set(train) & set(held)
    np.testing.assert_array_equal(held, split_validation(20, 0.1, seed=0)[1])
    assert len(split_validation(2, 0.9, seed=0)[0]) == 1  # always a row left to train on


def test_cosine_schedule_reaches_the_configured_final_rate():
    rates = [learning_rate("cosine", 0.1, 0.001, 5, epoch) for epoch in range(5)]
    # lr_e = final + (lr - final) * (1 + cos(pi * e / 4)) / 2, e = 0..4
    expected = [0.001 + 0.099 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
    np.testing.assert_allclose(rates, expected, rtol=1e-9)
    assert rates[-1] == pytest.approx(0.001) and rates[2] == pytest.approx(0.0505)
    assert learning_rate("constant", 0.1, 0.0, 5, 3) == 0.1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"lr_schedule": "step"}, "surrogate.lr_schedule='step'"),
        ({"final_lr": 0.5}, "surrogate.final_lr=0.5"),
        ({"validation_share": 1.0}, "surrogate.validation_share=1.0"),
        ({"patience": 0}, "surrogate.patience=0"),
    ],
)
def test_bad_training_settings_are_refused(args, message):
    with pytest.raises(MsmultError, match=re.escape(message)):
        TorchClassifier(zero_linear, 2, lr=0.01, name="surrogate", **args)
