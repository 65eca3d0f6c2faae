"""The Rashomon explorers' plumbing used as a library: constructor defaults equal the shipped
configs, each refusal's exact message, the boundary values each check still accepts, and hand-
derived numbers on tiny tasks (a surrogate that predicts a constant). (Written to kill the mutants
`scripts/mutation.sh msmult/rashomon/` found surviving in compare, refit, crossfit, calibration,
per_row and exploration, and to cover the per-row report helpers no fast test reached.)"""

import logging
from dataclasses import replace
from functools import partial
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from msmult.rashomon.calibration import calibrate_epsilon, check_calibration
from omegaconf import OmegaConf

import msmult.rashomon.compare as compare_module
from msmult.errors import MsmultError
from msmult.fileio import shipped_folder
from msmult.metrics import rashomon_capacity
from msmult.rashomon import Exploration, ExplorationTask
from msmult.rashomon.compare import CompareExplorer, stack
from msmult.rashomon.crossfit import FidelityHoldout, HoldoutFold
from msmult.rashomon.dropout import DropoutExplorer, draw_mask
from msmult.rashomon.exploration import (
    check_exploration,
    explorer_settings,
    fidelity_loss,
    within_reach,
)
from msmult.rashomon.per_row import (
    PER_ROW_LABELS,
    RowReach,
    per_row_lines,
    per_row_sections,
    row_metrics,
    with_per_row,
)
from msmult.rashomon.refit import (
    BootstrapExplorer,
    RetrainExplorer,
    fit_refits,
    refit_exploration,
    refit_seeds,
)

RASHOMON_CONF = shipped_folder("conf") / "rashomon"
FIT_P = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0])  # class-1 share 3/8
HOLDOUT_P = np.array([0.0, 1.0, 0.0, 1.0])


def two_class(p):
    return np.stack([1 - p, p], axis=1)


class Recorder:
    """P(class 1) = the fitted targets' class-1 share; remembers the rows it was fitted on."""

    fitted: ClassVar[list] = []

    def __init__(self, seed):
        self.seed = seed

    def fit(self, x, targets):
        Recorder.fitted.append(np.array(x))
        self.p = float(targets[:, 1].mean())
        return self

    def predict_proba(self, x):
        return np.tile([1 - self.p, self.p], (len(x), 1))


def tiny_task(epsilon=0.02, grid=(), seed=7):
    x = np.arange(8.0)[:, None]
    targets = two_class(FIT_P)
    base = Recorder(seed).fit(x, targets)
    Recorder.fitted.clear()
    return ExplorationTask(
        base,
        Recorder,
        x,
        targets,
        np.zeros((4, 1)),
        two_class(HOLDOUT_P),
        {"test": np.zeros((3, 1))},
        epsilon,
        grid,
        seed=seed,
    )


def record_bars(monkeypatch, module):
    """Replace ``module``'s progress bars; returns the (description, total, steps advanced) of
    each bar opened."""
    opened = []

    class Bar:
        def __init__(self, description, total):
            self.record = {"description": description, "total": total, "advanced": 0}
            opened.append(self.record)

        def __enter__(self):
            return lambda steps=1: self.record.__setitem__(
                "advanced", self.record["advanced"] + steps
            )

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(module, "progress_bar", Bar)
    return opened


# ---- constructors: shipped defaults, exact refusals, boundaries ---------------------------------


def test_refit_explorer_defaults_equal_the_shipped_configs():
    for choice, explorer in (("retrain", RetrainExplorer), ("bootstrap", BootstrapExplorer)):
        shipped = OmegaConf.load(RASHOMON_CONF / f"{choice}.yaml")
        built = explorer()
        assert (built.n_models, built.seed) == (shipped.n_models, 0)


def test_compare_defaults_equal_the_shipped_config():
    shipped = OmegaConf.load(RASHOMON_CONF / "compare.yaml")
    built = CompareExplorer(rates=[0.1], draws_per_rate=1)
    assert list(built.explorers) == list(shipped.explorers) == ["dropout", "retrain", "bootstrap"]
    dropout, retrain, bootstrap = built.explorers.values()
    assert type(dropout) is DropoutExplorer and dropout.seed == 0
    assert type(retrain) is RetrainExplorer and type(bootstrap) is BootstrapExplorer
    assert (retrain.n_models, retrain.seed) == (shipped.retrain_models, 0)
    assert (bootstrap.n_models, bootstrap.seed) == (shipped.bootstrap_models, 0)


def test_compare_passes_its_settings_to_each_explorer():
    built = CompareExplorer(
        ["bootstrap", "dropout", "retrain", "bootstrap"],
        retrain_models=3,
        bootstrap_models=4,
        seed=5,
        rates=[0.2],
        draws_per_rate=3,
    )
    assert list(built.explorers) == ["bootstrap", "dropout", "retrain"]  # once each, in order
    dropout = built.explorers["dropout"]
    assert (dropout.seed, dropout.rates, dropout.draws_per_rate) == (5, [0.2], 3)
    assert (built.explorers["retrain"].n_models, built.explorers["retrain"].seed) == (3, 5)
    assert (built.explorers["bootstrap"].n_models, built.explorers["bootstrap"].seed) == (4, 5)
    assert list(CompareExplorer(["retrain"]).explorers) == ["retrain"]


REFUSALS = [
    (
        lambda: CompareExplorer(["dropout", "nosuch"]),
        (
            "rashomon.explorers=['dropout', 'nosuch'] is not allowed: each entry must be one of "
            "dropout, retrain, bootstrap."
        ),
    ),
    (
        lambda: RetrainExplorer(1),
        (
            "rashomon.n_models=1 is not allowed: it must be a whole number >= 2 (models in the set, "
            "the base surrogate included), e.g. rashomon.n_models=20."
        ),
    ),
    (
        lambda: BootstrapExplorer(2.5),
        (
            "rashomon.n_models=2.5 is not allowed: it must be a whole number >= 2 (models in the "
            "set, the base surrogate included), e.g. rashomon.n_models=20."
        ),
    ),
    (lambda: RetrainExplorer(seed=-1), "seed=-1 is not allowed: it must be a whole number >= 0."),
    (
        lambda: check_calibration("auto", 1),
        (
            "rashomon.calibration_models=1 is not allowed: it must be a whole number >= 2 (bootstrap "
            "surrogates that calibrate rashomon.epsilon=auto), e.g. rashomon.calibration_models=10."
        ),
    ),
]


@pytest.mark.parametrize(("build", "message"), REFUSALS)
def test_each_refusal_has_its_exact_message(build, message):
    with pytest.raises(MsmultError) as refused:
        build()
    assert str(refused.value) == message


def test_the_boundary_values_are_accepted():
    assert (RetrainExplorer(2, 0).n_models, RetrainExplorer(2, 0).seed) == (2, 0)
    assert check_calibration("auto", 2) == 2
    assert check_calibration(0.02, 1) == 0


# ---- explorer_settings -------------------------------------------------------------------------


def test_explorer_settings_defaults_and_run_wide_keys():
    assert explorer_settings({"n_models": 3}) == ({"n_models": 3}, 0.0, ())
    settings, epsilon, grid = explorer_settings(
        {"epsilon": 0.05, "epsilon_grid": [0.0, 0.1], "calibration_models": 4, "seed": 1}
    )
    assert (settings, epsilon, list(grid)) == ({"seed": 1}, 0.05, [0.0, 0.1])


# ---- refits -------------------------------------------------------------------------------------


def test_fit_refits_fits_on_the_fit_rows_or_on_resamples_of_them():
    task = tiny_task()
    models, table = fit_refits(task, 3, 7, False, "retrain")  # default stream 0
    assert table["model_seed"].tolist() == refit_seeds(7, 0, 3)
    assert table["distinct_rows"].tolist() == [8, 8, 8]
    assert [m.seed for m in models] == refit_seeds(7, 0, 3)
    assert len(Recorder.fitted) == 3
    for x in Recorder.fitted:
        np.testing.assert_array_equal(x, task.fit_x)
    Recorder.fitted.clear()
    models, table = fit_refits(task, 2, 7, True, "bootstrap", stream=1)
    for seed, x, model in zip(refit_seeds(7, 1, 2), Recorder.fitted, models):
        rows = np.random.default_rng(seed).integers(0, 8, 8)
        np.testing.assert_array_equal(x, task.fit_x[rows])
        assert model.p == pytest.approx(FIT_P[rows].mean())


def test_refit_exploration_rows_scores_and_grid():
    task = tiny_task(grid=(0.0, 0.05))
    models, table = fit_refits(task, 2, 7, False, "retrain")
    exploration = refit_exploration(task, models, table)
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
    _, how = calibrate_epsilon(tiny_task(epsilon=0.0), 3)
    assert how["how"] == (
        "largest excess fidelity loss over the base surrogate of 3 surrogates "
        "refitted on bootstrap resamples of the fit rows"
    )


# ---- compare: stack and explore -----------------------------------------------------------------


def part(kind, losses, value, scored=None):
    m = len(losses)
    keep = m if scored is None else int(np.sum(scored))
    scores = np.full((keep, 2, 2), 0.5, np.float32)
    scores[1:, :, 1] = value
    return Exploration(
        pd.DataFrame({"kind": ["base"] + [kind] * (m - 1)}),
        np.array(losses),
        {"test": scores},
        0.1,
        scored=scored,
    )


def test_stack_keeps_a_fresh_index_the_grid_and_the_scored_mask():
    task = tiny_task(epsilon=0.1, grid=(0.0, 0.2))
    joined = stack(
        [
            ("dropout", part("bernoulli", [1.0, 1.05, 1.3], 0.6), 0.5),
            ("retrain", part("retrain", [1.0, 1.02, 9.0], 0.7, np.array([True, True, False])), 2.0),
        ],
        task,
    )
    assert joined.candidates.index.tolist() == [0, 1, 2, 3, 4]
    assert joined.candidates["explorer"].tolist() == [
        "base",
        "dropout",
        "dropout",
        "retrain",
        "retrain",
    ]
    assert joined.epsilon_grid == (0.0, 0.2)
    assert joined.scored.tolist() == [True, True, True, True, False]
    np.testing.assert_allclose(joined.scores["test"][:, 0, 1], [0.5, 0.6, 0.6, 0.7])


def test_compare_explore_stacks_the_refits_with_seconds_per_candidate(monkeypatch):
    clock = iter([100.0, 106.0, 200.0, 212.0])
    monkeypatch.setattr(compare_module, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    task = tiny_task()
    explored = CompareExplorer(
        ["retrain", "bootstrap"], retrain_models=3, bootstrap_models=4, seed=7
    ).explore(task)
    table = explored.candidates
    assert table["explorer"].tolist() == ["base", "retrain", "retrain"] + ["bootstrap"] * 3
    assert table["kind"].tolist() == ["base", "retrain", "retrain"] + ["bootstrap"] * 3
    assert table["seconds"].tolist() == [2.0, 2.0, 2.0, 3.0, 3.0, 3.0]  # 6 s / 3, 12 s / 4
    assert table["model_seed"].tolist() == [7, *refit_seeds(7, 0, 2), *refit_seeds(7, 1, 3)]
    assert explored.scores["test"].shape == (6, 3, 2)
    assert explored.losses[0] == explored.losses[1] == explored.losses[2]  # same rows, same p


# ---- crossfit: falling back to split ------------------------------------------------------------


class Unaware:
    name = "unaware"


class Nameless:
    pass


@pytest.mark.parametrize(
    ("explorer", "readers", "blockers"),
    [
        (Unaware(), {}, "explorer unaware"),
        (Nameless(), {"calibration": True, "other": False}, "calibration, explorer Nameless"),
        (DropoutExplorer([0.1], 1), {"calibration": True}, "calibration"),
    ],
)
def test_crossfit_falls_back_to_split_with_one_warning_naming_why(
    caplog, explorer, readers, blockers
):
    with caplog.at_level(logging.WARNING, logger="msmult"):
        plan = FidelityHoldout("crossfit", 4).for_run(explorer, **readers)
    assert (plan.mode, plan.folds) == ("split", 4)
    assert caplog.messages == [
        f"fidelity_holdout_mode=split for this run: {blockers} read(s) no cross-fitting folds"
    ]


# ---- per-row metrics and their report helpers ---------------------------------------------------

THREE = np.array([[0.4, 0.6, 0.0], [0.2, 0.0, 0.8], [0.5, 0.4, 0.1], [0.3, 0.7, 0.0]])


def three_class_reach():
    """One sampled row (test row 1), three classes, two epsilons: at 0.0 nothing moves, at 0.05
    the models pushed to each class give THREE[1:]."""
    base = THREE[:1]
    still = np.tile(base, (3, 1))[None]  # (r, pushed class, classes)
    reached = np.stack([still, THREE[1:][None]])
    return RowReach(
        np.array([1]), np.array([0.0, 0.05]), base, reached, np.array([[0, 3, 5]]), 0.05
    )


def test_row_metrics_summary_keys_and_default_tolerance():
    models = THREE[:, None]
    tight, loose = rashomon_capacity(models, 1e-9)[0], rashomon_capacity(models, 0.5)[0]
    assert tight - loose > 1e-3  # the tolerance shows in the number
    summary, capacity = row_metrics(three_class_reach(), np.array([0, 0, 2]), np.array([0, 1, 0]))
    assert capacity[0] == pytest.approx(tight, rel=1e-7)
    assert summary == {
        "rows": 1,
        "epsilon": 0.05,
        "rashomon_capacity_mean": pytest.approx(tight, rel=1e-7),
        "rashomon_capacity_max": pytest.approx(tight, rel=1e-7),
        "viable_prediction_range_mean": pytest.approx(0.7),  # row 1 true class 1: 0 to 0.7
        "flip_share": 1.0,
        "victim_disagreement_share": 1.0,  # the victim says 0 on row 1; the base says 1
        "steps_mean": pytest.approx(8 / 3),
        "steps_max": 5,
        "epsilon_curve": [
            {
                "epsilon": 0.0,
                "rashomon_capacity_mean": 1.0,
                "rashomon_capacity_max": 1.0,
                "viable_prediction_range_mean": 0.0,
                "flip_share": 0.0,
                "victim_disagreement_share": 1.0,
            },
            {
                "epsilon": 0.05,
                "rashomon_capacity_mean": pytest.approx(tight, rel=1e-7),
                "rashomon_capacity_max": pytest.approx(tight, rel=1e-7),
                "viable_prediction_range_mean": pytest.approx(0.7),
                "flip_share": 1.0,
                "victim_disagreement_share": 1.0,
            },
        ],
    }
    _, coarse = row_metrics(three_class_reach(), np.array([0, 0, 2]), np.array([0, 1, 0]), 0.5)
    assert coarse[0] == pytest.approx(loose, rel=1e-7)


def test_victim_disagreement_is_a_share_of_rows_not_of_models():
    # 2 rows, 2 classes: row 0 every model says 0 (victim 0); row 1 only the model pushed to
    # class 0 says 0 (victim 1). Per row: [no, yes] -> 0.5 (per model it would read 1/3).
    base = np.array([[0.9, 0.1], [0.2, 0.8]])
    reached = np.array([[[[0.8, 0.2], [0.7, 0.3]], [[0.6, 0.4], [0.1, 0.9]]]])
    reach = RowReach(np.array([0, 1]), np.array([0.1]), base, reached, np.ones((2, 2), int), 0.1)
    summary, _ = row_metrics(reach, np.array([0, 1]), np.array([0, 1]))
    assert summary["victim_disagreement_share"] == 0.5
    assert summary["flip_share"] == 0.5


def test_with_per_row_adds_the_summary_and_capacity_only_for_a_per_row_exploration():
    test = {"accuracy": 0.5}
    assert with_per_row(test, SimpleNamespace(per_row=None), None, None, 1e-9) is test
    assert with_per_row(test, object(), None, None, 1e-9) is test
    victim_proba = np.array([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    labels = np.array([0, 1, 0])
    added = with_per_row(
        test, SimpleNamespace(per_row=three_class_reach()), victim_proba, labels, 0.5
    )
    summary, capacity = row_metrics(three_class_reach(), np.array([0, 0, 2]), labels, 0.5)
    assert set(added) == {"accuracy", "per_row", "capacity"} and added["accuracy"] == 0.5
    assert added["per_row"] == summary
    np.testing.assert_array_equal(added["capacity"], capacity)
    assert test == {"accuracy": 0.5}  # the input is not changed


def test_per_row_sections_replace_the_set_level_numbers():
    assert per_row_sections({"accuracy": 0.5}) == {}
    summary = {"rows": 2}
    assert per_row_sections({"per_row": summary}) == {
        "multiplicity": {
            "set_size": 1,
            "per_row_only": True,
            "note": "per-row search: each sampled row has its own reachable models, so only "
            "per-row metrics are reported (see per_row); set-level metrics do not apply",
            "epsilon_curve": [],
        },
        "per_row": summary,
    }


def test_per_row_lines_are_labelled_and_rounded():
    per_row = {
        "rows": 200,
        "rashomon_capacity_mean": 1.23456,
        "rashomon_capacity_max": 2.0,
        "viable_prediction_range_mean": 0.5,
        "flip_share": 0.125,
        "victim_disagreement_share": 0.33333,
        "steps_mean": 12.345,
        "steps_max": 40,
    }
    assert per_row_lines(per_row) == [
        ("sampled test rows", "200"),
        ("Rashomon Capacity (mean over sampled rows, 2**C, 1 to c)", "1.2346"),
        ("Rashomon Capacity (max over sampled rows, 2**C, 1 to c)", "2.0000"),
        ("viable prediction range (mean, true-class score, 0-1)", "0.5000"),
        ("sampled rows whose decision can flip vs the base surrogate (share, 0-1)", "0.1250"),
        (
            "sampled rows where some reachable model disagrees with the victim (share, 0-1)",
            "0.3333",
        ),
        ("gradient steps per row and class", "12.3 (max 40)"),
    ]
    assert len(PER_ROW_LABELS) == 5


# ---- dropout: settings, candidates table, one tiny exploration ---------------------------------


def dropout(**changes):
    return DropoutExplorer(**{"rates": [0.1], "draws_per_rate": 1, **changes})


def test_dropout_defaults_equal_the_shipped_config():
    shipped = OmegaConf.load(RASHOMON_CONF / "dropout.yaml")
    built = DropoutExplorer(list(shipped.rates), shipped.draws_per_rate)
    assert built.kinds == list(shipped.kinds) == ["bernoulli", "gaussian"]
    assert (built.models_per_pass, built.batch_rows, built.threads, built.seed) == (
        shipped.models_per_pass,
        shipped.batch_rows,
        shipped.threads,
        0,
    )
    assert built.pass_rows == 8192 // 32
    assert built.rates == list(shipped.rates) and built.draws_per_rate == 10


RATES = "it must be a non-empty list of numbers >= 0 and < 1, e.g. rashomon.rates=[0.01,0.05,0.1]."


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"kinds": ["uniform"]},
            "rashomon.kinds=['uniform'] is not allowed: each entry must be one of bernoulli, gaussian.",
        ),
        ({"rates": [1.0]}, f"rashomon.rates=[1.0] is not allowed: {RATES}"),
        ({"rates": [-0.01]}, f"rashomon.rates=[-0.01] is not allowed: {RATES}"),
        (
            {"draws_per_rate": 0},
            "rashomon.draws_per_rate=0 is not allowed: it must be a whole number >= 1.",
        ),
        (
            {"models_per_pass": 0},
            "rashomon.models_per_pass=0 is not allowed: it must be a whole number >= 1.",
        ),
        (
            {"batch_rows": 0},
            "rashomon.batch_rows=0 is not allowed: it must be a whole number >= 1.",
        ),
        ({"seed": -1}, "seed=-1 is not allowed: it must be a whole number >= 0."),
        (
            {"threads": 0},
            (
                "rashomon.threads=0 is not allowed: it must be a whole number >= 1, e.g. "
                "rashomon.threads=2."
            ),
        ),
    ],
)
def test_each_dropout_refusal_has_its_exact_message(changes, message):
    with pytest.raises(MsmultError) as refused:
        dropout(**changes)
    assert str(refused.value) == message


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
    from msmult.rashomon.exploration import within_reach

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
    explorer = DropoutExplorer([0.0, 0.5], 3, kinds=["bernoulli"], models_per_pass=2, threads=2)
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


# ---- the explorer contract: task checks, exploration checks, fidelity loss ----------------------

EXPECTED = (
    "; expected an Exploration with m >= 1 candidates (row 0 = the base surrogate), m losses "
    "and, per evaluation set, (m, rows, classes) scores."
)
EPSILON = "it must be a number >= 0 (a fidelity-loss tolerance)"


def contract_task(epsilon=0.1, grid=(0.3, 0.05), eval_sets=None):
    return ExplorationTask(
        None,
        None,
        np.zeros((2, 1)),
        np.full((2, 2), 0.5),
        np.zeros((2, 1)),
        np.full((2, 2), 0.5),
        eval_sets or {"test": np.zeros((3, 1))},
        epsilon,
        grid,
    )


def found(losses, scores, scored=None, rows=None):
    rows = len(losses) if rows is None else rows
    return Exploration(
        pd.DataFrame({"k": range(rows)}), np.array(losses), scores, 0.1, scored=scored
    )


def half(m, classes=2, value=0.5):
    return {"test": np.full((m, 3, classes), value)}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: contract_task(-0.1),
            f"rashomon.epsilon=-0.1 is not allowed: {EPSILON}, e.g. rashomon.epsilon=0.02.",
        ),
        (
            lambda: contract_task("auto"),
            f"rashomon.epsilon='auto' is not allowed: {EPSILON}, e.g. rashomon.epsilon=0.02.",
        ),
        (
            lambda: ExplorationTask.check_epsilons(-1, [], allow_auto=True),
            (
                f"rashomon.epsilon=-1 is not allowed: {EPSILON} or auto (calibrated by bootstrap refits), "
                "e.g. rashomon.epsilon=0.02."
            ),
        ),
        (
            lambda: contract_task(0.1, [0.1, -1]),
            (
                "rashomon.epsilon_grid=[0.1, -1] is not allowed: it "
                "must be a non-empty list of numbers >= 0, e.g. rashomon.epsilon_grid=[0,0.01]."
            ),
        ),
        (
            lambda: contract_task(0.1, "ab"),
            (
                "rashomon.epsilon_grid='ab' is not allowed: it must be a "
                "list, e.g. rashomon.epsilon_grid=[a,b]."
            ),
        ),
    ],
)
def test_each_epsilon_refusal_has_its_exact_message(build, message):
    with pytest.raises(MsmultError) as refused:
        build()
    assert str(refused.value) == message


def test_task_needs_test_rows_and_normalises_its_grid():
    with pytest.raises(ValueError) as refused:
        contract_task(eval_sets={"val": np.zeros((3, 1))})
    assert str(refused.value) == "eval_sets must hold the test rows under 'test'"
    task = contract_task(0.1, [0, 0.05])
    assert task.epsilon_grid == (0.0, 0.05) and type(task.epsilon_grid[0]) is float
    assert contract_task(0.1, (0.3, 0.05)).largest_epsilon == 0.3
    assert contract_task(0.4, (0.3,)).largest_epsilon == 0.4
    assert contract_task(0.2, ()).largest_epsilon == 0.2
    assert ExplorationTask.check_epsilons("auto", [], allow_auto=True) is None
    assert ExplorationTask.check_epsilons(0, []) is None  # the boundary: 0 is allowed
    assert (task.seed, task.folds) == (0, ())


@pytest.mark.parametrize(
    ("exploration", "problems"),
    [
        (found([1.0, 1.1], half(2), rows=3), "3 candidate rows and losses of shape (2,)"),
        (
            found([], {"test": np.zeros((0, 3, 2))}, rows=0),
            "0 candidate rows and losses of shape (0,)",
        ),
        (found([[1.0, 1.1]], half(1), rows=1), "1 candidate rows and losses of shape (1, 2)"),
        (found([1.0, np.nan], half(2)), "non-finite losses"),
        (found([1.0, np.inf], half(2)), "non-finite losses"),
        (found([1.0, 1.1], half(2, classes=3)), "scores['test'] of shape (2, 3, 3), not (2, 3, 2)"),
        (found([1.0, 1.1], {}), "scores['test'] of shape None, not (2, 3, 2)"),
        (found([1.0, 1.1], half(2, value=np.nan)), "non-finite scores['test']"),
        (
            found([1.0, 1.1, 5.0], half(1), np.array([True, False, False])),
            "1 candidates within epsilon 0.3 unscored; scores['test'] of shape (1, 3, 2), not (3, 3, 2)",
        ),
        (
            found([1.0, 1.1, 5.0], half(2), np.array([1, 1, 0])),
            "scored of shape (3,), not (3,) booleans; scores['test'] of shape (2, 3, 2), not (3, 3, 2)",
        ),
        (
            found([1.0, 1.1, 5.0], half(2), np.array([True, True])),
            "scored of shape (2,), not (3,) booleans; scores['test'] of shape (2, 3, 2), not (3, 3, 2)",
        ),
    ],
)
def test_each_contract_breach_is_named_exactly(exploration, problems):
    with pytest.raises(MsmultError) as refused:
        check_exploration(exploration, contract_task(), "mine", 2)
    assert str(refused.value) == f"explorer mine returned {problems}{EXPECTED}"


def test_a_foreign_result_and_the_accepted_boundaries():
    with pytest.raises(MsmultError) as refused:
        check_exploration({}, contract_task(), "mine", 2)
    assert str(refused.value) == f"explorer mine returned dict{EXPECTED}"
    task = contract_task()
    assert check_exploration(found([1.0], half(1)), task, "mine", 2) is None  # m = 1
    # the candidate at exactly base + 0.3 (the largest epsilon) must be scored; the one above not
    losses = [1.0, 1.3, 1.3 + 1e-6]
    edge = found(losses, half(2), np.array([True, True, False]))
    assert check_exploration(edge, task, "mine", 2) is None
    assert check_exploration(found(losses, half(3), np.ones(3, bool)), task, "mine", 2) is None
    assert within_reach(np.array(losses), 0.3).tolist() == [True, True, False]
    with pytest.raises(MsmultError, match="1 candidates within epsilon 0.3 unscored"):
        check_exploration(found(losses, half(1), np.array([True, False, False])), task, "mine", 2)


def test_exploration_members_and_scored_rows():
    exploration = found(
        [1.0, 1.05, 1.2, 0.9],
        {"test": np.arange(3.0)[:, None, None]},
        np.array([True, True, False, True]),
    )
    assert exploration.base_loss == 1.0 and type(exploration.base_loss) is float
    assert exploration.in_set.tolist() == [True, True, False, True]
    assert exploration.scored_mask.tolist() == [True, True, False, True]
    assert exploration.member_scores("test")[:, 0, 0].tolist() == [0.0, 1.0, 2.0]
    everyone = found([1.0, 1.2], {"test": np.arange(2.0)[:, None, None]})
    assert everyone.scored_mask.tolist() == [True, True]
    assert everyone.member_scores("test")[:, 0, 0].tolist() == [0.0]


def test_fidelity_loss_by_hand_and_its_clipping():
    targets = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])  # 3 rows, 2 classes
    proba = np.array([[0.5, 0.5], [0.25, 0.75], [0.2, 0.8]])
    expected = (np.log(2) + 0.5 * (np.log(4) + np.log(4 / 3)) + np.log(1.25)) / 3
    assert fidelity_loss(proba, targets) == pytest.approx(expected, rel=1e-12)
    assert type(fidelity_loss(proba, targets)) is float
    both = fidelity_loss(np.stack([proba, np.full((3, 2), 0.5)]), targets)
    np.testing.assert_allclose(both, [expected, np.log(2)], rtol=1e-12)
    miss = fidelity_loss(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
    assert miss == pytest.approx(-np.log(1e-12), rel=1e-12)  # about 27.6 nats, not infinity


def test_dropout_refuses_a_surrogate_without_torch_by_name():
    with pytest.raises(MsmultError) as refused:
        dropout().explore(tiny_task())
    assert str(refused.value) == (
        "Dropout exploration masks hidden units (an explorer that retrains, e.g. "
        "rashomon=retrain, works with any), so it needs a torch surrogate (surrogate=mlp, cnn, "
        "text: msmult.models.torch_classifier.TorchClassifier); the surrogate is a Recorder."
    )


def test_draw_mask_values_by_kind():
    bernoulli = draw_mask("bernoulli", 0.3, 6, np.random.default_rng(5))
    expected = (np.random.default_rng(5).random(6) >= 0.3).astype(np.float32) / 0.7
    assert bernoulli.dtype == np.float32
    np.testing.assert_array_equal(bernoulli, expected)
    gaussian = draw_mask("gaussian", 0.2, 6, np.random.default_rng(5))
    expected = (1.0 + 0.2 * np.random.default_rng(5).standard_normal(6)).astype(np.float32)
    assert gaussian.dtype == np.float32 and len(set(gaussian.tolist())) == 6
    np.testing.assert_array_equal(gaussian, expected)


# ---- masked forward: the hook path, the folded path, and the refusal ----------------------------


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

    with pytest.raises(MsmultError) as refused:
        MaskedForward(nn.Sequential(nn.Linear(2, 2)))
    assert str(refused.value) == (
        "Dropout exploration needs a surrogate with MaskSite layers (msmult's MLP, CNN and text "
        "models have them); the configured surrogate has none."
    )


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
