"""Tests written to kill the mutants of `scripts/mutation.sh msmult/oracle/` that survived the
oracle tests: each pins a value, a boundary or a message of the prediction API and its defences
that the mutant changes (hand-derived where the maths allows)."""

from functools import partial

import numpy as np
import pytest
import torch
from test_defences import FixedProxy, S, Table, Y
from torch import nn

from msmult.errors import MsmultError
from msmult.models.mlp import MLP
from msmult.oracle import PredictionAPI
from msmult.oracle.api import api_label
from msmult.oracle.defences import describe
from msmult.oracle.defences.gaussian_noise import GaussianNoise
from msmult.oracle.defences.mad import MAD, angular_deviation, best_vertex, line_search, vertex_sets
from msmult.oracle.defences.reverse_sigmoid import ReverseSigmoid
from msmult.oracle.defender import defender_side

RNG = np.random.default_rng(0)


# MAD: proxy softmax s = [0.2, 0.3, 0.5], answer y = [0.6, 0.3, 0.1], so s - y = [-0.4, 0, 0.4].
class FlatProxy(nn.Module):
    """A MAD 'proxy' with a uniform softmax over any number of classes."""

    def __init__(self, input_shape, n_classes) -> None:
        super().__init__()
        self.n_classes = n_classes

    def forward(self, x):
        return torch.zeros(len(x), self.n_classes)


# --- api.py -------------------------------------------------------------------------------------


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
    with pytest.raises(MsmultError) as refused:
        api.query(np.zeros((3, 1)))  # a check on the total sum would let a NaN row through
    assert str(refused.value) == (
        "API defence first_row_zeroed returned a row of zeros; a defence must return (n, c) "
        "finite, non-negative scores with a positive sum in every row (the API renormalises them)."
    )


def test_the_api_label_separates_a_defences_parameters_with_commas():
    api = PredictionAPI(Table([[0.5, 0.5]]), budget=1, defences=[ReverseSigmoid(1.0, 0.1)])
    assert api_label("reverse_sigmoid", api.describe()) == (
        "reverse_sigmoid [ReverseSigmoid(beta=1.0, gamma=0.1)]"
    )


# --- defender.py --------------------------------------------------------------------------------


def test_defender_side_hands_mad_the_test_rows():
    api = PredictionAPI(Table([[0.6, 0.3, 0.1]]), budget=1, defences=[MAD(FixedProxy, 0.4)])
    got = defender_side(api, Y, np.zeros((1, 1)), np.array([0]), seed=0)
    # served [0.6 * 7/9, 0.3 * 7/9, 0.3] (see test_defences): top-1 kept, L1 distance = epsilon
    assert got == pytest.approx(
        {"accuracy": 1.0, "top1_changed": 0.0, "mean_l1": 0.4, "rows": 1}, abs=1e-6
    )


def test_defender_side_draws_the_defences_randomness_from_default_rng_seed_2():
    victim_proba = np.tile([0.7, 0.2, 0.1], (20, 1))
    x, y_true = np.zeros((20, 1)), np.zeros(20, dtype=int)
    api = PredictionAPI(Table([[0.7, 0.2, 0.1]]), budget=1, defences=[GaussianNoise(0.3)])
    served = GaussianNoise(0.3)(victim_proba, np.random.default_rng([5, 2])).astype(np.float32)
    expected = np.abs(served - victim_proba).sum(axis=1).mean()
    for _ in range(2):  # the same numbers every time: the generator is seeded, not fresh
        got = defender_side(api, victim_proba, x, y_true, seed=5)
        assert got["mean_l1"] == pytest.approx(expected, rel=1e-6)


def test_defender_side_serves_top_k_answers_with_the_apis_k():
    api = PredictionAPI(Table([[0.5, 0.3, 0.2]]), budget=1, mode="top_k", k=2)
    got = defender_side(api, np.array([[0.5, 0.3, 0.2]]), np.zeros((1, 1)), np.array([1]), seed=0)
    # top 2 of [0.5, 0.3, 0.2] renormalised: [0.625, 0.375, 0]; L1 0.125 + 0.075 + 0.2
    assert got == pytest.approx({"accuracy": 0.0, "top1_changed": 0.0, "mean_l1": 0.4, "rows": 1})


# --- defences/__init__.py -----------------------------------------------------------------------


def test_describe_lists_only_a_defences_public_parameters():
    mad = MAD(FixedProxy, 0.4)
    mad(Y, np.random.default_rng(0), x=np.zeros((1, 1)))  # builds the private _model
    expected = {"name": "MAD", "epsilon": 0.4, "argmax_preserving": False, "proxy": "FixedProxy"}
    assert describe(mad) == expected
    api = PredictionAPI(Table([[0.6, 0.3, 0.1]]), budget=1, defences=[mad])
    assert api_label("mad", api.describe()) == (
        "mad [MAD(epsilon=0.4, argmax_preserving=False, proxy=FixedProxy)]"
    )


# --- defences/mad.py ----------------------------------------------------------------------------


def test_angular_deviation_normalises_each_difference_vector_on_its_own():
    # every vertex e_k of each of two rows at once, broadcast (n, 1, c) against (1, c, c):
    # row 0 (s, y above): cos(s - e_k, s - y) = 13/14, 0.3/sqrt(1.56), -0.7/sqrt(0.76)
    # row 1: proxy [0.5, 0.5, 0], truth e_0: cos(p - e_k, p - e_0) = 1, -1, 0
    proxy = np.array([[0.2, 0.3, 0.5], [0.5, 0.5, 0.0]])
    truth = np.array([[0.6, 0.3, 0.1], [1.0, 0.0, 0.0]])
    cos = np.array([[13 / 14, 0.3 / np.sqrt(1.56), -0.7 / np.sqrt(0.76)], [1.0, -1.0, 0.0]])
    got = angular_deviation(proxy[:, None], np.eye(3)[None], truth[:, None])
    np.testing.assert_allclose(got, 2 - 2 * cos, atol=1e-9)
    np.testing.assert_allclose(
        angular_deviation(proxy, np.eye(3)[[2, 1]], truth),
        [2 + 1.4 / np.sqrt(0.76), 4.0],
        atol=1e-9,
    )


def test_vertex_sets_lists_every_non_empty_class_set_once():
    expected = [[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 1, 1], [1, 1, 1]]
    sets = vertex_sets(3)
    assert sets.dtype == np.float64
    np.testing.assert_array_equal(sets, expected)
    assert vertex_sets(8).shape == (255, 8)


def test_argmax_preserving_upweights_the_top_class_so_a_full_step_keeps_the_label():
    # the best set is {0, 2} (test_defences); class 0 gets 1 + 1e-5 before normalising
    vertex = np.array([[1 + 1e-5, 0.0, 1.0]]) / (2 + 1e-5)
    np.testing.assert_allclose(best_vertex(S, Y, True), vertex, rtol=1e-12)
    # epsilon 2 reaches the vertex (L1 distance 0.8): the answer is the vertex, still class 0
    api = PredictionAPI(
        Table(Y.tolist()), budget=1, defences=[MAD(FixedProxy, 2.0, argmax_preserving=True)]
    )
    served = api.query(np.zeros((1, 1)))
    np.testing.assert_allclose(served, vertex, rtol=1e-12)
    assert served.argmax(axis=1).tolist() == [0]


def test_line_search_stops_at_the_vertex_when_it_is_closer_than_epsilon():
    # L1 distance from y to e_2 is 1.8 < 2: alpha is clipped to 1, no overshoot past the vertex
    np.testing.assert_allclose(
        line_search(Y, np.array([[0.0, 0, 1]]), 2.0), [[0.0, 0, 1]], atol=1e-12
    )


def test_mad_without_the_queried_rows_has_its_exact_message():
    api = PredictionAPI(Table(Y.tolist()), budget=1, defences=[MAD(FixedProxy, 0.4)])
    with pytest.raises(MsmultError) as refused:
        api.served_proba(Y)  # no x
    assert str(refused.value) == "The MAD defence needs the queried rows x (needs_inputs = True)."


def test_argmax_preserving_mad_allows_8_classes_and_refuses_9_with_its_exact_message():
    truth = np.random.default_rng(1).dirichlet(np.ones(8), size=4)
    mad = MAD(FlatProxy, 0.3, argmax_preserving=True)
    served = mad(truth, np.random.default_rng(0), x=np.zeros((4, 1)))
    assert (served.argmax(axis=1) == truth.argmax(axis=1)).all()
    np.testing.assert_allclose(np.abs(served - truth).sum(axis=1), 0.3, atol=1e-6)
    with pytest.raises(MsmultError) as refused:
        mad(np.full((1, 9), 1 / 9), np.random.default_rng(0), x=np.zeros((1, 1)))
    assert str(refused.value) == (
        "api.defences.0.argmax_preserving=true is not allowed with 9 classes: msmult's exhaustive "
        "vertex search stops at 8; use argmax_preserving=false."
    )


def test_mad_seeds_its_proxy_with_one_draw_below_2_31_from_the_generator():
    x = np.random.default_rng(2).normal(size=(3, 5))
    mad = MAD(partial(MLP, hidden=[4]), epsilon=0.5)
    mad(np.full((3, 3), 1 / 3), np.random.default_rng(7), x=x)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(np.random.default_rng(7).integers(2**31)))
        expected = MLP(input_shape=(5,), n_classes=3, hidden=[4])
    for name, value in expected.state_dict().items():
        torch.testing.assert_close(mad._model.state_dict()[name], value, rtol=0, atol=0)


# --- defences/reverse_sigmoid.py ----------------------------------------------------------------


def test_reverse_sigmoid_clips_scores_above_one():
    # gamma=1: sigmoid(logit(p)) = p, so p - 3 (p - 0.5) = 1.5 - 2p: 0.3, 0.9, 1.3 -> 1
    out = ReverseSigmoid(3.0, 1.0)(Y, RNG)
    np.testing.assert_allclose(out, [[0.3, 0.9, 1.0]], atol=1e-9)
    api = PredictionAPI(Table(Y.tolist()), budget=1, defences=[ReverseSigmoid(3.0, 1.0)])
    np.testing.assert_allclose(
        api.query(np.zeros((1, 1))), [[0.3 / 2.2, 0.9 / 2.2, 1 / 2.2]], atol=1e-9
    )
