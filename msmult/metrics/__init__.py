"""Multiplicity and fairness metrics: NumPy arrays in, NumPy arrays or floats out."""

from msmult.metrics.capacity import rashomon_capacity
from msmult.metrics.fairness import (
    GAP_LABELS,
    GAPS,
    GroupRates,
    fairness_gaps,
    fairness_gaps_many,
    group_rates,
)
from msmult.metrics.multiplicity import (
    ambiguity,
    decisions_of,
    discrepancy,
    pairwise_disagreement,
    rashomon_set,
    score_variance,
    self_consistency,
    viable_prediction_range,
    vote_entropy,
)
from msmult.metrics.registry import SET_METRICS, SetMetric, SetView, epsilon_curve, measure

__all__ = [
    "GAPS",
    "GAP_LABELS",
    "GroupRates",
    "SET_METRICS",
    "SetMetric",
    "SetView",
    "ambiguity",
    "decisions_of",
    "discrepancy",
    "epsilon_curve",
    "fairness_gaps",
    "fairness_gaps_many",
    "group_rates",
    "measure",
    "pairwise_disagreement",
    "rashomon_capacity",
    "rashomon_set",
    "score_variance",
    "self_consistency",
    "viable_prediction_range",
    "vote_entropy",
]
