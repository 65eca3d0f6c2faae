"""Every bad value is refused in one paragraph of one shape, before any work:

    ``<key>=<value> is not allowed: <what is allowed>[, e.g. <key>=<example>].``

The message names the key, and the example it suggests is itself accepted. Library objects are
checked when they are built; a run's config is checked in-process, as ``msmult run`` checks it
(``Settings.from_config`` before the data load, ``pipeline.run`` for what needs the data).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pytest
import yaml
from helpers import assert_not_allowed, compose_config, refusal_of, shipped, small

from msmult import pipeline
from msmult.metrics.verdict import Verdict
from msmult.models.mlp import MLP
from msmult.oracle import PredictionAPI
from msmult.oracle.defences.gaussian_noise import GaussianNoise
from msmult.oracle.defences.mad import MAD
from msmult.oracle.defences.reverse_sigmoid import ReverseSigmoid
from msmult.oracle.defences.rounding import Rounding
from msmult.rashomon import ExplorationTask
from msmult.rashomon.awp import AwpExplorer
from msmult.rashomon.compare import CompareExplorer
from msmult.rashomon.dropout import DropoutExplorer
from msmult.rashomon.extremes import ExtremeSearch
from msmult.rashomon.membership import Membership
from msmult.rashomon.refit import BootstrapExplorer, RetrainExplorer
from msmult.settings import Settings


class Uniform:
    """A three-class victim that answers the uniform distribution."""

    n_classes = 3

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.full((len(x), 3), 1 / 3)


def literal(text: str) -> Any:
    """A command-line value as Hydra reads it (``1e-3`` and ``0.5`` are numbers)."""
    value = yaml.safe_load(text)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def dropout(**options: Any) -> DropoutExplorer:
    return shipped(DropoutExplorer, **{"rates": [0.1], "draws_per_rate": 1, **options})


def task(epsilon: Any = 0.1, grid: Any = (0.3, 0.05)) -> ExplorationTask:
    rows, answers = np.zeros((2, 1)), np.full((2, 2), 0.5)
    return ExplorationTask(
        None, None, rows, answers, rows, answers, {"test": np.zeros((3, 1))}, epsilon, grid
    )


def api(**options: Any) -> PredictionAPI:
    return PredictionAPI(Uniform(), **{"budget": 1, **options})


def mad(**options: Any) -> MAD:
    return shipped(MAD, partial(MLP, hidden=[4]), **options)


# (build from the value, the key the message names, a bad value)
BUILT = [
    (lambda v: shipped(Rounding, v), "api.decimals", -1),
    (lambda v: shipped(GaussianNoise, v), "api.defences.0.scale", -0.1),
    (lambda v: shipped(ReverseSigmoid, beta=v), "api.defences.0.beta", 0),
    (lambda v: shipped(ReverseSigmoid, gamma=v), "api.defences.0.gamma", 0),
    (lambda v: mad(epsilon=v), "api.defences.0.epsilon", -0.1),
    (lambda v: mad(argmax_preserving=v), "api.defences.0.argmax_preserving", "yes"),
    (lambda v: api(budget=v), "budget", 0),
    (lambda v: api(budget=v), "budget", 2.5),
    (lambda v: api(budget=v), "budget", True),
    (lambda v: api(mode="top_k", k=v), "api.k", 4),
    (lambda v: api(decimals=v), "api.decimals", -1),
    (lambda v: api(seed=v), "seed", -1),
    (lambda v: api(mode=v), "api.mode", "logits"),
    (lambda v: shipped(AwpExplorer, rows=v), "rashomon.rows", 0),
    (lambda v: shipped(AwpExplorer, rows=v), "rashomon.rows", 2.5),
    (lambda v: shipped(AwpExplorer, rows=v).check(250), "rashomon.rows", 300),  # example: 200
    (lambda v: shipped(AwpExplorer, rows=v).check(100), "rashomon.rows", 300),  # example: 100
    (lambda v: shipped(AwpExplorer, steps=v), "rashomon.steps", 0),
    (lambda v: shipped(AwpExplorer, lr=v), "rashomon.lr", 0),
    (lambda v: shipped(AwpExplorer, momentum=v), "rashomon.momentum", 1),
    (lambda v: shipped(AwpExplorer, momentum=v), "rashomon.momentum", -0.1),
    (lambda v: shipped(AwpExplorer, target_score=v), "rashomon.target_score", 0),
    (lambda v: shipped(AwpExplorer, target_score=v), "rashomon.target_score", 1.5),
    (lambda v: shipped(AwpExplorer, rows_per_pass=v), "rashomon.rows_per_pass", 0),
    (lambda v: shipped(AwpExplorer, seed=v), "rashomon.seed", -1),
    (lambda v: shipped(ExtremeSearch, steps=v), "extremes.steps", 0),
    (lambda v: shipped(ExtremeSearch, lr=v), "extremes.lr", 0),  # Adam would never move
    (lambda v: shipped(ExtremeSearch, lr=v), "extremes.lr", -1),
    (lambda v: shipped(ExtremeSearch, lr=v), "extremes.lr", "x"),
    (lambda v: shipped(ExtremeSearch, multipliers=v), "extremes.multipliers", [1, -1]),
    (lambda v: shipped(ExtremeSearch, pool_rows=v), "extremes.pool_rows", 0),
    (lambda v: shipped(ExtremeSearch, seed=v), "seed", -1),
    (lambda v: shipped(CompareExplorer, v), "rashomon.explorers", ["dropout", "nosuch"]),
    (lambda v: shipped(RetrainExplorer, v), "rashomon.n_models", 1),
    (lambda v: shipped(BootstrapExplorer, v), "rashomon.n_models", 2.5),
    (lambda v: shipped(RetrainExplorer, seed=v), "rashomon.seed", -1),
    (lambda v: Membership("auto", (), v), "membership.calibration_models", 1),
    (lambda v: Membership(v, (), 2), "membership.epsilon", -1),
    (lambda v: dropout(kinds=v), "rashomon.kinds", ["uniform"]),
    (lambda v: dropout(rates=v), "rashomon.rates", [1.0]),
    (lambda v: dropout(rates=v), "rashomon.rates", [-0.01]),
    (lambda v: dropout(draws_per_rate=v), "rashomon.draws_per_rate", 0),
    (lambda v: dropout(models_per_pass=v), "rashomon.models_per_pass", 0),
    (lambda v: dropout(batch_rows=v), "rashomon.batch_rows", 0),
    (lambda v: dropout(seed=v), "rashomon.seed", -1),
    (lambda v: dropout(threads=v), "rashomon.threads", 0),
    (lambda v: task(epsilon=v), "membership.epsilon", -0.1),
    (lambda v: task(epsilon=v), "membership.epsilon", "auto"),  # a task's epsilon is resolved
    (lambda v: task(grid=v), "membership.epsilon_grid", [0.1, -1]),
    (lambda v: task(grid=v), "membership.epsilon_grid", "ab"),
    (lambda v: Verdict(accuracy=v), "verdict.accuracy", 1.5),
    (lambda v: Verdict(gap=v), "verdict.gap", -0.1),
    (lambda v: Verdict(agreement=v), "verdict.agreement", 1.5),
]


@pytest.mark.parametrize(
    ("build", "key", "bad"),
    BUILT,
    ids=[f"{i}:{key}={bad!r}" for i, (_, key, bad) in enumerate(BUILT)],
)
def test_a_bad_argument_is_named_with_what_is_allowed_and_a_valid_example(build, key, bad):
    example = assert_not_allowed(refusal_of(lambda: build(bad)), key, repr(bad), checked=True)
    if example is not None:
        build(literal(example))  # the example the message suggests is accepted


# refused by Settings.from_config, before the data load: (overrides, key named)
BEFORE_DATA = [
    (("budget=0",), "budget"),
    (("budget=-5",), "budget"),
    (("budget=12.5",), "budget"),
    (("budget=lots",), "budget"),
    (("budget=1e3",), "budget"),
    (("seed=-1",), "seed"),
    (("threads=abc",), "threads"),
    (("capacity_tol=x",), "capacity_tol"),
    (("cache.victims=maybe",), "cache.victims"),
    (("holdout.share=1.5",), "holdout.share"),
    (("holdout.mode=halves",), "holdout.mode"),
    (("holdout.folds=1",), "holdout.folds"),
    (("membership.epsilon=-0.1",), "membership.epsilon"),
    (("membership.epsilon=abc",), "membership.epsilon"),
    (("membership.epsilon_grid=[a]",), "membership.epsilon_grid"),
    (("membership.calibration_models=1",), "membership.calibration_models"),
    (("owner.models=1",), "owner.models"),
    (("verdict.tolerances=median",), "verdict.tolerances"),
    (("verdict.owner_quantile=2",), "verdict.owner_quantile"),
    (("verdict.target=0",), "verdict.target"),
    (("memory_gb=0",), "memory_gb"),
    (("rashomon.rates=[a]",), "rashomon.rates"),
    (("rashomon.kinds=[x]",), "rashomon.kinds"),
    (("rashomon.draws_per_rate=0",), "rashomon.draws_per_rate"),
    (("rashomon=retrain", "rashomon.n_models=1"), "rashomon.n_models"),
    (("rashomon=bootstrap", "rashomon.n_models=0"), "rashomon.n_models"),
    (("rashomon=awp", "rashomon.rows=0"), "rashomon.rows"),
    (("verdict.gap=1.5",), "verdict.gap"),
    (("verdict.accuracy=-0.1",), "verdict.accuracy"),
    (("verdict.agreement=2",), "verdict.agreement"),
    (("api=rounded", "api.defences.0.decimals=-1"), "api.decimals"),
    (("api.decimals=abc",), "api.decimals"),
    (("api=top_k", "api.k=0"), "api.k"),
    (("api.mode=foo",), "api.mode"),
    (("api=gaussian_noise", "api.defences.0.scale=-1"), "api.defences.0.scale"),
    (("api=mad", "api.defences.0.epsilon=-0.5"), "api.defences.0.epsilon"),
    (("surrogate.epochs=0",), "surrogate.epochs"),
    (("surrogate.lr=abc",), "surrogate.lr"),
    (("victim.lr=-1",), "victim.lr"),
    (("victim.batch_size=0",), "victim.batch_size"),
    (("victim=logreg", "victim.estimator.C=-1"), "victim.estimator.C"),
    (("victim=gbdt", "victim.estimator.max_iter=0"), "victim.estimator.max_iter"),
    (("dataset.victim_share=2",), "dataset.victim_share"),
    (("dataset=german", "dataset.age_threshold=abc"), "dataset.age_threshold"),
    (("dataset=compas", "dataset.fractions=[a,b,c]"), "dataset.fractions"),
    (("dataset.sensitive_as_feature=maybe",), "dataset.sensitive_as_feature"),
    (("dataset.sensitive_bins=[b]",), "dataset.sensitive_bins"),
    (("dataset.sensitive_bins=[60,25]",), "dataset.sensitive_bins"),
    (("dataset.max_groups=1",), "dataset.max_groups"),
    (("dataset=davidson", "dataset.hatecheck=maybe"), "dataset.hatecheck"),
    (("attack.seed=abc",), "attack.seed"),
    (("attack=random", "attack.seed=-2"), "attack.seed"),
    (("attack=active", "attack.rounds=0"), "attack.rounds"),
    (("attack=jacobian", "attack.lambda=0"), "attack.lambda"),
    (("attack=knockoff_adaptive", "attack.reward=gold"), "attack.reward"),
]


@pytest.mark.parametrize(
    ("overrides", "key"), BEFORE_DATA, ids=[" ".join(o) for o, _ in BEFORE_DATA]
)
def test_a_bad_config_value_is_refused_before_the_data_loads(overrides, key):
    message = refusal_of(lambda: Settings.from_config(compose_config(*overrides)))
    example = assert_not_allowed(message, key)
    bad = [o for o in overrides if o.startswith(f"{key}=")]
    if example is not None and bad:  # the suggested value, in place of the bad one, passes
        fixed = [o for o in overrides if o not in bad]
        Settings.from_config(compose_config(*fixed, f"{key}={example}"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("device=tpu",), "device='tpu' is not a device; allowed: cpu, auto, cuda, cuda:N."),
        (("rashomon._target_=nosuch.Explorer",), "Cannot build 'nosuch.Explorer'"),
    ],
)
def test_a_value_outside_the_common_shape_is_still_one_paragraph(overrides, message):
    assert message in refusal_of(lambda: Settings.from_config(compose_config(*overrides)))


# refused by pipeline.run once the data is loaded, before any training: (overrides, key named)
WITH_DATA = [
    (("budget=20000",), "budget"),
    (("dataset=german", "budget=5000"), "budget"),
    (("attack=jacobian", "budget=100"), "budget"),
    (("dataset=compas", "dataset.sensitive=nope"), "dataset.sensitive"),
    (("dataset.drop_columns=[nosuch]",), "dataset.drop_columns"),
    (("attack=knockoff_adaptive", "attack.n_clusters=99999"), "attack.n_clusters"),
    (("rashomon=awp", "rashomon.rows=20000"), "rashomon.rows"),
    (("api=top_k", "api.k=5"), "api.k"),
    (("budget=300", "budget_checkpoints=[100,400]"), "budget_checkpoints"),
    (("verdict.budget_to_equivalence=true",), "budget_checkpoints"),
]


@pytest.mark.parametrize(("overrides", "key"), WITH_DATA, ids=[" ".join(o) for o, _ in WITH_DATA])
def test_a_value_the_data_rules_out_is_refused_before_training(tmp_path, overrides, key):
    cfg = compose_config(*small(*overrides))
    assert_not_allowed(refusal_of(lambda: pipeline.run(cfg, tmp_path)), key)
    assert not (tmp_path / "report.json").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("dataset.sensitive=age",), "dataset.sensitive='age' has 74 distinct values"),
        (("dataset.sensitive=race", "dataset.sensitive_bins=[1,2]"), "holds 'White'"),
        (("attack=jacobian", "dataset=davidson", "dataset.subsample=0.05"), "token-id"),
        (("attack=equation_solving", "budget=500"), "needs victim=logreg"),  # an MLP victim
        (("attack=equation_solving", "victim=logreg", "api=label"), "mode=label"),
    ],
    ids=lambda c: " ".join(c) if isinstance(c, tuple) else "message",
)
def test_a_setting_the_data_rules_out_is_named_in_one_paragraph(tmp_path, overrides, message):
    cfg = compose_config(*small(*overrides))
    assert message in refusal_of(lambda: pipeline.run(cfg, tmp_path))
    assert not (tmp_path / "report.json").exists()


def csv_refusal(path, rows: str, tmp_path) -> str:
    path.write_text(rows)
    sensitive = "mean radius" if "mean radius" in rows else "g"
    target = "y"
    args = (f"dataset.path={path}", f"dataset.target={target}", f"dataset.sensitive={sensitive}")
    cfg = compose_config(*small("dataset=csv", *args))
    message = refusal_of(lambda: pipeline.run(cfg, tmp_path / "run"))
    assert not (tmp_path / "run" / "report.json").exists()
    return message


def test_a_csv_with_a_single_sensitive_group_is_refused(tmp_path):
    rows = "x,y,g\n" + "".join(f"{i},{i % 2},same\n" for i in range(50))
    assert "has a single group" in csv_refusal(tmp_path / "one.csv", rows, tmp_path)


def test_a_continuous_sensitive_csv_column_is_refused_with_bins_suggested(tmp_path):
    rows = "mean radius,x,y\n" + "".join(f"{10 + i / 7:.3f},{i % 5},{i % 2}\n" for i in range(200))
    message = csv_refusal(tmp_path / "radius.csv", rows, tmp_path)
    assert "dataset.sensitive='mean radius' has 200 distinct values" in message
    assert "dataset.sensitive_bins=[" in message
