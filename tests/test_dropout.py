"""Dropout exploration: fixed masks, batched evaluation, and the Rashomon member filter."""

import re
from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import Recorder, constant_task, record_bars, shipped
from torch import nn

from msmult.errors import MsmultError
from msmult.models.layers import MaskSite
from msmult.models.mlp import MLP
from msmult.models.torch_classifier import TorchClassifier
from msmult.rashomon import Exploration, ExplorationTask
from msmult.rashomon.crossfit import HoldoutFold
from msmult.rashomon.dropout import DropoutExplorer, draw_mask
from msmult.rashomon.exploration import fidelity_loss, within_reach
from msmult.rashomon.masked_forward import MaskedForward


def exploration(losses, epsilon):
    table = pd.DataFrame({"kind": ["base"] + ["bernoulli"] * (len(losses) - 1)})
    return Exploration(table, np.array(losses), {}, epsilon)


def test_members_are_within_epsilon_of_the_base_loss():
    # base 0.25, epsilon 0.125: threshold 0.375 (exact in binary floating point)
    found = exploration([0.25, 0.375, 0.3755, 0.2, 1.0], 0.125).in_set
    np.testing.assert_array_equal(found, [True, True, False, True, False])


def test_a_base_model_with_the_lowest_loss_is_a_member_at_epsilon_zero():
    assert exploration([0.25, 0.5, 0.25 + 1e-12], 0.0).in_set.tolist() == [True, False, False]


def test_negative_epsilon_is_refused():
    with pytest.raises(MsmultError, match="epsilon=-0.1"):
        task(np.zeros((2, 1)), np.ones((2, 2)) / 2, {"test": np.zeros((1, 1))}, epsilon=-0.1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"rates": [1.5]}, "rashomon.rates=[1.5]"),
        ({"rates": ["a"]}, "rashomon.rates=['a']"),
        ({"draws_per_rate": 0}, "rashomon.draws_per_rate=0"),
        ({"kinds": ["uniform"]}, "rashomon.kinds=['uniform']"),
    ],
)
def test_bad_explorer_settings_are_refused(args, message):
    with pytest.raises(MsmultError, match=re.escape(message)):
        shipped(DropoutExplorer, **{"rates": [0.1], "draws_per_rate": 1, **args})


def task(x_holdout, targets, eval_sets, surrogate=None, epsilon=0.05):
    return ExplorationTask(
        surrogate, None, x_holdout, targets, x_holdout, targets, eval_sets, epsilon
    )


def test_masks():
    rng = np.random.default_rng(0)
    bern = draw_mask("bernoulli", 0.5, 10_000, rng)
    assert set(np.unique(bern)) == {0.0, 2.0}  # kept units scaled by 1 / (1 - p)
    assert abs(bern.mean() - 1.0) < 0.05
    gauss = draw_mask("gaussian", 0.1, 10_000, rng)
    assert abs(gauss.mean() - 1.0) < 0.01 and abs(gauss.std() - 0.1) < 0.01
    np.testing.assert_array_equal(draw_mask("bernoulli", 0.0, 5, rng), np.ones(5))


def manual_mlp(module: MLP, x: torch.Tensor, masks: list[np.ndarray]) -> torch.Tensor:
    """Hand-written forward of an MLP whose hidden units are multiplied by fixed masks."""
    linears = [m for m in module.net if isinstance(m, nn.Linear)]
    h = x
    for layer, mask in zip(linears[:-1], masks):
        h = torch.relu(layer(h)) * torch.as_tensor(mask)
    return torch.softmax(linears[-1](h), dim=-1)


def test_batched_masked_forward_equals_each_masked_model():
    torch.manual_seed(0)
    module = MLP(input_shape=(4,), n_classes=3, hidden=(5, 6)).eval()
    x = torch.randn(7, 4)
    rng = np.random.default_rng(1)
    per_model = [
        [draw_mask("bernoulli", 0.3, 5, rng), draw_mask("gaussian", 0.2, 6, rng)] for _ in range(3)
    ]
    forward = MaskedForward(module)
    assert forward.unit_counts(x[:1]) == [5, 6]
    masks = [torch.as_tensor(np.stack([m[i] for m in per_model])) for i in range(2)]
    batched = forward.proba(masks, x, rows=3)  # 3 copies x 3 rows per pass, n = 7
    for b, model_masks in enumerate(per_model):
        torch.testing.assert_close(batched[b], manual_mlp(module, x, model_masks))


def test_conv_sites_mask_whole_channels():
    conv = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), MaskSite(), nn.Flatten(), nn.Linear(2 * 16, 2)
    )
    x = torch.randn(3, 1, 4, 4)
    forward = MaskedForward(conv)
    masked = forward.proba([torch.tensor([[1.0, 0.0]])], x)[0]
    reference = conv[4](conv[3](torch.relu(conv[0](x)) * torch.tensor([1.0, 0.0]).view(1, 2, 1, 1)))
    torch.testing.assert_close(masked, torch.softmax(reference, dim=-1))


def fitted_surrogate():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    module = partial(MLP, hidden=(16,))
    return TorchClassifier(module, n_classes=2, epochs=5, batch_size=32).fit(x, y), x, np.eye(2)[y]


def test_exploration_is_reproducible_and_row_zero_is_the_base_model():
    surrogate, x, targets = fitted_surrogate()
    explorer = shipped(DropoutExplorer, rates=[0.0, 0.2], draws_per_rate=3, models_per_pass=4)
    first = explorer.explore(task(x[:50], targets[:50], {"test": x[50:]}, surrogate))
    again = explorer.explore(task(x[:50], targets[:50], {"test": x[50:]}, surrogate))
    assert len(first.candidates) == 1 + 2 * 2 * 3
    np.testing.assert_array_equal(first.scores["test"], again.scores["test"])
    np.testing.assert_array_equal(first.losses, again.losses)
    np.testing.assert_allclose(first.scores["test"][0], surrogate.predict_proba(x[50:]), atol=1e-6)
    # rate 0 draws are the base model exactly
    rate_zero = first.candidates.index[first.candidates["rate"] == 0.0]
    for index in rate_zero:
        np.testing.assert_allclose(first.scores["test"][index], first.scores["test"][0], atol=1e-6)
    # a fixed mask answers the same for a row whether it comes alone or in a batch
    alone = explorer.explore(task(x[:50], targets[:50], {"test": x[50:51]}, surrogate))
    np.testing.assert_allclose(alone.scores["test"][:, 0], first.scores["test"][:, 0], atol=1e-6)


def dropout(**changes):
    return shipped(DropoutExplorer, **{"rates": [0.1], "draws_per_rate": 1, **changes})


def test_dropout_boundary_values_and_rows_per_pass():
    built = dropout(
        rates=[0.0, 0.999], kinds=["gaussian"], models_per_pass=1, batch_rows=1, seed=0, threads=1
    )
    assert (built.rates, built.kinds, built.draws_per_rate) == ([0.0, 0.999], ["gaussian"], 1)
    assert (built.models_per_pass, built.batch_rows, built.threads, built.pass_rows) == (1, 1, 1, 1)
    assert dropout(batch_rows=10, models_per_pass=4).pass_rows == 2  # 10 // 4
    assert dropout(batch_rows=3, models_per_pass=4).pass_rows == 1  # never 0 rows


def test_dropout_candidates_table_seeds_each_mask_from_kind_rate_and_draw():
    table = dropout(rates=[0.1, 0.2], draws_per_rate=2, seed=3).candidates()

    def seed(*key):
        return int(np.random.SeedSequence([3, *key]).generate_state(1)[0])

    expected = [{"kind": "base", "rate": 0.0, "draw": 0, "mask_seed": -1}] + [
        {"kind": kind, "rate": rate, "draw": draw, "mask_seed": seed(k, r, draw)}
        for k, kind in enumerate(["bernoulli", "gaussian"])
        for r, rate in enumerate([0.1, 0.2])
        for draw in range(2)
    ]
    assert table.to_dict("records") == expected


def test_dropout_explore_scores_only_what_some_epsilon_reaches_and_restores_threads(monkeypatch):
    import torch

    import msmult.rashomon.dropout as dropout_module
    from msmult.models.mlp import MLP
    from msmult.models.torch_classifier import TorchClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    torch.manual_seed(0)
    surrogate = TorchClassifier(
        partial(MLP, hidden=(8,)), n_classes=2, epochs=10, batch_size=32
    ).fit(x, y)
    threads = []
    real_set = torch.set_num_threads
    opened = record_bars(monkeypatch, dropout_module)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: (threads.append(n), real_set(n)))
    real_set(1)
    from msmult.rashomon.masked_forward import MaskedForward

    passes, real_proba_from = [], MaskedForward.proba_from

    def spy(self, masks, prefix, rows=256, out=None):
        passes.append(rows)
        return real_proba_from(self, masks, prefix, rows, out=out)

    monkeypatch.setattr(MaskedForward, "proba_from", spy)
    task = ExplorationTask(
        surrogate,
        None,
        x[:40],
        np.eye(2)[y[:40]],
        x[40:],
        np.eye(2)[y[40:]],
        {"test": x[50:], "extra": x[:3]},
        0.0,
        (0.0, 0.001),
    )
    explorer = shipped(
        DropoutExplorer, [0.0, 0.5], 3, kinds=["bernoulli"], models_per_pass=2, threads=2
    )
    explored = explorer.explore(task)
    assert threads == [2, 1] and torch.get_num_threads() == 1
    reach = within_reach(explored.losses, 0.001)
    assert reach[:4].all() and not reach.all()  # rate 0 copies the base; some rate 0.5 is out
    assert explored.scored.tolist() == reach.tolist()
    assert explored.scores["test"].shape == (int(reach.sum()), 10, 2)
    assert explored.scores["extra"].shape == (int(reach.sum()), 3, 2)
    np.testing.assert_allclose(
        explored.scores["test"][0], surrogate.predict_proba(x[50:]), atol=1e-6
    )
    assert explored.epsilon_grid == (0.0, 0.001) and explored.epsilon == 0.0
    assert explored.candidates.equals(explorer.candidates())
    assert int((~reach).sum()) == 2  # progress: 2 sets x 2 unscored candidates skipped at once
    assert explored.scores["test"].dtype == np.float32
    assert passes and set(passes) == {explorer.pass_rows} == {8192 // 2}  # rows per pass bounded
    # candidate 4 (bernoulli, rate 0.5, draw 0) by hand: its fixed mask on the hidden units
    linears = [m for m in surrogate.module_.net if isinstance(m, torch.nn.Linear)]
    mask = draw_mask(
        "bernoulli", 0.5, 8, np.random.default_rng(explored.candidates["mask_seed"][4])
    )
    with torch.no_grad():
        hidden = torch.relu(linears[0](torch.as_tensor(x[40:]))) * torch.as_tensor(mask)
        proba = torch.softmax(linears[1](hidden), dim=-1).numpy()
    assert explored.losses[4] == pytest.approx(fidelity_loss(proba, np.eye(2)[y[40:]]), rel=1e-5)
    # cross-fitted: unequal folds scored by the same model give the row-weighted full-holdout loss
    folds = tuple(
        HoldoutFold(surrogate, x[a:b], np.eye(2)[y[a:b]]) for a, b in ((40, 43), (43, 60))
    )
    crossfit = explorer.explore(replace(task, folds=folds))
    np.testing.assert_allclose(crossfit.losses, explored.losses, rtol=1e-5)
    # the plain run's bar (the cross-fitted run's bar advances once per fold: see the notes)
    assert opened[0] == {
        "description": "exploring Rashomon set (dropout)",
        "total": 3 * 7,
        "advanced": 3 * 7,
    }


def test_dropout_refuses_a_surrogate_without_torch_by_name():
    message = (
        r"needs a torch surrogate \(surrogate=mlp, cnn, text: .*\); the surrogate is a Recorder"
    )
    with pytest.raises(MsmultError, match=message):
        dropout().explore(constant_task(Recorder))


def test_draw_mask_values_by_kind():
    bernoulli = draw_mask("bernoulli", 0.3, 6, np.random.default_rng(5))
    expected = (np.random.default_rng(5).random(6) >= 0.3).astype(np.float32) / 0.7
    assert bernoulli.dtype == np.float32
    np.testing.assert_array_equal(bernoulli, expected)
    gaussian = draw_mask("gaussian", 0.2, 6, np.random.default_rng(5))
    expected = (1.0 + 0.2 * np.random.default_rng(5).standard_normal(6)).astype(np.float32)
    assert gaussian.dtype == np.float32 and len(set(gaussian.tolist())) == 6
    np.testing.assert_array_equal(gaussian, expected)
