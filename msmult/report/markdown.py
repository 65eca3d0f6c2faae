"""``report.md``: the run's report for people, rendered from the same dict as ``report.json``."""

from __future__ import annotations

from msmult.metrics import GAP_LABELS, GAPS, registry
from msmult.metrics.registry import CAPACITY_SCALE, SHARE

STAT_LABELS = {"victim": "victim", "base": "base surrogate", "min": "set min", "max": "set max",
               "range": "set range"}  # fmt: skip


def table(header: list[str], rows: list[list[str]], left: int | None = None) -> str:
    """A GitHub Markdown table; with ``left``, the first ``left`` columns are aligned left and the
    others right."""
    if left is None:
        rule = ["---"] * len(header)
    else:
        rule = [":--"] * left + ["--:"] * (len(header) - left)
    return "\n".join(f"| {' | '.join(cells)} |" for cells in [header, rule, *rows])


def multiplicity_rows(multiplicity: dict, fidelity: dict) -> list[list[str]]:
    """(metric, value, scale) rows: every registered metric, then the capacity's spread."""
    rows = [[m.label, f"{multiplicity[m.name]:.4f}", m.scale] for m in registry.SET_METRICS]
    spread = {"max": multiplicity["rashomon_capacity_max"],
              **multiplicity["rashomon_capacity_quantiles"]}  # fmt: skip
    rows += [[f"Rashomon Capacity {k}", f"{v:.4f}", CAPACITY_SCALE] for k, v in spread.items()]
    rows.append(["fidelity over the set", f"{fidelity['min']:.4f} .. {fidelity['max']:.4f}", SHARE])
    return rows


def curve_table(curve: list[dict]) -> str:
    """One row per epsilon: the set size and every registered metric."""
    metrics = registry.SET_METRICS
    return table(
        ["epsilon", "set size", *(m.label for m in metrics)],
        [[f"{p['epsilon']:.4g}", str(p["set_size"]), *(f"{p[m.name]:.4f}" for m in metrics)]
         for p in curve],
    )  # fmt: skip


def gap_table(fairness: dict, stats: tuple[str, ...]) -> str:
    """One row per fairness gap, one column per statistic (victim, base, set min, ...)."""
    header = ["gap", *(STAT_LABELS[stat] for stat in stats)]
    rows = [[GAP_LABELS[gap], *(f"{fairness[gap][stat]:.4f}" for stat in stats)] for gap in GAPS]
    return table(header, rows)


def extra_section(extra: dict) -> list[str]:
    """A second evaluation set's fairness table and headline numbers."""
    fidelity = extra["fidelity"]
    return [
        gap_table(extra["fairness"], ("victim", "min", "max")),
        f"Victim accuracy {extra['victim_accuracy']:.4f}; base surrogate fidelity "
        f"{fidelity['base']:.4f} (set {fidelity['min']:.4f} .. {fidelity['max']:.4f}); ambiguity "
        f"vs victim {extra['ambiguity_vs_victim']:.4f}; mean Rashomon Capacity "
        f"{extra['rashomon_capacity_mean']:.4f} ({CAPACITY_SCALE}).",
    ]


def render(report: dict) -> str:
    """Markdown with the setup, the headline numbers, fairness ranges and the epsilon curve."""
    dataset, attack, surrogate = report["dataset"], report["attack"], report["surrogate"]
    rashomon, multiplicity, fairness = (
        report["rashomon"],
        report["multiplicity"],
        report["fairness"],
    )
    parts = [
        f"# msmult report: {dataset['name']}",
        f"Victim `{report['victim']['model']}` (test accuracy {report['victim']['accuracy']:.4f}) "
        f"was queried through the API `{report['api']['label']}` by the `{attack['name']}` attack "
        f"with {attack['queries_used']} of {attack['budget']} queries. The base surrogate reaches "
        f"fidelity {surrogate['fidelity']:.4f} and accuracy {surrogate['accuracy']:.4f} on "
        f"{dataset['test_rows']} test rows. `{rashomon['explorer']}` exploration sampled "
        f"{rashomon['candidates']} candidates; {multiplicity['set_size']} lie within epsilon = "
        f"{rashomon['epsilon']} of the base surrogate's fidelity loss "
        f"({rashomon['base_loss']:.4f}). Sensitive attribute: `{dataset['sensitive']}`.",
        "## Multiplicity over the Rashomon set",
        table(
            ["metric", "value", "scale"], multiplicity_rows(multiplicity, rashomon["fidelity"])
        ),  # fmt: skip
        "## Group fairness: victim vs the Rashomon set",
        gap_table(fairness, ("victim", "base", "min", "max", "range")),
    ]
    curve = multiplicity.get("epsilon_curve") or []
    if curve:
        parts += ["## Epsilon curve", curve_table(curve),
                  "![metrics vs epsilon](epsilon_curve.png)\n\n"
                  "![Rashomon Capacity CDF](capacity_cdf.png)"]  # fmt: skip
    for name, extra in report.get("extra_eval", {}).items():
        parts += [f"## Second evaluation set: {name}", *extra_section(extra)]
    timing = [[stage, f"{seconds:.2f}"] for stage, seconds in report["timing"].items()]
    parts.append("## Timing (seconds)\n\n" + table(["stage", "seconds"], timing))
    return "\n\n".join(parts) + "\n"
