"""Every run-wide value of a config, validated once, before any data is loaded.

``Settings.from_config(cfg)`` builds every object a run needs that does not depend on the data
(dataset loader, attack, explorer, verdict, holdout plan, extremal search) and checks the victim,
surrogate and API configs with stand-ins (``msmult.preflight``), so a bad value is refused in
seconds with one paragraph naming it. ``pipeline.run`` reads only this object and the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from msmult.errors import MsmultError
from msmult.metrics.verdict import Verdict
from msmult.preflight import check_models
from msmult.rashomon.calibration import check_calibration
from msmult.rashomon.crossfit import FidelityHoldout
from msmult.rashomon.exploration import ExplorationTask, explorer_settings
from msmult.validation import check_run_config


def build(node: Any, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` that lets msmult's own one-paragraph errors through unwrapped
    and names the config entry whose ``_target_`` cannot be imported or called."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as err:
        if isinstance(err.__cause__, MsmultError):
            raise err.__cause__ from None
        target = node.get("_target_") if hasattr(node, "get") else node
        raise MsmultError(
            f"Cannot build {target!r}: {err}. Check its `_target_` (an importable class; a "
            "plugin's module must be importable from the folder msmult runs in) and arguments."
        ) from None


@dataclass(frozen=True)
class Settings:
    """The validated run: built stage objects and the run-wide numbers they share."""

    cfg: DictConfig
    seed: int
    dataset: Any
    attack: Any
    explorer: Any
    explorer_name: str
    epsilon: float | str  # a number, or "auto" (calibrated)
    epsilon_grid: tuple[float, ...]
    calibration_models: int
    verdict: Verdict
    holdout: FidelityHoldout
    extremes: Any

    @classmethod
    def from_config(cls, cfg: DictConfig) -> Settings:
        """Validate ``cfg`` and build what needs no data; raises ``MsmultError`` on a bad value."""
        check_run_config(cfg)
        explorer_cfg, epsilon, epsilon_grid = explorer_settings(
            OmegaConf.to_container(cfg.rashomon, resolve=True)
        )
        ExplorationTask.check_epsilons(epsilon, epsilon_grid, allow_auto=True)
        calibration_models = check_calibration(epsilon, cfg.rashomon.get("calibration_models"))
        explorer = build(explorer_cfg)
        settings = cls(
            cfg=cfg,
            seed=int(cfg.seed),
            dataset=build(cfg.dataset),
            attack=build(cfg.attack),
            explorer=explorer,
            explorer_name=str(getattr(explorer, "name", type(explorer).__name__)),
            epsilon=epsilon,
            epsilon_grid=tuple(epsilon_grid),
            calibration_models=calibration_models,
            verdict=Verdict(**OmegaConf.to_container(cfg.get("verdict") or {})),
            holdout=FidelityHoldout(cfg.fidelity_holdout_mode, cfg.fidelity_folds),
            extremes=build(cfg.extremes_search),
        )
        check_models(cfg, build)  # victim / surrogate / api values, before the data load
        return settings
