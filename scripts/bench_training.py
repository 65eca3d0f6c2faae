"""Benchmark batched training: one fit, N fits together, N fits one at a time, per architecture,
then the stage times of whole runs.

Part 1 fits each dataset's shipped surrogate (its config, epochs and batch size) on the first
1,600 attacker-pool rows (what a 2,000-query budget leaves after the fidelity holdout) with their
true labels, in a child process per measurement, whose peak memory (max RSS) is reported:
  one      one model, the way every fit now runs (a stack of one)
  batched  N models with their own seeds and bootstrap resamples, trained together
  serial   the one-at-a-time loop msmult falls back to for architectures that do not stack,
           timed on --serial models and scaled to N (the column says so)
Part 2 runs the real CLI (``python -m msmult run ...``) and reads ``timing`` from report.json;
the refit runs print "ratio", the rashomon stage over the surrogate stage (one fit) of that run.
Victims come from the cache folder given: run the script twice for numbers with cached victims.

Usage: python scripts/bench_training.py [--models 20] [--serial 3] [--cache DIR]
       [--skip-fits] [--skip-runs] [--runs default compare bootstrap51 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cli_run import timed_run

DATASETS = {"mlp": "adult", "cnn": "ham10000", "text": "davidson"}
# Refit runs hold out a split (so the surrogate stage is one fit) and fix epsilon (so the rashomon
# stage is the refits alone, no calibration refits): "ratio" is rashomon / surrogate seconds.
REFITS = ["holdout.mode=split", "membership.epsilon=0.02", "rashomon=bootstrap"]
RUNS = {
    "default": ["dataset=adult"],
    "compare": ["dataset=adult", "rashomon=compare"],
    "bootstrap51": ["dataset=adult", *REFITS, "rashomon.n_models=51"],
    "bootstrap21": ["dataset=adult", *REFITS, "rashomon.n_models=21"],
    "ham_refits": ["dataset=ham10000", *REFITS, "rashomon.n_models=21"],
    "davidson_refits": ["dataset=davidson", *REFITS, "rashomon.n_models=21"],
    "ham_compare": ["dataset=ham10000", "rashomon=compare"],
    "davidson_compare": ["dataset=davidson", "rashomon=compare"],
}
ROWS = 1600


def child_fit(arch: str, mode: str, count: int) -> None:
    """In a child process: fit ``count`` surrogates of ``arch`` in ``mode``; print seconds."""
    import numpy as np
    from hydra import compose, initialize_config_dir

    from msmult.app import CONFIG_DIR
    from msmult.models.fitting import FitData, fit_many
    from msmult.settings import build

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", [f"dataset={DATASETS[arch]}"])
    import torch

    torch.set_num_threads(int(cfg.threads))
    splits = build(cfg.dataset).load(seed=0)
    x, y = splits.x_pool[:ROWS], splits.y_pool[:ROWS]
    models = [build(cfg.surrogate, n_classes=splits.n_classes, seed=s) for s in range(count)]
    if mode == "serial":  # the fallback loop: an architecture without stacked_layers
        for model in models:
            factory = model.module
            model.module = lambda factory=factory, **kw: hide_stacking(factory(**kw))
    resamples = [np.random.default_rng(s).integers(0, ROWS, ROWS) for s in range(count)]
    began = time.perf_counter()
    if mode == "serial":
        for model, rows in zip(models, resamples):
            fit_many([model], [FitData(x, y, rows=rows)])
    else:
        fit_many(models, [FitData(x, y, rows=rows) for rows in resamples])
    print(json.dumps({"seconds": time.perf_counter() - began}))


def hide_stacking(module):
    """The same module, without ``stacked_layers``: the trainer fits it one at a time."""
    module.stacked_layers = None
    return module


def measure(arch: str, mode: str, count: int) -> tuple[float, float]:
    """(seconds, peak resident GiB) of one child measurement (``os.wait4``'s max RSS)."""
    args = [sys.executable, __file__, "--child", arch, mode, str(count)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{arch} {mode} {count} failed (exit {process.returncode})")
    return json.loads(out.strip().splitlines()[-1])["seconds"], usage.ru_maxrss / 2**20


def fits_table(models: int, serial: int) -> None:
    header = f"{'arch':5} {'one fit':>8} {'N batched':>10} {'x one':>6} {'N serial':>10}"
    print(f"\n{header} {'speed-up':>8} {'peak GiB':>9}  (N = {models})")
    for arch in DATASETS:
        one, _ = measure(arch, "batched", 1)
        batched, peak = measure(arch, "batched", models)
        timed, _ = measure(arch, "serial", serial)
        scaled = timed / serial * models
        print(
            f"{arch:5} {one:8.2f} {batched:10.2f} {batched / one:6.2f} {scaled:10.2f} "
            f"{scaled / batched:8.1f} {peak:9.2f}  (serial: {serial} timed, scaled to {models})"
        )


def run(name: str, cache: Path, folder: Path) -> dict:
    """One CLI run: its stage seconds plus the wall time of the whole process."""
    report = timed_run(RUNS[name], folder / name, {**os.environ, "MSMULT_CACHE_DIR": str(cache)})
    return {**report["timing"], "wall_s": report["wall_s"]}


def runs_table(names: list[str], cache: Path) -> None:
    stages = ("victim_s", "owner_s", "surrogate_s", "rashomon_s", "metrics_s", "total_s", "wall_s")
    print(f"\n{'run':17}" + "".join(f"{s[:-2]:>10}" for s in stages) + "     ratio")
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            timing = run(name, cache, Path(folder))
            ratio = (
                timing["rashomon_s"] / timing["surrogate_s"] if REFITS[0] in RUNS[name] else None
            )
            print(
                f"{name:17}"
                + "".join(f"{timing.get(s, float('nan')):10.2f}" for s in stages)
                + (f"{ratio:10.1f}" if ratio is not None else "")
            )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_fit(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--serial", type=int, default=3, help="serial fits actually timed")
    parser.add_argument("--cache", type=Path, default=Path("outputs/cache"))
    parser.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS))
    parser.add_argument("--skip-fits", action="store_true")
    parser.add_argument("--skip-runs", action="store_true")
    options = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    if not options.skip_fits:
        fits_table(options.models, options.serial)
    if not options.skip_runs:
        runs_table(options.runs, options.cache.resolve())


if __name__ == "__main__":
    main()
