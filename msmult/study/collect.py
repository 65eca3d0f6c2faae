"""Finding finished runs under some folders and flattening them into tables (one row per run,
per epsilon point, per Rashomon-set member or per test row), plus the mean/std across seeds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf
from yaml import YAMLError

from msmult import metrics
from msmult.errors import MsmultError
from msmult.metrics.closeness import FIGURES
from msmult.metrics.verdict import Verdict, explorer_rows
from msmult.report.outputs import MARKER, is_complete

# A study row: the same dataset, attack, API setting (choice, mode, k, decimals, defences: its
# label) and budget; seeds are averaged over.
KEYS = ["dataset.name", "attack.name", "api.label", "attack.budget"]
CURVE = "multiplicity.epsilon_curve"


@dataclass
class Study:
    """The complete runs found (``runs``: flattened ``report.json`` + ``run_dir``) and the run
    dirs skipped because their report has no valid completion marker."""

    runs: pd.DataFrame
    incomplete: list[Path]


def finished(run_dir: Path) -> bool:
    """True when the completion marker matches the run's report.json and config.yaml."""
    try:
        config = OmegaConf.load(run_dir / "config.yaml")
    except (OSError, ValueError, YAMLError):
        return False
    return is_complete(run_dir, config)


def collect(paths: Sequence[Path]) -> Study:
    """Every run dir under ``paths`` with a report.json; complete ones flattened, one row each."""
    missing = [str(path) for path in paths if not path.is_dir()]
    if missing:
        raise MsmultError(
            f"{', '.join(missing)}: no such folder. Give run dirs or folders above them "
            "(e.g. outputs/study or outputs/multirun/<date>/<time>)."
        )
    found = sorted(
        {report.parent.resolve() for path in paths for report in path.rglob("report.json")}
    )
    done = {run_dir: finished(run_dir) for run_dir in found}
    complete = [run_dir for run_dir, ok in done.items() if ok]
    incomplete = [run_dir for run_dir, ok in done.items() if not ok]
    if not complete:
        raise MsmultError(
            f"No finished msmult run under {', '.join(map(str, paths))}: found {len(found)} "
            f"report.json file(s), {len(incomplete)} of them without a valid completion marker "
            f"({MARKER}, written last by `msmult run`). Point the command at run dirs or sweep "
            "dirs that hold finished runs, or rerun the unfinished ones."
        )
    reports = [
        json.loads((run_dir / "report.json").read_text(encoding="utf-8")) for run_dir in complete
    ]
    runs = pd.json_normalize(reports)
    runs.insert(0, "run_dir", [str(run_dir) for run_dir in complete])
    return Study(runs, incomplete)


def across_seeds(frame: pd.DataFrame, by: list[str], values: list[str]) -> pd.DataFrame:
    """Mean and std (n - 1) of ``values`` per ``by`` group, plus ``seeds`` (distinct seeds); columns
    ``(value, "mean" | "std")``. A group of one seed has std NaN."""
    grouped = frame.groupby(by, sort=True)
    stats = grouped[values].agg(["mean", "std"])
    stats.insert(0, ("seeds", ""), grouped["seed"].nunique())
    return stats


def repeated_seeds(runs: pd.DataFrame) -> pd.DataFrame:
    """Study rows holding more runs than distinct seeds: they mix settings not among ``KEYS``."""
    counts = runs.groupby(KEYS)["seed"].agg(["size", "nunique"])
    return counts[counts["size"] > counts["nunique"]]


def curve_points(runs: pd.DataFrame, column: str, prefix: str) -> pd.DataFrame:
    """One row per run and point of its list-valued report ``column`` (a curve), the point's
    values as ``<prefix>.<name>``; runs without the curve are left out."""
    columns = ["run_dir", *KEYS, "seed", "surrogate.fidelity", "surrogate.accuracy"]
    if column not in runs:
        return pd.DataFrame(columns=columns)
    curve = runs[[*columns, column]].explode(column, ignore_index=True).dropna(subset=[column])
    points = pd.json_normalize(curve[column].tolist()).add_prefix(f"{prefix}.")
    return pd.concat([curve[columns].reset_index(drop=True), points], axis=1)


def epsilon_points(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run and epsilon of its epsilon curve, curve values as ``curve.<name>``."""
    return curve_points(runs, CURVE, "curve")


def checkpoint_points(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run and budget checkpoint (``budget_checkpoints``), as ``checkpoint.<name>``."""
    return curve_points(runs, "budget_curve", "checkpoint")


def members(runs: pd.DataFrame) -> pd.DataFrame:
    """The Rashomon-set rows of every run's surrogates.csv, with the run's keys and seed."""
    tables = [
        pd.read_csv(Path(run_dir) / "surrogates.csv").query("in_set").assign(run_dir=run_dir)
        for run_dir in runs["run_dir"]
    ]
    return pd.concat(tables, ignore_index=True).merge(
        runs[["run_dir", *KEYS, "seed"]], on="run_dir"
    )


def decision_verdicts(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` plus, for each run judged with the owner's envelope, ``decisions.<lens>.share``:
    the share of each lens's members (surrogates.csv) within the envelope on the decision figures
    alone (disagreement, accuracy, fairness gaps), the probability distance left out (and
    ``decisions.share`` for the whole set). A label
    API never shows the victim's probabilities, so a copy can match its decisions only."""
    shares: list[dict[str, float]] = []
    for row in runs.to_dict("records"):
        if row.get("verdict.tolerances.mode") != "owner":
            shares.append({})
            continue
        tolerances = {figure: row[f"verdict.tolerances.{figure}"] for figure in FIGURES}
        table = pd.read_csv(Path(row["run_dir"]) / "surrogates.csv")
        victim = {
            "accuracy": row["victim.accuracy"],
            "fairness": {gap: row[f"victim.fairness.{gap}"] for gap in metrics.GAPS},
        }
        envelope = {**tolerances, "probability_distance": np.inf}
        passed = Verdict().passes(table, victim, envelope) & table["in_set"].to_numpy()
        members = table["in_set"].to_numpy()
        lenses = explorer_rows(table["explorer"]) if "explorer" in table else {}
        shares.append(
            {
                "decisions.share": passed.sum() / members.sum(),
                **{
                    f"decisions.{lens}.share": passed[rows].sum() / members[rows].sum()
                    for lens, rows in lenses.items()
                },
            }
        )
    return pd.concat([runs.reset_index(drop=True), pd.DataFrame(shares)], axis=1)


def member_scores(
    predictions: pd.DataFrame, class_names: list, positive_class: object
) -> np.ndarray:
    """The members' (m, n, c) test scores from predictions.parquet's ``m<index>:p_<class>`` columns
    (binary runs store the positive class only; the other class is one minus it)."""
    probabilities = predictions.filter(regex=r"^m\d+:p_")  # members; owner retrains: o01, ...
    models = list(dict.fromkeys(column.split(":p_", 1)[0] for column in probabilities))
    if len(class_names) == 2:
        positive = probabilities[[f"{model}:p_{positive_class}" for model in models]].to_numpy().T
        scores = np.stack([1 - positive, positive], axis=2)
        return scores if class_names.index(positive_class) == 1 else scores[..., ::-1]
    columns = [f"{model}:p_{name}" for model in models for name in class_names]
    flat = probabilities[columns].to_numpy()
    return flat.reshape(len(predictions), len(models), len(class_names)).transpose(1, 0, 2)


def capacities(runs: pd.DataFrame) -> pd.DataFrame:
    """Per-test-row Rashomon Capacity of every run's set, recomputed from predictions.parquet."""
    frames = []
    for row in runs.to_dict("records"):
        scores = member_scores(
            pd.read_parquet(Path(row["run_dir"]) / "predictions.parquet"),
            row["dataset.class_names"],
            row["dataset.positive_class"],
        )
        frame = pd.DataFrame({"rashomon_capacity": metrics.rashomon_capacity(scores)})
        frames.append(
            frame.assign(**{key: row[key] for key in ["run_dir", *KEYS, "dataset.classes"]})
        )
    return pd.concat(frames, ignore_index=True)
