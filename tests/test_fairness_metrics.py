"""Fairness gaps: a hand-computed example, and the vectorised path against fairlearn."""

from __future__ import annotations

import re

import numpy as np
import pytest

from msmult.metrics import (
    fairness_gaps,
    fairness_gaps_many,
    group_rates,
)

# Group a (rows 0-3): selection 2/4; positives rows 0, 1 -> TPR 1/2; negatives rows 2, 3 -> FPR 1/2.
# Group b (rows 4-7): selection 3/4; positive row 4 -> TPR 1; negatives rows 5-7 -> FPR 2/3.
# The last two rows have an unknown group and must not count (as a group "" they would add
# selection 1/2, TPR 0, FPR 1).
Y_TRUE = np.array([1, 1, 0, 0, 1, 0, 0, 0, 1, 0])
Y_PRED = np.array([1, 0, 1, 0, 1, 1, 1, 0, 0, 1])
GROUP = np.array(["a"] * 4 + ["b"] * 4 + [""] * 2)
EXPECTED = {
    "demographic_parity_difference": 0.75 - 0.5,
    "equalized_odds_difference": max(1 - 0.5, 2 / 3 - 0.5),
    "equal_opportunity_difference": 1 - 0.5,
}


def test_fairness_gaps_by_hand():
    gaps = fairness_gaps(Y_TRUE, Y_PRED, GROUP)
    assert gaps == pytest.approx(EXPECTED, abs=1e-15)
    assert all(type(v) is float for v in gaps.values())


def test_multiclass_is_one_vs_rest():
    # class 2 is positive, classes 0 and 1 negative: the same binary problem as above
    y_true = np.where(Y_TRUE == 1, 2, np.arange(10) % 2)
    y_pred = np.where(Y_PRED == 1, 2, (np.arange(10) + 1) % 2)
    assert fairness_gaps(y_true, y_pred, GROUP, pos_label=2) == pytest.approx(EXPECTED, abs=1e-15)
    many = fairness_gaps_many(y_true, y_pred[None], GROUP, pos_label=2)
    assert {k: float(v[0]) for k, v in many.items()} == pytest.approx(EXPECTED, abs=1e-15)


def test_group_rates_by_hand():
    rates = group_rates(Y_TRUE, np.stack([Y_PRED, 1 - Y_PRED]), GROUP)
    assert list(rates.groups) == ["a", "b"]
    np.testing.assert_array_equal(rates.size, [4, 4])
    np.testing.assert_allclose(rates.selection_rate, [[1 / 2, 3 / 4], [1 / 2, 1 / 4]])
    np.testing.assert_allclose(rates.true_positive_rate, [[1 / 2, 1], [1 / 2, 0]])
    np.testing.assert_allclose(rates.false_positive_rate, [[1 / 2, 2 / 3], [1 / 2, 1 / 3]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_many_equals_fairlearn_per_model(seed):
    rng = np.random.default_rng(seed)
    m, n = 12, 400
    y_true = rng.integers(0, 3, n)
    decisions = rng.integers(0, 3, (m, n))
    decisions[0] = 1  # a constant model
    group = rng.choice(["f", "m", "x", ""], n, p=[0.4, 0.4, 0.1, 0.1])
    y_true[group == "x"] = 0  # a group without positives: its TPR is 0, as in fairlearn
    many = fairness_gaps_many(y_true, decisions, group, pos_label=1)
    for i in range(m):
        one = fairness_gaps(y_true, decisions[i], group, pos_label=1)
        for key, value in one.items():
            assert abs(many[key][i] - value) <= 1e-12, (key, i)


def test_no_known_group_is_an_error():
    with pytest.raises(ValueError):
        fairness_gaps_many(Y_TRUE, Y_PRED[None], np.array([""] * 10))


# every row known. Group a (rows 0-3): selection 2/4, TPR 1/2, FPR 1/2; group b (rows 4-6) has no
# negatives: selection 2/3, TPR 2/3, FPR 0 by convention; group c (rows 7-8) has exactly one
# negative: selection 1/2, TPR 0, FPR 1/1. The second model flips every decision.
Y_ALL_KNOWN = np.array([1, 1, 0, 0, 1, 1, 1, 1, 0])


PRED_ALL_KNOWN = np.array([1, 0, 1, 0, 1, 1, 0, 0, 1])


GROUP_ALL_KNOWN = np.array(["a"] * 4 + ["b"] * 3 + ["c"] * 2)


def test_group_rates_by_hand_with_every_row_known():
    for _ in range(3):
        # freed non-zero memory of the rates' size: an uninitialised FPR of a group without
        # negatives (instead of its 0) would show it
        scratch = np.full((2, 3), 7.0)
        del scratch
        rates = group_rates(
            Y_ALL_KNOWN, np.stack([PRED_ALL_KNOWN, 1 - PRED_ALL_KNOWN]), GROUP_ALL_KNOWN
        )
        assert rates.groups.tolist() == ["a", "b", "c"]
        assert rates.size.tolist() == [4, 3, 2] and rates.size.dtype.kind == "i"
        np.testing.assert_allclose(
            rates.selection_rate, [[1 / 2, 2 / 3, 1 / 2], [1 / 2, 1 / 3, 1 / 2]]
        )
        np.testing.assert_allclose(rates.true_positive_rate, [[1 / 2, 2 / 3, 0], [1 / 2, 1 / 3, 1]])
        np.testing.assert_array_equal(rates.false_positive_rate, [[1 / 2, 0, 1], [1 / 2, 0, 0]])


def test_fairness_gaps_many_defaults_to_positive_class_one_like_fairness_gaps():
    many = fairness_gaps_many(Y_ALL_KNOWN, PRED_ALL_KNOWN[None], GROUP_ALL_KNOWN)
    one = fairness_gaps(Y_ALL_KNOWN, PRED_ALL_KNOWN, GROUP_ALL_KNOWN)
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
            group_rates(Y_ALL_KNOWN, decisions, GROUP_ALL_KNOWN)
    with pytest.raises(ValueError, match="^no row has a known sensitive value$"):
        fairness_gaps(Y_ALL_KNOWN, PRED_ALL_KNOWN, np.array([""] * 9))
