"""Thieves against the owner's yardstick: is a stolen copy farther from the victim than the
victim's own retrain?

For each lens (each explorer's members, the base surrogate included; one lens when the run has one
explorer) and each closeness figure (``msmult.metrics.closeness``): the probability of
superiority, P(a member is at least as close to the victim as an owner's retrain), ties counted
half, with its 95% interval (``msmult.metrics.superiority``); and the ambiguity against the
victim at an equal number of models (K members, the mean over seeded draws when a lens has more,
next to the owner's K retrains).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from msmult.analysis.comparison import equal_size_ambiguity
from msmult.analysis.owner import Yardstick
from msmult.metrics import ambiguity, decisions_of
from msmult.metrics.closeness import FIGURES, distances
from msmult.metrics.superiority import superiority
from msmult.metrics.verdict import explorer_rows


def lenses(table: pd.DataFrame, name: str) -> dict[str, np.ndarray]:
    """Lens name -> boolean rows of its members: per explorer when the table has an
    ``explorer`` column (``rashomon=compare``), else the whole set under ``name``."""
    members = table["in_set"].to_numpy()
    if "explorer" not in table:
        return {name: members}
    return {lens: rows & members for lens, rows in explorer_rows(table["explorer"]).items()}


def against_owner(
    table: pd.DataFrame,
    member_scores: np.ndarray,
    victim_proba: np.ndarray,
    victim: dict,
    owner: Yardstick,
    explorer: str,
    seed: int,
) -> dict:
    """The ``yardstick`` section of report.json: per lens, its member count, the probability of
    superiority of each figure and the ambiguity at the owner's K models. ``member_scores``:
    the (members, n, c) test scores of ``table``'s ``in_set`` rows, in order."""
    members = table["in_set"].to_numpy()
    reference = victim_proba.argmax(axis=1)
    flips = decisions_of(member_scores) != reference
    owner_ambiguity = ambiguity(decisions_of(owner.scores), reference)
    result = {}
    for lens, rows in lenses(table, explorer).items():
        gaps = distances(table[rows], victim)
        result[lens] = {
            "members": int(rows.sum()),
            "superiority": {
                figure: superiority(
                    gaps[figure].to_numpy(), owner.distances[figure].to_numpy()
                ).as_dict()
                for figure in FIGURES
            },
            "ambiguity_at_owner_k": {
                "k": owner.models,
                "members": equal_size_ambiguity(flips[rows[members]], owner.models, seed),
                "owner": owner_ambiguity,
            },
        }
    return result
