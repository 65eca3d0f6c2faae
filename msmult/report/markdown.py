"""``report.md``: the run's report for people, rendered from the same dict as ``report.json``."""

from __future__ import annotations

from msmult.evaluation import GAPS


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render(report: dict) -> str:
    """Markdown with the setup, the headline numbers, fairness ranges and the epsilon curve."""
    dataset, attack, surrogate = report["dataset"], report["attack"], report["surrogate"]
    rashomon, multiplicity, fairness = (
        report["rashomon"],
        report["multiplicity"],
        report["fairness"],
    )
    capacity = multiplicity["rashomon_capacity"]
    parts = [
        f"# msmult report: {dataset['name']}",
        f"Victim `{report['victim']['model']}` (test accuracy {report['victim']['accuracy']:.4f}) "
        f"was queried through a `{attack['api_mode']}` API by the `{attack['name']}` attack with "
        f"{attack['queries_used']} of {attack['budget']} queries. The base surrogate reaches "
        f"fidelity {surrogate['fidelity']:.4f} and accuracy {surrogate['accuracy']:.4f} on "
        f"{dataset['test_rows']} test rows. Dropout exploration sampled {rashomon['candidates']} "
        f"candidates; {multiplicity['set_size']} lie within epsilon = {rashomon['epsilon']} of the "
        f"base surrogate's fidelity loss ({rashomon['base_loss']:.4f}). Sensitive attribute: "
        f"`{dataset['sensitive']}`.",
        "## Multiplicity over the Rashomon set",
        table(
            ["metric", "value"],
            [
                ["ambiguity vs victim", f"{multiplicity['ambiguity_vs_victim']:.4f}"],
                ["discrepancy vs victim", f"{multiplicity['discrepancy_vs_victim']:.4f}"],
                ["ambiguity vs base surrogate", f"{multiplicity['ambiguity_vs_base']:.4f}"],
                ["discrepancy vs base surrogate", f"{multiplicity['discrepancy_vs_base']:.4f}"],
                ["Rashomon Capacity mean", f"{capacity['mean']:.4f}"],
                *[[f"Rashomon Capacity {q}", f"{v:.4f}"] for q, v in capacity["quantiles"].items()],
                [
                    "viable prediction range (mean)",
                    f"{multiplicity['viable_prediction_range_mean']:.4f}",
                ],
                [
                    "pairwise disagreement (mean)",
                    f"{multiplicity['pairwise_disagreement_mean']:.4f}",
                ],
                [
                    "fidelity over the set",
                    f"{rashomon['fidelity']['min']:.4f} .. {rashomon['fidelity']['max']:.4f}",
                ],
            ],
        ),  # fmt: skip
        "## Group fairness: victim vs the Rashomon set",
        table(
            ["gap", "victim", "base surrogate", "set min", "set max", "set range"],
            [
                [
                    gap,
                    *(f"{fairness[gap][k]:.4f}" for k in ("victim", "base", "min", "max", "range")),
                ]
                for gap in GAPS
            ],
        ),  # fmt: skip
    ]
    curve = multiplicity.get("epsilon_curve") or []
    if curve:
        parts += ["## Epsilon curve", table(
            ["epsilon", "set size", "ambiguity vs victim", "discrepancy vs victim", "mean RC"],
            [[f"{p['epsilon']:.4g}", str(p["size"]), f"{p['ambiguity_vs_victim']:.4f}",
              f"{p['discrepancy_vs_victim']:.4f}", f"{p['rashomon_capacity_mean']:.4f}"] for p in curve],
        ), "![metrics vs epsilon](epsilon_curve.png)\n\n![Rashomon Capacity CDF](capacity_cdf.png)"]  # fmt: skip
    for name, extra in report.get("extra_eval", {}).items():
        parts += [f"## Second evaluation set: {name}", table(
            ["gap", "victim", "set min", "set max"],
            [[gap, *(f"{extra['fairness'][gap][k]:.4f}" for k in ("victim", "min", "max"))] for gap in GAPS],
        ), f"Victim accuracy {extra['victim_accuracy']:.4f}; base surrogate fidelity "
           f"{extra['fidelity']['base']:.4f} (set {extra['fidelity']['min']:.4f} .. "
           f"{extra['fidelity']['max']:.4f}); ambiguity vs victim {extra['ambiguity_vs_victim']:.4f}."]  # fmt: skip
    parts.append("## Timing (seconds)\n\n" + table(
        ["stage", "seconds"], [[k, f"{v:.2f}"] for k, v in report["timing"].items()]))  # fmt: skip
    return "\n\n".join(parts) + "\n"
