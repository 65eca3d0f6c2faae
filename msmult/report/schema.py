"""The report's keys, in one place: the typed shape of ``report.json`` that every writer
(``assemble``, ``answer``) and reader (``markdown``, ``summary``, ``explorers``, ``msmult.study``,
``msmult.tracking``) uses, and the labels of the keys that are not metrics of the registry
(``msmult.metrics.registry`` labels the set metrics, ``msmult.metrics.closeness`` the closeness
figures, ``msmult.metrics.fairness`` the gaps)."""

from __future__ import annotations

from typing import Any, TypedDict


class Share(TypedDict):
    """Members passing the verdict, with a Wilson 95% interval."""

    passed: int
    members: int
    share: float
    low: float
    high: float


class Verdict(Share, total=False):
    tolerances: dict[str, Any]  # mode (owner | fixed) and the limits it derived
    explorers: dict[str, Share]  # per lens (rashomon=lenses / compare)


class Interval(TypedDict):
    estimate: float
    low: float
    high: float
    copies: int
    retrains: int


class Lens(TypedDict):
    """One lens against the owner's yardstick."""

    members: int
    superiority: dict[str, Interval]  # closeness figure -> P(member at least as close)
    ambiguity_at_owner_k: dict[str, float]


class Owner(TypedDict, total=False):
    models: int
    cache: str
    note: str | None
    agreement: dict[str, float]
    distances: dict[str, dict[str, float]]  # figure -> min / median / max
    ambiguity_vs_victim: float
    discrepancy_vs_victim: float
    retrains: list[dict[str, Any]]


class BudgetPoint(TypedDict, total=False):
    budget: int
    fit_rows: int
    fidelity: float
    set_size: int
    thieves: int
    thieves_passed: int
    thieves_share: float


class Equivalence(TypedDict):
    target: float
    budget: int | None  # None: not reached within ``within`` queries
    within: int
    shares: dict[str, float | None]


class Report(TypedDict, total=False):
    """``report.json``. Always: answer, dataset, victim, api, attack, surrogate, rashomon,
    multiplicity, fairness, verdict, extra_eval, seed, timing; the rest when the run has it."""

    answer: list[str]
    dataset: dict[str, Any]
    victim: dict[str, Any]
    api: dict[str, Any]
    attack: dict[str, Any]
    surrogate: dict[str, float]
    rashomon: dict[str, Any]
    multiplicity: dict[str, Any]
    fairness: dict[str, dict[str, float]]
    verdict: Verdict
    comparison: dict[str, Any]
    owner: Owner
    yardstick: dict[str, Lens]
    extra_eval: dict[str, dict[str, Any]]
    seed: int
    timing: dict[str, float]
    defender: dict[str, float]
    budget_curve: list[BudgetPoint]
    budget_to_equivalence: Equivalence
    extremes: dict[str, Any]
    per_row: dict[str, Any]
    remote: dict[str, Any]


PER_ROW_LABELS = {
    "rashomon_capacity_mean": "Rashomon Capacity (mean over sampled rows, 2**C, 1 to c)",
    "rashomon_capacity_max": "Rashomon Capacity (max over sampled rows, 2**C, 1 to c)",
    "viable_prediction_range_mean": "viable prediction range (mean, true-class score, 0-1)",
    "flip_share": "sampled rows whose decision can flip vs the base surrogate (share, 0-1)",
    "victim_disagreement_share": "sampled rows where some reachable model disagrees with the "
    "victim (share, 0-1)",
}


def per_row_lines(per_row: dict) -> list[tuple[str, str]]:
    """(label, value) pairs of the per-row metrics at the run's epsilon, for report.md and the
    console summary."""
    pairs = [(label, f"{per_row[key]:.4f}") for key, label in PER_ROW_LABELS.items()]
    steps = f"{per_row['steps_mean']:.1f} (max {per_row['steps_max']})"
    return [
        ("sampled test rows", str(per_row["rows"])),
        *pairs,
        ("gradient steps per row and class", steps),
    ]
