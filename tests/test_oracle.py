"""The prediction API: output modes, budget accounting, defences' contract, its label."""

import numpy as np
import pytest
from helpers import Table, shipped
from omegaconf import OmegaConf

from msmult.errors import MsmultError
from msmult.fileio import shipped_folder
from msmult.oracle import BudgetExceeded, PredictionAPI
from msmult.oracle.api import api_label
from msmult.oracle.defences.gaussian_noise import GaussianNoise
from msmult.oracle.defences.reverse_sigmoid import ReverseSigmoid
from msmult.oracle.defences.rounding import Rounding

API_CONF = shipped_folder("conf") / "api"


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
        (lambda p, rng: p[:, :2], r"an array of shape \(3, 2\) for input of shape \(3, 3\)"),
        (lambda p, rng: p * np.nan, "NaN or infinite values"),
        (lambda p, rng: p - 0.5, "negative values"),
        (lambda p, rng: p * 0, "a row of zeros"),
    ],
)
def test_bad_defence_output_is_refused_naming_the_defence_and_the_problem(defence, problem):
    api = PredictionAPI(FixedVictim(), budget=10, defences=[defence])
    with pytest.raises(MsmultError, match=f"^API defence <lambda> returned {problem}; a defence "):
        api.query(X)


def test_a_defence_that_is_not_callable_is_refused_with_the_contract():
    with pytest.raises(
        MsmultError, match=r"api.defences holds 3, which is not callable; .*__call__"
    ):
        PredictionAPI(FixedVictim(), 1, defences=[3])


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


def test_served_answers_are_float64_even_when_a_defence_answers_float32():
    api = PredictionAPI(
        Table([[0.2, 0.5, 0.3]]), budget=1, defences=[lambda p, rng: p.astype(np.float32)]
    )
    served = api.query(np.zeros((1, 1)))
    assert served.dtype == np.float64  # dtype=np.float64 in served_proba, not the defence's
    np.testing.assert_allclose(served.sum(axis=1), 1.0, rtol=0, atol=1e-15)


def test_a_single_row_of_zeros_among_positive_rows_is_refused():
    def first_row_zeroed(proba, rng):
        return proba * (np.arange(len(proba)) > 0)[:, None]

    api = PredictionAPI(Table([[0.2, 0.5, 0.3]]), budget=3, defences=[first_row_zeroed])
    # a check on the total sum would let the zero row (NaN once renormalised) through
    with pytest.raises(MsmultError, match="API defence first_row_zeroed returned a row of zeros"):
        api.query(np.zeros((3, 1)))


def test_the_api_label_separates_a_defences_parameters_with_commas():
    api = PredictionAPI(Table([[0.5, 0.5]]), budget=1, defences=[shipped(ReverseSigmoid, 1.0, 0.1)])
    assert api_label("reverse_sigmoid", api.describe()) == (
        "reverse_sigmoid [ReverseSigmoid(beta=1.0, gamma=0.1)]"
    )


def test_api_defaults_equal_the_probabilities_config():
    shipped = OmegaConf.load(API_CONF / "probabilities.yaml")
    api = PredictionAPI(FixedVictim(), budget=1)
    assert (api.mode, api.k, api.decimals, api.defences, api.seed) == (
        shipped.mode,
        shipped.k,
        shipped.decimals,
        list(shipped.defences),
        0,
    )


def test_the_boundary_values_are_accepted():
    assert shipped(Rounding, 0).decimals == 0
    assert shipped(GaussianNoise, 0.0).scale == 0.0
    api = PredictionAPI(FixedVictim(), budget=1, mode="top_k", k=3, seed=0)
    assert (api.budget, api.k, api.seed) == (1, 3, 0)


@pytest.mark.parametrize(
    ("choice", "setting", "label"),
    [
        ("label", {"mode": "label", "k": 1, "defences": []}, "label"),
        ("custom", {"mode": "label", "k": 1, "defences": []}, "custom [label]"),
        ("top_k", {"mode": "top_k", "k": 2, "defences": []}, "top_k [k=2]"),
        ("custom", {"mode": "top_k", "k": 1, "defences": []}, "custom [top_k; k=1]"),
        (
            "noisy",
            {
                "mode": "probabilities",
                "k": 1,
                "defences": [
                    {"name": "GaussianNoise", "scale": 0.1},
                    {"name": "Rounding", "decimals": 2},
                ],
            },
            "noisy [GaussianNoise(scale=0.1); Rounding(decimals=2)]",
        ),
    ],
)
def test_the_api_label_names_every_part_of_the_setting(choice, setting, label):
    assert api_label(choice, setting) == label
