"""The Hydra application behind ``msmult run``."""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf

from msmult import pipeline
from msmult.config_keys import register_resolver
from msmult.errors import MsmultError
from msmult.fileio import shipped_folder
from msmult.report.outputs import is_complete
from msmult.sweep import record_skip
from msmult.tracking import NoTracking

CONFIG_DIR = str(shipped_folder("conf"))  # absolute: Hydra needs it under a console script
log = logging.getLogger("msmult")
register_resolver()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def run_app(cfg: DictConfig) -> dict | None:
    """Run one pipeline into Hydra's output directory, unless that directory already holds a
    complete report for this exact config (a resumed sweep)."""
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    if is_complete(run_dir, cfg):
        record_skip(run_dir)
        print(f"outputs: {run_dir}")
        return None
    try:
        tracker = pipeline.build(cfg.tracking) if cfg.get("tracking") else NoTracking()
        report = pipeline.run(cfg, run_dir)
        tracker.log_run(OmegaConf.to_container(cfg, resolve=True), report, run_dir, run_name())
    except MsmultError as error:
        log_to_file(f"error: {error}")
        raise RunError(str(error)) from None
    except Exception as error:
        log_to_file(f"error: {type(error).__name__}: {error}")
        raise
    print(f"outputs: {run_dir}")
    return report


def run_name() -> str:
    """The job's overrides (``dataset=compas,budget=500``), else its output folder's name."""
    hydra = HydraConfig.get()
    return str(hydra.job.override_dirname) or Path(hydra.runtime.output_dir).name


def log_to_file(message: str) -> None:
    """End the run's ``msmult.log`` with ``message``; the console gets it once, from Hydra."""
    record = log.makeRecord(log.name, logging.ERROR, __file__, 0, message, None, None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)


class RunError(CompactHydraException):
    """An ``MsmultError`` at the CLI: Hydra prints the one paragraph, no traceback, exit 1."""
