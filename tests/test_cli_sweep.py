"""Hydra's own flags and a resumed sweep, through the real ``msmult`` command."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from helpers import run_cli, small

import msmult
from msmult.report.outputs import MARKER

pytestmark = pytest.mark.e2e


def test_help_lists_commands_config_groups_and_the_one_version(tmp_path):
    top = run_cli("--help", cwd=tmp_path)
    assert top.returncode == 0 and all(c in top.stdout for c in ("run", "serve", "tables", "plots"))
    groups = run_cli("run", "--help", cwd=tmp_path)
    assert groups.returncode == 0
    for line in (
        "dataset: adult, compas, csv, davidson, german, ham10000",
        "victim: cnn, gbdt, logreg, mlp, remote, text",
    ):
        assert line in groups.stdout
    assert run_cli("--version", cwd=tmp_path).stdout == f"msmult {version('msmult')}\n"
    assert msmult.__version__ == version("msmult")  # pyproject.toml's, the one place it is written
    wrong = run_cli("tabels", cwd=tmp_path)
    assert wrong.returncode == 2 and "unknown command 'tabels'" in wrong.stderr


def test_rerunning_a_sweep_skips_finished_jobs_and_redoes_killed_ones(tmp_path):
    sweep = tmp_path / "sweep"
    jobs = ("dataset=german", "budget=100,200", "holdout.mode=split")
    args = ("run", "-m", *jobs, *small(), f"hydra.sweep.dir={sweep}")
    first = run_cli(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    jobs = sorted(p.parent for p in sweep.glob("*/report.json"))
    assert len(jobs) == 2 and "skipped 0 job(s)" in first.stdout + first.stderr
    assert first.stdout.strip().splitlines()[-1] == f"sweep outputs: {sweep}"
    # a job killed after writing its report but before its marker is not complete
    (jobs[0] / MARKER).unlink()
    again = run_cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "skipped 1 job(s)" in again.stdout + again.stderr
    assert (jobs[0] / MARKER).is_file()


def test_a_sweep_over_result_changing_threads_never_overwrites_a_job(tmp_path):
    """``threads`` may change trained weights in the last bits, so each value gets its own folder
    and fingerprint; ``memory_gb`` cannot, so a second value of it finds the job already done."""
    sweep = tmp_path / "sweep"
    base = ("dataset=german", "budget=100", "holdout.mode=split", *small())
    first = run_cli("run", "-m", *base, "threads=1,2", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    folders = sorted(p.parent.name for p in sweep.glob("*/report.json"))
    assert len(folders) == 2 and all("threads=" in name for name in folders)
    neutral = run_cli(
        "run", "-m", *base, "threads=1", "memory_gb=1,2", f"hydra.sweep.dir={sweep}", cwd=tmp_path
    )
    assert neutral.returncode == 0, neutral.stderr[-2000:]
    assert "skipped 2 job(s)" in neutral.stdout + neutral.stderr  # the threads=1 job, twice
    assert sorted(p.parent.name for p in sweep.glob("*/report.json")) == folders
