"""Group-fairness gaps with fairlearn's definitions and defaults.

Labels and decisions are binarised one-vs-rest as ``== pos_label``; rows whose sensitive value is
``""`` (unknown) are left out. Gaps are max minus min over groups (fairlearn's
``method="between_groups"``) of the selection rate (demographic parity), the true-positive rate
(equal opportunity, Hardt, Price & Srebro, NeurIPS 2016) and the worse of the true- and
false-positive-rate gaps (equalized odds, fairlearn's ``agg="worst_case"``). A rate over no rows
is 0, as in fairlearn (scikit-learn's normalised confusion matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    true_positive_rate,
)

# report key of each gap -> its label for people; every reader takes the gaps from here
GAP_LABELS = {
    "demographic_parity_difference": "demographic parity",
    "equalized_odds_difference": "equalized odds",
    "equal_opportunity_difference": "equal opportunity",
}
GAPS = tuple(GAP_LABELS)


@dataclass(frozen=True)
class GroupRates:
    """Per-group rates of m models: each array is (m, len(groups)); ``size`` is rows per group."""

    groups: np.ndarray
    size: np.ndarray
    selection_rate: np.ndarray
    true_positive_rate: np.ndarray
    false_positive_rate: np.ndarray


def fairness_gaps(
    y_true: np.ndarray, y_pred: np.ndarray, sensitive: np.ndarray, pos_label: int = 1
) -> dict[str, float]:
    """The three gaps of one model's decisions ``y_pred`` (n,), computed by fairlearn."""
    known = _known(sensitive)
    yt = (np.asarray(y_true)[known] == pos_label).astype(int)
    yp = (np.asarray(y_pred)[known] == pos_label).astype(int)
    groups = np.asarray(sensitive)[known]
    tpr = MetricFrame(metrics=true_positive_rate, y_true=yt, y_pred=yp, sensitive_features=groups)
    return {
        "demographic_parity_difference": float(
            demographic_parity_difference(yt, yp, sensitive_features=groups)
        ),
        "equalized_odds_difference": float(
            equalized_odds_difference(yt, yp, sensitive_features=groups)
        ),
        "equal_opportunity_difference": float(tpr.difference()),
    }


def fairness_gaps_many(
    y_true: np.ndarray, decisions: np.ndarray, sensitive: np.ndarray, pos_label: int = 1
) -> dict[str, np.ndarray]:
    """The three gaps for each of m models at once, decisions (m, n) -> arrays (m,); equal to
    ``fairness_gaps`` model by model, without a fairlearn call per model."""
    rates = group_rates(y_true, decisions, sensitive, pos_label)
    tpr = np.ptp(rates.true_positive_rate, axis=1)
    return {
        "demographic_parity_difference": np.ptp(rates.selection_rate, axis=1),
        "equalized_odds_difference": np.maximum(tpr, np.ptp(rates.false_positive_rate, axis=1)),
        "equal_opportunity_difference": tpr,
    }


def group_rates(
    y_true: np.ndarray, decisions: np.ndarray, sensitive: np.ndarray, pos_label: int = 1
) -> GroupRates:
    """Selection, true-positive and false-positive rates of m models (decisions (m, n)) in each
    known group, by counting with one (m, n) x (n, 2 * groups) product."""
    known = _known(sensitive)
    d = np.asarray(decisions)
    if d.ndim != 2 or d.shape[1] != known.size:
        raise ValueError(f"decisions must be (models, {known.size}), got {d.shape}")
    groups, codes = np.unique(np.asarray(sensitive)[known], return_inverse=True)
    g = groups.size
    positive = np.asarray(y_true)[known] == pos_label
    # column codes + g * [negative]: (group, label) cells; float32 counts are exact below 2**24
    cells = np.zeros((codes.size, 2 * g), np.float32)
    cells[np.arange(codes.size), codes + g * ~positive] = 1.0
    chosen = d == pos_label if known.all() else d[:, known] == pos_label  # no (m, n) copy
    hits = (chosen.astype(np.float32) @ cells).astype(float)
    total = cells.sum(0, dtype=float)
    tp, fp, pos, neg = hits[:, :g], hits[:, g:], total[:g], total[g:]
    return GroupRates(
        groups=groups,
        size=(pos + neg).astype(int),
        selection_rate=(tp + fp) / (pos + neg),
        true_positive_rate=np.divide(tp, pos, out=np.zeros_like(tp), where=pos > 0),
        false_positive_rate=np.divide(fp, neg, out=np.zeros_like(fp), where=neg > 0),
    )


def _known(sensitive: np.ndarray) -> np.ndarray:
    """Mask of rows with a known sensitive value; at least one is required."""
    known = np.asarray(sensitive).astype(str) != ""
    if not known.any():
        raise ValueError("no row has a known sensitive value")
    return known
