"""Multiplicity metrics on small hand-built arrays, and the epsilon curve."""

from __future__ import annotations

import json

import numpy as np
import pytest

from msmult.metrics import (
    ambiguity,
    discrepancy,
    epsilon_curve,
    pairwise_disagreement,
    rashomon_capacity,
    rashomon_set,
    score_variance,
    self_consistency,
    viable_prediction_range,
    vote_entropy,
)

# 3 models x 4 rows; against REFERENCE, model 0 never flips, model 1 flips row 2, model 2 row 0
DECISIONS = np.array([[0, 1, 1, 0], [0, 1, 0, 0], [1, 1, 1, 0]])
REFERENCE = np.array([0, 1, 1, 0])

# 3 models x 2 rows x 2 classes; true labels 1 then 0
SCORES = np.array(
    [
        [[0.2, 0.8], [0.7, 0.3]],
        [[0.4, 0.6], [0.5, 0.5]],
        [[0.1, 0.9], [0.7, 0.3]],
    ]
)
LABELS = np.array([1, 0])


def test_ambiguity():
    # rows 0 and 2 have a flip: 2 / 4
    assert ambiguity(DECISIONS, REFERENCE) == 0.5
    assert ambiguity(DECISIONS[:1], REFERENCE) == 0.0


def test_discrepancy():
    # per-model flip rates 0, 1/4, 1/4: the largest is 1/4
    assert discrepancy(DECISIONS, REFERENCE) == 0.25
    assert discrepancy(np.array([[1, 0, 0, 1], [0, 1, 1, 0]]), REFERENCE) == 1.0


def test_pairwise_disagreement_and_self_consistency():
    # row 0 votes (2 x class 0, 1 x class 1): 1 - (2*1 + 1*0) / (3*2) = 2/3; row 1 unanimous: 0;
    # row 2 (1 x class 0, 2 x class 1): 2/3; row 3 unanimous: 0
    expected = np.array([2 / 3, 0.0, 2 / 3, 0.0])
    np.testing.assert_allclose(pairwise_disagreement(DECISIONS), expected)
    np.testing.assert_allclose(self_consistency(DECISIONS), 1 - expected)
    # two models, three classes: a pair either agrees (0) or not (1)
    np.testing.assert_array_equal(pairwise_disagreement(np.array([[0, 2], [1, 2]])), [1.0, 0.0])
    np.testing.assert_array_equal(pairwise_disagreement(DECISIONS[:1]), np.zeros(4))
    np.testing.assert_array_equal(self_consistency(DECISIONS[:1]), np.ones(4))


def test_vote_entropy():
    # row 0 shares (2/3, 1/3): H = log2 3 - 2/3 = 0.9183 bits; unanimous rows: 0 bits
    h = np.log2(3) - 2 / 3
    np.testing.assert_allclose(vote_entropy(DECISIONS, 2), [h, 0.0, h, 0.0], atol=1e-15)
    # four models split evenly over four classes: 2 bits
    np.testing.assert_allclose(vote_entropy(np.arange(4)[:, None], 4), [2.0])


def test_viable_prediction_range():
    # true-label scores: row 0 (label 1) 0.8, 0.6, 0.9 -> 0.3; row 1 (label 0) 0.7, 0.5, 0.7 -> 0.2
    np.testing.assert_allclose(viable_prediction_range(SCORES, LABELS), [0.3, 0.2])


def test_score_variance():
    # row 0: mean 0.7667, deviations (0.0333, -0.1667, 0.1333), variance 0.04667 / 3 = 0.015556
    # row 1: mean 0.6333, deviations (0.0667, -0.1333, 0.0667), variance 0.02667 / 3 = 0.008889
    np.testing.assert_allclose(score_variance(SCORES, LABELS), [0.14 / 9, 0.08 / 9])


def test_shape_checks():
    with pytest.raises(ValueError):
        ambiguity(DECISIONS, REFERENCE[:3])
    with pytest.raises(ValueError):
        viable_prediction_range(SCORES, LABELS[:1])
    with pytest.raises(ValueError):
        vote_entropy(DECISIONS, 1)  # class 1 is out of range


def test_rashomon_set():
    losses = np.array([0.5, 0.52, 0.6])
    np.testing.assert_array_equal(rashomon_set(losses, 0.5, 0.05), [True, True, False])
    np.testing.assert_array_equal(rashomon_set(losses, 0.5, 0.0), [True, False, False])
    with pytest.raises(ValueError):
        rashomon_set(losses, 0.5, -0.01)


def test_epsilon_curve():
    rng = np.random.default_rng(0)
    m, n, c = 4, 30, 3
    losses = np.array([0.35, 0.30, 0.50, 0.31])  # the base model is model 1 (loss 0.30)
    scores = rng.dirichlet(np.ones(c), size=(m, n))
    decisions = scores.argmax(-1)
    victim, labels = rng.integers(0, c, n), rng.integers(0, c, n)
    epsilons = [0.0, 0.06, 0.015, 0.1, 0.3]
    capacities = {}
    curve = epsilon_curve(
        losses,
        0.30,
        epsilons,
        decisions,
        scores,
        victim,
        decisions[1],
        labels,
        capacities=capacities,
    )
    json.dumps(curve)  # plain Python numbers
    # sets: {1}, {1, 3, 0}, {1, 3}, {1, 3, 0}, all four
    assert [row["set_size"] for row in curve] == [1, 3, 2, 3, 4]
    assert [row["epsilon"] for row in curve] == epsilons
    assert curve[1] == {**curve[3], "epsilon": 0.06}
    base = curve[0]
    assert base["ambiguity_vs_base"] == base["discrepancy_vs_base"] == 0.0
    assert base["rashomon_capacity_mean"] == 1.0 and base["pairwise_disagreement_mean"] == 0.0
    assert base["viable_prediction_range_mean"] == base["score_variance_mean"] == 0.0
    members = [1, 3, 0]
    expected = {
        "epsilon": 0.06,
        "set_size": 3,
        "ambiguity_vs_victim": ambiguity(decisions[members], victim),
        "discrepancy_vs_victim": discrepancy(decisions[members], victim),
        "ambiguity_vs_base": ambiguity(decisions[members], decisions[1]),
        "discrepancy_vs_base": discrepancy(decisions[members], decisions[1]),
        "rashomon_capacity_mean": float(rashomon_capacity(scores[members]).mean()),
        "viable_prediction_range_mean": float(
            viable_prediction_range(scores[members], labels).mean()
        ),
        "score_variance_mean": float(score_variance(scores[members], labels).mean()),
        "pairwise_disagreement_mean": float(pairwise_disagreement(decisions[members]).mean()),
    }
    # capacity is warm-started from the smaller set: equal within its certified tol (1e-9 bits)
    assert curve[1].pop("rashomon_capacity_mean") == pytest.approx(
        expected.pop("rashomon_capacity_mean"), rel=1e-9
    )
    assert curve[1] == expected
    np.testing.assert_allclose(capacities[0.06], rashomon_capacity(scores[members]), rtol=1e-9)
    assert capacities[0.0].tolist() == [1.0] * n


def test_epsilon_curve_needs_the_base_model():
    with pytest.raises(ValueError, match="base"):
        epsilon_curve([0.4, 0.5], 0.3, [0.0], DECISIONS[:2, :2], SCORES[:2], LABELS, LABELS, LABELS)
