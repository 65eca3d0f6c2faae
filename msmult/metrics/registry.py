"""The set-level multiplicity metrics msmult reports, in one place.

Each ``SetMetric`` names a report key, a label for people, the scale its value lives on and a
function of a ``SetView`` (the members' predictions plus the references). ``evaluation``, the
epsilon curve, report.md, the console summary, the plots and the study tables all iterate
``SET_METRICS``: adding a metric is one entry here plus its function. A metric may also give
``running``, the same value read from a ``NestedSets`` (msmult/metrics/nested.py), which the
epsilon curve then uses instead of recomputing it on every set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from msmult.metrics.capacity import rashomon_capacity
from msmult.metrics.multiplicity import (
    _decisions,
    ambiguity,
    discrepancy,
    pairwise_disagreement,
    rashomon_set,
    score_variance,
    viable_prediction_range,
)
from msmult.metrics.nested import NestedSets

SHARE = "share of rows, 0-1"
CAPACITY_SCALE = "2**C, 1 to c classes"


@dataclass(frozen=True)
class SetView:
    """A set of m models on n rows: ``scores`` (m, n, c), ``decisions`` (m, n); ``victim`` and
    ``base`` (n,) the reference decisions, ``labels`` (n,) the true classes, ``tol`` the
    certified gap (bits) of Rashomon Capacity."""

    scores: np.ndarray
    decisions: np.ndarray
    victim: np.ndarray
    base: np.ndarray
    labels: np.ndarray
    tol: float = 1e-9
    known_capacity: np.ndarray | None = None  # (n,), when already computed (epsilon curve)

    @cached_property
    def capacity(self) -> np.ndarray:
        """(n,) Rashomon Capacity of each row, computed once per view."""
        if self.known_capacity is not None:
            return self.known_capacity
        return rashomon_capacity(self.scores, self.tol)


@dataclass(frozen=True)
class SetMetric:
    """One reported set-level metric: report key, human label, scale and ``compute(view)``;
    optionally ``running(nested)``, the same value from a ``NestedSets`` grown to the set."""

    name: str
    label: str
    scale: str
    compute: Callable[[SetView], float]
    running: Callable[[NestedSets], float] | None = None


SET_METRICS: tuple[SetMetric, ...] = (
    SetMetric(
        "ambiguity_vs_victim",
        "ambiguity vs victim",
        SHARE,
        lambda v: ambiguity(v.decisions, v.victim),
        lambda r: r.ambiguity("victim"),
    ),
    SetMetric(
        "discrepancy_vs_victim",
        "discrepancy vs victim",
        SHARE,
        lambda v: discrepancy(v.decisions, v.victim),
        lambda r: r.discrepancy("victim"),
    ),
    SetMetric(
        "ambiguity_vs_base",
        "ambiguity vs base surrogate",
        SHARE,
        lambda v: ambiguity(v.decisions, v.base),
        lambda r: r.ambiguity("base"),
    ),
    SetMetric(
        "discrepancy_vs_base",
        "discrepancy vs base surrogate",
        SHARE,
        lambda v: discrepancy(v.decisions, v.base),
        lambda r: r.discrepancy("base"),
    ),
    SetMetric(
        "rashomon_capacity_mean",
        "Rashomon Capacity (mean)",
        CAPACITY_SCALE,
        lambda v: v.capacity.mean(),
        lambda r: r.capacity.at(r.k).mean(),
    ),
    SetMetric(
        "viable_prediction_range_mean",
        "viable prediction range (mean)",
        "true-class score range, 0-1",
        lambda v: viable_prediction_range(v.scores, v.labels).mean(),
        lambda r: r.viable_prediction_range().mean(),
    ),
    SetMetric(
        "score_variance_mean",
        "score variance (mean)",
        "true-class score variance, 0-0.25",
        lambda v: score_variance(v.scores, v.labels).mean(),
        lambda r: r.score_variance().mean(),
    ),
    SetMetric(
        "pairwise_disagreement_mean",
        "pairwise disagreement (mean)",
        "share of model pairs, 0-1",
        lambda v: pairwise_disagreement(v.decisions).mean(),
        lambda r: r.pairwise_disagreement().mean(),
    ),
)


def measure(view: SetView) -> dict[str, float]:
    """Every registered metric of ``view``, keyed by report key, as plain floats."""
    return {metric.name: float(metric.compute(view)) for metric in SET_METRICS}


def epsilon_curve(
    losses: np.ndarray,
    base_loss: float,
    epsilons: Sequence[float],
    decisions: np.ndarray,
    scores: np.ndarray,
    reference_victim: np.ndarray,
    reference_base: np.ndarray,
    labels: np.ndarray,
    tol: float = 1e-9,
    capacities: dict[float, np.ndarray] | None = None,
) -> list[dict]:
    """Multiplicity of the Rashomon set {losses <= base_loss + eps} for each eps in ``epsilons``.

    ``losses`` (m,) are the candidates' losses (the base model is one of them, with loss <=
    ``base_loss``, so every set holds it); ``decisions`` (m, n) and ``scores`` (m, n, c) are their
    predictions on the evaluation rows, ``reference_victim`` / ``reference_base`` (n,) the victim's
    and the base model's decisions, ``labels`` (n,) the true classes. Sets are nested, so each is a
    prefix of the candidates sorted by loss, and each distinct set is measured once.

    Returns one JSON-ready dict per epsilon, in input order: ``epsilon``, ``set_size`` and every
    key of ``SET_METRICS`` (the keys of the report's ``multiplicity`` section). One pass over the
    sorted models (``NestedSets``); a given ``capacities`` dict receives each epsilon's (n,)
    per-row Rashomon Capacity.
    """
    losses, epsilons = np.asarray(losses, dtype=float), list(epsilons)  # any iterable
    d, s = _decisions(decisions), np.asarray(scores)
    if not len(losses) == d.shape[0] == s.shape[0]:
        raise ValueError("losses, decisions and scores must hold the same models")
    if not (losses <= base_loss).any():
        raise ValueError("no candidate has loss <= base_loss: include the base model")
    order = np.argsort(losses, kind="stable")
    sizes = [int(rashomon_set(losses, base_loss, float(eps)).sum()) for eps in epsilons]
    nested = NestedSets(s, d, order, reference_victim, reference_base, labels, tol)
    measured, capacity = {}, {}
    for k in sorted(set(sizes)):
        nested.grow(k)
        capacity[k] = nested.capacity.at(k)
        measured[k] = {}
        for metric in SET_METRICS:
            if metric.running is None:  # a metric without a running form: its members' view
                members = order[:k]
                view = SetView(
                    s[members],
                    d[members],
                    reference_victim,
                    reference_base,
                    labels,
                    tol,
                    capacity[k],
                )
            value = metric.running(nested) if metric.running else metric.compute(view)
            measured[k][metric.name] = float(value)
    if capacities is not None:
        capacities.update({float(eps): capacity[k] for eps, k in zip(epsilons, sizes)})
    return [
        {"epsilon": float(eps), "set_size": k, **measured[k]}
        for eps, k in zip(epsilons, sizes, strict=True)
    ]
