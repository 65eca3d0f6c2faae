"""Comparing explorers run on the same base surrogate (``rashomon=compare``), from the member
table alone: each explorer's candidates carry its name in an ``explorer`` column and row 0, the
shared base surrogate, belongs to every explorer.

Ambiguity grows with the number of models, so it is also given at an equal number of members:
the mean over seeded subsamples of the smallest member count. Coverage lines say how much of the
range a refitting explorer (``retrain``, ``bootstrap``) finds for each fairness gap the other
explorers' ranges cover, and how many of their members are at least as faithful as the worst
refitted member.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from msmult.metrics import GAPS, ambiguity, discrepancy
from msmult.metrics.verdict import explorer_rows

REFERENCES = ("retrain", "bootstrap")  # explorers whose models a thief would actually train
SUBSAMPLES = 100  # seeded subsamples for the equal-size ambiguity


def equal_size_ambiguity(flips: np.ndarray, size: int, seed: int = 0) -> float:
    """Mean ambiguity of ``size`` models drawn without replacement from the rows of ``flips``
    ((models, rows) decisions differing from the victim's), over ``SUBSAMPLES`` seeded draws;
    exact when ``size`` is every model."""
    if size >= len(flips):
        return float(flips.any(0).mean())
    rng = np.random.default_rng(seed)
    draws = [
        flips[rng.choice(len(flips), size, replace=False)].any(0).mean() for _ in range(SUBSAMPLES)
    ]
    return float(np.mean(draws))


def explorer_row(
    name: str, tried: pd.DataFrame, members: pd.DataFrame, decisions: np.ndarray, victim: np.ndarray
) -> dict:
    """One explorer's line of the comparison table: ``tried`` its candidates (row 0, the shared
    base, first), ``members`` those in the set, ``decisions`` the members' (members, n)."""
    row = {
        "explorer": name,
        "models": len(tried),
        "members": len(members),
        "seconds_per_candidate": float(tried["seconds"].iloc[1:].mean()) if len(tried) > 1 else 0.0,
        "fidelity_min": float(members["fidelity"].min()),
        "fidelity_max": float(members["fidelity"].max()),
        "fidelity_tried_min": float(tried["fidelity"].min()),  # unscored candidates skipped
        "fidelity_tried_max": float(tried["fidelity"].max()),
        "ambiguity_vs_victim": ambiguity(decisions, victim),
        "discrepancy_vs_victim": discrepancy(decisions, victim),
    }
    for gap in GAPS:
        row[f"{gap}_min"], row[f"{gap}_max"] = float(members[gap].min()), float(members[gap].max())
    return row


def covered(reference: tuple[float, float], other: tuple[float, float]) -> float:
    """Share of the ``reference`` interval that ``other`` covers (a point: 1 if inside, else 0)."""
    (low, high), (o_low, o_high) = reference, other
    if high <= low:
        return float(o_low <= low <= o_high)
    return max(0.0, min(high, o_high) - max(low, o_low)) / (high - low)


def coverage_lines(rows: dict[str, dict]) -> list[dict]:
    """For each refitting explorer and each other explorer: the share of the former's range of
    each gap the latter covers, and the share of the latter's members whose fidelity is at least
    the former's worst member's (``fidelity_at_least_worst``; needs ``members_fidelity``)."""
    lines = []
    for reference in (name for name in REFERENCES if name in rows):
        ref = rows[reference]
        for name in (n for n in rows if n not in REFERENCES):
            other = rows[name]
            line = {"explorer": name, "reference": reference}
            for gap in GAPS:
                span = (ref[f"{gap}_min"], ref[f"{gap}_max"])
                line[f"{gap}_covered"] = covered(span, (other[f"{gap}_min"], other[f"{gap}_max"]))
            fidelity = other["members_fidelity"]
            line["fidelity_at_least_worst"] = float((fidelity >= ref["fidelity_min"]).mean())
            lines.append(line)
    return lines


def compare_explorers(
    table: pd.DataFrame, member_decisions: np.ndarray, victim: np.ndarray, seed: int = 0
) -> dict | None:
    """The comparison of the explorers in a member table with an ``explorer`` column (None
    without one): one row per explorer, the equal-size ambiguity and the coverage lines.
    ``member_decisions``: (members, n) decisions of the table's ``in_set`` rows, in order."""
    if "explorer" not in table:
        return None
    members = table["in_set"].to_numpy()
    rows, flips = {}, {}
    for name, candidates in explorer_rows(table["explorer"]).items():
        in_set = candidates & members
        decisions = member_decisions[in_set[members]]
        rows[name] = explorer_row(name, table[candidates], table[in_set], decisions, victim)
        rows[name]["members_fidelity"] = table.loc[in_set, "fidelity"].to_numpy()
        flips[name] = decisions != victim
    size = min(row["members"] for row in rows.values())
    for name, row in rows.items():
        row["ambiguity_equal_size"] = equal_size_ambiguity(flips[name], size, seed)
    lines = coverage_lines(rows)
    for row in rows.values():
        del row["members_fidelity"]
    return {"equal_size": size, "table": list(rows.values()), "coverage": lines}
