"""One ``msmult run`` in a child process, timed: shared by the benchmark scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def timed_run(args: list[str], run_dir: Path, env: dict[str, str] | None = None) -> dict:
    """Run ``python -m msmult run ARGS`` into ``run_dir``; its report.json plus ``wall_s``.

    Exits with the child's last stderr lines when the run fails."""
    began = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", "msmult", "run", *args, f"hydra.run.dir={run_dir}"],
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - began
    if process.returncode != 0:
        sys.exit(f"msmult run {' '.join(args)} failed:\n{process.stderr[-2000:]}")
    report = json.loads((run_dir / "report.json").read_text())
    return {**report, "wall_s": round(wall, 2)}
