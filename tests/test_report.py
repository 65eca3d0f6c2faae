"""Report assembly from a RunRecord, and the metric registry as the one list every reader uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from msmult.analysis.evaluation import Evaluation, Scoring
from msmult.attacks import Theft, TransferSet
from msmult.data.splits import EvalSet, Splits
from msmult.metrics import GAPS, registry
from msmult.metrics.registry import SetMetric
from msmult.metrics.verdict import Verdict
from msmult.models.owner_retrains import OwnerRetrains
from msmult.rashomon.exploration import Exploration
from msmult.report import markdown, plots
from msmult.report.assemble import RunRecord, build_report
from msmult.report.summary import summary_table
from msmult.study.tables import write_tables

EXTRA = SetMetric("always_half", "always one half", "a test scale", lambda view: 0.5)
API = {
    "choice": "probabilities",
    "mode": "probabilities",
    "k": None,
    "decimals": None,
    "defences": [],
    "label": "probabilities",
}


def record(seed: int = 0) -> RunRecord:
    """A run of 6 candidates on 40 test rows and a 10-row second evaluation set, made up."""
    rng = np.random.default_rng(seed)
    n, m = 40, 6
    y, group = rng.integers(0, 2, n), rng.choice(["a", "b"], n)
    splits = Splits(
        name="toy",
        x_victim=np.zeros((1, 1)),
        y_victim=np.zeros(1, int),
        x_pool=np.zeros((1, 1)),
        x_test=np.zeros((n, 1)),
        y_test=y,
        group_test=group,
        classes=("no", "yes"),
        sensitive="g",
        extra_eval={"second": EvalSet(np.zeros((10, 1)), y[:10], group[:10], "g")},
    )
    scores = {
        name: rng.dirichlet(np.ones(2), size=(m, rows))
        for name, rows in (("test", n), ("second", 10))
    }
    exploration = Exploration(
        candidates=pd.DataFrame({"kind": ["base"] + ["bernoulli"] * (m - 1)}),
        losses=np.array([0.30, 0.31, 0.29, 0.40, 0.33, 0.305]),
        scores=scores,
        epsilon=0.02,
        epsilon_grid=(0.0, 0.02, 0.05),
    )
    victim = rng.dirichlet(np.ones(2), size=n)
    evaluation = Evaluation.of(
        exploration,
        splits,
        Fixed(victim[:10]),
        victim,
        OwnerRetrains(),
        Scoring(Verdict(tolerances="fixed"), "dropout", seed, 1e-9),
    )
    theft = Theft(
        TransferSet(np.zeros((80, 1)), np.full((80, 2), 0.5), 100, "knockoff"),
        TransferSet(np.zeros((20, 1)), np.full((20, 2), 0.5), 100, "knockoff"),
        "share of the transfer set",
        100,
    )
    setup = {
        "victim_model": "MLP",
        "victim_cache": "off",
        "api": API,
        "attack": "knockoff",
        "budget": 100,
        "queries_used": 100,
        "holdout_mode": "split",
        "epsilon_source": {"source": "config"},
        "explorer": "dropout",
        "seed": seed,
    }
    return RunRecord(splits, setup, theft, exploration, evaluation, None, {}, {"total_s": 1.5})


class Fixed:
    """A victim answering fixed probabilities on the second evaluation set."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = proba

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.proba


def text(table) -> str:
    console = Console(record=True, width=200)
    console.print(table)
    return console.export_text()


def test_report_sections_and_attack_without_api_mode():
    report = build_report(record())
    assert list(report) == [
        "answer",
        "dataset",
        "victim",
        "api",
        "attack",
        "surrogate",
        "rashomon",
        "multiplicity",
        "fairness",
        "verdict",
        "extra_eval",
        "seed",
        "timing",
    ]
    assert report["api"] == API and report["rashomon"]["explorer"] == "dropout"
    assert report["attack"] == {
        "name": "knockoff",
        "budget": 100,
        "queries_used": 100,
        "fit_rows": 80,
        "holdout_rows": 20,
        "holdout": "share of the transfer set",
        "holdout_mode": "split",
    }
    assert set(report["fairness"]) == set(GAPS)
    second = report["extra_eval"]["second"]
    assert second["rows"] == 10 and second["members"] == report["multiplicity"]["set_size"] == 4
    assert "`dropout` exploration sampled 6 candidates" in markdown.render(report)


def test_epsilon_curve_and_report_share_the_registry_keys():
    multiplicity = build_report(record())["multiplicity"]
    keys = {"set_size", *(metric.name for metric in registry.SET_METRICS)}
    assert keys <= set(multiplicity)
    assert set(multiplicity) - keys == {
        "rashomon_capacity_max",
        "rashomon_capacity_quantiles",
        "epsilon_curve",
    }
    for point in multiplicity["epsilon_curve"]:
        assert set(point) == {"epsilon", *keys}
    at_epsilon = multiplicity["epsilon_curve"][1]  # epsilon 0.02: the report's own set
    assert at_epsilon == pytest.approx({"epsilon": 0.02, **{k: multiplicity[k] for k in keys}})


def test_rashomon_capacity_prints_its_scale():
    report = build_report(record())
    assert "Rashomon Capacity (mean) | " in markdown.render(report)
    assert "| 2**C, 1 to c classes |" in markdown.render(report)
    assert "2**C, 1 to c classes" in text(summary_table(report))


def test_a_new_registry_entry_reaches_every_reader(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(registry, "SET_METRICS", (*registry.SET_METRICS, EXTRA))
    reports = [build_report(record(seed)) for seed in (0, 1)]
    multiplicity = reports[0]["multiplicity"]
    assert multiplicity["always_half"] == 0.5
    assert all(point["always_half"] == 0.5 for point in multiplicity["epsilon_curve"])
    assert "| always one half | 0.5000 | a test scale |" in markdown.render(reports[0])
    assert "always one half" in text(summary_table(reports[0]))
    write_tables(pd.json_normalize(reports).assign(run_dir="x"), tmp_path, by_epsilon=True)
    for name in ("multiplicity", "epsilon"):
        assert "always one half" in (tmp_path / f"study_{name}.md").read_text()
    numbers = pd.read_csv(tmp_path / "study_multiplicity.csv")
    assert numbers["multiplicity.always_half.mean"].tolist() == [0.5]
    plots.epsilon_curve_plot(multiplicity["epsilon_curve"], tmp_path / "curve.png", "toy")
    assert (tmp_path / "curve.png").stat().st_size > 10_000


@pytest.mark.parametrize("budgets, expected", [((100, 100), False), ((100, 200), True)])
def test_budget_figure_only_with_several_budgets(tmp_path: Path, budgets, expected):
    from msmult.study.figures import budget_figures

    runs = pd.json_normalize([build_report(record(seed)) for seed in (0, 1)])
    runs["attack.budget"] = budgets
    assert bool(budget_figures(runs, tmp_path)) is expected
