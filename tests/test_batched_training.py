"""Training many torch models at once: each model is the model it would be if trained alone."""

import logging
import re
from functools import partial

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from msmult.errors import MsmultError
from msmult.models.cnn import CNN
from msmult.models.fitting import FitData, fit_many
from msmult.models.mlp import MLP
from msmult.models.sklearn_classifier import SklearnClassifier
from msmult.models.text import EmbeddingBagClassifier
from msmult.models.torch_classifier import TorchClassifier

RNG = np.random.default_rng(0)
TABULAR = RNG.normal(size=(300, 12)).astype(np.float32)
IMAGES = RNG.normal(size=(96, 3, 28, 28)).astype(np.float32)
TOKENS = np.where(np.arange(24) < 16, RNG.integers(1, 512, size=(200, 24)), 0)

ARCHITECTURES = {
    "mlp": (partial(MLP, hidden=[16, 16]), TABULAR, 2, 32, 6),
    "cnn": (partial(CNN, channels=[4, 8], hidden=[16]), IMAGES, 3, 32, 2),
    "text": (
        partial(EmbeddingBagClassifier, vocab_size=512, embed_dim=8, hidden=[16]),
        TOKENS,
        3,
        32,
        4,
    ),
}


class Unstacked:
    """Mixin: an architecture without ``stacked_layers``, which the trainer fits one at a time."""

    stacked_layers = None


def estimator(module, classes, batch, epochs, seed, **kwargs) -> TorchClassifier:
    settings = dict(lr=3e-3, weight_decay=1e-4, lr_schedule="cosine", final_lr=1e-5)
    return TorchClassifier(
        module, classes, epochs=epochs, batch_size=batch, seed=seed, **settings, **kwargs
    )


def resample(seed: int, n: int, size: int | None = None) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size or n)


def fitted(arch: str, seeds: list[int], sizes: list[int] | None = None, **kwargs) -> list:
    """Models of ``arch`` with ``seeds``, each on its own bootstrap resample (of ``sizes``),
    fitted together."""
    module, x, classes, batch, epochs = ARCHITECTURES[arch]
    y = np.random.default_rng(1).integers(0, classes, len(x))
    sizes = sizes or [len(x)] * len(seeds)
    models = [estimator(module, classes, batch, epochs, seed, **kwargs) for seed in seeds]
    data = [FitData(x, y, rows=resample(s, len(x), n)) for s, n in zip(seeds, sizes)]
    return fit_many(models, data)


@pytest.fixture(params=[1, 2], ids=["1 thread", "2 threads"])
def threads(request):
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    yield request.param
    torch.set_num_threads(before)


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_a_model_does_not_depend_on_how_many_models_share_its_batch_nor_which(arch, threads):
    x = ARCHITECTURES[arch][1]
    alone = fitted(arch, [7])[0].predict_proba(x)
    pair = fitted(arch, [7, 8])[0].predict_proba(x)
    twenty = fitted(arch, [*range(100, 110), 7, *range(110, 119)])[10].predict_proba(x)
    for other in (pair, twenty):
        np.testing.assert_allclose(other, alone, rtol=0, atol=1e-5)
        np.testing.assert_array_equal(other.argmax(1), alone.argmax(1))


def test_models_with_different_row_counts_train_together_as_if_alone():
    sizes = [300, 250, 170]
    together = fitted("mlp", [1, 2, 3], sizes)
    for index, (seed, size) in enumerate(zip([1, 2, 3], sizes)):
        alone = fitted("mlp", [seed], [size])[0]
        np.testing.assert_array_equal(
            together[index].predict_proba(TABULAR), alone.predict_proba(TABULAR)
        )


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_a_batched_model_matches_the_one_at_a_time_trainer_within_float32_noise(arch, caplog):
    """The two paths round differently in the last bit (Adam's fused kernel and a masked sum in
    one, per-op Adam and a mean in the other), and training compounds it over steps: about
    2e-7 after 10 epochs on these data; 1e-5 leaves room for that, not for a different model."""
    module, x, classes, batch, epochs = ARCHITECTURES[arch]
    serial_module = type("Plain", (Unstacked, module.func), {})
    y = np.random.default_rng(1).integers(0, classes, len(x))
    stacked = estimator(module, classes, batch, epochs, 3).fit(x, y)
    plain = partial(serial_module, **module.keywords)
    with caplog.at_level(logging.INFO, logger="msmult"):
        serial = fit_many(
            [estimator(plain, classes, batch, epochs, seed) for seed in (3, 4)],
            [FitData(x, y), FitData(x, y)],
        )[0]
    assert "training 2 models one after another" in caplog.text
    np.testing.assert_allclose(serial.predict_proba(x), stacked.predict_proba(x), atol=1e-5)
    np.testing.assert_array_equal(serial.predict(x), stacked.predict(x))


def early_stopper(seed: int, epochs: int = 12, **kwargs) -> TorchClassifier:
    return TorchClassifier(
        partial(MLP, hidden=[16]), 2, epochs=epochs, batch_size=50, lr=0.01, seed=seed, **kwargs
    )


def test_early_stopping_is_per_model_and_keeps_the_best_epochs_weights():
    y = (TABULAR[:, 0] > 0).astype(int)
    misleading = (TABULAR[:40], 1 - y[:40])  # validation answers that training moves away from
    watched = early_stopper(0, patience=2)
    others = [early_stopper(seed) for seed in (1, 2)]
    fit_many(
        [watched, *others],
        [FitData(TABULAR, y, validation=misleading), FitData(TABULAR, y), FitData(TABULAR, y)],
    )
    best = watched.best_epoch_
    assert best < 9 and len(watched.val_losses_) == best + 3  # stopped: best, then 2 worse
    # its weights are its best epoch's: those of the same model trained for best + 1 epochs
    short = early_stopper(0, epochs=best + 1).fit(TABULAR, y)
    np.testing.assert_array_equal(watched.predict_proba(TABULAR), short.predict_proba(TABULAR))
    # the others trained on, unmoved by its stop: as if each had been trained alone
    for model, seed in zip(others, (1, 2)):
        alone = early_stopper(seed).fit(TABULAR, y)
        np.testing.assert_array_equal(model.predict_proba(TABULAR), alone.predict_proba(TABULAR))


def test_a_memory_budget_cuts_the_batch_into_chunks_without_changing_a_model(caplog):
    roomy = fitted("mlp", [1, 2, 3])
    with caplog.at_level(logging.INFO, logger="msmult"):
        tight = fitted("mlp", [1, 2, 3], memory_gb=1.2e-4)  # room for two such models
    assert "3 models in 2 stacks of at most 2 (memory_gb=0.00012)" in caplog.text
    for a, b in zip(roomy, tight):
        np.testing.assert_array_equal(a.predict_proba(TABULAR), b.predict_proba(TABULAR))


def test_a_memory_budget_too_small_for_one_model_is_refused_with_the_key_and_a_size():
    with pytest.raises(MsmultError, match=re.escape("memory_gb=1e-07 is not allowed")) as err:
        fitted("mlp", [1, 2], memory_gb=1e-7)
    assert "GiB to train" in str(err.value) and "e.g. memory_gb=" in str(err.value)


def test_scikit_learn_models_are_fitted_one_by_one_beside_torch_models():
    y = (TABULAR[:, 0] > 0).astype(int)
    logreg = SklearnClassifier(LogisticRegression(), 2)
    torch_model = early_stopper(0)
    rows = np.arange(200)
    fit_many([logreg, torch_model], [FitData(TABULAR, y, rows=rows), FitData(TABULAR, y)])
    expected = LogisticRegression().fit(TABULAR[rows], y[rows]).predict_proba(TABULAR)
    np.testing.assert_allclose(logreg.predict_proba(TABULAR), expected)
    assert torch_model.predict_proba(TABULAR).shape == (300, 2)


def test_training_leaves_the_torch_thread_count_as_it_was():
    before = torch.get_num_threads()
    fitted("mlp", [1])
    assert torch.get_num_threads() == before
