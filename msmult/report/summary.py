"""The rich table printed at the end of a run."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from msmult.metrics import GAP_LABELS, GAPS, registry
from msmult.metrics.registry import CAPACITY_SCALE, SHARE
from msmult.report.explorers import console_row
from msmult.report.schema import Report, per_row_lines


def summary_table(report: Report) -> Table:
    """Headline numbers of ``report.json`` in one table: victim, base surrogate, Rashomon set;
    each set metric with its scale."""
    multiplicity, fairness = report["multiplicity"], report["fairness"]
    attack, rashomon = report["attack"], report["rashomon"]
    table = Table(
        title=f"msmult: {report['dataset']['name']} / {attack['name']} / "
        f"api={report['api']['label']} / budget={attack['budget']}"
    )
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_column("scale")
    rows = (
        per_row_rows(report)
        if "per_row" in report
        else [
            ("victim accuracy (test)", f"{report['victim']['accuracy']:.4f}", SHARE),
            *defender_rows(report.get("defender")),
            ("base surrogate fidelity", f"{report['surrogate']['fidelity']:.4f}", SHARE),
            ("base surrogate accuracy", f"{report['surrogate']['accuracy']:.4f}", SHARE),
            (
                "Rashomon set size",
                f"{multiplicity['set_size']} of {rashomon['candidates']} "
                f"(epsilon={rashomon['epsilon']:.4g})",
                "models",
            ),
            (
                "fidelity over the set",
                f"{rashomon['fidelity']['min']:.4f} .. {rashomon['fidelity']['max']:.4f}",
                SHARE,
            ),
            *((m.label, f"{multiplicity[m.name]:.4f}", m.scale) for m in registry.SET_METRICS),
            (
                "Rashomon Capacity p90",
                f"{multiplicity['rashomon_capacity_quantiles']['p90']:.4f}",
                CAPACITY_SCALE,
            ),
            *(
                (
                    GAP_LABELS[gap],
                    f"victim {fairness[gap]['victim']:.4f} | set {fairness[gap]['min']:.4f}"
                    f" .. {fairness[gap]['max']:.4f}",
                    "gap, 0-1",
                )
                for gap in GAPS
            ),
            *console_row(report),
            ("wall time", f"{report['timing']['total_s']:.1f} s", ""),
        ]
    )
    for row in rows:
        table.add_row(*row)
    return table


def defender_rows(defender: dict | None) -> list[tuple[str, str, str]]:
    """The defender's side: the served answers' accuracy, top-1 changes and L1 distortion."""
    if not defender:
        return []
    return [
        ("served answers: accuracy", f"{defender['accuracy']:.4f}", SHARE),
        ("served answers: top-1 changed", f"{defender['top1_changed']:.4f}", SHARE),
        ("served answers: mean L1 to victim", f"{defender['mean_l1']:.4f}", "L1, 0-2"),
    ]


def per_row_rows(report: dict) -> list[tuple[str, str, str]]:
    """The headline rows of a per-row exploration (AWP): no set-level numbers apply."""
    return [
        ("victim accuracy (test)", f"{report['victim']['accuracy']:.4f}", SHARE),
        ("base surrogate fidelity", f"{report['surrogate']['fidelity']:.4f}", SHARE),
        *((label, value, "per-row") for label, value in per_row_lines(report["per_row"])),
        ("wall time", f"{report['timing']['total_s']:.1f} s", ""),
    ]


def print_summary(report: Report, console: Console | None = None) -> None:
    """The answer, one sentence per lens, then the table of headline numbers."""
    console = console or Console()
    for sentence in report.get("answer", []):
        console.print(sentence, highlight=False)
    console.print(summary_table(report))
