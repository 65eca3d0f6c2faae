"""Report parts for the verdict, the lenses compared (``rashomon=lenses`` / ``compare``) and the
owner's yardstick: report.md sections, the console rows, ``comparison.csv`` and
``explorers_fairness.png``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from msmult.fileio import write_with
from msmult.metrics import GAP_LABELS, GAPS
from msmult.metrics.closeness import FIGURE_LABELS, FIGURES
from msmult.metrics.verdict import sentence
from msmult.report import plots
from msmult.report.answer import lens_name
from msmult.report.markdown_tables import table

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
        f"Epsilon = {rashomon['epsilon']:.4g} was calibrated (`membership.epsilon=auto`): the "
        f"{source['how']}."
    ]


def verdict_section(verdict: dict) -> list[str]:
    """The verdict in plain words: for the set, then per lens when there are several."""
    tol = verdict["tolerances"]
    if tol["mode"] == "owner":
        limits = ", ".join(f"{FIGURE_LABELS[f]} <= {tol[f]:.4f}" for f in FIGURES)
        rule = (
            f"every closeness figure within the owner's envelope (the {tol['owner_quantile']:g}"
            f"-quantile of the owner's retrains): {limits}"
        )
    else:
        rule = (
            f"test accuracy within {tol['accuracy']:g} and each fairness gap within "
            f"{tol['gap']:g} of the victim's, decisions agreeing with the victim's on at least "
            f"{tol['agreement']:g} of the test rows"
        )
    lines = [f"{sentence(verdict, tolerances=tol)}: {rule} (Wilson 95% interval)."]
    lines += [
        f"- `{name}`: {sentence(result, tolerances=tol)}."
        for name, result in verdict.get("explorers", {}).items()
    ]
    return ["## Would a surrogate pass as the victim?", "\n".join(lines)]


def owner_section(owner: dict) -> list[str]:
    """The owner's retrains against the deployed victim: each closeness figure's spread."""
    if not owner.get("models"):
        return ["## The owner's yardstick", f"Off: {owner.get('note') or 'owner.models=0'}"]
    rows = [
        [FIGURE_LABELS[f], *(f"{owner['distances'][f][k]:.4f}" for k in ("min", "median", "max"))]
        for f in FIGURES
    ]
    parts = [
        "## The owner's yardstick",
        f"The victim retrained by its owner {owner['models']} times on its own rows with other "
        f"seeds (cache: {owner['cache']}), each scored against the deployed victim on the test "
        f"rows; `owner.csv` lists them. Ambiguity over the retrains "
        f"{owner['ambiguity_vs_victim']:.4f}, discrepancy {owner['discrepancy_vs_victim']:.4f}.",
        table(["distance to the victim", "min", "median", "max"], rows, left=1),
    ]
    return parts + ([owner["note"]] if owner.get("note") else [])


def yardstick_section(yardstick: dict) -> list[str]:
    """Per lens and figure, the probability of superiority with its interval; the ambiguity at
    the owner's number of models."""
    header = ["figure", *(lens_name(lens).split(" (")[0] + f" `{lens}`" for lens in yardstick)]
    rows = [
        [
            FIGURE_LABELS[f],
            *(
                f"{e['estimate']:.2f} ({e['low']:.2f}-{e['high']:.2f})"
                for e in (yardstick[lens]["superiority"][f] for lens in yardstick)
            ),
        ]
        for f in FIGURES
    ]
    ambiguity = "; ".join(
        f"`{lens}` {entry['ambiguity_at_owner_k']['members']:.4f} vs the owner's "
        f"{entry['ambiguity_at_owner_k']['owner']:.4f} (K = {entry['ambiguity_at_owner_k']['k']})"
        for lens, entry in yardstick.items()
    )
    return [
        "## Stolen copies against the owner's yardstick",
        "Probability of superiority: P(a member is at least as close to the victim as an owner's "
        "retrain), ties counted half (0.5: as close as the owner's own retrains; 1: always "
        "closer), with a 95% interval (DeLong variance, logit scale).",
        table(header, rows, left=1),
        f"Ambiguity against the victim at the owner's number of models: {ambiguity}.",
    ]


def equivalence_line(equivalence: dict) -> list[str]:
    """The budget to equivalence in one sentence."""
    target = equivalence["target"]
    if equivalence["budget"] is None:
        found = f"not reached within {equivalence['within']} queries"
    else:
        found = f"{equivalence['budget']} queries"
    return [
        f"Budget to equivalence (the fewest checkpoint queries at which at least {target:g} of "
        f"the thieves' copies pass the verdict): {found}."
    ]


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
        table(header, rows, left=1),
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
    if "owner" in report:
        parts += owner_section(report["owner"])
    if "yardstick" in report:
        parts += yardstick_section(report["yardstick"])
    if "budget_to_equivalence" in report:
        parts += equivalence_line(report["budget_to_equivalence"])
    if "comparison" in report:
        parts += comparison_section(report["comparison"])
    return parts


def console_row(report: dict) -> list[tuple[str, str, str]]:
    """The verdict's row of the console summary (none for an older report)."""
    if "verdict" not in report:
        return []
    v = report["verdict"]
    owner = v["tolerances"]["mode"] == "owner"
    return [
        (
            "within the owner's envelope" if owner else "passes as the victim",
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
