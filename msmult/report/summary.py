"""The rich table printed at the end of a run."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from msmult.evaluation import GAPS


def summary_table(report: dict) -> Table:
    """Headline numbers of ``report.json`` in one table: victim, base surrogate, Rashomon set."""
    multiplicity, fairness = report["multiplicity"], report["fairness"]
    capacity = multiplicity["rashomon_capacity"]
    table = Table(title=f"msmult: {report['dataset']['name']} / {report['attack']['name']} / "
                  f"api={report['attack']['api_mode']} / budget={report['attack']['budget']}")  # fmt: skip
    table.add_column("quantity")
    table.add_column("value", justify="right")
    rows = [
        ("victim accuracy (test)", f"{report['victim']['accuracy']:.4f}"),
        ("base surrogate fidelity", f"{report['surrogate']['fidelity']:.4f}"),
        ("base surrogate accuracy", f"{report['surrogate']['accuracy']:.4f}"),
        (
            "Rashomon set size",
            f"{multiplicity['set_size']} of {report['rashomon']['candidates']} "
            f"(epsilon={report['rashomon']['epsilon']})",
        ),  # fmt: skip
        (
            "fidelity over the set",
            f"{report['rashomon']['fidelity']['min']:.4f} .. "
            f"{report['rashomon']['fidelity']['max']:.4f}",
        ),  # fmt: skip
        (
            "ambiguity vs victim / vs base",
            f"{multiplicity['ambiguity_vs_victim']:.4f} / {multiplicity['ambiguity_vs_base']:.4f}",
        ),  # fmt: skip
        (
            "discrepancy vs victim / vs base",
            f"{multiplicity['discrepancy_vs_victim']:.4f} / "
            f"{multiplicity['discrepancy_vs_base']:.4f}",
        ),  # fmt: skip
        (
            "Rashomon Capacity mean / p90",
            f"{capacity['mean']:.4f} / {capacity['quantiles']['p90']:.4f}",
        ),
    ]
    for gap in GAPS:
        values = fairness[gap]
        rows.append((gap.replace("_", " "),
                     f"victim {values['victim']:.4f} | set {values['min']:.4f} .. {values['max']:.4f}"))  # fmt: skip
    rows.append(("wall time", f"{report['timing']['total_s']:.1f} s"))
    for quantity, value in rows:
        table.add_row(quantity, value)
    return table


def print_summary(report: dict, console: Console | None = None) -> None:
    (console or Console()).print(summary_table(report))
