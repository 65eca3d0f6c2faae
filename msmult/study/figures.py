"""Study figures (PNG), one file per dataset and kind; each line or box is one run group
(attack, API setting, budget), seeds pooled or averaged (mean line, ± std band)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from msmult.metrics import GAP_LABELS, GAPS, registry
from msmult.report.plots import EPSILON_AXIS, panel_grid, plt, save
from msmult.study.collect import (
    KEYS,
    across_seeds,
    capacities,
    checkpoint_points,
    epsilon_points,
    members,
)
from msmult.study.tables import KEY_LABELS

GROUP = KEYS[1:]  # attack, API setting, budget: the run group within a dataset
Written = list[tuple[Path, str]]


def set_metrics(prefix: str) -> dict[str, str]:
    """Column -> panel title (label and scale) of every registered metric under ``prefix``."""
    return {f"{prefix}.{m.name}": f"{m.label}\n({m.scale})" for m in registry.SET_METRICS}


def label(group: tuple) -> str:
    return ", ".join(map(str, group))


def per_dataset(
    frame: pd.DataFrame, out: Path, kind: str, what: str, draw: Callable[..., plt.Figure]
) -> Written:
    """``draw(rows, dataset)`` for each dataset of ``frame``, saved as ``<kind>_<dataset>.png``."""
    written = []
    for dataset, rows in frame.groupby("dataset.name"):
        target = out / f"{kind}_{dataset}.png"
        save(draw(rows, dataset), target)
        written.append((target, f"{dataset}: {what}"))
    return written


def mean_lines(
    frame: pd.DataFrame, x: str, series: list[str], metrics: dict[str, str], xlabel: str, title: str
) -> plt.Figure:
    """One panel per metric: mean across seeds against ``x`` (± std band), a line per ``series``
    group; the legend sits below the panels, so it hides no line."""
    stats = across_seeds(frame, [*series, x], list(metrics))
    figure, axes = panel_grid(len(metrics))
    for group, points in stats.groupby(level=series, sort=True):
        xs = points.index.get_level_values(x)
        for axis, metric in zip(axes, metrics):
            mean, std = points[(metric, "mean")], points[(metric, "std")].fillna(0)
            axis.plot(xs, mean, marker="o", label=label(group))
            axis.fill_between(xs, mean - std, mean + std, alpha=0.2)
    for axis, name in zip(axes, metrics.values()):
        axis.set(xlabel=xlabel)
        axis.set_title(name, fontsize=9)
        axis.grid(alpha=0.3)
    legend_title = " / ".join(KEY_LABELS[key] for key in series)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=min(3, len(labels)),
        fontsize=7,
        title=legend_title,
        title_fontsize=7,
    )
    figure.suptitle(title)
    return figure


def epsilon_figures(runs: pd.DataFrame, out: Path) -> Written:
    metrics = {"curve.set_size": "Rashomon set size", **set_metrics("curve")}

    def draw(points: pd.DataFrame, dataset: str) -> plt.Figure:
        title = f"{dataset}: multiplicity vs epsilon"
        return mean_lines(points, "curve.epsilon", GROUP, metrics, EPSILON_AXIS, title)

    what = "metrics vs epsilon, a line per attack/API/budget"
    return per_dataset(epsilon_points(runs), out, "epsilon", what, draw)


def budget_figures(runs: pd.DataFrame, out: Path) -> Written:
    """Metrics vs budget for the datasets whose runs have more than one budget."""
    metrics = {
        "surrogate.fidelity": "base surrogate fidelity",
        **set_metrics("multiplicity"),
        **{f"fairness.{gap}.range": f"{GAP_LABELS[gap]} range over the set" for gap in GAPS},
    }

    def draw(frame: pd.DataFrame, dataset: str) -> plt.Figure:
        return mean_lines(
            frame,
            "attack.budget",
            GROUP[:2],
            metrics,
            "query budget",
            f"{dataset}: metrics vs budget",
        )

    budgets = runs.groupby("dataset.name")["attack.budget"].transform("nunique")
    what = "metrics vs budget, a line per attack/API"
    return per_dataset(runs[budgets > 1], out, "budget", what, draw)


def equivalence_figures(runs: pd.DataFrame, out: Path) -> Written:
    """Per dataset with budget checkpoints: the share of the thieves' copies within the owner's
    envelope, fidelity and ambiguity vs the checkpoint's queries (the budget to equivalence)."""
    metrics = {
        "checkpoint.thieves_share": "thieves' copies within the owner's envelope\n(share, 0-1)",
        "checkpoint.fidelity": "base surrogate fidelity\n(share of rows, 0-1)",
        "checkpoint.ambiguity_vs_victim": "ambiguity vs victim\n(share of rows, 0-1)",
    }
    points = checkpoint_points(runs)
    if "checkpoint.thieves_share" not in points:  # no owner's yardstick: nothing to reach
        return []
    points = points.dropna(subset=["checkpoint.thieves_share"])

    def draw(frame: pd.DataFrame, dataset: str) -> plt.Figure:
        title = f"{dataset}: the thieves' copies against the owner's envelope vs queries"
        return mean_lines(frame, "checkpoint.budget", GROUP, metrics, "queries", title)

    what = "share of thieves' copies within the owner's envelope vs queries"
    return per_dataset(points, out, "equivalence", what, draw)


def capacity_figures(runs: pd.DataFrame, out: Path) -> Written:
    def draw(rows: pd.DataFrame, dataset: str) -> plt.Figure:
        figure, axis = plt.subplots(figsize=(6, 4.2), layout="constrained")
        for group, values in rows.groupby(GROUP):
            axis.ecdf(values["rashomon_capacity"], label=label(group))
        axis.set(
            xlabel=f"Rashomon Capacity (2**C, 1 to {rows['dataset.classes'].max()})",
            ylabel="share of test rows <= x",
            title=f"{dataset}: Rashomon Capacity CDF (seeds pooled)",
        )
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
        return figure

    what = "per-row Rashomon Capacity CDF per attack/API/budget"
    return per_dataset(capacities(runs), out, "capacity_cdf", what, draw)


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


def fairness_figures(runs: pd.DataFrame, out: Path) -> Written:
    """Per dataset: gap distributions over the set (boxes) and members' fidelity vs each gap."""
    victims = runs.groupby(["dataset.name", *GROUP])[[f"fairness.{g}.victim" for g in GAPS]].mean()
    kinds = {
        "fairness": (gap_boxes, "fairness gaps over the Rashomon set (seeds pooled)"),
        "fidelity_fairness": (gap_scatter, "fidelity vs fairness gap of the set's members"),
    }
    rows = members(runs)
    written = []
    for kind, (panel, title) in kinds.items():

        def draw(frame: pd.DataFrame, dataset: str, panel=panel, title=title) -> plt.Figure:
            groups = dict(list(frame.groupby(GROUP)))
            victim = victims.loc[dataset].loc[list(groups)]
            figure, axes = plt.subplots(
                1, len(GAPS), figsize=(5 * len(GAPS), 4.5), layout="constrained"
            )
            for axis, gap in zip(axes, GAPS):
                panel(axis, groups, victim[f"fairness.{gap}.victim"], gap)
            axes[-1].legend(fontsize=7)
            figure.suptitle(f"{dataset}: {title}")
            return figure

        written += per_dataset(rows, out, kind, title, draw)
    return written


def write_figures(runs: pd.DataFrame, out: Path) -> Written:
    """Every study figure into ``out``; return (file, what) pairs."""
    kinds = (
        epsilon_figures,
        capacity_figures,
        fairness_figures,
        budget_figures,
        equivalence_figures,
    )
    return [item for kind in kinds for item in kind(runs, out)]
