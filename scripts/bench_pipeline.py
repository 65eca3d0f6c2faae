"""Benchmark msmult's pipeline stages on the three reference runs of docs/performance.md.

Runs the real CLI (``python -m msmult run ...``) into a temporary folder and reads ``timing``
from each report.json; the wall time is measured around the whole process. Victims come from the
cache folder given (trained on the first run, reused after), so run it twice for warm numbers.

  adult1001  Adult, the dropout set alone with 1,001 candidates (rashomon=dropout
             rashomon.draws_per_rate=50, epsilon 0.02): explore + metrics (goal < 3 s)
  davidson   Davidson, defaults: metrics stage (goal < 2 s)
  ham10000   HAM10000, defaults: whole run, wall clock (goal < 25 s)

--busy keeps one core busy (a spinning child process) during every run: the slowdown against a
quiet run is what a 2-job sweep on 2 cores sees.

Usage: python scripts/bench_pipeline.py [--runs adult1001 davidson ham10000] [--cache DIR]
       [--busy] [-- extra overrides, e.g. rashomon.threads=1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cli_run import timed_run

RUNS = {
    "adult1001": [
        "dataset=adult",
        "rashomon=dropout",
        "rashomon.draws_per_rate=50",
        "membership.epsilon=0.02",
    ],
    "davidson": ["dataset=davidson"],
    "ham10000": ["dataset=ham10000"],
}
TARGETS = {
    "adult1001": ("explore+metrics", 3.0),
    "davidson": ("metrics", 2.0),
    "ham10000": ("wall", 25.0),
}


def run(name: str, extra: list[str], cache: Path, folder: Path) -> dict:
    """Run one benchmark configuration; its stage seconds plus ``wall_s``."""
    env = {**os.environ, "MSMULT_CACHE_DIR": str(cache)}
    report = timed_run([*RUNS[name], *extra], folder / name, env)
    return {
        **report["timing"],
        "wall_s": report["wall_s"],
        "candidates": report["rashomon"]["candidates"],
        "set_size": report["multiplicity"]["set_size"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS))
    parser.add_argument("--cache", type=Path, default=Path("outputs/cache"))
    parser.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("overrides", nargs="*", help="extra msmult overrides (after --)")
    options = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    spinner = None
    if options.busy:
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        print("one core busy (a spinning process) during every run")
    print(
        f"{'run':10} {'explore':>8} {'metrics':>8} {'expl+met':>8} {'total':>8} {'wall':>8}  target"
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            for name in options.runs:
                t = run(name, options.overrides, options.cache.resolve(), Path(folder))
                both = t["rashomon_s"] + t["metrics_s"]
                what, limit = TARGETS[name]
                value = {"explore+metrics": both, "metrics": t["metrics_s"], "wall": t["wall_s"]}[
                    what
                ]
                verdict = "met" if value < limit else "MISSED"
                print(
                    f"{name:10} {t['rashomon_s']:8.2f} {t['metrics_s']:8.2f} {both:8.2f} "
                    f"{t['total_s']:8.2f} {t['wall_s']:8.2f}  {what} < {limit:g} s: {verdict} "
                    f"({t['candidates']} candidates, set size {t['set_size']})"
                )
    finally:
        if spinner is not None:
            spinner.kill()


if __name__ == "__main__":
    main()
