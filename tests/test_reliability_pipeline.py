"""The pipeline fits the base surrogate on the fit rows only and measures every candidate's
fidelity loss on the holdout rows only (``split`` holdout mode; a small German credit run, in
process)."""

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from msmult import pipeline
from msmult.app import CONFIG_DIR
from msmult.models.torch_classifier import TorchClassifier
from msmult.rashomon.exploration import fidelity_loss

pytestmark = pytest.mark.e2e


def rows(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in np.ascontiguousarray(x)}


def test_surrogate_fits_on_fit_rows_and_loss_is_measured_on_holdout_rows(tmp_path, monkeypatch):
    overrides = [
        "debug=fast",
        "victim.epochs=1",
        "dataset=german",
        "budget=200",
        "cache.victims=false",
        f"cache.dir={tmp_path}",
        "holdout.mode=split",  # cross-fitting is tested with its own module
    ]
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    seen: dict = {"fits": []}
    real_fit, real_steal, real_check = (
        TorchClassifier.fit,
        pipeline.steal,
        pipeline.check_exploration,
    )

    def spy_fit(self, x, y):
        seen["fits"].append((self.name, x.copy()))
        return real_fit(self, x, y)

    def spy_steal(*args, **kwargs):
        seen["theft"] = real_steal(*args, **kwargs)
        return seen["theft"]

    def spy_check(exploration, task, *args):
        seen["exploration"], seen["task"] = exploration, task
        return real_check(exploration, task, *args)

    monkeypatch.setattr(TorchClassifier, "fit", spy_fit)
    monkeypatch.setattr(pipeline, "steal", spy_steal)
    monkeypatch.setattr(pipeline, "check_exploration", spy_check)
    report = pipeline.run(cfg, tmp_path / "run")

    theft, task, exploration = seen["theft"], seen["task"], seen["exploration"]
    fit_rows, holdout_rows = rows(theft.fit.x), rows(theft.holdout.x)
    assert fit_rows and holdout_rows and not fit_rows & holdout_rows
    assert len(theft.fit.x) + len(theft.holdout.x) == 200  # the whole budget, split in two
    surrogate_fits = [x for name, x in seen["fits"] if name == "surrogate"]
    assert surrogate_fits, "the base surrogate was never fitted"
    np.testing.assert_array_equal(surrogate_fits[0], theft.fit.x)
    assert all(not rows(x) & holdout_rows for x in surrogate_fits)
    np.testing.assert_array_equal(task.fit_x, theft.fit.x)
    np.testing.assert_array_equal(task.holdout_x, theft.holdout.x)
    on_holdout = fidelity_loss(task.surrogate.predict_proba(theft.holdout.x), theft.holdout.targets)
    on_fit = fidelity_loss(task.surrogate.predict_proba(theft.fit.x), theft.fit.targets)
    assert exploration.losses[0] == pytest.approx(on_holdout, rel=1e-5)
    assert abs(on_fit - on_holdout) > 1e-5  # the two row sets give different losses
    assert report["attack"]["fit_rows"] == len(theft.fit.x)
    assert report["attack"]["holdout_rows"] == len(theft.holdout.x)
