"""Every run-wide value of a config, validated once, before any data is loaded.

``Settings.from_config(cfg)`` builds every object a run needs that does not depend on the data
(dataset loader, attack, explorer, membership, holdout plan, verdict, extremal search) and checks
the victim, surrogate and API configs with stand-ins (``msmult.preflight``), so a bad value is
refused in seconds with one paragraph naming it. ``pipeline.run`` reads only this object and the
data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from msmult.analysis.budget_curve import check_checkpoints
from msmult.analysis.comparison import REFERENCES
from msmult.analysis.evaluation import Scoring
from msmult.attacks.base import Attack, as_attack
from msmult.errors import MsmultError
from msmult.metrics.verdict import Verdict
from msmult.models.device import resolve_device
from msmult.preflight import check_models
from msmult.rashomon.base import Explorer, as_explorer
from msmult.rashomon.compare import CompareExplorer
from msmult.rashomon.crossfit import FidelityHoldout
from msmult.rashomon.membership import Membership
from msmult.validation import bad_value, flag, number, whole


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
            f"Cannot build {target!r}: {' '.join(str(err).split())}. Check its `_target_` (an "
            "importable class; a "
            "plugin's module must be importable from the folder msmult runs in) and arguments."
        ) from None


def thieves_lenses(explorer: Explorer) -> list[str]:
    """The explorer's lenses whose members are other thieves' copies (refits): the refitting
    explorers of ``rashomon=compare`` / ``lenses``, or the explorer itself."""
    names = list(explorer.explorers) if isinstance(explorer, CompareExplorer) else [explorer.name]
    return [name for name in names if name in REFERENCES]


@dataclass(frozen=True)
class Settings:
    """The validated run: built stage objects and the run-wide values they share."""

    cfg: DictConfig
    seed: int
    threads: int
    dataset: Any
    attack: Attack
    explorer: Explorer
    explorer_name: str
    membership: Membership
    holdout: FidelityHoldout
    owner_models: int
    verdict: Verdict
    extremes: Any | None
    checkpoints: tuple[int, ...]
    capacity_tol: float

    @property
    def grid(self) -> tuple[tuple[float, ...], int]:
        """``ExplorationTask.from_base``'s last arguments: the epsilon grid and the seed."""
        return self.membership.epsilon_grid, self.seed

    @property
    def scoring(self) -> Scoring:
        """How the run scores its exploration (``Evaluation.of``)."""
        return Scoring(self.verdict, self.explorer_name, self.seed, self.capacity_tol)

    @classmethod
    def from_config(cls, cfg: DictConfig) -> Settings:
        """Validate ``cfg`` and build what needs no data; raises ``MsmultError`` on a bad value."""
        seed = whole("seed", cfg.seed, 0, example="seed=0")
        threads = whole("threads", cfg.threads, 1, what=" (torch CPU threads)", example="threads=1")
        resolve_device(str(cfg.device))
        number("memory_gb", cfg.memory_gb, 0, open_low=True, example="memory_gb=4")
        capacity_tol = number(
            "capacity_tol",
            cfg.capacity_tol,
            0,
            open_low=True,
            what=" (bits)",
            example="capacity_tol=1e-9",
        )
        if flag("cache.victims", cfg.cache.victims) and not str(cfg.cache.dir or "").strip():
            raise bad_value(
                "cache.dir",
                cfg.cache.dir,
                "it must be a folder path when cache.victims=true",
                "cache.dir=outputs/cache",
            )
        holdout = FidelityHoldout(**node(cfg.holdout))
        verdict = Verdict(**node(cfg.verdict))
        owner_models = check_owner(cfg.owner.models, verdict)
        explorer = as_explorer(build(cfg.rashomon))
        budget = whole(
            "budget", cfg.budget, 1, what=" (rows the attacker may send)", example="budget=2000"
        )
        checkpoints = check_checkpoints(cfg.budget_checkpoints, budget, holdout.share)
        if verdict.budget_to_equivalence:
            check_equivalence(checkpoints, explorer)
        extremes = build(cfg.extremes) if cfg.get("extremes") else None
        # split mode where a run feature scores the base surrogate on the holdout rows itself
        holdout = holdout.for_run(
            explorer, extremes=extremes is not None, budget_curve=bool(checkpoints)
        )
        settings = cls(
            cfg=cfg,
            seed=seed,
            threads=threads,
            dataset=build(cfg.dataset),
            attack=as_attack(build(cfg.attack)),
            explorer=explorer,
            explorer_name=explorer.name,
            membership=Membership(**node(cfg.membership)),
            holdout=holdout,
            owner_models=owner_models,
            verdict=verdict,
            extremes=extremes,
            checkpoints=tuple(checkpoints),
            capacity_tol=capacity_tol,
        )
        check_models(cfg, build)  # victim / surrogate / api values, before the data load
        return settings


def node(value: DictConfig) -> dict:
    """A config node as plain keyword arguments."""
    return OmegaConf.to_container(value, resolve=True)


def check_owner(models: Any, verdict: Verdict) -> int:
    """``owner.models``: 0 (off) or a whole number >= 2; owner tolerances need retrains."""
    if not (models == 0 or (whole("owner.models", models, 0) >= 2)):
        raise bad_value(
            "owner.models",
            models,
            "it must be 0 (off) or a whole number >= 2 (the owner's retrains of the victim)",
            "owner.models=10",
        )
    if models == 0 and verdict.tolerances == "owner":
        raise bad_value(
            "verdict.tolerances",
            "owner",
            "the owner's tolerances come from the owner's retrains, and owner.models=0 turns "
            "them off; set owner.models to 2 or more, or verdict.tolerances=fixed",
            "owner.models=10",
        )
    return int(models)


def check_equivalence(checkpoints: list[int], explorer: Explorer) -> None:
    """``verdict.budget_to_equivalence=true`` needs budget checkpoints and a thieves' lens."""
    if not checkpoints:
        raise bad_value(
            "budget_checkpoints",
            [],
            "verdict.budget_to_equivalence=true needs the budgets to try: give at least one "
            "checkpoint",
            "budget_checkpoints=[250,500,1000,2000]",
        )
    if not thieves_lenses(explorer):
        raise bad_value(
            "rashomon",
            explorer.name,
            "verdict.budget_to_equivalence=true measures the share of other thieves' copies "
            "(refits) that pass, so the explorer must refit: rashomon=lenses, bootstrap, "
            "retrain or compare",
            "rashomon=lenses",
        )
