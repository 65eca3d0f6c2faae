"""Defences and budget curves through the real CLI: bad values refused, one small run."""

import pytest
from conftest import assert_refused, read_report

pytestmark = pytest.mark.e2e

CASES = [
    (("api=gaussian_noise", "api.defences.0.scale=-1"), "api.defences.0.scale=-1"),
    (("api=mad", "api.defences.0.epsilon=-0.5"), "api.defences.0.epsilon=-0.5"),
    (("api=rounded", "api.defences.0.decimals=-1"), "decimals=-1"),
    (("api=top_k", "api.k=5"), "api.k=5"),  # Adult is binary
    (("budget=300", "budget_checkpoints=[100,400]"), "budget_checkpoints=[100, 400]"),
]


@pytest.mark.parametrize(("overrides", "message"), CASES, ids=lambda c: str(c))
def test_bad_defence_and_checkpoint_values_are_refused(msmult_run, overrides, message):
    assert_refused(*msmult_run(*overrides), message)


def test_mad_run_reports_the_defenders_side_and_a_budget_curve(msmult_run):
    process, run_dir = msmult_run("api=mad", "budget=300", "budget_checkpoints=[100,300]")
    assert process.returncode == 0, process.stderr
    report = read_report(run_dir)
    defender = report["defender"]
    assert defender["mean_l1"] == pytest.approx(0.5, abs=1e-3)  # MAD spends its L1 budget
    assert 0 < defender["top1_changed"] < 1 and defender["rows"] == report["dataset"]["test_rows"]
    assert report["attack"]["queries_used"] == 300  # the defender's rows are not counted
    first, last = report["budget_curve"]
    assert (first["budget"], first["fit_rows"], last["fit_rows"]) == (100, 80, 240)
    # the full-budget checkpoint refits the run's own base surrogate on the same rows
    assert last["fidelity"] == report["surrogate"]["fidelity"]
    assert last["set_size"] == report["multiplicity"]["set_size"]
    assert (run_dir / "budget_curve.png").exists()
    assert "## Budget curve" in (run_dir / "report.md").read_text()
