"""Retrain and bootstrap explorers, and membership.epsilon=auto, on a tiny task whose surrogate
predicts a constant: the mean of the targets it was fitted on, plus an offset set by its seed.

On the balanced holdout a constant p costs -(ln p + ln(1 - p)) / 2 nats: 0.7254 for the base's
3/8, 0.7584 for 3/8 + 0.3 (out at epsilon 0.02) and more for 0.95 (out)."""

import numpy as np
import pytest
from helpers import FIT_P, HOLDOUT_P, Recorder, constant_task, shipped, two_class

from msmult.errors import MsmultError
from msmult.rashomon import fidelity_loss
from msmult.rashomon.membership import Membership, calibrate_epsilon
from msmult.rashomon.refit import (
    BootstrapExplorer,
    RetrainExplorer,
    fit_refits,
    refit_exploration,
    refit_seeds,
)


class Constant(Recorder):
    """P(class 1) = mean of the fitted targets' class-1 share + 0.3 * (seed % 3), at most 0.95."""

    offset = 0.3


def task(epsilon=0.02, base_seed=0):
    return constant_task(Constant, epsilon, base_seed=base_seed)


def loss_of(p):
    """Cross-entropy of a constant P(class 1) = p against the holdout (half of each class)."""
    return -(np.log(1 - p) + np.log(p)) / 2


def test_retrain_refits_on_the_same_rows_and_applies_the_membership_rule():
    exploration = shipped(RetrainExplorer, n_models=6, seed=7).explore(task())
    seeds = refit_seeds(7, 0, 5)
    expected_p = [3 / 8] + [min(0.95, 3 / 8 + 0.3 * (s % 3)) for s in seeds]
    assert exploration.candidates["kind"].tolist() == ["base"] + ["retrain"] * 5
    assert exploration.candidates["model_seed"].tolist()[1:] == seeds
    np.testing.assert_allclose(exploration.losses, [loss_of(p) for p in expected_p], rtol=1e-9)
    assert loss_of(3 / 8) == pytest.approx(0.7254, abs=1e-4)
    assert loss_of(3 / 8 + 0.3) == pytest.approx(0.7584, abs=1e-4)  # 0.033 over: out
    expected_in = [p == 3 / 8 for p in expected_p]  # only an offset of 0 stays within 0.02
    assert True in expected_in[1:] and False in expected_in  # the seeds give both cases
    assert exploration.in_set.tolist() == expected_in
    np.testing.assert_allclose(exploration.scores["test"][:, 0, 1], expected_p, rtol=1e-6)


def test_bootstrap_fits_each_model_on_a_same_size_resample_drawn_from_its_seed():
    exploration = shipped(BootstrapExplorer, n_models=5, seed=7).explore(task())
    seeds = refit_seeds(7, 1, 4)
    rows = [np.random.default_rng(s).integers(0, 8, 8) for s in seeds]
    expected_p = [3 / 8] + [min(0.95, FIT_P[r].mean() + 0.3 * (s % 3)) for r, s in zip(rows, seeds)]
    np.testing.assert_allclose(exploration.scores["test"][:, 0, 1], expected_p, rtol=1e-6)
    assert exploration.candidates["distinct_rows"].tolist() == [8] + [len(set(r)) for r in rows]
    base = exploration.losses[0]
    assert exploration.in_set.tolist() == [loss <= base + 0.02 for loss in exploration.losses]


def test_refits_are_reproducible_and_differ_between_retrain_and_bootstrap():
    first = shipped(BootstrapExplorer, n_models=4, seed=3).explore(task())
    again = shipped(BootstrapExplorer, n_models=4, seed=3).explore(task())
    np.testing.assert_array_equal(first.losses, again.losses)
    assert first.candidates.equals(again.candidates)
    retrain = shipped(RetrainExplorer, n_models=4, seed=3).explore(task())
    seeds = retrain.candidates["model_seed"].tolist()[1:]
    assert seeds != first.candidates["model_seed"].tolist()[1:]


@pytest.mark.parametrize("n_models", [1, 0, 2.5, "x"])
def test_fewer_than_two_models_are_refused_by_name(n_models):
    with pytest.raises(MsmultError, match=rf"rashomon.n_models={n_models!r} is not allowed"):
        shipped(RetrainExplorer, n_models=n_models)


def test_auto_epsilon_is_the_largest_excess_loss_of_the_bootstrap_refits():
    base_task = task(epsilon=0.0)
    epsilon, how = calibrate_epsilon(base_task, 4)
    seeds = refit_seeds(7, 2, 4)
    ps = [
        min(0.95, FIT_P[np.random.default_rng(s).integers(0, 8, 8)].mean() + 0.3 * (s % 3))
        for s in seeds
    ]
    excess = [loss_of(p) - loss_of(3 / 8) for p in ps]
    assert epsilon == pytest.approx(max(0.0, max(excess)), rel=1e-9)
    assert how["excess_losses"] == pytest.approx(excess, rel=1e-9)
    assert (how["source"], how["models"]) == ("auto", 4)
    calibrated, _ = Membership("auto", (), 4).resolve(base_task)
    assert calibrated.epsilon == pytest.approx(epsilon)
    fixed, source = Membership(0.05, (), 4).resolve(base_task)
    assert (fixed.epsilon, source) == (0.05, {"source": "config"})


def test_auto_epsilon_is_zero_when_no_refit_is_worse_than_the_base():
    # a base that predicts 0.99 is worse on a balanced holdout than every refit (at most 0.95)
    worse_base = task(epsilon=0.0)
    worse_base.surrogate.p = 0.99
    epsilon, how = calibrate_epsilon(worse_base, 3)
    assert max(how["excess_losses"]) < 0
    assert epsilon == 0.0
    assert fidelity_loss(
        worse_base.surrogate.predict_proba(np.zeros((4, 1))), two_class(HOLDOUT_P)
    ) == pytest.approx(loss_of(0.99))


def test_auto_is_accepted_as_membership_epsilon_and_calibration_needs_two_refits():
    assert Membership("auto", (), 2).calibrated
    with pytest.raises(MsmultError, match="membership.calibration_models=1 is not allowed"):
        Membership("auto", (), 1)


def test_the_boundary_values_are_accepted():
    assert (shipped(RetrainExplorer, 2, 0).n_models, shipped(RetrainExplorer, 2, 0).seed) == (2, 0)
    assert Membership(0.0, (), 2).epsilon == 0.0


def test_fit_refits_fits_on_the_fit_rows_or_on_resamples_of_them():
    task = constant_task(Recorder)
    models, table, resamples = fit_refits(task, 3, 7, False, "retrain")  # default stream 0
    assert resamples == [None, None, None]
    assert table["model_seed"].tolist() == refit_seeds(7, 0, 3)
    assert table["distinct_rows"].tolist() == [8, 8, 8]
    assert [m.seed for m in models] == refit_seeds(7, 0, 3)
    assert len(Recorder.fitted) == 3
    for x in Recorder.fitted:
        np.testing.assert_array_equal(x, task.fit_x)
    Recorder.fitted.clear()
    models, table, resamples = fit_refits(task, 2, 7, True, "bootstrap", stream=1)
    for seed, x, model, resample in zip(refit_seeds(7, 1, 2), Recorder.fitted, models, resamples):
        rows = np.random.default_rng(seed).integers(0, 8, 8)
        np.testing.assert_array_equal(x, task.fit_x[rows])
        np.testing.assert_array_equal(resample, rows)
        assert model.p == pytest.approx(FIT_P[rows].mean())


def test_refit_exploration_rows_scores_and_grid():
    task = constant_task(Recorder, grid=(0.0, 0.05))
    exploration = refit_exploration(task, *fit_refits(task, 2, 7, False, "retrain"))
    assert exploration.candidates.index.tolist() == [0, 1, 2]
    assert exploration.candidates.loc[0].to_dict() == {
        "kind": "base",
        "model_seed": 7,
        "distinct_rows": 8,
    }
    assert exploration.scores["test"].dtype == np.float32
    assert exploration.epsilon_grid == (0.0, 0.05)
    assert exploration.epsilon == 0.02


def test_calibration_says_how_it_was_obtained():
    _, how = calibrate_epsilon(constant_task(Recorder, epsilon=0.0), 3)
    assert how["how"] == (
        "largest excess fidelity loss over the base surrogate of 3 surrogates "
        "refitted on bootstrap resamples of the answers, each measured on its held-out rows"
    )
