"""Study figures (PNG), one file per dataset and kind; each line or box is one run group
(attack, API mode, budget), seeds pooled or averaged (mean line, ± std band)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from msmult.evaluation import GAPS
from msmult.report.plots import plt, save
from msmult.study.collect import KEYS, across_seeds, capacities, epsilon_points, members
from msmult.study.tables import GAP_LABELS, KEY_LABELS

GROUP = KEYS[1:]  # attack, API mode, budget: the run group within a dataset
EPSILON_METRICS = {
    "curve.ambiguity_vs_victim": "ambiguity vs victim",
    "curve.discrepancy_vs_victim": "discrepancy vs victim",
    "curve.rashomon_capacity_mean": "mean Rashomon Capacity",
    "curve.size": "Rashomon set size",
}
BUDGET_METRICS = {
    "surrogate.fidelity": "base surrogate fidelity",
    "multiplicity.ambiguity_vs_victim": "ambiguity vs victim",
    "multiplicity.rashomon_capacity.mean": "mean Rashomon Capacity",
    **{f"fairness.{gap}.range": f"{GAP_LABELS[gap]} range over the set" for gap in GAPS},
}


def label(group: tuple) -> str:
    return ", ".join(map(str, group))


def mean_lines(
    frame: pd.DataFrame,
    x: str,
    series: list[str],
    metrics: dict[str, str],
    xlabel: str,
    title: str,
    target: Path,
) -> None:
    """One panel per metric (three per row): mean across seeds against ``x`` (± std band), a line
    per ``series`` group."""
    stats = across_seeds(frame, [*series, x], list(metrics))
    rows = -(-len(metrics) // 3)
    columns = -(-len(metrics) // rows)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.5 * columns, 3.6 * rows), squeeze=False, layout="constrained"
    )
    for group, points in stats.groupby(level=series, sort=True):
        xs = points.index.get_level_values(x)
        for axis, metric in zip(axes.flat, metrics):
            mean, std = points[(metric, "mean")], points[(metric, "std")].fillna(0)
            axis.plot(xs, mean, marker="o", label=label(group))
            axis.fill_between(xs, mean - std, mean + std, alpha=0.2)
    for axis, name in zip(axes.flat, metrics.values()):
        axis.set(xlabel=xlabel, title=name)
        axis.grid(alpha=0.3)
    for axis in axes.flat[len(metrics) :]:
        axis.remove()
    legend_title = " / ".join(KEY_LABELS[key] for key in series)
    axes.flat[len(metrics) - 1].legend(fontsize=7, title=legend_title, title_fontsize=7)
    figure.suptitle(title)
    save(figure, target)


def epsilon_figures(runs: pd.DataFrame, out: Path) -> list[tuple[Path, str]]:
    written = []
    for dataset, points in epsilon_points(runs).groupby("dataset.name"):
        target = out / f"epsilon_{dataset}.png"
        mean_lines(
            points,
            "curve.epsilon",
            GROUP,
            EPSILON_METRICS,
            "epsilon (fidelity-loss tolerance)",
            f"{dataset}: multiplicity vs epsilon",
            target,
        )
        written.append((target, f"{dataset}: metrics vs epsilon, a line per attack/API/budget"))
    return written


def budget_figures(runs: pd.DataFrame, out: Path) -> list[tuple[Path, str]]:
    written = []
    for dataset, frame in runs.groupby("dataset.name"):
        target = out / f"budget_{dataset}.png"
        mean_lines(
            frame,
            "attack.budget",
            ["attack.name", "attack.api_mode"],
            BUDGET_METRICS,
            "query budget",
            f"{dataset}: metrics vs budget",
            target,
        )
        written.append((target, f"{dataset}: metrics vs budget, a line per attack/API"))
    return written


def capacity_figures(runs: pd.DataFrame, out: Path) -> list[tuple[Path, str]]:
    written = []
    for dataset, rows in capacities(runs).groupby("dataset.name"):
        figure, axis = plt.subplots(figsize=(6, 4.2), layout="constrained")
        for group, values in rows.groupby(GROUP):
            axis.ecdf(values["rashomon_capacity"], label=label(group))
        axis.set(
            xlabel=f"Rashomon Capacity (1 to {rows['dataset.classes'].max()})",
            ylabel="share of test rows <= x",
            title=f"{dataset}: Rashomon Capacity CDF (seeds pooled)",
        )
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
        target = out / f"capacity_cdf_{dataset}.png"
        save(figure, target)
        written.append((target, f"{dataset}: per-row Rashomon Capacity CDF per attack/API/budget"))
    return written


def gap_boxes(
    axis: plt.Axes, groups: dict[tuple, pd.DataFrame], victim: pd.Series, gap: str
) -> None:
    """One box per run group: the gap over the set's members; the victim's value as a diamond."""
    positions = range(1, len(groups) + 1)
    axis.boxplot([rows[gap] for rows in groups.values()], positions=positions)
    axis.scatter(positions, victim, marker="D", color="tab:red", zorder=3, label="victim")
    labels = [label(group) for group in groups]
    axis.set_xticks(positions, labels, rotation=30, ha="right", fontsize=7)
    axis.set(title=GAP_LABELS[gap], ylabel=gap.replace("_", " "))


def gap_scatter(
    axis: plt.Axes, groups: dict[tuple, pd.DataFrame], victim: pd.Series, gap: str
) -> None:
    """Each member's fidelity against the gap, a colour per run group; the victim at fidelity 1."""
    for group, rows in groups.items():
        axis.scatter(rows["fidelity"], rows[gap], s=8, alpha=0.5, label=label(group))
    axis.scatter([1.0] * len(victim), victim, marker="*", s=90, color="black", label="victim")
    axis.set(
        xlabel="fidelity to the victim (test)", ylabel=gap.replace("_", " "), title=GAP_LABELS[gap]
    )


def fairness_figures(runs: pd.DataFrame, out: Path) -> list[tuple[Path, str]]:
    """Per dataset: gap distributions over the set (boxes) and members' fidelity vs each gap."""
    victims = runs.groupby(["dataset.name", *GROUP])[[f"fairness.{g}.victim" for g in GAPS]].mean()
    kinds = {
        "fairness": (gap_boxes, "fairness gaps over the Rashomon set (seeds pooled)"),
        "fidelity_fairness": (gap_scatter, "fidelity vs fairness gap of the set's members"),
    }
    written = []
    for dataset, rows in members(runs).groupby("dataset.name"):
        groups = dict(list(rows.groupby(GROUP)))
        victim = victims.loc[dataset].loc[list(groups)]
        for kind, (draw, title) in kinds.items():
            figure, axes = plt.subplots(
                1, len(GAPS), figsize=(5 * len(GAPS), 4.5), layout="constrained"
            )
            for axis, gap in zip(axes, GAPS):
                draw(axis, groups, victim[f"fairness.{gap}.victim"], gap)
            axes[-1].legend(fontsize=7)
            figure.suptitle(f"{dataset}: {title}")
            target = out / f"{kind}_{dataset}.png"
            save(figure, target)
            written.append((target, f"{dataset}: {title}"))
    return written


def write_figures(runs: pd.DataFrame, out: Path) -> list[tuple[Path, str]]:
    """Every study figure into ``out``; return (file, what) pairs."""
    kinds = (epsilon_figures, capacity_figures, fairness_figures, budget_figures)
    return [item for kind in kinds for item in kind(runs, out)]
