"""The API and its defences used as a library: constructor defaults equal the shipped configs,
each refusal's exact message, the boundary values each check still accepts, and the API setting's
label. (Written to kill the mutants `scripts/mutation.sh msmult/oracle/` found surviving.)"""

from functools import partial

import numpy as np
import pytest
from omegaconf import OmegaConf

from msmult.errors import MsmultError
from msmult.fileio import shipped_folder
from msmult.models.mlp import MLP
from msmult.oracle import PredictionAPI
from msmult.oracle.api import api_label
from msmult.oracle.defences.gaussian_noise import GaussianNoise
from msmult.oracle.defences.mad import MAD
from msmult.oracle.defences.reverse_sigmoid import ReverseSigmoid
from msmult.oracle.defences.rounding import Rounding

API_CONF = shipped_folder("conf") / "api"


class Uniform:
    n_classes = 3

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.full((len(x), 3), 1 / 3)


@pytest.mark.parametrize(
    ("choice", "defence", "keys"),
    [
        ("rounded", Rounding, ["decimals"]),
        ("gaussian_noise", GaussianNoise, ["scale"]),
        ("reverse_sigmoid", ReverseSigmoid, ["beta", "gamma"]),
    ],
)
def test_defence_defaults_equal_the_shipped_configs(choice, defence, keys):
    shipped = OmegaConf.load(API_CONF / f"{choice}.yaml").defences[0]
    built = defence()
    assert {key: getattr(built, key) for key in keys} == {key: shipped[key] for key in keys}


def test_api_defaults_equal_the_probabilities_config():
    shipped = OmegaConf.load(API_CONF / "probabilities.yaml")
    api = PredictionAPI(Uniform(), budget=1)
    assert (api.mode, api.k, api.decimals, api.defences, api.seed) == (
        shipped.mode,
        shipped.k,
        shipped.decimals,
        list(shipped.defences),
        0,
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Rounding(-1),
            "api.decimals=-1 is not allowed: it must be a whole number >= 0 "
            "(decimal places kept), e.g. api.decimals=2.",
        ),
        (
            lambda: GaussianNoise(-0.1),
            "api.defences.0.scale=-0.1 is not allowed: it must be a number "
            ">= 0 (standard deviation of the noise added to each probability), e.g. "
            "api.defences.0.scale=0.1.",
        ),
        (
            lambda: ReverseSigmoid(beta=0),
            "api.defences.0.beta=0 is not allowed: it must be a number "
            "> 0 (size of the reverse-sigmoid perturbation), e.g. api.defences.0.beta=1.0.",
        ),
        (
            lambda: ReverseSigmoid(gamma=0),
            "api.defences.0.gamma=0 is not allowed: it must be a number "
            "> 0 (slope of the reverse sigmoid), e.g. api.defences.0.gamma=0.1.",
        ),
        (
            lambda: PredictionAPI(Uniform(), budget=0),
            "budget=0 is not allowed: it must be a whole "
            "number >= 1 (rows the attacker may send to the API), e.g. budget=2000.",
        ),
        (
            lambda: PredictionAPI(Uniform(), 1, mode="top_k", k=4),
            "api.k=4 is not allowed: it must be "
            "a whole number >= 1 and <= 3 (the number of classes).",
        ),
        (
            lambda: PredictionAPI(Uniform(), 1, seed=-1),
            "seed=-1 is not allowed: it must be a whole number >= 0.",
        ),
        (
            lambda: PredictionAPI(Uniform(), 1, mode="x"),
            "api.mode='x' is not allowed: allowed: probabilities, label, top_k.",
        ),
        (
            lambda: PredictionAPI(Uniform(), 1, defences=[3]),
            "api.defences holds 3, which is not "
            "callable; a defence is an object with __call__(proba, rng) -> proba (see "
            "msmult.oracle.defences).",
        ),
    ],
)
def test_each_refusal_has_its_exact_message(build, message):
    with pytest.raises(MsmultError) as refused:
        build()
    assert str(refused.value) == message


def test_the_boundary_values_are_accepted():
    assert Rounding(0).decimals == 0
    assert GaussianNoise(0.0).scale == 0.0
    api = PredictionAPI(Uniform(), budget=1, mode="top_k", k=3, seed=0)
    assert (api.budget, api.k, api.seed) == (1, 3, 0)


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (lambda p: p[:, :2], "an array of shape (2, 2) for input of shape (2, 3)"),
        (lambda p: p * np.nan, "NaN or infinite values"),
        (lambda p: p - 0.5, "negative values"),
        (lambda p: p * 0, "a row of zeros"),
    ],
)
def test_a_bad_defence_output_has_its_exact_message(answer, problem):
    def broken(proba, rng):
        return answer(proba)

    api = PredictionAPI(Uniform(), budget=2, defences=[broken])
    with pytest.raises(MsmultError) as refused:
        api.query(np.zeros((2, 1)))
    assert str(refused.value) == (
        f"API defence broken returned {problem}; a defence must return (n, c) finite, "
        "non-negative scores with a positive sum in every row (the API renormalises them)."
    )


def test_reverse_sigmoid_stays_finite_on_certain_answers():
    served = ReverseSigmoid()(np.array([[0.0, 1.0], [1.0, 0.0]]), np.random.default_rng(0))
    np.testing.assert_allclose(
        served, [[0.38818423, 0.61181577], [0.61181577, 0.38818423]], atol=1e-8
    )


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


def proxy_mlp():
    return partial(MLP, hidden=[4])


def test_mad_defaults_equal_the_shipped_config_and_name_the_proxy():
    shipped = OmegaConf.load(API_CONF / "mad.yaml").defences[0]
    mad = MAD(proxy_mlp())
    assert (mad.epsilon, mad.argmax_preserving) == (shipped.epsilon, shipped.argmax_preserving)
    assert mad.proxy == "MLP"  # the partial's architecture, as report.json lists it
    assert MAD(MLP).proxy == "MLP" and MAD(0.0).proxy == "0.0"  # no name: its text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"epsilon": -0.1},
            "api.defences.0.epsilon=-0.1 is not allowed: it must be a number >= 0 "
            "(L1 budget of each answer's perturbation, 0 to 2), e.g. api.defences.0.epsilon=0.5.",
        ),
        (
            {"argmax_preserving": "yes"},
            "api.defences.0.argmax_preserving='yes' is not allowed: it "
            "must be true or false, e.g. api.defences.0.argmax_preserving=true.",
        ),
    ],
)
def test_mad_refusals_have_their_exact_message(options, message):
    with pytest.raises(MsmultError) as refused:
        MAD(proxy_mlp(), **options)
    assert str(refused.value) == message
    assert MAD(proxy_mlp(), epsilon=0.0).epsilon == 0.0  # the boundary is accepted
