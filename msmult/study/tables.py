"""Study tables: one row per dataset x attack x API mode x budget (x epsilon), each value the
mean ± std across seeds, written as CSV (numbers), Markdown and LaTeX (booktabs)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from msmult.evaluation import GAPS
from msmult.fileio import write_text
from msmult.study.collect import KEYS, across_seeds, epsilon_points

KEY_LABELS = {
    "dataset.name": "dataset",
    "attack.name": "attack",
    "attack.api_mode": "API",
    "attack.budget": "budget",
    "curve.epsilon": "epsilon",
}
GAP_LABELS = dict(zip(GAPS, ("demographic parity", "equalized odds", "equal opportunity")))

# (header group, header) -> flattened report.json column
MULTIPLICITY = {
    ("surrogate", "fidelity"): "surrogate.fidelity",
    ("surrogate", "accuracy"): "surrogate.accuracy",
    ("Rashomon set", "size"): "multiplicity.set_size",
    ("vs victim", "ambiguity"): "multiplicity.ambiguity_vs_victim",
    ("vs victim", "discrepancy"): "multiplicity.discrepancy_vs_victim",
    ("vs base", "ambiguity"): "multiplicity.ambiguity_vs_base",
    ("vs base", "discrepancy"): "multiplicity.discrepancy_vs_base",
    ("Rashomon capacity", "mean"): "multiplicity.rashomon_capacity.mean",
    ("Rashomon capacity", "median"): "multiplicity.rashomon_capacity.quantiles.p50",
    ("Rashomon capacity", "p90"): "multiplicity.rashomon_capacity.quantiles.p90",
}
FAIRNESS = {
    (GAP_LABELS[gap], label): f"fairness.{gap}.{stat}"
    for gap in GAPS
    for stat, label in (("victim", "victim"), ("min", "set min"), ("max", "set max"))
}
# epsilon_curve points carry no quantiles or fairness; the base surrogate is the same at every epsilon
EPSILON = {
    ("surrogate", "fidelity"): "surrogate.fidelity",
    ("Rashomon set", "size"): "curve.size",
    ("vs victim", "ambiguity"): "curve.ambiguity_vs_victim",
    ("vs victim", "discrepancy"): "curve.discrepancy_vs_victim",
    ("vs base", "ambiguity"): "curve.ambiguity_vs_base",
    ("vs base", "discrepancy"): "curve.discrepancy_vs_base",
    ("Rashomon capacity", "mean"): "curve.rashomon_capacity_mean",
}


def numbers(values: pd.DataFrame, large: pd.DataFrame) -> pd.DataFrame:
    """Text of ``values``: one decimal where ``large``, else three."""
    return values.map("{:.1f}".format).where(large, values.map("{:.3f}".format))


def readable(stats: pd.DataFrame, columns: dict[tuple[str, str], str]) -> pd.DataFrame:
    """``across_seeds`` output as text: "mean ± std" (mean alone for one seed), two header levels."""
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
    """A GitHub Markdown table (keys left-aligned, values right-aligned) without ``tabulate``."""
    flat = table.reset_index()
    header = [" ".join(filter(None, map(str, column))) for column in flat.columns]
    rule = [":--"] * table.index.nlevels + ["--:"] * table.shape[1]
    rows = [header, rule, *flat.astype(str).to_numpy().tolist()]
    return "".join(f"| {' | '.join(cells)} |\n" for cells in rows)


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
    """Name -> (frame with one row per run or run and epsilon, its keys, its columns)."""
    tables = {"multiplicity": (runs, KEYS, MULTIPLICITY), "fairness": (runs, KEYS, FAIRNESS)}
    if by_epsilon:
        tables["epsilon"] = (epsilon_points(runs), [*KEYS, "curve.epsilon"], EPSILON)
    return tables


def write_tables(runs: pd.DataFrame, out: Path, by_epsilon: bool = False) -> list[tuple[Path, str]]:
    """Write each study table as CSV, Markdown and LaTeX into ``out``; return (file, what) pairs."""
    scalars = runs.loc[:, ~runs.map(lambda value: isinstance(value, list)).any()]
    write_text(out / "runs.csv", scalars.to_csv(index=False))
    written = [(out / "runs.csv", f"{len(runs)} runs, one row each: report.json's scalar values")]
    for name, (frame, keys, columns) in study_tables(runs, by_epsilon).items():
        stats = across_seeds(frame, keys, list(columns.values()))
        text = readable(stats, columns)
        stats.columns = [".".join(filter(None, column)) for column in stats.columns]
        files = {
            "csv": stats.to_csv(float_format="%.6g"),
            "md": markdown(text),
            "tex": latex(text, f"msmult study: {name} (mean ± std across seeds)"),
        }
        for suffix, content in files.items():
            write_text(out / f"study_{name}.{suffix}", content)
            what = f"{name} table, {len(stats)} rows (mean ± std across seeds)"
            written.append((out / f"study_{name}.{suffix}", what))
    return written
