"""Study tables: one row per dataset x attack x API setting x budget (x epsilon), each value the
mean ± std across seeds, written as CSV (numbers), Markdown and LaTeX (booktabs)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from msmult.fileio import write_text
from msmult.metrics import GAP_LABELS, GAPS, registry
from msmult.metrics.registry import CAPACITY_SCALE
from msmult.report.markdown_tables import table as markdown_table
from msmult.study.collect import KEYS, across_seeds, decision_verdicts, epsilon_points

KEY_LABELS = {
    "dataset.name": "dataset",
    "attack.name": "attack",
    "api.label": "API",
    "attack.budget": "budget",
    "curve.epsilon": "epsilon",
}
SET = "Rashomon set"
FAIRNESS = {
    (GAP_LABELS[gap], label): f"fairness.{gap}.{stat}"
    for gap in GAPS
    for stat, label in (("victim", "victim"), ("min", "set min"), ("max", "set max"))
}
VERDICT_STATS = (
    ("share", "share"),
    ("low", "95% CI low"),
    ("high", "95% CI high"),
    ("members", "members"),
)


def verdict_columns(runs: pd.DataFrame) -> dict[tuple, str]:
    """The verdict of the whole set, then of each explorer of ``rashomon=compare`` runs; empty
    when the reports predate the verdict."""
    prefixes = {"passes as the victim": "verdict"}
    for column in runs.columns:
        if column.startswith("verdict.explorers.") and column.endswith(".share"):
            name = column.split(".")[2]
            prefixes[f"passes as the victim ({name})"] = f"verdict.explorers.{name}"
    columns = {
        (group, label): f"{prefix}.{key}"
        for group, prefix in prefixes.items()
        for key, label in VERDICT_STATS
    }
    return columns if set(columns.values()) <= set(runs.columns) else {}


def yardstick_columns(runs: pd.DataFrame) -> dict[tuple, str]:
    """Per lens: the probability that a member is at least as close to the victim as an owner's
    retrain (agreement, then probability distance), the share of members within the owner's
    envelope, that share on the decision figures alone (``collect.decision_verdicts``) and the
    ambiguity vs the victim of K members (K: the owner's retrains); then the owner's agreement
    range and ambiguity over its K retrains. Empty without yardstick runs."""
    lenses = sorted(
        {c.split(".")[1] for c in runs.columns if c.startswith("yardstick.") and c.count(".") > 3}
    )
    columns: dict[tuple, str] = {}
    for lens in lenses:
        columns[(lens, "P(closer) agreement")] = (
            f"yardstick.{lens}.superiority.disagreement.estimate"
        )
        columns[(lens, "P(closer) probabilities")] = (
            f"yardstick.{lens}.superiority.probability_distance.estimate"
        )
        share = f"verdict.explorers.{lens}.share"
        columns[(lens, "within envelope")] = share if share in runs else "verdict.share"
        decisions = f"decisions.{lens}.share"
        decisions = decisions if decisions in runs else "decisions.share"
        columns[(lens, "within envelope, decisions only")] = decisions
        columns[(lens, "ambiguity at owner's K")] = f"yardstick.{lens}.ambiguity_at_owner_k.members"
    if lenses:
        columns[("owner", "agreement min")] = "owner.agreement.min"
        columns[("owner", "agreement max")] = "owner.agreement.max"
        columns[("owner", "ambiguity")] = "owner.ambiguity_vs_victim"
    return columns if set(columns.values()) <= set(runs.columns) else {}


def equivalence_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with a budget to equivalence: ``equivalence.budget`` (NaN when not reached) and
    ``equivalence.reached`` (1 / 0), so the mean over seeds is the share of seeds reaching it."""
    frame = runs[runs["budget_to_equivalence.within"].notna()].copy()
    frame["equivalence.budget"] = pd.to_numeric(frame["budget_to_equivalence.budget"])
    frame["equivalence.reached"] = frame["equivalence.budget"].notna().astype(float)
    frame["equivalence.within"] = frame["budget_to_equivalence.within"]
    return frame


EQUIVALENCE = {
    ("budget to equivalence", "queries (seeds reaching it)"): "equivalence.budget",
    ("budget to equivalence", "share of seeds reaching it"): "equivalence.reached",
    ("budget to equivalence", "largest checkpoint"): "equivalence.within",
}


def set_columns(prefix: str, surrogate: tuple[str, ...] = ("fidelity",)) -> dict[tuple, str]:
    """(header group, header) -> column: the base surrogate's ``surrogate`` numbers, then the set
    size and every registered metric from the flattened report under ``prefix`` (``multiplicity``
    or ``curve``)."""
    base = {("surrogate", stat): f"surrogate.{stat}" for stat in surrogate}
    metrics = {(SET, m.label): f"{prefix}.{m.name}" for m in registry.SET_METRICS}
    return {**base, (SET, "size"): f"{prefix}.set_size", **metrics}


def multiplicity_columns() -> dict[tuple, str]:
    """The multiplicity table: base surrogate, set metrics, then Rashomon Capacity's spread."""
    quantiles = {
        (SET, f"Rashomon Capacity {q}"): f"multiplicity.rashomon_capacity_quantiles.{q}"
        for q in ("p50", "p90")
    }
    return {**set_columns("multiplicity", ("fidelity", "accuracy")), **quantiles}


def scales(columns: dict[tuple, str]) -> str:
    """A note giving the scale of every registered metric among the table's headers."""
    shown = {header for _, header in columns}
    notes = [f"{m.label}: {m.scale}" for m in registry.SET_METRICS if m.label in shown]
    if any(header.startswith("Rashomon Capacity p") for header in shown):
        notes.append(f"Rashomon Capacity quantiles: {CAPACITY_SCALE}")
    return f"\nScales: {'; '.join(notes)}.\n" if notes else ""


def numbers(values: pd.DataFrame, large: pd.DataFrame) -> pd.DataFrame:
    """Text of ``values``: one decimal where ``large``, else three."""
    return values.map("{:.1f}".format).where(large, values.map("{:.3f}".format))


def readable(stats: pd.DataFrame, columns: dict[tuple, str]) -> pd.DataFrame:
    """``across_seeds`` output as text, "mean ± std" (mean alone for one seed), two header rows."""
    means, stds = stats.xs("mean", axis=1, level=1), stats.xs("std", axis=1, level=1)
    large = means.abs() >= 10  # e.g. set sizes: mean and std to one decimal
    mean_text = numbers(means, large)
    text = (mean_text + " ± " + numbers(stds, large)).mask(stds.isna(), mean_text)
    text = text[list(columns.values())]
    text.columns = pd.MultiIndex.from_tuples(columns.keys())
    text.insert(0, ("", "seeds"), stats[("seeds", "")])
    text.index.names = [KEY_LABELS[name] for name in text.index.names]
    return text


def markdown(table: pd.DataFrame) -> str:
    """``table`` as GitHub Markdown: keys left-aligned, values right-aligned."""
    flat = table.reset_index()
    header = [" ".join(filter(None, map(str, column))) for column in flat.columns]
    return markdown_table(header, flat.astype(str).to_numpy().tolist(), table.index.nlevels) + "\n"


def latex(table: pd.DataFrame, caption: str) -> str:
    """A booktabs ``table`` environment (needs jinja2, which torch installs)."""
    styler = table.style.format(escape="latex").format_index(escape="latex", axis=0)
    styler = styler.format_index(escape="latex", axis=1)
    body = styler.to_latex(
        column_format="l" * table.index.nlevels + "r" * table.shape[1],
        hrules=True,
        multicol_align="c",
        multirow_align="naive",
        caption=caption,
        position="t",
    )
    return body.replace("±", r"$\pm$")


def study_tables(runs: pd.DataFrame, by_epsilon: bool) -> dict[str, tuple]:
    """Name -> (frame with one row per run or run and epsilon, its keys, its columns). The curve's
    points hold the same set metrics as the report; the base surrogate is the same at every
    epsilon."""
    tables = {
        "multiplicity": (runs, KEYS, multiplicity_columns()),
        "fairness": (runs, KEYS, FAIRNESS),
    }
    if verdict_columns(runs):  # reports written before the verdict lack it
        tables["verdict"] = (runs, KEYS, verdict_columns(runs))
    judged = decision_verdicts(runs)
    if yardstick_columns(judged):
        tables["yardstick"] = (judged, KEYS, yardstick_columns(judged))
    if "budget_to_equivalence.within" in runs:
        tables["equivalence"] = (equivalence_frame(runs), KEYS, EQUIVALENCE)
    if by_epsilon:
        tables["epsilon"] = (epsilon_points(runs), [*KEYS, "curve.epsilon"], set_columns("curve"))
    return tables


def write_tables(
    runs: pd.DataFrame, out: Path, by_epsilon: bool = False, base: Path | None = None
) -> list[tuple[Path, str]]:
    """Write each study table as CSV, Markdown and LaTeX into ``out``; return (file, what) pairs.
    ``base``: the folder that runs.csv's ``run_dir`` is written relative to (else absolute)."""
    scalars = runs.loc[:, ~runs.map(lambda value: isinstance(value, list)).any()].copy()
    if base is not None:
        scalars["run_dir"] = [os.path.relpath(run_dir, base) for run_dir in scalars["run_dir"]]
    write_text(out / "runs.csv", scalars.to_csv(index=False))
    written = [(out / "runs.csv", f"{len(runs)} runs, one row each: report.json's scalar values")]
    for name, (frame, keys, columns) in study_tables(runs, by_epsilon).items():
        stats = across_seeds(frame, keys, list(columns.values()))
        text = readable(stats, columns)
        stats.columns = [".".join(filter(None, column)) for column in stats.columns]
        files = {
            "csv": stats.to_csv(float_format="%.10g"),
            "md": markdown(text) + scales(columns),
            "tex": latex(text, f"msmult study: {name} (mean ± std across seeds)"),
        }
        for suffix, content in files.items():
            write_text(out / f"study_{name}.{suffix}", content)
            what = f"{name} table, {len(stats)} rows (mean ± std across seeds)"
            written.append((out / f"study_{name}.{suffix}", what))
    return written
