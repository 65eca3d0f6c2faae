"""Hydra callbacks of ``msmult run``: the output folder is checked before any work, and a sweep
says where it wrote and how many jobs it skipped.

Resumable multiruns: a job whose run dir already holds a complete report for the same config
is skipped, and the sweep says how many it skipped (Hydra has no built-in skip).

Jobs append one line to ``<sweep dir>/.msmult-skipped`` when they skip; the callback clears the
file when a sweep starts and counts its lines when the sweep ends. Appends of one short line are
atomic, so this works with jobs in parallel processes (joblib, Ray workers on one machine).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

log = logging.getLogger("msmult")
SKIP_LOG = ".msmult-skipped"


def record_skip(run_dir: Path) -> None:
    """Log that this job's run is complete already and, in a multirun, count it for the sweep."""
    log.info("already complete (valid marker in %s): skipping this job", run_dir)
    hydra = HydraConfig.get()
    if hydra.mode == RunMode.MULTIRUN:
        with open(Path(hydra.sweep.dir) / SKIP_LOG, "a", encoding="utf-8") as handle:
            handle.write(f"{hydra.job.override_dirname}\n")


def check_writable(folder: Path, key: str) -> None:
    """Create ``folder`` and write (then remove) a probe file in it, else a clear error naming it;
    runs before Hydra creates the folder itself, so before any data is loaded or model trained.
    Exits (status 1, the message on stderr): Hydra turns a callback's exception into a warning."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".msmult-write-check.")
        os.close(handle)
        os.unlink(probe)
    except OSError as err:
        sys.exit(
            f"The output folder {folder} cannot be created or written ({type(err).__name__}: "
            f"{err.strerror or err}). Choose a writable folder with {key}=PATH."
        )


class OutputFolderCheck(Callback):
    """Refuses an unwritable run or sweep folder with a message naming it (Hydra's own mkdir would
    fail later with a traceback), and prints the sweep folder when a multirun ends."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        check_writable(Path(str(config.hydra.run.dir)), "hydra.run.dir")

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        check_writable(Path(str(config.hydra.sweep.dir)), "hydra.sweep.dir")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        print(f"sweep outputs: {config.hydra.sweep.dir}")


class SkipCounter(Callback):
    """Reports, at the end of a multirun, how many jobs were skipped as already complete."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        (sweep_dir / SKIP_LOG).write_text("", encoding="utf-8")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        skip_log = Path(config.hydra.sweep.dir) / SKIP_LOG
        skipped = len(skip_log.read_text(encoding="utf-8").splitlines()) if skip_log.exists() else 0
        log.info("skipped %d job(s) already complete in %s", skipped, config.hydra.sweep.dir)
