"""Multiplicity and fairness metrics: NumPy arrays in, NumPy arrays or floats out."""

from msmult.metrics.capacity import rashomon_capacity
from msmult.metrics.fairness import GroupRates, fairness_gaps, fairness_gaps_many, group_rates
from msmult.metrics.multiplicity import (
    ambiguity,
    discrepancy,
    epsilon_curve,
    pairwise_disagreement,
    rashomon_set,
    score_variance,
    self_consistency,
    viable_prediction_range,
    vote_entropy,
)

__all__ = [
    "GroupRates",
    "ambiguity",
    "discrepancy",
    "epsilon_curve",
    "fairness_gaps",
    "fairness_gaps_many",
    "group_rates",
    "pairwise_disagreement",
    "rashomon_capacity",
    "rashomon_set",
    "score_variance",
    "self_consistency",
    "viable_prediction_range",
    "vote_entropy",
]
