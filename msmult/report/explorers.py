"""Report parts for the equivalence verdict and the explorer comparison (``rashomon=compare``):
report.md sections, the console row, ``comparison.csv`` and ``explorers_fairness.png``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from msmult.fileio import write_with
from msmult.metrics import GAP_LABELS, GAPS
from msmult.metrics.verdict import sentence
from msmult.report import markdown, plots  # module imports: markdown imports this module too

FIGURE = "explorers_fairness.png"
COLUMNS = {
    "models": "models tried",
    "members": "members",
    "seconds_per_candidate": "s / candidate",
    "fidelity_min": "fidelity min",
    "fidelity_max": "fidelity max",
    "ambiguity_vs_victim": "ambiguity vs victim",
    "ambiguity_equal_size": "ambiguity (equal size)",
    "discrepancy_vs_victim": "discrepancy vs victim",
}


def epsilon_line(rashomon: dict) -> list[str]:
    """How a calibrated epsilon was obtained (nothing for one given in the config)."""
    source = rashomon.get("epsilon_source") or {}
    if source.get("source") != "auto":
        return []
    return [
        f"Epsilon = {rashomon['epsilon']:.4g} was calibrated (`rashomon.epsilon=auto`): the "
        f"{source['how']}."
    ]


def verdict_section(verdict: dict) -> list[str]:
    """The verdict in plain words: for the set, then per explorer when there are several."""
    tol = verdict["tolerances"]
    lines = [
        f"{sentence(verdict)}: test accuracy within {tol['accuracy']:g} and each fairness "
        f"gap within {tol['gap']:g} of the victim's, decisions agreeing with the victim's on "
        f"at least {tol['agreement']:g} of the test rows (Wilson 95% interval)."
    ]
    lines += [
        f"- `{name}`: {sentence(result)}." for name, result in verdict.get("explorers", {}).items()
    ]
    return ["## Would a surrogate pass as the victim?", "\n".join(lines)]


def comparison_frame(comparison: dict) -> pd.DataFrame:
    """One row per explorer (the comparison table of report.json, as in comparison.csv)."""
    return pd.DataFrame(comparison["table"]).set_index("explorer")


def coverage_sentence(line: dict) -> str:
    gaps = ", ".join(f"{GAP_LABELS[gap]} {line[f'{gap}_covered']:.2f}" for gap in GAPS)
    return (
        f"- `{line['explorer']}` covers this share of the `{line['reference']}` range: {gaps}; "
        f"{line['fidelity_at_least_worst']:.2f} of its members are at least as faithful as "
        f"the least faithful `{line['reference']}` member."
    )


def comparison_section(comparison: dict) -> list[str]:
    """The explorers side by side, the coverage lines and the figure."""
    frame = comparison_frame(comparison)
    header = ["explorer", *COLUMNS.values(), *(GAP_LABELS[gap] for gap in GAPS)]
    rows = [
        [
            name,
            *(f"{row[c]:.4g}" if isinstance(row[c], float) else str(row[c]) for c in COLUMNS),
            *(f"{row[f'{gap}_min']:.4f} .. {row[f'{gap}_max']:.4f}" for gap in GAPS),
        ]
        for name, row in frame.iterrows()
    ]
    return [
        "## Explorers compared on the same base surrogate",
        markdown.table(header, rows, left=1),
        f"Ambiguity (equal size): the mean over seeded subsamples of {comparison['equal_size']} "
        "members, the smallest member count, since ambiguity grows with the number of models. "
        "Fairness columns: range over the members.",
        *(
            ["\n".join(map(coverage_sentence, comparison["coverage"]))]
            if comparison["coverage"]
            else []
        ),  # only with a refitting and another explorer
        f"![fidelity against each fairness gap, per explorer]({FIGURE})",
    ]


def markdown_parts(report: dict) -> list[str]:
    """Every report.md part of this module that applies to ``report``."""
    parts = epsilon_line(report["rashomon"])
    if "verdict" in report:
        parts += verdict_section(report["verdict"])
    if "comparison" in report:
        parts += comparison_section(report["comparison"])
    return parts


def console_row(report: dict) -> list[tuple[str, str, str]]:
    """The verdict's row of the console summary (none for an older report)."""
    if "verdict" not in report:
        return []
    v = report["verdict"]
    return [
        (
            "passes as the victim",
            f"{v['passed']} of {v['members']} ({v['share']:.2f}, "
            f"95% CI {v['low']:.2f}-{v['high']:.2f})",
            "members",
        )
    ]


def write_comparison(report: dict, table: pd.DataFrame, run_dir: Path, title: str) -> None:
    """``comparison.csv`` and the figure, when the run compared explorers."""
    if "comparison" not in report:
        return
    frame = comparison_frame(report["comparison"])
    write_with(run_dir / "comparison.csv", lambda p: frame.to_csv(p))
    members = table[table["in_set"]]
    figure, axes = plots.panel_grid(len(GAPS))
    victim = report["fairness"]
    for axis, gap in zip(axes, GAPS):
        for name, rows in members.groupby("explorer", sort=False):
            axis.scatter(rows[gap], rows["fidelity"], s=12, alpha=0.6, label=name)
        axis.scatter(
            [victim[gap]["victim"]], [1.0], marker="*", s=160, color="black", label="victim"
        )
        axis.set(xlabel=GAP_LABELS[gap], ylabel="fidelity (agreement with the victim)")
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    figure.suptitle(title)
    plots.save(figure, run_dir / FIGURE)
