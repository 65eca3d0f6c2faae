"""Run-level figures: metrics against epsilon, and the distribution of Rashomon Capacity."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from msmult.fileio import write_with  # noqa: E402

CURVE_METRICS = (
    "ambiguity_vs_victim", "discrepancy_vs_victim", "ambiguity_vs_base", "discrepancy_vs_base",
    "pairwise_disagreement_mean", "viable_prediction_range_mean",
)  # fmt: skip


def save(figure: plt.Figure, target: Path) -> None:
    write_with(
        target, lambda path: figure.savefig(path, format="png", dpi=120, bbox_inches="tight")
    )
    plt.close(figure)


def epsilon_curve_plot(curve: list[dict], target: Path, title: str) -> None:
    """Multiplicity metrics (left) and set size / mean Rashomon Capacity (right) vs epsilon."""
    eps = [point["epsilon"] for point in curve]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name in CURVE_METRICS:
        left.plot(eps, [point[name] for point in curve], marker="o", label=name)
    left.set(xlabel="epsilon (fidelity-loss tolerance)", ylabel="value", title="multiplicity")
    left.legend(fontsize=7)
    right.plot(eps, [point["size"] for point in curve], marker="o", color="black")
    right.set(xlabel="epsilon", ylabel="Rashomon set size", title="set size and capacity")
    twin = right.twinx()
    twin.plot(
        eps, [point["rashomon_capacity_mean"] for point in curve], marker="s", color="tab:red"
    )
    twin.set_ylabel("mean Rashomon Capacity", color="tab:red")
    figure.suptitle(title)
    save(figure, target)


def capacity_cdf_plot(capacity: np.ndarray, n_classes: int, target: Path, title: str) -> None:
    """Empirical CDF of per-row Rashomon Capacity (values in [1, classes])."""
    values = np.sort(capacity)
    figure, axis = plt.subplots(figsize=(5.5, 4))
    axis.step(values, np.arange(1, len(values) + 1) / len(values), where="post")
    axis.set(xlabel=f"Rashomon Capacity (2**C, 1 to {n_classes})", ylabel="share of test rows <= x",
             ylim=(0, 1.01), title=title)  # fmt: skip
    axis.set_xlim(left=1.0)
    axis.grid(alpha=0.3)
    save(figure, target)
