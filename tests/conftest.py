"""Shared helpers: run the real ``msmult`` CLI in a subprocess on the shipped data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
# Small but real: the shipped data, few epochs, few dropout draws (conf/debug/fast.yaml).
FAST = ["debug=fast"]


def run_cli(*args: str, cwd: Path, cache: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MSMULT_CACHE_DIR": str(cache or cwd / "cache"), "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [sys.executable, "-m", "msmult", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def msmult_run(tmp_path: Path):
    """Run ``msmult run`` into ``tmp_path/run`` and return (process, run dir)."""

    def runner(*overrides: str, fast: bool = True) -> tuple[subprocess.CompletedProcess, Path]:
        run_dir = tmp_path / "run"
        # The victim's epochs stay out of debug=fast: sklearn victims (victim=logreg, gbdt) have
        # no `epochs` key, and a config group cannot set one only when the victim has it.
        torch_victim = not any(o.startswith("victim=") for o in overrides)
        small = [*FAST, *(["victim.epochs=2"] if torch_victim else [])] if fast else []
        args = ["run", *small, *overrides, f"hydra.run.dir={run_dir}"]
        return run_cli(*args, cwd=tmp_path), run_dir

    return runner


def read_report(run_dir: Path) -> dict:
    return json.loads((run_dir / "report.json").read_text())


def assert_refused(process: subprocess.CompletedProcess, run_dir: Path, message: str) -> None:
    """Bad input: non-zero exit, ``message`` in the output, no traceback, no report."""
    output = process.stdout + process.stderr
    assert process.returncode != 0
    assert message in output
    assert "Traceback" not in output
    assert not (run_dir / "report.json").exists()


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Train in-process models as the pipeline does (threads: 1, fastest for these small models,
    and one per pytest-xdist worker); restore the setting after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
