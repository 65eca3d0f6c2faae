"""Writing a run's files. ``report.json`` is written after every other file and the completion
marker after it, each atomically, so a killed run never leaves a report that looks complete."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from msmult.config_keys import result_relevant
from msmult.data.splits import Splits
from msmult.fileio import sha256_of, sha256_of_value, write_json, write_text, write_with
from msmult.report import explorers, markdown, plots
from msmult.report.assemble import RunRecord

MARKER = ".msmult-complete.json"


def config_fingerprint(cfg: DictConfig) -> str:
    """sha256 of the resolved config without the keys that cannot change a run's results
    (``msmult.config_keys``)."""
    return sha256_of_value(result_relevant(OmegaConf.to_container(cfg, resolve=True)))


def predictions_frame(
    splits: Splits, victim_proba: np.ndarray, scores: dict[str, np.ndarray]
) -> pd.DataFrame:
    """One row per test row: truth, group, then ``<model>:p_<class>`` probability columns for the
    victim and each model of ``scores`` (name -> (n, c)): the set's members, then the owner's
    retrains. With two classes only the positive class is stored (the other is one minus it),
    which halves the file."""
    columns: dict[str, np.ndarray] = {
        "row": np.arange(len(splits.y_test)),
        "y_true": splits.y_test,
        "group": splits.group_test,
    }
    stored = [splits.positive_class] if splits.n_classes == 2 else range(splits.n_classes)
    for model, model_scores in {"victim": victim_proba, **scores}.items():
        for k in stored:
            columns[f"{model}:p_{splits.classes[k]}"] = model_scores[:, k].astype(np.float32)
    return pd.DataFrame(columns)


def write_outputs(run_dir: Path, report: dict, record: RunRecord, cfg: DictConfig) -> None:
    """Every output file of a run, in an order that makes ``report.json`` + marker the last word:
    config.yaml, predictions.parquet (victim, members, owner's retrains), surrogates.csv (one row
    per candidate), owner.csv (one row per owner's retrain), the figures, report.md."""
    evaluation, splits = record.evaluation, record.splits
    test, owner = evaluation.test, evaluation.owner
    table = test["table"]
    members = table["model"][table["in_set"].to_numpy()].tolist()
    scores = dict(zip(members, record.exploration.member_scores("test")))
    if owner is not None:
        scores |= dict(zip(owner.figures["model"], owner.scores))
    predictions = predictions_frame(splits, evaluation.victim_proba, scores)
    write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    write_with(run_dir / "predictions.parquet", lambda p: predictions.to_parquet(p, index=False))
    write_with(run_dir / "surrogates.csv", lambda p: table.to_csv(p, index=False))
    if owner is not None:
        frame = pd.concat([owner.figures, owner.distances], axis=1)
        write_with(run_dir / "owner.csv", lambda p: frame.to_csv(p, index=False))
    title = f"{report['dataset']['name']} / {report['attack']['name']} / budget {report['attack']['budget']}"
    curve = report["multiplicity"]["epsilon_curve"]
    if curve:
        plots.epsilon_curve_plot(curve, run_dir / "epsilon_curve.png", title)
    if report.get("budget_curve"):
        plots.budget_curve_plot(report["budget_curve"], run_dir / "budget_curve.png", title)
    plots.capacity_cdf_plot(
        test["capacity"], report["dataset"]["classes"], run_dir / "capacity_cdf.png", title
    )
    explorers.write_comparison(report, table, run_dir, title)  # rashomon=compare / lenses
    write_text(run_dir / "report.md", markdown.render(report))
    write_json(run_dir / "report.json", report)
    write_json(run_dir / MARKER, marker(run_dir, cfg))


def marker(run_dir: Path, cfg: DictConfig) -> dict[str, str]:
    """What the completion marker holds: the config's fingerprint and the report's sha256."""
    return {
        "config_sha256": config_fingerprint(cfg),
        "report_sha256": sha256_of(run_dir / "report.json"),
    }


def is_complete(run_dir: Path, cfg: DictConfig) -> bool:
    """True when the run dir holds a finished report produced by this config (up to its
    result-neutral keys)."""
    try:
        return json.loads((run_dir / MARKER).read_text()) == marker(run_dir, cfg)
    except (OSError, ValueError):
        return False
