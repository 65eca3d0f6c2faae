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
from omegaconf import DictConfig, OmegaConf

from msmult.attacks import prepare, steal
from msmult.budget_curve import budget_curve, check_checkpoints
from msmult.evaluation import evaluate_set, verdict_and_comparison
from msmult.oracle.api import api_label
from msmult.oracle.defender import defender_side
from msmult.rashomon.calibration import with_epsilon
from msmult.rashomon.exploration import AUTO, ExplorationTask, check_exploration
from msmult.rashomon.per_row import with_per_row
from msmult.remote import obtain_victim, victim_section  # victims msmult does not train (#17)
from msmult.report.assemble import RunRecord, build_report
from msmult.report.outputs import predictions_frame, write_outputs
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
    clock = Stopwatch()
    settings = Settings.from_config(cfg)
    torch.set_num_threads(cfg.threads)
    dataset, attack, explorer = settings.dataset, settings.attack, settings.explorer
    epsilon, epsilon_grid = settings.epsilon, settings.epsilon_grid
    calibration_models, verdict = settings.calibration_models, settings.verdict
    holdout_plan, extremes = settings.holdout, settings.extremes
    with clock.stage("data"):
        splits = dataset.load(seed=cfg.seed)
    new_surrogate = partial(make_surrogate, cfg.surrogate, splits.n_classes)
    victim = build(cfg.victim, n_classes=splits.n_classes)
    api = build(cfg.api, victim=victim)  # queries the victim only once it is fitted below
    checkpoints = check_checkpoints(cfg.get("budget_checkpoints", []), api.budget)
    prepare(attack, api.budget, splits.x_pool, splits.domain)  # domain hook, budget check
    extremes.check(splits)  # extremes=true needs the pool's groups
    if hasattr(explorer, "check"):  # e.g. awp.rows against the test split
        explorer.check(len(splits.x_test))
    with clock.stage("victim"):
        victim, cache = obtain_victim(victim, splits, cfg)  # fit_victim, or connect (#17)
        victim_proba = victim.predict_proba(splits.x_test)
    with clock.stage("attack"):
        theft = steal(attack, api, splits.x_pool, new_surrogate, cfg.fidelity_holdout, cfg.seed)
    with clock.stage("surrogate"):
        base = holdout_plan.for_run(
            explorer,
            calibration=epsilon == AUTO,
            extremes=extremes.enabled,
            budget_curve=bool(checkpoints),
        ).fit(attack, theft, new_surrogate, cfg.seed)
    eval_sets = {"test": splits.x_test, **{k: v.x for k, v in splits.extra_eval.items()}}
    task = ExplorationTask(
        base.surrogate,
        new_surrogate,
        base.fit_x,
        base.fit_targets,
        base.holdout_x,
        base.holdout_targets,
        eval_sets,
        0.0 if epsilon == AUTO else epsilon,
        tuple(epsilon_grid),
        int(cfg.seed),
        base.folds,
    )
    explorer_name = str(getattr(explorer, "name", type(explorer).__name__))
    with clock.stage("rashomon"):
        task, calibration = with_epsilon(task, epsilon, calibration_models)
        exploration = explorer.explore(task)
        check_exploration(exploration, task, explorer_name, splits.n_classes)
    with clock.stage("metrics"):
        evaluations = {
            "test": evaluate_set(
                exploration,
                "test",
                victim_proba,
                splits.y_test,
                splits.group_test,
                splits.positive_class,
                capacity_tol=cfg.capacity_tol,
            ),
            **{
                name: evaluate_set(
                    exploration,
                    name,
                    victim.predict_proba(ev.x),
                    ev.y,
                    ev.group,
                    splits.positive_class,
                    with_curve=False,
                    capacity_tol=cfg.capacity_tol,
                )
                for name, ev in splits.extra_eval.items()
            },
        }
        evaluations["test"] |= verdict_and_comparison(
            exploration, evaluations["test"], victim_proba, verdict, int(cfg.seed)
        )
        evaluations["test"] = with_per_row(
            evaluations["test"], exploration, victim_proba, splits.y_test, cfg.capacity_tol
        )  # rashomon=awp
        defender = defender_side(api, victim_proba, splits.x_test, splits.y_test, int(cfg.seed))
    extremal = {}
    if extremes.enabled:
        with clock.stage("extremes"):
            extremal = extremes.run(
                task, splits, exploration.base_loss, explorer_name, evaluations["test"]
            )
    curve = []
    if checkpoints:  # budget_checkpoints=[...]; empty by default
        with clock.stage("budget_curve"):
            curve = budget_curve(
                checkpoints,
                task,
                explorer,
                explorer_name,
                cfg.fidelity_holdout,
                splits,
                victim_proba,
                cfg.capacity_tol,
            )
    described = api.describe()
    choice = api_choice()
    record = RunRecord(
        splits=splits,
        victim_model=model_name(cfg.victim),
        victim_cache=cache,
        api={"choice": choice, **described, "label": api_label(choice, described)},
        attack=str(getattr(attack, "name", type(attack).__name__)),
        budget=api.budget,
        queries_used=api.queries_used,
        fit_rows=len(theft.fit.x),
        holdout_rows=len(theft.holdout.x),
        holdout=theft.holdout_source,
        explorer=explorer_name,
        exploration=exploration,
        evaluations=evaluations,
        seed=int(cfg.seed),
        timing=clock.total(),
        calibration=calibration,
        defender=defender,
        budget_curve=curve,
        holdout_mode=base.mode,
    )
    report = {**build_report(record), **extremal, **victim_section(victim, api)}  # remote (#17)
    test = evaluations["test"]
    members = test["table"]["in_set"].to_numpy()
    predictions = predictions_frame(
        splits,
        victim_proba,
        exploration.member_scores("test"),
        test["table"]["model"][members].tolist(),
    )
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
