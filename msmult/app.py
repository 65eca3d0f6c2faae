"""The Hydra application behind ``msmult run``."""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from msmult import pipeline
from msmult.report.outputs import is_complete
from msmult.sweep import record_skip

_PACKAGED = Path(__file__).resolve().parent / "conf"  # wheel: force-included copy of conf/
_REPOSITORY = Path(__file__).resolve().parent.parent / "conf"  # source tree / editable install
CONFIG_DIR = str(_PACKAGED if _PACKAGED.is_dir() else _REPOSITORY)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def run_app(cfg: DictConfig) -> dict | None:
    """Run one pipeline into Hydra's output directory, unless that directory already holds a
    complete report for this exact config (a resumed sweep)."""
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    if is_complete(run_dir, cfg):
        record_skip(run_dir)
        return None
    return pipeline.run(cfg, run_dir)
