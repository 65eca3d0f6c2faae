"""Every config choice of the foundation runs end to end on real data (tiny settings)."""

import pandas as pd
import pytest
from conftest import read_report
from report_checks import check_run_outputs

from msmult.data.files import data_root

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "overrides",
    [
        ("dataset=compas", "budget=300"),
        ("dataset=german", "budget=200"),
        ("dataset=compas", "victim=logreg", "budget=300"),
        ("dataset=compas", "victim=gbdt", "api=label", "budget=300"),
        ("dataset=german", "attack=random", "budget=500"),  # synthetic rows: may exceed the pool
    ],
    ids=lambda o: " ".join(o),
)
def test_variant_runs(msmult_run, overrides):
    process, run_dir = msmult_run(*overrides)
    assert process.returncode == 0, process.stderr[-3000:]
    report = read_report(run_dir)
    # membership, set size, capacity; tiny German victims (2 epochs) only match the majority class
    check_run_outputs(run_dir, report, beats_majority="dataset=german" not in overrides)
    assert report["attack"]["queries_used"] == report["attack"]["budget"]
    fidelity = pd.read_csv(run_dir / "surrogates.csv")["fidelity"].iloc[0]
    assert report["surrogate"]["fidelity"] == fidelity > 0.5


def test_csv_dataset_runs(msmult_run, tmp_path):
    source = pd.read_csv(data_root() / "compas" / "compas-scores-two-years.nopii.csv")
    path = tmp_path / "people.csv"
    source[["sex", "age", "priors_count", "c_charge_degree", "race", "two_year_recid"]].to_csv(
        path, index=False
    )
    process, run_dir = msmult_run(
        "dataset=csv",
        f"dataset.path={path}",
        "dataset.target=two_year_recid",
        "dataset.sensitive=sex",
        "budget=500",
    )
    assert process.returncode == 0, process.stderr[-3000:]
    report = read_report(run_dir)
    assert report["dataset"]["name"] == "people" and report["dataset"]["sensitive"] == "sex"
