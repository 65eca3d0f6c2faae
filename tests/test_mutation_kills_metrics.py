"""Tests written to kill surviving mutants of msmult/metrics/ (scripts/mutation.sh): the verdict,
the multiplicity and fairness metrics, the closed-form binary capacity, the epsilon curve and its
running sets. Each pins an exact message, a boundary or a value that a mutated operator or
constant would change."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from msmult.errors import MsmultError
from msmult.metrics import (
    ambiguity,
    decisions_of,
    epsilon_curve,
    fairness_gaps,
    fairness_gaps_many,
    group_rates,
    pairwise_disagreement,
    rashomon_capacity,
    rashomon_set,
    registry,
    score_variance,
    viable_prediction_range,
    vote_entropy,
)
from msmult.metrics.binary import binary_capacity
from msmult.metrics.nested import NestedSets
from msmult.metrics.registry import SetMetric
from msmult.metrics.verdict import Verdict, sentence, share, wilson_interval

Z2 = 1.959963984540054**2


# --- the verdict -------------------------------------------------------------------------------


def test_wilson_interval_of_no_members_is_zero_to_one_and_of_all_passing_ends_at_one():
    assert wilson_interval(0, 0) == (0.0, 1.0)  # not a division by zero
    # k == n: centre - half = n / (n + z^2) and centre + half = 1 exactly (n = 1 is no special case)
    assert wilson_interval(1, 1) == pytest.approx((1 / (1 + Z2), 1.0), abs=1e-12)
    low, high = wilson_interval(16, 16)  # rounding gives centre + half = 1 + 2**-52 here
    assert low == pytest.approx(16 / (16 + Z2), abs=1e-12)
    assert high == 1.0


def test_wilson_interval_stays_inside_zero_one_around_the_share():
    for n in range(1, 60):
        for k in range(n + 1):
            low, high = wilson_interval(k, n)
            assert 0.0 <= low and high <= 1.0, (k, n)  # clamped, also against rounding
            assert low - 1e-15 <= k / n <= high + 1e-15, (k, n)


def test_share_of_an_empty_set_is_zero_not_a_division_by_zero():
    empty = np.zeros(0, bool)
    expected = {"passed": 0, "members": 0, "share": 0.0, "low": 0.0, "high": 1.0}
    assert share(empty, empty) == expected
    assert share(np.array([False, False]), np.array([False, False])) == expected


@pytest.mark.parametrize(
    ("key", "example"), [("accuracy", 0.01), ("gap", 0.02), ("agreement", 0.98)]
)
def test_a_bad_tolerance_names_the_scale_and_a_valid_example(key, example):
    with pytest.raises(MsmultError) as raised:
        Verdict(**{key: 1.5})
    assert str(raised.value) == (
        f"verdict.{key}=1.5 is not allowed: it must be a number >= 0 and <= 1 (a tolerance on a "
        f"0-1 scale), e.g. verdict.{key}={example}."
    )


def test_differences_exactly_at_a_tolerance_pass_and_judge_reports_the_tolerances():
    # binary fractions: every difference below is exactly 0.25 and the fidelity exactly 0.5
    victim = {
        "accuracy": 0.5,
        "fairness": {
            "demographic_parity_difference": 0.25,
            "equalized_odds_difference": 0.25,
            "equal_opportunity_difference": 0.25,
        },
    }
    exact = {
        "accuracy": 0.5,
        "fidelity": 1.0,
        "demographic_parity_difference": 0.25,
        "equalized_odds_difference": 0.25,
        "equal_opportunity_difference": 0.25,
    }
    rows = [
        {**exact, "accuracy": 0.75},  # accuracy off by exactly the tolerance
        {**exact, "fidelity": 0.5},  # agreement exactly at its minimum
        {**exact, "demographic_parity_difference": 0.5},  # each gap off by exactly the tolerance
        {**exact, "equalized_odds_difference": 0.0},
        {**exact, "equal_opportunity_difference": 0.5},
    ]
    table = pd.DataFrame(rows).assign(in_set=True)
    verdict = Verdict(accuracy=0.25, gap=0.25, agreement=0.5)
    assert verdict.passes(table, victim).tolist() == [True] * 5
    result = verdict.judge(table, victim)
    assert result["tolerances"] == {"accuracy": 0.25, "gap": 0.25, "agreement": 0.5}
    assert (result["passed"], result["members"], result["share"]) == (5, 5, 1.0)


def test_sentence_in_full():
    verdict = {"passed": 2, "members": 5, "share": 0.4, "low": 0.1176, "high": 0.7693}
    assert sentence(verdict, "models") == (
        "2 of 5 models (0.40, 95% CI 0.12-0.77) would pass as the victim on accuracy and fairness"
    )


# --- multiplicity: messages and decisions --------------------------------------------------------

DECISIONS = np.array([[0, 1, 1, 0], [0, 1, 0, 0], [1, 1, 1, 0]])


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


# --- fairness ------------------------------------------------------------------------------------

# every row known. Group a (rows 0-3): selection 2/4, TPR 1/2, FPR 1/2; group b (rows 4-6) has no
# negatives: selection 2/3, TPR 2/3, FPR 0 by convention; group c (rows 7-8) has exactly one
# negative: selection 1/2, TPR 0, FPR 1/1. The second model flips every decision.
Y_TRUE = np.array([1, 1, 0, 0, 1, 1, 1, 1, 0])
Y_PRED = np.array([1, 0, 1, 0, 1, 1, 0, 0, 1])
GROUP = np.array(["a"] * 4 + ["b"] * 3 + ["c"] * 2)


def test_group_rates_by_hand_with_every_row_known():
    for _ in range(3):
        # freed non-zero memory of the rates' size: an uninitialised FPR of a group without
        # negatives (instead of its 0) would show it
        scratch = np.full((2, 3), 7.0)
        del scratch
        rates = group_rates(Y_TRUE, np.stack([Y_PRED, 1 - Y_PRED]), GROUP)
        assert rates.groups.tolist() == ["a", "b", "c"]
        assert rates.size.tolist() == [4, 3, 2] and rates.size.dtype.kind == "i"
        np.testing.assert_allclose(
            rates.selection_rate, [[1 / 2, 2 / 3, 1 / 2], [1 / 2, 1 / 3, 1 / 2]]
        )
        np.testing.assert_allclose(rates.true_positive_rate, [[1 / 2, 2 / 3, 0], [1 / 2, 1 / 3, 1]])
        np.testing.assert_array_equal(rates.false_positive_rate, [[1 / 2, 0, 1], [1 / 2, 0, 0]])


def test_fairness_gaps_many_defaults_to_positive_class_one_like_fairness_gaps():
    many = fairness_gaps_many(Y_TRUE, Y_PRED[None], GROUP)
    one = fairness_gaps(Y_TRUE, Y_PRED, GROUP)
    # demographic parity 2/3 - 1/2; TPR gap 2/3 - 0; FPR gap 1 - 0 is the worse of the two
    expected = {
        "demographic_parity_difference": 1 / 6,
        "equalized_odds_difference": 1.0,
        "equal_opportunity_difference": 2 / 3,
    }
    assert one == pytest.approx(expected, abs=1e-15)
    assert {k: float(v[0]) for k, v in many.items()} == pytest.approx(expected, abs=1e-15)


def test_group_rates_refuses_decisions_of_the_wrong_shape_and_rows_without_groups():
    for decisions in (np.zeros((2, 8), int), np.zeros(9, int)):
        message = f"decisions must be (models, 9), got {decisions.shape}"
        with pytest.raises(ValueError, match=re.escape(message)):
            group_rates(Y_TRUE, decisions, GROUP)
    with pytest.raises(ValueError, match="^no row has a known sensitive value$"):
        fairness_gaps(Y_TRUE, Y_PRED, np.array([""] * 9))


# --- closed-form binary capacity -----------------------------------------------------------------


def test_binary_capacity_computes_float32_inputs_in_float64():
    rng = np.random.default_rng(0)
    a, b = np.sort(rng.random((2, 50)), axis=0).astype(np.float32)
    expected = binary_capacity(a.astype(float), b.astype(float))
    np.testing.assert_allclose(binary_capacity(a, b), expected, rtol=1e-13, atol=1e-15)


def test_binary_capacity_of_adjacent_floats_is_below_the_chi_square_bound():
    # rows one ulp apart: C <= max over q in [a, b] of chi^2 / ln 2 <= d^2 / (a (1 - b) ln 2), far
    # below 1e-30 here; an unclipped optimum weight (rounding puts q* outside [a, b]) gives ~1e14
    rng = np.random.default_rng(1)
    a = rng.uniform(0.01, 0.99, 500)
    b = np.nextafter(a, 1.0)
    capacity = binary_capacity(a, b)
    bound = (b - a) ** 2 / (a * (1 - b) * np.log(2.0))
    assert (capacity >= 0).all()
    assert (capacity <= bound).all()


def test_binary_capacity_of_degenerate_channels_is_zero_without_warnings():
    # a == b (0/0 in the slope); a subnormal b over a == 0 (weight 0 on an infinite divergence);
    # adjacent floats near 1e-303, whose entropies round equal: slope 0, q* = 1/2 and the weight
    # (q* - a) / (b - a) overflows to inf before it is clipped to 1
    a = np.array([0.3, 0.0, 1.0, 0.0, 1.3867360337261217e-303])
    b = np.array([0.3, 0.0, 1.0, 5e-324, 1.3867360337261218e-303])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        capacity = binary_capacity(a, b)
    assert capacity.tolist() == [0.0] * 5


# --- epsilon curve and its running sets ----------------------------------------------------------


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
