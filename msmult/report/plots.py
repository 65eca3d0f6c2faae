"""Run-level figures: metrics against epsilon, and the distribution of Rashomon Capacity."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from msmult.fileio import write_with  # noqa: E402
from msmult.metrics import GAP_LABELS, GAPS, registry  # noqa: E402
from msmult.metrics.registry import SetMetric  # noqa: E402

EPSILON_AXIS = "epsilon (fidelity-loss tolerance)"


def save(figure: plt.Figure, target: Path) -> None:
    write_with(
        target, lambda path: figure.savefig(path, format="png", dpi=120, bbox_inches="tight")
    )
    plt.close(figure)


def panel_grid(count: int) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure with ``count`` panels, at most three per row, and its axes in reading order."""
    rows = -(-count // 3)
    columns = -(-count // rows)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.6 * columns, 3.9 * rows), squeeze=False, layout="constrained"
    )
    for axis in axes.flat[count:]:
        axis.remove()
    return figure, list(axes.flat[:count])


def families() -> dict[str, list[SetMetric]]:
    """The registered set metrics grouped by scale, in registry order: one panel each."""
    grouped: dict[str, list[SetMetric]] = {}
    for metric in registry.SET_METRICS:
        grouped.setdefault(metric.scale, []).append(metric)
    return grouped


Panels = dict[str, list[tuple[str, str]]]  # panel (y-axis scale) -> (report key, label) lines


def metric_panels() -> Panels:
    """Set size, then every registered metric grouped by scale: panel -> (key, label) lines."""
    panels = {"models": [("set_size", "Rashomon set size")]}
    return panels | {
        scale: [(m.name, m.label) for m in metrics] for scale, metrics in families().items()
    }


def curve_plot(
    curve: list[dict], x_key: str, x_label: str, panels: Panels, target: Path, title: str
) -> None:
    """Each panel's lines against ``x_key``; where a panel holds several lines its legend sits
    below the axes, so it hides no line."""
    xs = [point[x_key] for point in curve]
    figure, axes = panel_grid(len(panels))
    for axis, (scale, lines) in zip(axes, panels.items()):
        for key, label in lines:
            axis.plot(xs, [point[key] for point in curve], marker="o", label=label)
        axis.set(xlabel=x_label, ylabel=scale)
        axis.grid(alpha=0.3)
        if len(lines) == 1:
            axis.set_title(lines[0][1], fontsize=9)
        else:
            axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)
    figure.suptitle(title)
    save(figure, target)


def epsilon_curve_plot(curve: list[dict], target: Path, title: str) -> None:
    """Set size and every registered metric vs epsilon, one panel per scale."""
    curve_plot(curve, "epsilon", EPSILON_AXIS, metric_panels(), target, title)


def budget_curve_plot(curve: list[dict], target: Path, title: str) -> None:
    """The base surrogate's fidelity, set size, every registered metric and each fairness gap's
    range over the set vs the query budget (``msmult.analysis.budget_curve``)."""
    panels = {
        "fidelity, 0-1": [("fidelity", "base surrogate fidelity")],
        **metric_panels(),
        "gap range over the set, 0-1": [(f"{gap}_range", GAP_LABELS[gap]) for gap in GAPS],
    }
    curve_plot(curve, "budget", "queries (budget checkpoint)", panels, target, title)


def capacity_cdf_plot(capacity: np.ndarray, n_classes: int, target: Path, title: str) -> None:
    """Empirical CDF of per-row Rashomon Capacity (values in [1, classes])."""
    values = np.sort(capacity)
    figure, axis = plt.subplots(figsize=(5.5, 4))
    axis.step(values, np.arange(1, len(values) + 1) / len(values), where="post")
    axis.set(
        xlabel=f"Rashomon Capacity (2**C, 1 to {n_classes})",
        ylabel="share of test rows <= x",
        ylim=(0, 1.01),
        title=title,
    )
    axis.set_xlim(left=1.0)
    axis.grid(alpha=0.3)
    save(figure, target)
