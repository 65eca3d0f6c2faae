"""rashomon=compare, membership.epsilon=auto and the verdict end to end, in-process, with the
report's numbers recomputed from the output files."""

import pandas as pd
import pytest
from helpers import run_in_process
from report_checks import check_run_outputs

pytestmark = pytest.mark.e2e

SMALL = (
    "rashomon.retrain_models=2",
    "rashomon.bootstrap_models=3",
    "budget=400",
    "rashomon.draws_per_rate=2",
    "rashomon.rates=[0.01,0.05,0.1]",
)  # dropout: 13 models


def test_compare_with_auto_epsilon_writes_the_comparison_and_the_verdict(tmp_path):
    run_dir = tmp_path
    report = run_in_process(
        run_dir,
        "rashomon=compare",
        "membership.epsilon=auto",
        "membership.calibration_models=2",
        *SMALL,
    )
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
    assert "lie within the owner's envelope" in markdown  # the default: the owner's tolerances
    assert "was calibrated (`membership.epsilon=auto`)" in markdown
    assert "## Explorers compared on the same base surrogate" in markdown
    check_run_outputs(run_dir, report)
