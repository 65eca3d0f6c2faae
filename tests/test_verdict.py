"""The equivalence verdict: Wilson intervals checked by hand, and which members pass."""

import math

import numpy as np
import pandas as pd
import pytest

from msmult.metrics.verdict import Verdict, sentence, share, wilson_interval
from msmult.study.tables import verdict_columns


def test_wilson_interval_matches_the_hand_computed_formula():
    # 0 of 10: centre = (z^2/20) / (1 + z^2/10), half = z/(1 + z^2/10) * sqrt(z^2/400), so the
    # lower end is 0 and the upper end (z^2/10) / (1 + z^2/10) = 3.8415/13.8415 = 0.27753.
    z2 = 1.959963984540054**2
    assert wilson_interval(0, 10) == pytest.approx((0.0, (z2 / 10) / (1 + z2 / 10)), abs=1e-12)
    assert wilson_interval(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)
    # 8 of 10: the textbook values 0.4902 .. 0.9433 (centre 0.7167, half 0.2266).
    low, high = wilson_interval(8, 10)
    centre = (0.8 + z2 / 20) / (1 + z2 / 10)
    half = math.sqrt(z2) / (1 + z2 / 10) * math.sqrt(0.8 * 0.2 / 10 + z2 / 400)
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    # symmetric around one half, and 10 of 10 mirrors 0 of 10
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((1 - 0.27753, 1.0), abs=1e-4)


VICTIM = {
    "accuracy": 0.85,
    "fairness": {
        "demographic_parity_difference": 0.20,
        "equalized_odds_difference": 0.10,
        "equal_opportunity_difference": 0.08,
    },
}


def member_table():
    # row 0 passes; 1 accuracy off by 0.02; 2 a gap off by 0.03; 3 agreement 0.97;
    # 4 would pass but is not a member; 5 passes (differences just inside the tolerances)
    return pd.DataFrame(
        {
            "explorer": ["base", "dropout", "dropout", "retrain", "retrain", "retrain"],
            "in_set": [True, True, True, True, False, True],
            "accuracy": [0.85, 0.87, 0.85, 0.85, 0.85, 0.855],
            "fidelity": [0.99, 0.99, 0.99, 0.97, 0.99, 0.981],
            "demographic_parity_difference": [0.2, 0.2, 0.23, 0.2, 0.2, 0.215],
            "equalized_odds_difference": [0.1, 0.1, 0.1, 0.1, 0.1, 0.09],
            "equal_opportunity_difference": [0.08, 0.08, 0.08, 0.08, 0.08, 0.095],
        }
    )


def test_each_tolerance_fails_a_member_and_non_members_do_not_count():
    verdict = Verdict()
    expected = [True, False, False, False, True, True]
    assert verdict.passes(member_table(), VICTIM).tolist() == expected
    result = verdict.judge(member_table(), VICTIM)
    assert (result["passed"], result["members"]) == (2, 5)
    assert (result["low"], result["high"]) == pytest.approx(wilson_interval(2, 5))
    # per explorer, each with the shared base row: dropout {0, 1, 2}, retrain {0, 3, 5} (4 out)
    assert result["explorers"]["dropout"]["passed"] == 1
    assert result["explorers"]["dropout"]["members"] == 3
    retrain = result["explorers"]["retrain"]
    assert (retrain["passed"], retrain["members"]) == (2, 3)
    assert sentence(result).startswith("2 of 5 surrogates (0.40, 95% CI 0.12-0.77) would pass")


def test_looser_tolerances_let_more_pass_and_no_explorer_column_means_one_set():
    table = member_table().drop(columns="explorer")
    result = Verdict(accuracy=0.05, gap=0.05, agreement=0.9).judge(table, VICTIM)
    assert (result["passed"], result["members"]) == (5, 5)
    assert "explorers" not in result


@pytest.mark.parametrize("key", ["accuracy", "gap", "agreement"])
def test_tolerances_of_zero_and_one_are_allowed(key):
    assert [getattr(Verdict(**{key: bound}), key) for bound in (0.0, 1.0)] == [0.0, 1.0]


def test_study_tables_carry_the_verdict_of_the_set_and_of_each_explorer():
    stats = ("share", "low", "high", "members")
    runs = pd.DataFrame(
        columns=[
            *(f"verdict.{s}" for s in stats),
            *(f"verdict.explorers.retrain.{s}" for s in stats),
        ]
    )
    columns = verdict_columns(runs)
    assert columns[("passes as the victim", "share")] == "verdict.share"
    retrain_high = columns[("passes as the victim (retrain)", "95% CI high")]
    assert retrain_high == "verdict.explorers.retrain.high"
    assert verdict_columns(pd.DataFrame(columns=["seed"])) == {}  # reports from before the verdict


Z2 = 1.959963984540054**2


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
    verdict = Verdict(tolerances="fixed", accuracy=0.25, gap=0.25, agreement=0.5)
    assert verdict.passes(table, victim).tolist() == [True] * 5
    result = verdict.judge(table, victim)
    assert result["tolerances"] == {
        "mode": "fixed",
        "accuracy": 0.25,
        "gap": 0.25,
        "agreement": 0.5,
    }
    assert (result["passed"], result["members"], result["share"]) == (5, 5, 1.0)


def test_sentence_in_full():
    verdict = {"passed": 2, "members": 5, "share": 0.4, "low": 0.1176, "high": 0.7693}
    assert sentence(verdict, "models") == (
        "2 of 5 models (0.40, 95% CI 0.12-0.77) would pass as the victim on accuracy and fairness"
    )
