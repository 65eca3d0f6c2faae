"""One msmult run: data -> victim -> API -> attack -> surrogate -> Rashomon set -> report.

Each stage takes what the stage before returned; ``run`` is the only place that knows the order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from msmult.errors import MsmultError
from msmult.evaluation import evaluate_set
from msmult.models.victim_cache import fit_victim
from msmult.report.outputs import predictions_frame, write_outputs
from msmult.report.summary import print_summary
from msmult.validation import check_run_config

log = logging.getLogger("msmult")


def build(node: DictConfig, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` that lets msmult's own one-paragraph errors through unwrapped."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as err:
        if isinstance(err.__cause__, MsmultError):
            raise err.__cause__ from None
        raise


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
    dataset, attack, explorer = build(cfg.dataset), build(cfg.attack), build(cfg.rashomon)
    with clock.stage("data"):
        splits = dataset.load(seed=cfg.seed)
        attack.check(cfg.budget, len(splits.x_pool))
    with clock.stage("victim"):
        victim, cache = fit_victim(build(cfg.victim, n_classes=splits.n_classes), splits, cfg)
        victim_proba = victim.predict_proba(splits.x_test)
    api = build(cfg.api, victim=victim)
    with clock.stage("attack"):
        transfer = attack.run(api, splits.x_pool)
    fit, holdout = transfer.split(cfg.fidelity_holdout, cfg.seed)
    with clock.stage("surrogate"):
        surrogate = build(cfg.surrogate, n_classes=splits.n_classes).fit(fit.x, fit.targets)
    eval_sets = {"test": splits.x_test, **{k: v.x for k, v in splits.extra_eval.items()}}
    with clock.stage("rashomon"):
        exploration = explorer.explore(surrogate, holdout.x, holdout.targets, eval_sets)
    with clock.stage("metrics"):
        test = evaluate_set(exploration, "test", victim_proba, splits.y_test, splits.group_test,
                            splits.positive_class, capacity_tol=cfg.capacity_tol)  # fmt: skip
        extra = {
            name: evaluate_set(
                exploration,
                name,
                victim.predict_proba(ev.x),
                ev.y,
                ev.group,
                splits.positive_class,
                with_curve=False,
                capacity_tol=cfg.capacity_tol,
            )  # fmt: skip
            for name, ev in splits.extra_eval.items()
        }
    table = test["table"]
    members = table[table["in_set"]]
    report = {
        "dataset": {
            "name": splits.name, "classes": splits.n_classes, "class_names": list(splits.classes),
            "positive_class": splits.classes[splits.positive_class], "sensitive": splits.sensitive,
            "test_rows": int(len(splits.y_test)), **splits.info,
        },
        "victim": {"model": model_name(cfg.victim),
                   "cache": cache, **test["victim"]},
        "attack": {"name": attack.name, "api_mode": api.mode, "budget": int(cfg.budget),
                   "queries_used": int(transfer.queries_used), "fit_rows": int(len(fit.x)),
                   "holdout_rows": int(len(holdout.x))},
        "surrogate": {"fidelity": float(table["fidelity"].iloc[0]),
                      "accuracy": float(table["accuracy"].iloc[0]), "loss": exploration.base_loss},
        "rashomon": {"explorer": type(explorer).__name__, "epsilon": float(exploration.epsilon),
                     "candidates": int(len(table)), "base_loss": exploration.base_loss,
                     "fidelity": test["members"]["fidelity"], "accuracy": test["members"]["accuracy"]},
        "multiplicity": test["multiplicity"],
        "fairness": test["fairness"],
        "extra_eval": {name: summarise_extra(result) for name, result in extra.items()},
        "seed": int(cfg.seed),
    }  # fmt: skip
    report["timing"] = clock.total()
    predictions = predictions_frame(splits, victim_proba, exploration.scores["test"][table["in_set"].to_numpy()],
                                    members["model"].tolist())  # fmt: skip
    write_outputs(run_dir, report, table, predictions, test["capacity"], cfg)
    print_summary(report)
    return report


def model_name(node: DictConfig) -> str:
    """The architecture or estimator a classifier config builds, e.g. ``MLP``, ``LogisticRegression``."""
    inner = OmegaConf.select(node, "module._target_") or OmegaConf.select(
        node, "estimator._target_"
    )
    return str(inner or node._target_).rsplit(".", 1)[-1]


def summarise_extra(result: dict) -> dict:
    """The compact report entry for a second evaluation set (e.g. HateCheck)."""
    table = result["table"]
    members = table[table["in_set"]]
    return {
        "victim_accuracy": result["victim"]["accuracy"],
        "fidelity": {"base": float(table["fidelity"].iloc[0]), **result["members"]["fidelity"]},
        "ambiguity_vs_victim": result["multiplicity"]["ambiguity_vs_victim"],
        "rashomon_capacity_mean": result["multiplicity"]["rashomon_capacity"]["mean"],
        "fairness": result["fairness"],
        "rows": int(len(result["capacity"])),
        "members": int(len(members)),
    }
