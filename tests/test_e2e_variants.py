"""Every dataset, victim and API output mode or defence runs end to end on the shipped data (tiny
settings, in-process), and each run's numbers are recomputed from its own output files."""

import pandas as pd
import pytest
from helpers import run_in_process
from report_checks import check_run_outputs

from msmult.data.files import data_root

pytestmark = pytest.mark.e2e


def check_variant(run_dir, report, beats_majority: bool = True) -> None:
    # membership, set size, capacity; tiny German victims (2 epochs) only match the majority class
    check_run_outputs(run_dir, report, beats_majority=beats_majority)
    assert report["attack"]["queries_used"] == report["attack"]["budget"]
    fidelity = pd.read_csv(run_dir / "surrogates.csv")["fidelity"].iloc[0]
    assert report["surrogate"]["fidelity"] == fidelity > 0.5


@pytest.mark.parametrize(
    "overrides",
    [
        ("dataset=compas", "budget=300"),
        ("dataset=compas", "victim=logreg", "budget=300"),
        ("dataset=compas", "victim=gbdt", "api=label", "budget=300"),
        ("dataset=german", "attack=random", "budget=500"),  # synthetic rows: may exceed the pool
    ],
    ids=lambda o: " ".join(o),
)
def test_variant_runs(tmp_path, overrides):
    report = run_in_process(tmp_path, *overrides)
    check_variant(tmp_path, report, beats_majority="dataset=german" not in overrides)


@pytest.mark.parametrize(
    ("choice", "mode", "defences"),
    [
        ("probabilities", "probabilities", []),
        ("rounded", "probabilities", ["Rounding"]),
        ("reverse_sigmoid", "probabilities", ["ReverseSigmoid"]),
        ("gaussian_noise", "probabilities", ["GaussianNoise"]),
        ("top_k", "top_k", []),
    ],
)
def test_every_api_output_mode_and_defence_runs(tmp_path, choice, mode, defences):
    report = run_in_process(tmp_path, "dataset=german", f"api={choice}", "budget=200")
    check_variant(tmp_path, report, beats_majority=False)
    api = report["api"]
    assert (api["choice"], api["mode"]) == (choice, mode)
    assert [d["name"] for d in api["defences"]] == defences
    served = report["defender"]
    assert served["rows"] == report["dataset"]["test_rows"]
    assert (served["mean_l1"] > 1e-6) == (choice != "probabilities")  # float32 answers


def test_csv_dataset_runs(tmp_path):
    source = pd.read_csv(data_root() / "compas" / "compas-scores-two-years.nopii.csv")
    path = tmp_path / "people.csv"
    columns = ["sex", "age", "priors_count", "c_charge_degree", "race", "two_year_recid"]
    source[columns].to_csv(path, index=False)
    report = run_in_process(
        tmp_path / "run",
        "dataset=csv",
        f"dataset.path={path}",
        "dataset.target=two_year_recid",
        "dataset.sensitive=sex",
        "budget=500",
    )
    assert report["dataset"]["name"] == "people" and report["dataset"]["sensitive"] == "sex"
    check_variant(tmp_path / "run", report)
