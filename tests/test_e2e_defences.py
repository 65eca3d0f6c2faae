"""MAD end to end with a budget curve, in-process: the defender's side of the run, each checkpoint,
and the report's numbers recomputed from the output files."""

import pytest
from helpers import run_in_process
from report_checks import check_run_outputs

pytestmark = pytest.mark.e2e


def test_mad_run_reports_the_defenders_side_and_a_budget_curve(tmp_path):
    report = run_in_process(tmp_path, "api=mad", "budget=300", "budget_checkpoints=[100,300]")
    defender = report["defender"]
    assert defender["mean_l1"] == pytest.approx(0.5, abs=1e-3)  # MAD spends its L1 budget
    assert 0 < defender["top1_changed"] < 1 and defender["rows"] == report["dataset"]["test_rows"]
    assert report["attack"]["queries_used"] == 300  # the defender's rows are not counted
    first, last = report["budget_curve"]
    assert (first["budget"], first["fit_rows"], last["fit_rows"]) == (100, 80, 240)
    # the full-budget checkpoint refits the run's own base surrogate on the same rows
    assert last["fidelity"] == report["surrogate"]["fidelity"]
    assert last["set_size"] == report["multiplicity"]["set_size"]
    assert (tmp_path / "budget_curve.png").exists()
    assert "## Budget curve" in (tmp_path / "report.md").read_text()
    check_run_outputs(tmp_path, report)
