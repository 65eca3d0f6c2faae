"""Hydra's own flags and a resumable multirun through the real CLI."""

import pytest
from conftest import FAST, run_cli

pytestmark = pytest.mark.e2e


def test_help_lists_commands_and_config_groups(tmp_path):
    top = run_cli("--help", cwd=tmp_path)
    assert top.returncode == 0 and all(c in top.stdout for c in ("run", "serve", "tables", "plots"))
    groups = run_cli("run", "--help", cwd=tmp_path)
    assert groups.returncode == 0
    for line in (
        "dataset: adult, compas, csv, davidson, german, ham10000",
        "victim: cnn, gbdt, logreg, mlp, remote, text",
    ):
        assert line in groups.stdout
    job = run_cli("run", "--cfg", "job", "dataset=german", cwd=tmp_path)
    assert (
        job.returncode == 0 and "budget: 300" in job.stdout and "GermanCreditDataset" in job.stdout
    )
    wrong = run_cli("tabels", cwd=tmp_path)
    assert wrong.returncode == 2 and "unknown command 'tabels'" in wrong.stderr


def test_rerunning_a_sweep_skips_finished_jobs_and_redoes_killed_ones(tmp_path):
    sweep = tmp_path / "sweep"
    args = (
        "run",
        "-m",
        "dataset=german",
        "budget=100,200",
        "victim.epochs=2",
        *FAST,
        f"hydra.sweep.dir={sweep}",
    )
    first = run_cli(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    jobs = sorted(p.parent for p in sweep.glob("*/report.json"))
    assert len(jobs) == 2 and "skipped 0 job(s)" in first.stdout + first.stderr
    # a job killed after writing its report but before its marker is not complete
    (jobs[0] / ".msmult-complete.json").unlink()
    again = run_cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "skipped 1 job(s)" in again.stdout + again.stderr
    assert (jobs[0] / ".msmult-complete.json").is_file()
