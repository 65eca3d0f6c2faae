"""The prediction API: output modes, budget accounting, refusals."""

import numpy as np
import pytest

from msmult.errors import MsmultError
from msmult.oracle import BudgetExceeded, PredictionAPI
from msmult.oracle.api import api_label


class FixedVictim:
    n_classes = 3

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        rows = np.array([[0.2, 0.5, 0.3], [0.61234, 0.08766, 0.3]])
        return rows[x[:, 0].astype(int)]


X = np.array([[0.0], [1.0], [0.0]])


def test_probabilities_mode_returns_the_victims_scores():
    api = PredictionAPI(FixedVictim(), budget=10)
    np.testing.assert_allclose(api.query(X)[1], [0.61234, 0.08766, 0.3])


def test_label_mode_returns_top1_and_one_hot_targets():
    api = PredictionAPI(FixedVictim(), budget=10, mode="label")
    answers = api.query(X)
    np.testing.assert_array_equal(answers, [1, 0, 1])
    np.testing.assert_array_equal(api.as_targets(answers)[1], [1.0, 0.0, 0.0])


def test_rounding_and_top_k_are_renormalised_as_targets():
    rounded = PredictionAPI(FixedVictim(), budget=10, decimals=2).query(X)
    np.testing.assert_allclose(rounded[1], [0.61, 0.09, 0.3])
    api = PredictionAPI(FixedVictim(), budget=10, mode="top_k", k=2)
    answers = api.query(X)
    np.testing.assert_allclose(answers[0], [0.0, 0.5, 0.3])  # 0.2 is not in the top 2
    np.testing.assert_allclose(api.as_targets(answers)[0], [0.0, 0.625, 0.375])


def test_every_row_counts_and_the_budget_is_enforced():
    api = PredictionAPI(FixedVictim(), budget=4)
    api.query(X)
    assert (api.queries_used, api.remaining) == (3, 1)
    with pytest.raises(BudgetExceeded, match="only 1 of the budget of 4"):
        api.query(X[:2])
    assert api.queries_used == 3  # a refused query is refused whole
    api.query(X[:1])
    assert api.remaining == 0


@pytest.mark.parametrize("budget", [0, -5, 2.5, "abc", True])
def test_bad_budgets_are_refused(budget):
    with pytest.raises(MsmultError, match="budget="):
        PredictionAPI(FixedVictim(), budget=budget)


def test_unknown_mode_is_refused():
    with pytest.raises(MsmultError, match="allowed: probabilities, label, top_k"):
        PredictionAPI(FixedVictim(), budget=1, mode="logits")


class Scale:
    """A test defence: multiplies every score by ``factor`` (the API renormalises)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __call__(self, proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return proba * self.factor


class Noise:
    def __call__(self, proba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return proba + rng.uniform(0, 0.1, size=proba.shape)


def test_defences_run_in_order_before_the_output_mode_and_rows_are_renormalised():
    api = PredictionAPI(
        FixedVictim(), budget=10, mode="label", defences=[lambda p, rng: p[:, ::-1].copy()]
    )
    np.testing.assert_array_equal(api.query(X), [1, 2, 1])  # argmax of the reversed rows
    scaled = PredictionAPI(FixedVictim(), budget=10, defences=[Scale(3.0)]).query(X)
    np.testing.assert_allclose(scaled[1], [0.61234, 0.08766, 0.3])
    rounded = PredictionAPI(FixedVictim(), budget=10, defences=[Scale(2.0)], decimals=1)
    np.testing.assert_allclose(rounded.query(X)[1], np.array([1.2, 0.2, 0.6]) / 2.0)


def test_defence_randomness_comes_from_the_seeded_generator():
    def answers(seed):
        return PredictionAPI(FixedVictim(), budget=10, defences=[Noise()], seed=seed).query(X)

    np.testing.assert_array_equal(answers(4), answers(4))
    assert not np.array_equal(answers(4), answers(5))


@pytest.mark.parametrize(
    ("defence", "problem"),
    [
        (lambda p, rng: p[:, :2], "shape"),
        (lambda p, rng: p * np.nan, "NaN"),
        (lambda p, rng: p - 0.5, "negative"),
        (lambda p, rng: p * 0, "a row of zeros"),
    ],
)
def test_bad_defence_output_is_refused_naming_the_defence(defence, problem):
    api = PredictionAPI(FixedVictim(), budget=10, defences=[defence])
    with pytest.raises(MsmultError, match=f"API defence <lambda> returned .*{problem}"):
        api.query(X)


def test_negative_decimals_and_bad_k_are_refused():
    with pytest.raises(MsmultError, match="api.decimals=-1"):
        PredictionAPI(FixedVictim(), budget=1, decimals=-1)
    with pytest.raises(MsmultError, match="api.k=4"):
        PredictionAPI(FixedVictim(), budget=1, mode="top_k", k=4)


def test_the_api_describes_its_setting():
    api = PredictionAPI(FixedVictim(), budget=1, mode="top_k", k=2, decimals=3)
    described = api.describe()
    assert described == {
        "mode": "top_k",
        "k": 2,
        "decimals": 3,
        "defences": [{"name": "Rounding", "decimals": 3}],
    }
    assert api_label("top_k", described) == "top_k [k=2; Rounding(decimals=3)]"
    assert api_label("probabilities", PredictionAPI(FixedVictim(), 1).describe()) == "probabilities"
