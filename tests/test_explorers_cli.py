"""rashomon=compare, rashomon.epsilon=auto and the verdict through the real CLI, and their bad
input."""

import pandas as pd
import pytest
from conftest import read_report

pytestmark = pytest.mark.e2e

SMALL = (
    "rashomon.retrain_models=2",
    "rashomon.bootstrap_models=3",
    "budget=400",
    "rashomon.draws_per_rate=2",
    "rashomon.rates=[0.01,0.05,0.1]",
)  # dropout: 13 models


def test_compare_with_auto_epsilon_writes_the_comparison_and_the_verdict(msmult_run):
    process, run_dir = msmult_run(
        "rashomon=compare", "rashomon.epsilon=auto", "rashomon.calibration_models=2", *SMALL
    )
    assert process.returncode == 0, process.stderr
    report = read_report(run_dir)
    source = report["rashomon"]["epsilon_source"]
    assert (source["source"], source["models"], len(source["excess_losses"])) == ("auto", 2, 2)
    assert report["rashomon"]["epsilon"] == pytest.approx(max(0.0, *source["excess_losses"]))
    rows = {row["explorer"]: row for row in report["comparison"]["table"]}
    assert [rows[name]["models"] for name in ("dropout", "retrain", "bootstrap")] == [13, 2, 3]
    table = pd.read_csv(run_dir / "surrogates.csv")
    assert table["explorer"].tolist().count("base") == 1
    assert len(table) == report["rashomon"]["candidates"] == 1 + 12 + 1 + 2
    assert sum(row["members"] - 1 for row in rows.values()) + 1 == report["verdict"]["members"]
    assert set(report["verdict"]["explorers"]) == {"dropout", "retrain", "bootstrap"}
    assert (run_dir / "comparison.csv").exists() and (run_dir / "explorers_fairness.png").exists()
    markdown = (run_dir / "report.md").read_text()
    assert "would pass as the victim on accuracy and fairness" in markdown
    assert "was calibrated (`rashomon.epsilon=auto`)" in markdown
    assert "## Explorers compared on the same base surrogate" in markdown
    assert "passes as the victim" in process.stdout


CASES = [
    (("rashomon=retrain", "rashomon.n_models=1"), "rashomon.n_models=1 is not allowed"),
    (("rashomon=bootstrap", "rashomon.n_models=0"), "rashomon.n_models=0 is not allowed"),
    (("verdict.gap=1.5",), "verdict.gap=1.5 is not allowed"),
    (("verdict.accuracy=-0.1",), "verdict.accuracy=-0.1 is not allowed"),
    (("verdict.agreement=2",), "verdict.agreement=2 is not allowed"),
    (
        ("rashomon.epsilon=auto", "rashomon.calibration_models=1"),
        "rashomon.calibration_models=1 is not allowed",
    ),
    (("rashomon.epsilon=often",), "rashomon.epsilon='often' is not allowed"),
]


@pytest.mark.parametrize(("overrides", "message"), CASES, ids=lambda c: str(c))
def test_bad_explorer_and_verdict_input_is_reported_cleanly(msmult_run, overrides, message):
    process, run_dir = msmult_run(*overrides, fast=False)  # refused before any training
    output = process.stdout + process.stderr
    assert process.returncode != 0
    assert message in output
    assert "Traceback" not in output
    assert not (run_dir / "report.json").exists()
