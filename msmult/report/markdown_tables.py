"""GitHub Markdown tables for report.md."""

from __future__ import annotations

from msmult.metrics import GAP_LABELS, GAPS

STAT_LABELS = {
    "victim": "victim",
    "base": "base surrogate",
    "min": "set min",
    "max": "set max",
    "range": "set range",
}


def table(header: list[str], rows: list[list[str]], left: int | None = None) -> str:
    """A GitHub Markdown table; with ``left``, the first ``left`` columns are aligned left and the
    others right."""
    if left is None:
        rule = ["---"] * len(header)
    else:
        rule = [":--"] * left + ["--:"] * (len(header) - left)
    return "\n".join(f"| {' | '.join(cells)} |" for cells in [header, rule, *rows])


def gap_table(fairness: dict, stats: tuple[str, ...]) -> str:
    """One row per fairness gap, one column per statistic (victim, base, set min, ...)."""
    header = ["gap", *(STAT_LABELS[stat] for stat in stats)]
    rows = [[GAP_LABELS[gap], *(f"{fairness[gap][stat]:.4f}" for stat in stats)] for gap in GAPS]
    return table(header, rows)
