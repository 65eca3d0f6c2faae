"""Multiplicity metrics on small hand-built arrays, and the epsilon curve."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from msmult.metrics import (
    ambiguity,
    decisions_of,
    discrepancy,
    epsilon_curve,
    pairwise_disagreement,
    rashomon_capacity,
    rashomon_set,
    registry,
    score_variance,
    self_consistency,
    viable_prediction_range,
    vote_entropy,
)
from msmult.metrics.nested import NestedSets
from msmult.metrics.registry import SetMetric

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


def test_decisions_of_equals_argmax_with_ties_going_to_the_first_class():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 3, size=(4, 50, 4)).astype(np.float32)  # many exact ties
    np.testing.assert_array_equal(decisions_of(scores), scores.argmax(axis=2))
    assert decisions_of(np.array([[[0.5, 0.5]]])).tolist() == [[0]]


def test_shape_and_class_errors_say_what_was_expected_and_what_came():
    with pytest.raises(ValueError, match=re.escape("reference must be (rows,) = (4,), got (3,)")):
        ambiguity(DECISIONS, np.array([0, 1, 1]))
    scores, labels = np.full((3, 2, 2), 0.5), np.array([1])
    message = "scores must be (models, rows, classes) and labels (rows,), got (3, 2, 2), (1,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        viable_prediction_range(scores, labels)
    with pytest.raises(ValueError, match=re.escape("decisions must be class ids in [0, 1)")):
        vote_entropy(DECISIONS, 1)


@pytest.mark.parametrize("shape", [(0, 4), (4,)])
def test_decisions_without_models_or_not_two_dimensional_are_refused_by_shape(shape):
    message = f"decisions must be (models, rows) with models >= 1, got {shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        ambiguity(np.zeros(shape, int), np.zeros(4, int))
    with pytest.raises(ValueError, match=re.escape(message)):
        pairwise_disagreement(np.zeros(shape, int))


@pytest.mark.parametrize("classes", [2, 3])
def test_decisions_of_equals_argmax_for_two_and_three_classes_as_uint8(classes):
    rng = np.random.default_rng(classes)
    scores = rng.integers(0, 3, size=(3, 40, classes)).astype(float)  # many exact ties
    decisions = decisions_of(scores)
    np.testing.assert_array_equal(decisions, scores.argmax(axis=2))
    assert decisions.dtype == np.uint8


@pytest.mark.parametrize(("classes", "dtype"), [(256, np.uint8), (257, np.uint16)])
def test_decisions_of_uses_uint8_up_to_256_classes_and_keeps_the_last_class_id(classes, dtype):
    scores = np.zeros((2, 1, classes))
    scores[0, 0, -1] = scores[1, 0, classes // 2] = 1.0
    decisions = decisions_of(scores)
    assert decisions.dtype == dtype
    assert decisions.tolist() == [[classes - 1], [classes // 2]]


def test_rashomon_set_compares_float32_losses_in_float64_and_names_a_negative_epsilon():
    # the float32 just above 0.5 is 0.50000006 > 0.5 + 4e-8 (in float32 the bound would round up
    # to it and let the model in)
    losses = np.array([0.5, np.nextafter(np.float32(0.5), np.float32(1))], dtype=np.float32)
    assert rashomon_set(losses, 0.5, 4e-8).tolist() == [True, False]
    with pytest.raises(ValueError, match=re.escape("epsilon must be >= 0, got -0.01")):
        rashomon_set(losses, 0.5, -0.01)


def curve_inputs(m=5, n=12, c=3, seed=0):
    rng = np.random.default_rng(seed)
    scores = rng.dirichlet(np.ones(c) * 0.5, size=(m, n))
    decisions = scores.argmax(-1)
    return scores, decisions, rng.integers(0, c, n), rng.integers(0, c, n)


def test_epsilon_curve_names_models_that_do_not_match_and_a_missing_base_model():
    scores, decisions, victim, labels = curve_inputs()
    message = "losses, decisions and scores must hold the same models"
    with pytest.raises(ValueError, match=f"^{message}$"):
        epsilon_curve(np.zeros(4), 0.0, [0.0], decisions, scores, victim, victim, labels)
    message = "^no candidate has loss <= base_loss: include the base model$"
    with pytest.raises(ValueError, match=message):
        epsilon_curve(np.ones(5), 0.5, [0.0], decisions, scores, victim, victim, labels)


def test_epsilon_curve_compares_float32_losses_in_float64_as_the_rashomon_set_does():
    # float32(0.3) is 0.30000001 > 0.3: no set holds a model, so the base-model check must refuse
    # it (compared in float32 it would pass and the empty set fail later, obscurely)
    scores, decisions, victim, labels = curve_inputs(m=2)
    losses = np.array([0.3, 0.5], dtype=np.float32)
    with pytest.raises(ValueError, match="include the base model"):
        epsilon_curve(losses, 0.3, [0.0], decisions, scores, victim, victim, labels)


def test_epsilon_curve_passes_its_tolerance_to_the_capacity_solver():
    scores, decisions, victim, labels = curve_inputs()
    with pytest.raises(ValueError, match="tol must be positive, got 0.0"):
        epsilon_curve(np.zeros(5), 0.0, [0.0], decisions, scores, victim, victim, labels, tol=0.0)


def test_epsilon_curve_orders_tied_losses_stably():
    # members are the candidates sorted by (loss, index); score variance sums over models in
    # that order, so another order of tied models changes its last bits
    m, n = 40, 64
    scores, decisions, victim, labels = curve_inputs(m=m, n=n, c=2, seed=3)
    losses = np.random.default_rng(4).integers(0, 3, m) * 0.125
    curve = epsilon_curve(losses, 0.0, [0.125, 0.25], decisions, scores, victim, victim, labels)
    for row in curve:
        members = sorted(np.flatnonzero(losses <= row["epsilon"]), key=lambda i: (losses[i], i))
        assert row["set_size"] == len(members)
        assert row["score_variance_mean"] == float(score_variance(scores[members], labels).mean())


def test_a_metric_without_a_running_form_gets_its_members_view(monkeypatch):
    views = []

    def record(view):
        views.append(view)
        return float(len(view.decisions))

    extra = SetMetric("set_size_again", "set size", "models", record)
    # first, so no other metric's view exists yet when it is measured
    monkeypatch.setattr(registry, "SET_METRICS", (extra, *registry.SET_METRICS))
    scores, decisions, victim, labels = curve_inputs()
    base = decisions[1]
    losses = np.array([0.35, 0.30, 0.50, 0.31, 0.40])
    capacities = {}
    curve = epsilon_curve(
        losses,
        0.30,
        [0.0, 0.06],
        decisions,
        scores,
        victim,
        base,
        labels,
        tol=1e-7,
        capacities=capacities,
    )
    assert [row["set_size_again"] for row in curve] == [1.0, 3.0]
    for view, members, eps in zip(views, ([1], [1, 3, 0]), (0.0, 0.06), strict=True):
        np.testing.assert_array_equal(view.scores, scores[members])
        np.testing.assert_array_equal(view.decisions, decisions[members])
        assert view.victim is victim and view.base is base and view.labels is labels
        assert view.tol == 1e-7
        np.testing.assert_array_equal(view.known_capacity, capacities[eps])


def test_nested_sets_default_tolerance_is_tight():
    scores, decisions, victim, labels = curve_inputs(m=6, n=40)
    nested = NestedSets(scores, decisions, np.arange(6), victim, victim, labels)
    nested.grow(6)
    np.testing.assert_allclose(nested.capacity.at(6), rashomon_capacity(scores), rtol=1e-8)


def test_nested_sets_count_votes_for_class_ids_beyond_the_score_columns():
    # decisions are not required to be the scores' argmax: two models both voting class 3 of
    # two-class scores agree (pairwise disagreement 0, as computed from scratch)
    scores = np.full((2, 2, 2), 0.5)
    decisions = np.array([[3, 0], [3, 1]])
    nested = NestedSets(scores, decisions, np.arange(2), decisions[0], decisions[0], [0, 1])
    nested.grow(2)
    np.testing.assert_array_equal(nested.pairwise_disagreement(), [0.0, 1.0])
    np.testing.assert_array_equal(pairwise_disagreement(decisions), [0.0, 1.0])


def test_epsilon_curve_never_returns_an_empty_curve_for_a_one_shot_iterator():
    # the sizes consume the iterator: zip(strict=True) refuses the mismatch rather than silently
    # returning no rows (a curve with one row per epsilon would be fine too)
    scores, decisions, victim, labels = curve_inputs()
    epsilons = [0.0, 0.5]
    try:
        curve = epsilon_curve(
            np.zeros(5), 0.0, iter(epsilons), decisions, scores, victim, victim, labels
        )
    except ValueError:
        return
    assert [row["epsilon"] for row in curve] == epsilons
