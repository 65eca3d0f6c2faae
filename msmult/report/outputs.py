"""Writing a run's files. ``report.json`` is written after every other file and the completion
marker after it, each atomically, so a killed run never leaves a report that looks complete."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from msmult.data.splits import Splits
from msmult.fileio import sha256_of, sha256_of_value, write_json, write_text, write_with
from msmult.report import explorers, markdown, plots

MARKER = ".msmult-complete.json"
RESULT_NEUTRAL = ("cache_dir", "victim_cache", "tracking")  # where a victim comes from or a run is
# logged does not change results


def config_fingerprint(cfg: DictConfig) -> str:
    """sha256 of the resolved config without the keys that cannot change a run's results."""
    values = OmegaConf.to_container(cfg, resolve=True)
    for key in RESULT_NEUTRAL:
        values.pop(key, None)
    return sha256_of_value(values)


def predictions_frame(
    splits: Splits, victim_proba: np.ndarray, scores: np.ndarray, models: list[str]
) -> pd.DataFrame:
    """One row per test row: truth, group, then ``<model>:p_<class>`` probability columns for the
    victim and each member. With two classes only the positive class is stored (the other is one
    minus it), which halves the file."""
    columns: dict[str, np.ndarray] = {
        "row": np.arange(len(splits.y_test)),
        "y_true": splits.y_test,
        "group": splits.group_test,
    }
    stored = [splits.positive_class] if splits.n_classes == 2 else range(splits.n_classes)
    for model, model_scores in zip(["victim", *models], [victim_proba, *scores]):
        for k in stored:
            columns[f"{model}:p_{splits.classes[k]}"] = model_scores[:, k].astype(np.float32)
    return pd.DataFrame(columns)


def write_outputs(
    run_dir: Path,
    report: dict,
    table: pd.DataFrame,
    predictions: pd.DataFrame,
    capacity: np.ndarray,
    cfg: DictConfig,
) -> None:
    """Every output file of a run, in an order that makes ``report.json`` + marker the last word."""
    write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    write_with(run_dir / "predictions.parquet", lambda p: predictions.to_parquet(p, index=False))
    write_with(run_dir / "surrogates.csv", lambda p: table.to_csv(p, index=False))
    title = f"{report['dataset']['name']} / {report['attack']['name']} / budget {report['attack']['budget']}"
    curve = report["multiplicity"]["epsilon_curve"]
    if curve:
        plots.epsilon_curve_plot(curve, run_dir / "epsilon_curve.png", title)
    if report.get("budget_curve"):
        plots.budget_curve_plot(report["budget_curve"], run_dir / "budget_curve.png", title)
    plots.capacity_cdf_plot(
        capacity, report["dataset"]["classes"], run_dir / "capacity_cdf.png", title
    )
    explorers.write_comparison(report, table, run_dir, title)  # rashomon=compare
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
    """True when the run dir holds a finished report produced by this config (up to
    ``RESULT_NEUTRAL`` keys)."""
    try:
        return json.loads((run_dir / MARKER).read_text()) == marker(run_dir, cfg)
    except (OSError, ValueError):
        return False
