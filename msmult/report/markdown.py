"""``report.md``: the run's report for people, rendered from the same dict as ``report.json``."""

from __future__ import annotations

from msmult.metrics import GAP_LABELS, GAPS, registry
from msmult.metrics.registry import CAPACITY_SCALE, SHARE
from msmult.report import explorers
from msmult.report.markdown_tables import gap_table, table
from msmult.report.schema import PER_ROW_LABELS, Report, per_row_lines


def multiplicity_rows(multiplicity: dict, fidelity: dict) -> list[list[str]]:
    """(metric, value, scale) rows: every registered metric, then the capacity's spread."""
    rows = [[m.label, f"{multiplicity[m.name]:.4f}", m.scale] for m in registry.SET_METRICS]
    spread = {
        "max": multiplicity["rashomon_capacity_max"],
        **multiplicity["rashomon_capacity_quantiles"],
    }
    rows += [[f"Rashomon Capacity {k}", f"{v:.4f}", CAPACITY_SCALE] for k, v in spread.items()]
    rows.append(["fidelity over the set", f"{fidelity['min']:.4f} .. {fidelity['max']:.4f}", SHARE])
    return rows


def curve_table(curve: list[dict]) -> str:
    """One row per epsilon: the set size and every registered metric."""
    metrics = registry.SET_METRICS
    return table(
        ["epsilon", "set size", *(m.label for m in metrics)],
        [
            [f"{p['epsilon']:.4g}", str(p["set_size"]), *(f"{p[m.name]:.4f}" for m in metrics)]
            for p in curve
        ],
    )


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


def per_row_section(per_row: dict, fairness: dict) -> list[str]:
    """Per-row reachable-score metrics (AWP) at the run's epsilon and along the epsilon grid."""
    keys = list(PER_ROW_LABELS)
    curve = table(
        ["epsilon", *keys],
        [[f"{p['epsilon']:.4g}", *(f"{p[k]:.4f}" for k in keys)] for p in per_row["epsilon_curve"]],
    )
    return [
        "## Per-row multiplicity (adversarial weight perturbation)",
        f"Each of {per_row['rows']} sampled test rows has its own models, pushed towards each "
        "class within the fidelity-loss tolerance, so only per-row metrics are reported; "
        "set-level metrics (ambiguity, discrepancy, fairness ranges over a set) do not apply.",
        table(["metric", "value"], [list(pair) for pair in per_row_lines(per_row)]),
        "### Along the epsilon grid",
        curve,
        "## Group fairness: victim vs base surrogate",
        gap_table(fairness, ("victim", "base")),
    ]


def defender_sentence(defender: dict) -> str:
    """The defender's side: what the API's answers cost on the test rows."""
    return (
        f"Defender's side ({defender['rows']} test rows served through the API's defences and "
        f"output mode, outside the budget): accuracy of the served answers "
        f"{defender['accuracy']:.4f}, top-1 label changed on {defender['top1_changed']:.4f} of "
        f"them, mean L1 distance to the victim's probabilities {defender['mean_l1']:.4f}."
    )


def budget_curve_section(curve: list[dict]) -> list[str]:
    """One row per budget checkpoint: fit rows, fidelity, set size, every registered metric and
    each fairness gap's range over the set, then the figure."""
    metrics, gaps = registry.SET_METRICS, [f"{gap}_range" for gap in GAPS]
    header = [
        "queries",
        "fit rows",
        "fidelity",
        "set size",
        *(m.label for m in metrics),
        *(f"{GAP_LABELS[gap]} range" for gap in GAPS),
    ]
    rows = [
        [
            str(p["budget"]),
            str(p["fit_rows"]),
            f"{p['fidelity']:.4f}",
            str(p["set_size"]),
            *(f"{p[key]:.4f}" for key in [m.name for m in metrics] + gaps),
        ]
        for p in curve
    ]
    return ["## Budget curve", table(header, rows), "![metrics vs budget](budget_curve.png)"]


def extremes_section(extremes: dict) -> list[str]:
    """Per gap: the victim, each explorer's sampled range and the attainable range found by the
    extremal search; then every sampled member outside the attainable range, with why."""
    rows = []
    for gap, entry in extremes["gaps"].items():
        sampled = "; ".join(
            f"{name} {r['min']:.4f} .. {r['max']:.4f}" for name, r in entry["sampled"].items()
        )
        attain = entry["attainable"]
        rows.append(
            [
                GAP_LABELS[gap],
                f"{entry['victim']:.4f}",
                sampled,
                f"{attain['min']:.4f} .. {attain['max']:.4f}",
                str(len(entry["outside"])),
            ]
        )
    parts = [
        "## Extremal fairness: attainable gaps inside the Rashomon set",
        f"{extremes['models_found']} of {extremes['paths']} fine-tuning paths ended on a "
        "member; the attainable range spans them and the base surrogate (test rows, exact "
        "fairlearn gaps; the search itself used only the attacker pool's rows).",
        table(
            ["gap", "victim", "sampled (members)", "attainable (search)", "sampled outside"], rows
        ),
    ]
    outside = [(gap, o) for gap, e in extremes["gaps"].items() for o in e["outside"]]
    if outside:
        listed = ", ".join(
            f"{GAP_LABELS[g]}: {o['explorer']} {o['model']} ({o['value']:.4f})"
            for g, o in outside[:10]
        )
        more = f" and {len(outside) - 10} more" if len(outside) > 10 else ""
        parts.append(
            f"Sampled members outside the attainable range: {listed}{more}. Why: "
            f"{outside[0][1]['reason']}."
        )
    return parts


def render(report: Report) -> str:
    """Markdown with the setup, the headline numbers, fairness ranges and the epsilon curve."""
    dataset, attack, surrogate = report["dataset"], report["attack"], report["surrogate"]
    rashomon, multiplicity, fairness = (
        report["rashomon"],
        report["multiplicity"],
        report["fairness"],
    )
    parts = [
        f"# msmult report: {dataset['name']}",
        *([" ".join(report["answer"])] if report.get("answer") else []),
        f"Victim `{report['victim']['model']}` (test accuracy {report['victim']['accuracy']:.4f}) "
        f"was queried through the API `{report['api']['label']}` by the `{attack['name']}` attack "
        f"with {attack['queries_used']} of {attack['budget']} queries. The base surrogate reaches "
        f"fidelity {surrogate['fidelity']:.4f} and accuracy {surrogate['accuracy']:.4f} on "
        f"{dataset['test_rows']} test rows. `{rashomon['explorer']}` exploration sampled "
        f"{rashomon['candidates']} candidates; {multiplicity['set_size']} lie within epsilon = "
        f"{rashomon['epsilon']} of the base surrogate's fidelity loss "
        f"({rashomon['base_loss']:.4f}). Sensitive attribute: `{dataset['sensitive']}`.",
        *([defender_sentence(report["defender"])] if report.get("defender") else []),
    ]
    if "per_row" in report:  # rashomon=awp: per-row metrics only
        parts += per_row_section(report["per_row"], fairness)
    else:
        parts += [
            "## Multiplicity over the Rashomon set",
            table(
                ["metric", "value", "scale"], multiplicity_rows(multiplicity, rashomon["fidelity"])
            ),
            "## Group fairness: victim vs the Rashomon set",
            gap_table(fairness, ("victim", "base", "min", "max", "range")),
        ]
    parts += explorers.markdown_parts(report)  # calibrated epsilon, verdict, explorers compared
    curve = multiplicity.get("epsilon_curve") or []
    if curve:
        parts += [
            "## Epsilon curve",
            curve_table(curve),
            "![metrics vs epsilon](epsilon_curve.png)\n\n"
            "![Rashomon Capacity CDF](capacity_cdf.png)",
        ]
    if report.get("budget_curve"):
        parts += budget_curve_section(report["budget_curve"])
    if report.get("extremes"):
        parts += extremes_section(report["extremes"])
    for name, extra in report.get("extra_eval", {}).items():
        parts += [f"## Second evaluation set: {name}", *extra_section(extra)]
    timing = [[stage, f"{seconds:.2f}"] for stage, seconds in report["timing"].items()]
    parts.append("## Timing (seconds)\n\n" + table(["stage", "seconds"], timing))
    return "\n\n".join(parts) + "\n"
