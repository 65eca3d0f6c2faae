"""One msmult run: data -> victim -> API -> attack -> surrogate -> Rashomon set -> report.

Each stage takes what the stage before returned; ``run`` is the only place that knows the order.
Every object is built (and so every config value checked) before any data is loaded or model
trained.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from msmult.attacks import steal
from msmult.errors import MsmultError
from msmult.evaluation import evaluate_set
from msmult.models.victim_cache import fit_victim
from msmult.oracle.api import api_label
from msmult.rashomon.exploration import ExplorationTask, check_exploration, explorer_settings
from msmult.report.assemble import RunRecord, build_report
from msmult.report.outputs import predictions_frame, write_outputs
from msmult.report.summary import print_summary
from msmult.validation import check_run_config

log = logging.getLogger("msmult")


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
    clock = Stopwatch()
    check_run_config(cfg)
    torch.set_num_threads(cfg.threads)
    dataset, attack = build(cfg.dataset), build(cfg.attack)
    explorer_cfg, epsilon, epsilon_grid = explorer_settings(
        OmegaConf.to_container(cfg.rashomon, resolve=True)
    )
    ExplorationTask.check_epsilons(epsilon, epsilon_grid)
    explorer = build(explorer_cfg)
    with clock.stage("data"):
        splits = dataset.load(seed=cfg.seed)
    new_surrogate = partial(make_surrogate, cfg.surrogate, splits.n_classes)
    victim = build(cfg.victim, n_classes=splits.n_classes)
    api = build(cfg.api, victim=victim)  # queries the victim only once it is fitted below
    if hasattr(attack, "check"):
        attack.check(api.budget, len(splits.x_pool))
    with clock.stage("victim"):
        victim, cache = fit_victim(victim, splits, cfg)
        victim_proba = victim.predict_proba(splits.x_test)
    with clock.stage("attack"):
        theft = steal(attack, api, splits.x_pool, new_surrogate, cfg.fidelity_holdout, cfg.seed)
    with clock.stage("surrogate"):
        surrogate = new_surrogate(cfg.seed).fit(theft.fit.x, theft.fit.targets)
    eval_sets = {"test": splits.x_test, **{k: v.x for k, v in splits.extra_eval.items()}}
    task = ExplorationTask(
        surrogate, new_surrogate, theft.fit.x, theft.fit.targets, theft.holdout.x,
        theft.holdout.targets, eval_sets, epsilon, tuple(epsilon_grid), int(cfg.seed),
    )  # fmt: skip
    explorer_name = str(getattr(explorer, "name", type(explorer).__name__))
    with clock.stage("rashomon"):
        exploration = explorer.explore(task)
        check_exploration(exploration, task, explorer_name, splits.n_classes)
    with clock.stage("metrics"):
        evaluations = {
            "test": evaluate_set(exploration, "test", victim_proba, splits.y_test,
                                 splits.group_test, splits.positive_class,
                                 capacity_tol=cfg.capacity_tol),
            **{name: evaluate_set(exploration, name, victim.predict_proba(ev.x), ev.y, ev.group,
                                  splits.positive_class, with_curve=False,
                                  capacity_tol=cfg.capacity_tol)
               for name, ev in splits.extra_eval.items()},
        }  # fmt: skip
    described = api.describe()
    choice = api_choice()
    record = RunRecord(
        splits=splits, victim_model=model_name(cfg.victim), victim_cache=cache,
        api={"choice": choice, **described, "label": api_label(choice, described)},
        attack=str(getattr(attack, "name", type(attack).__name__)), budget=api.budget,
        queries_used=api.queries_used, fit_rows=len(theft.fit.x),
        holdout_rows=len(theft.holdout.x), holdout=theft.holdout_source, explorer=explorer_name,
        exploration=exploration, evaluations=evaluations, seed=int(cfg.seed),
        timing=clock.total(),
    )  # fmt: skip
    report = build_report(record)
    test = evaluations["test"]
    members = test["table"]["in_set"].to_numpy()
    predictions = predictions_frame(splits, victim_proba, exploration.scores["test"][members],
                                    test["table"]["model"][members].tolist())  # fmt: skip
    write_outputs(run_dir, report, test["table"], predictions, test["capacity"], cfg)
    print_summary(report)
    return report


def make_surrogate(node: DictConfig, n_classes: int, seed: int) -> Any:
    """An unfitted surrogate configured like the run's, with its own ``seed``."""
    return build(node, n_classes=n_classes, seed=seed)


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
