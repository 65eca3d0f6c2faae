"""The real ``msmult`` command in subprocesses, for what only a process shows: exit codes, the
console, no traceback, file permissions, Hydra's own flags and a resumed sweep. Every other run
is checked in-process (``tests/helpers.py``: ``run_in_process``, ``compose_config``)."""

from __future__ import annotations

import os

import pytest
from helpers import FAST, assert_refused_cleanly, read_report, run_cli, small
from report_checks import check_run_outputs

from msmult.report.outputs import MARKER

pytestmark = pytest.mark.e2e

OUTPUTS = (
    "config.yaml",
    "predictions.parquet",
    "surrogates.csv",
    "report.json",
    "report.md",
    "epsilon_curve.png",
    "capacity_cdf.png",
    MARKER,
)


@pytest.fixture
def umask_022():
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_the_readme_run_prints_its_answer_and_writes_readable_outputs(tmp_path, umask_022):
    run_dir, cache = tmp_path / "run", tmp_path / "cache"
    args = ("run", "dataset=adult", "attack=knockoff", *small("budget=400"))
    process = run_cli(*args, f"hydra.run.dir={run_dir}", cwd=tmp_path, cache=cache)
    assert process.returncode == 0, process.stderr[-3000:]
    assert "Rashomon set size" in process.stdout  # the console summary
    assert process.stdout.strip().splitlines()[-1] == f"outputs: {run_dir}"
    assert "" not in process.stderr.splitlines()  # stderr is a pipe: no progress bars
    assert "Traceback" not in process.stderr
    for name in OUTPUTS:
        assert (run_dir / name).stat().st_mode & 0o777 == 0o644, name
    entries = [e for e in (cache / "victims").rglob("*") if e.is_file()]  # victim and owner
    assert entries and all(e.stat().st_mode & 0o777 == 0o644 for e in entries)
    check_run_outputs(run_dir, read_report(run_dir))


def test_a_refused_run_exits_non_zero_and_its_log_ends_with_the_error(tmp_path):
    run_dir = tmp_path / "run"
    args = ("run", *FAST, "dataset=german", "budget=5000", f"hydra.run.dir={run_dir}")
    process = run_cli(*args, cwd=tmp_path)
    assert_refused_cleanly(process, run_dir, "budget=5000 is not allowed")
    last = (run_dir / "msmult.log").read_text().strip().splitlines()[-1]
    assert "ERROR" in last and "budget=5000" in last


def test_an_unknown_config_choice_is_refused_without_a_traceback(tmp_path):
    run_dir = tmp_path / "run"
    process = run_cli("run", "dataset=nosuch", f"hydra.run.dir={run_dir}", cwd=tmp_path)
    assert_refused_cleanly(process, run_dir, "dataset")


def test_an_unwritable_sweep_folder_is_named_before_any_work(tmp_path):
    folder = "/proc/msmult-cannot-be-here"  # more kinds, and run folders: test_reliability_io.py
    process = run_cli("run", "-m", *FAST, f"hydra.sweep.dir={folder}", cwd=tmp_path)
    assert process.returncode != 0
    assert f"The output folder {folder} cannot be created or written" in process.stderr
    assert "hydra.sweep.dir=PATH" in process.stderr
    assert "Traceback" not in process.stderr and "stage: data" not in process.stdout
