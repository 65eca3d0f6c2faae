"""The Hydra application behind ``msmult run``."""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from msmult import pipeline

_PACKAGED = Path(__file__).resolve().parent / "conf"  # wheel: force-included copy of conf/
_REPOSITORY = Path(__file__).resolve().parent.parent / "conf"  # source tree / editable install
CONFIG_DIR = str(_PACKAGED if _PACKAGED.is_dir() else _REPOSITORY)


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def run_app(cfg: DictConfig) -> dict:
    """Compose the config, run one pipeline into Hydra's output directory."""
    return pipeline.run(cfg, Path(HydraConfig.get().runtime.output_dir))
