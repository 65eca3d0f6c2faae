"""One msmult run: data -> victim (and the owner's retrains) -> API -> attack -> surrogate ->
Rashomon set -> evaluation -> report.

``run`` is the only place that knows the order, and reads as the story of a run: each stage takes
what the stages before returned. Every config value is checked (``Settings.from_config``) before the
data loads; the victim, its API and the surrogate factory are built once the data says how many
classes there are (``Stages``), before any model is trained.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from msmult.analysis.budget_curve import budget_curve, budget_to_equivalence
from msmult.analysis.evaluation import Evaluation
from msmult.attacks import prepare, steal
from msmult.data.splits import Splits
from msmult.models.owner_retrains import owner_retrains
from msmult.oracle.api import api_label
from msmult.oracle.defender import defender_side
from msmult.rashomon.exploration import ExplorationTask, check_exploration
from msmult.remote import obtain_victim, victim_section
from msmult.report.assemble import RunRecord, build_report
from msmult.report.outputs import write_outputs
from msmult.report.summary import print_summary
from msmult.settings import Settings, build

log = logging.getLogger("msmult")


class Stopwatch:
    """Seconds per pipeline stage, for the ``timing`` section of the report."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.start = time.perf_counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        log.info("stage: %s", name)
        yield
        self.seconds[f"{name}_s"] = round(time.perf_counter() - began, 3)

    def total(self) -> dict[str, float]:
        return {**self.seconds, "total_s": round(time.perf_counter() - self.start, 3)}


def run(cfg: DictConfig, run_dir: Path) -> dict:
    """Run the whole pipeline for ``cfg`` and write its outputs into ``run_dir``."""
    settings = Settings.from_config(cfg)
    torch.set_num_threads(settings.threads)
    clock = Stopwatch()
    with clock.stage("data"):
        splits = settings.dataset.load(seed=settings.seed)
    stages = Stages.for_data(settings, splits)
    with clock.stage("victim"):
        victim, victim_cache = obtain_victim(stages.victim, splits, cfg)  # trained or connected
        victim_proba = victim.predict_proba(splits.x_test)
    with clock.stage("owner"):
        retrains = owner_retrains(stages.new_victim, victim, splits, cfg, settings.owner_models)
    with clock.stage("attack"):
        theft = steal(settings.attack, stages.api, splits.x_pool, *stages.thief(settings))
    with clock.stage("surrogate"):
        base = settings.holdout.fit(settings.attack, theft, stages.new_surrogate, settings.seed)
    task = ExplorationTask.from_base(base, stages.new_surrogate, splits.eval_sets, *settings.grid)
    with clock.stage("rashomon"):
        task, calibration = settings.membership.resolve(task)
        exploration = settings.explorer.explore(task)
        check_exploration(exploration, task, settings.explorer_name, splits.n_classes)
    with clock.stage("metrics"):
        evaluation = Evaluation.of(
            exploration, splits, victim, victim_proba, retrains, settings.scoring
        )
        defender = defender_side(
            stages.api, victim_proba, splits.x_test, splits.y_test, settings.seed
        )
    extras = {
        **victim_section(victim, stages.api),  # remote: rows sent, replayed, retries, ...
        **extremal_fairness(settings, task, splits, exploration, evaluation, clock),
        **budget_sections(settings, task, splits, victim_proba, evaluation, clock),
    }
    setup = stages.setup(settings, victim_cache, base.mode, calibration)
    record = RunRecord(
        splits, setup, theft, exploration, evaluation, defender, extras, clock.total()
    )
    report = build_report(record)
    write_outputs(run_dir, report, record, cfg)
    print_summary(report)
    return report


@dataclass(frozen=True)
class Stages:
    """What is built once the data says how many classes there are: the (unfitted) victim, its
    prediction API, and factories of surrogates and of the owner's retrains (seed -> unfitted
    model configured like the run's)."""

    victim: Any
    api: Any
    new_surrogate: Callable[[int], Any]
    new_victim: Callable[[int], Any]

    @classmethod
    def for_data(cls, settings: Settings, splits: Splits) -> Stages:
        """Build the stages and run the checks that need the data, before any training."""
        cfg, classes = settings.cfg, splits.n_classes
        victim = build(cfg.victim, n_classes=classes)
        api = build(cfg.api, victim=victim)  # queries the victim only once it is fitted
        prepare(settings.attack, api.budget, splits.x_pool, splits.domain)
        if settings.extremes is not None:
            settings.extremes.check(splits)  # the pool's groups and labels
        settings.explorer.check(len(splits.x_test))  # e.g. awp.rows against the test split
        surrogates, victims = (
            partial(make_surrogate, cfg.surrogate, classes),
            partial(make_victim, cfg, classes),
        )
        return cls(victim, api, surrogates, victims)

    def thief(self, settings: Settings) -> tuple:
        """``steal``'s last arguments: the surrogate factory, the holdout share, the seed."""
        return self.new_surrogate, settings.holdout.share, settings.seed

    def setup(
        self, settings: Settings, victim_cache: str, holdout_mode: str, calibration: dict
    ) -> dict:
        """The report's setup: the victim's model and cache outcome, the API (config choice,
        mode, k, decimals, defences and a short label), the attack, the queries spent, how the
        membership losses were measured and epsilon obtained, the explorer and the seed."""
        described, choice = self.api.describe(), api_choice()
        return {
            "victim_model": model_name(settings.cfg.victim),
            "victim_cache": victim_cache,
            "api": {"choice": choice, **described, "label": api_label(choice, described)},
            "attack": settings.attack.name,
            "budget": self.api.budget,
            "queries_used": self.api.queries_used,
            "holdout_mode": holdout_mode,
            "epsilon_source": calibration,
            "explorer": settings.explorer_name,
            "seed": settings.seed,
        }


def extremal_fairness(
    settings: Settings,
    task: ExplorationTask,
    splits: Splits,
    exploration: Any,
    evaluation: Evaluation,
    clock: Stopwatch,
) -> dict:
    """The ``extremes`` section (``extremes=search``), else nothing."""
    if settings.extremes is None:
        return {}
    with clock.stage("extremes"):
        return settings.extremes.run(
            task, splits, exploration.base_loss, settings.explorer_name, evaluation.test
        )


def budget_sections(
    settings: Settings,
    task: ExplorationTask,
    splits: Splits,
    victim_proba: Any,
    evaluation: Evaluation,
    clock: Stopwatch,
) -> dict:
    """The ``budget_curve`` (``budget_checkpoints``) and ``budget_to_equivalence`` sections."""
    if not settings.checkpoints:
        return {}
    owner, verdict = evaluation.owner, settings.verdict
    envelope = None
    if owner is not None and verdict.tolerances == "owner":
        envelope = owner.envelope(verdict.owner_quantile)
    with clock.stage("budget_curve"):
        curve = budget_curve(
            settings.checkpoints,
            task,
            settings.explorer,
            settings.explorer_name,
            settings.holdout.share,
            splits,
            victim_proba,
            settings.capacity_tol,
            verdict,
            envelope,
        )
    sections: dict = {"budget_curve": curve}
    if verdict.budget_to_equivalence:
        sections["budget_to_equivalence"] = budget_to_equivalence(curve, verdict.target)
    return sections


def make_surrogate(node: DictConfig, n_classes: int, seed: int) -> Any:
    """An unfitted surrogate configured like the run's, with its own ``seed``."""
    return build(node, n_classes=n_classes, seed=seed)


def make_victim(cfg: DictConfig, n_classes: int, seed: int) -> Any:
    """An unfitted victim configured like the run's, as the run's config builds it with ``seed``
    in place of the run's seed (its initialisation, shuffling and any seeded estimator)."""
    return build(OmegaConf.merge(cfg, {"seed": seed}).victim, n_classes=n_classes)


def api_choice() -> str:
    """The ``api`` config choice of this run (``custom`` outside a Hydra app)."""
    if HydraConfig.initialized():
        return str(HydraConfig.get().runtime.choices.get("api", "custom"))
    return "custom"


def model_name(node: DictConfig) -> str:
    """The architecture or estimator a classifier config builds, e.g. ``MLP``, ``LogisticRegression``."""
    inner = OmegaConf.select(node, "module._target_") or OmegaConf.select(
        node, "estimator._target_"
    )
    return str(inner or node._target_).rsplit(".", 1)[-1]
