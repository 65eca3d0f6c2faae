"""End to end, in-process: the shipped Adult data, small budget, few surrogates."""

import numpy as np
import pandas as pd
import pytest
from helpers import run_in_process
from report_checks import check_run_outputs

pytestmark = pytest.mark.e2e


ADULT = (
    "dataset=adult",
    "attack=knockoff",
    "budget=400",
    "victim.epochs=3",
    "surrogate.epochs=10",
    "rashomon=dropout",
    "rashomon.draws_per_rate=3",
    "rashomon.rates=[0.01,0.05,0.1]",
    "membership.calibration_models=3",
    "owner.models=3",
)


@pytest.fixture(scope="module")
def adult_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("adult") / "run"
    return run_in_process(run_dir, *ADULT, fast=False), run_dir


def test_the_report_agrees_with_its_output_files(adult_run):
    report, run_dir = adult_run
    assert {
        "victim",
        "attack",
        "surrogate",
        "rashomon",
        "multiplicity",
        "fairness",
        "timing",
    } <= set(report)
    assert report["dataset"]["test_rows"] == 16_281
    assert report["attack"] == {
        **report["attack"],
        "name": "knockoff",
        "budget": 400,
        "queries_used": 400,
    }
    assert report["api"]["mode"] == "probabilities" and "api_mode" not in report["attack"]
    assert report["victim"]["accuracy"] > 0.8  # Adult: a majority-class guess scores 0.76
    assert 0.8 < report["surrogate"]["fidelity"] <= 1.0
    m = report["multiplicity"]
    assert report["rashomon"]["candidates"] == 1 + 2 * 3 * 3
    check_run_outputs(run_dir, report)  # membership, set size, capacity from the output files
    assert 0 <= m["discrepancy_vs_base"] <= m["ambiguity_vs_base"] <= 1
    quantiles = list(m["rashomon_capacity_quantiles"].values())
    assert quantiles == sorted(quantiles)
    curve = m["epsilon_curve"]
    assert [p["epsilon"] for p in curve] == pytest.approx(np.linspace(0, 0.05, 11))
    assert [p["set_size"] for p in curve] == sorted(p["set_size"] for p in curve)  # nested sets
    for gap, values in report["fairness"].items():
        assert values["min"] <= values["base"] <= values["max"], gap
        assert 0 <= values["victim"] <= 1


def test_tables_agree_with_the_report(adult_run):
    report, run_dir = adult_run
    table = pd.read_csv(run_dir / "surrogates.csv")
    members = table[table["in_set"]]
    assert len(members) == report["multiplicity"]["set_size"]
    assert table["fidelity"].iloc[0] == pytest.approx(report["surrogate"]["fidelity"])
    gap = report["fairness"]["demographic_parity_difference"]
    assert members["demographic_parity_difference"].max() == pytest.approx(gap["max"])
    predictions = pd.read_parquet(run_dir / "predictions.parquet")
    assert len(predictions) == 16_281
    member_columns = [c for c in predictions.columns if c.startswith("m") and ":p_" in c]
    assert len(member_columns) == len(members)  # binary: one positive-class column per member
    decisions = (predictions[member_columns[0]] >= 0.5).astype(int)
    victim = (predictions["victim:p_>50K"] >= 0.5).astype(int)
    assert (decisions == victim).mean() == pytest.approx(report["surrogate"]["fidelity"], abs=1e-3)


def test_same_config_and_seed_give_the_same_predictions(adult_run, tmp_path, monkeypatch):
    _, run_dir = adult_run
    monkeypatch.setenv("MSMULT_CACHE_DIR", str(tmp_path / "fresh-cache"))  # retrain the victim
    report = run_in_process(tmp_path / "again", *ADULT, fast=False)
    assert report["victim"]["cache"] == "miss"
    first = pd.read_parquet(run_dir / "predictions.parquet")
    second = pd.read_parquet(tmp_path / "again" / "predictions.parquet")
    pd.testing.assert_frame_equal(first, second)
