"""The surrogate-in-the-loop attacks through the real CLI: bad input refused cleanly (one
paragraph, non-zero exit, no traceback, no report), and exact equation solving on victim=logreg."""

import pytest

from tests.conftest import read_report

pytestmark = pytest.mark.e2e

BAD = [
    (("attack=jacobian", "budget=100"), "budget=100 is not allowed"),  # seed set is 150 rows
    (("attack=active", "attack.rounds=0"), "attack.rounds=0 is not allowed"),
    (("attack=jacobian", "attack.lambda=0"), "attack.lambda=0 is not allowed"),
    (("attack=knockoff_adaptive", "attack.n_clusters=99999"), "attack.n_clusters=99999"),
    (("attack=knockoff_adaptive", "attack.reward=gold"), "attack.reward='gold' is not allowed"),
    (("attack=jacobian", "dataset=davidson", "dataset.subsample=0.05"), "token-id"),
    (("attack=equation_solving", "budget=500"), "needs victim=logreg"),  # MLP victim
    (("attack=equation_solving", "victim=logreg", "api=label"), "mode=label"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD, ids=lambda c: str(c))
def test_bad_attack_input_is_reported_cleanly(msmult_run, overrides, message):
    process, run_dir = msmult_run(*overrides)
    output = process.stdout + process.stderr
    assert process.returncode != 0 and message in output, output[-2000:]
    assert "Traceback" not in output
    assert not (run_dir / "report.json").exists()


def test_equation_solving_recovers_a_logreg_victim_and_the_set_collapses(msmult_run):
    process, run_dir = msmult_run("victim=logreg", "attack=equation_solving", "budget=500")
    assert process.returncode == 0, process.stderr[-2000:]
    report = read_report(run_dir)
    d_plus_1 = report["attack"]["fit_rows"] - 10  # verify_rows=10
    assert report["attack"]["queries_used"] == report["attack"]["holdout_rows"] + d_plus_1 + 10
    assert report["surrogate"]["fidelity"] > 0.999
    assert report["multiplicity"]["ambiguity_vs_victim"] < 0.001


@pytest.mark.parametrize("attack", ["knockoff_adaptive", "jacobian", "active"])
def test_a_surrogate_in_the_loop_run_counts_every_query(msmult_run, attack):
    # split mode: the report's fit and holdout rows are then exactly the attack's and steal's rows
    process, run_dir = msmult_run(f"attack={attack}", "budget=300", "fidelity_holdout_mode=split")
    assert process.returncode == 0, process.stderr[-2000:]
    stolen = read_report(run_dir)["attack"]
    assert stolen["queries_used"] == 300 == stolen["fit_rows"] + stolen["holdout_rows"]
    assert stolen["holdout"] == "separate uniform pool draw"
