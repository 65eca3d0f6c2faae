"""The run config as ``msmult run`` composes it, for commands outside the Hydra app
(``msmult serve``, ``msmult.audit``): the shipped ``conf/`` with overrides, and Hydra's runtime
values set so that ``${hydra:runtime.cwd}`` (the default ``cache.dir``) resolves."""

from __future__ import annotations

from collections.abc import Sequence

from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from msmult.config_keys import register_resolver
from msmult.fileio import shipped_folder


def compose_config(overrides: Sequence[str]) -> DictConfig:
    """``conf/config.yaml`` composed with ``overrides`` (``group=option``, ``key=value``)."""
    register_resolver()
    with initialize_config_dir(str(shipped_folder("conf")), version_base="1.3"):
        cfg = compose("config", overrides=list(overrides), return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]  # as msmult run's cfg: Hydra's own settings live in HydraConfig
    return cfg
