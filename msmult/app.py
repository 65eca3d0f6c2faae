"""The Hydra application behind ``msmult run``."""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from omegaconf import DictConfig

from msmult import pipeline
from msmult.errors import MsmultError
from msmult.fileio import shipped_folder
from msmult.report.outputs import is_complete
from msmult.sweep import record_skip

CONFIG_DIR = str(shipped_folder("conf"))  # absolute: see shared Hydra notes


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def run_app(cfg: DictConfig) -> dict | None:
    """Run one pipeline into Hydra's output directory, unless that directory already holds a
    complete report for this exact config (a resumed sweep)."""
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    if is_complete(run_dir, cfg):
        record_skip(run_dir)
        return None
    try:
        return pipeline.run(cfg, run_dir)
    except MsmultError as error:
        raise RunError(str(error)) from None


class RunError(CompactHydraException):
    """An ``MsmultError`` at the CLI: Hydra prints the one paragraph, no traceback, exit 1."""
