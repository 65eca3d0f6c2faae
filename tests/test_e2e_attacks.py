"""The surrogate-in-the-loop attacks end to end, in-process: every query counted, the report's
numbers recomputed from the output files, and exact equation solving on victim=logreg."""

import pytest
from helpers import run_in_process
from report_checks import check_run_outputs

pytestmark = pytest.mark.e2e


def test_equation_solving_recovers_a_logreg_victim_and_the_set_collapses(tmp_path):
    report = run_in_process(
        tmp_path,
        "victim=logreg",
        "attack=equation_solving",
        "budget=500",
        "membership.epsilon=0.02",
    )
    d_plus_1 = report["attack"]["fit_rows"] - 10  # verify_rows=10
    assert report["attack"]["queries_used"] == report["attack"]["holdout_rows"] + d_plus_1 + 10
    assert report["surrogate"]["fidelity"] > 0.999
    assert report["multiplicity"]["ambiguity_vs_victim"] < 0.001
    check_run_outputs(tmp_path, report)


@pytest.mark.parametrize("attack", ["knockoff_adaptive", "jacobian", "active"])
def test_a_surrogate_in_the_loop_run_counts_every_query(tmp_path, attack):
    # split mode: the report's fit and holdout rows are then exactly the attack's and steal's rows
    report = run_in_process(tmp_path, f"attack={attack}", "budget=300", "holdout.mode=split")
    stolen = report["attack"]
    assert stolen["queries_used"] == 300 == stolen["fit_rows"] + stolen["holdout_rows"]
    assert stolen["holdout"] == "separate uniform pool draw"
    check_run_outputs(tmp_path, report)
