"""API defences on hand-computed vectors, and the defender's side of a run."""

from functools import partial

import numpy as np
import pytest
import torch
from helpers import Table, shipped
from torch import nn

from msmult.errors import MsmultError
from msmult.models.mlp import MLP
from msmult.oracle import PredictionAPI
from msmult.oracle.api import api_label
from msmult.oracle.defences.gaussian_noise import GaussianNoise
from msmult.oracle.defences.mad import MAD, angular_deviation, best_vertex, line_search, vertex_sets
from msmult.oracle.defences.reverse_sigmoid import ReverseSigmoid
from msmult.oracle.defences.rounding import Rounding
from msmult.oracle.defender import defender_side, served_quality

RNG = np.random.default_rng(0)


def test_reverse_sigmoid_matches_hand_values():
    # gamma=1: sigmoid(logit(p)) = p, so p - beta * (p - 0.5); beta=0.5: 0.9 -> 0.7, 0.1 -> 0.3
    np.testing.assert_allclose(
        shipped(ReverseSigmoid, 0.5, 1.0)(np.array([[0.9, 0.1]]), RNG), [[0.7, 0.3]]
    )
    # gamma=2, p=0.75: sigmoid(2 ln 3) = 0.9 -> 0.75 - 0.4 = 0.35; 0.25 -> 0.25 + 0.4 = 0.65
    np.testing.assert_allclose(
        shipped(ReverseSigmoid, 1.0, 2.0)(np.array([[0.75, 0.25]]), RNG), [[0.35, 0.65]]
    )
    # beta=1, gamma=1: every score lands on 0.5; a certain 0/1 answer stays finite
    out = shipped(ReverseSigmoid, 1.0, 1.0)(np.array([[1.0, 0.0], [0.8, 0.2]]), RNG)
    np.testing.assert_allclose(out, [[0.5, 0.5], [0.5, 0.5]], atol=1e-8)


def test_reverse_sigmoid_clips_negative_scores_and_the_api_renormalises():
    # beta=3, gamma=2 on [0.75, 0.25]: 0.75 - 1.2 < 0 -> 0; 0.25 + 1.2 -> clipped to 1
    api = PredictionAPI(
        Table([[0.75, 0.25]]), budget=5, defences=[shipped(ReverseSigmoid, 3.0, 2.0)]
    )
    np.testing.assert_allclose(api.query(np.zeros((1, 1))), [[0.0, 1.0]])


def test_gaussian_noise_is_reproducible_per_seed_clipped_and_renormalised():
    proba = np.tile([0.7, 0.2, 0.1], (50, 1))
    noise = shipped(GaussianNoise, 0.2)
    first = noise(proba, np.random.default_rng(3))
    np.testing.assert_array_equal(first, noise(proba, np.random.default_rng(3)))
    assert not np.allclose(first, noise(proba, np.random.default_rng(4)))
    z = np.random.default_rng(3).normal(0.0, 0.2, size=proba.shape)
    expected = np.clip(proba + z, 0, None)
    np.testing.assert_allclose(first, expected / expected.sum(axis=1, keepdims=True))
    assert (first == 0).any() and (first >= 0).all()
    np.testing.assert_allclose(first.sum(axis=1), 1.0)


class Shift:
    """A stand-in generator whose normal draws are all ``value``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def normal(self, loc: float, scale: float, size: tuple[int, ...]) -> np.ndarray:
        return np.full(size, self.value)


def test_gaussian_noise_answers_uniform_when_every_score_falls_below_zero():
    out = shipped(GaussianNoise, 1.0)(np.array([[0.6, 0.4], [0.9, 0.1]]), Shift(-0.7))
    np.testing.assert_allclose(out, [[0.5, 0.5], [1.0, 0.0]])


def test_rounding_matches_hand_values():
    np.testing.assert_allclose(shipped(Rounding, 1)(np.array([[0.333, 0.667]]), RNG), [[0.3, 0.7]])


# MAD: proxy softmax s = [0.2, 0.3, 0.5], answer y = [0.6, 0.3, 0.1], so s - y = [-0.4, 0, 0.4].
S, Y = np.array([[0.2, 0.3, 0.5]]), np.array([[0.6, 0.3, 0.1]])


def test_mad_picks_the_vertex_with_the_largest_angular_deviation():
    # cos(s - e_k, s - y) = 0.928, 0.240, -0.803: vertex e_2 (objective 2 - 2 * -0.803)
    np.testing.assert_allclose(best_vertex(S, Y, False), [[0, 0, 1]])
    np.testing.assert_allclose(angular_deviation(S, np.eye(3)[2], Y), [2 + 2 * 0.80296], atol=1e-4)
    # L1 budget 0.4 on the way to e_2 (distance 1.8): alpha = 2/9
    np.testing.assert_allclose(
        line_search(Y, np.array([[0.0, 0, 1]]), 0.4), [[0.6 * 7 / 9, 0.3 * 7 / 9, 0.3]], atol=1e-6
    )


def test_mad_argmax_preserving_searches_only_sets_holding_the_top_class():
    # sets {0}, {0,1}, {0,2}, {0,1,2}: cos 0.928, 0.918, 0.5, 0.98 -> uniform over {0, 2}
    np.testing.assert_allclose(best_vertex(S, Y, True), [[0.5, 0, 0.5]], atol=1e-5)
    # distance 0.8 to [0.5, 0, 0.5], budget 0.4: half-way
    np.testing.assert_allclose(
        line_search(Y, np.array([[0.5, 0, 0.5]]), 0.4), [[0.55, 0.15, 0.3]], atol=1e-6
    )


class FixedProxy(nn.Module):
    """A 'proxy' whose softmax is ``S`` on every row."""

    def __init__(self, input_shape, n_classes) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.log(torch.tensor(S[0])), requires_grad=False)

    def forward(self, x):
        return self.logits.expand(len(x), -1)


def test_mad_through_the_api_keeps_the_l1_budget_and_the_top1_label_when_asked():
    victim = Table(np.random.default_rng(1).dirichlet(np.ones(4), size=40).tolist())
    x = np.arange(40.0)[:, None]
    for preserving in (False, True):
        mad = shipped(MAD, partial(MLP, hidden=[8]), epsilon=0.3, argmax_preserving=preserving)
        served = PredictionAPI(victim, budget=40, defences=[mad], seed=5).query(x)
        distance = np.abs(served - victim.rows).sum(axis=1)
        assert distance.max() <= 0.3 + 1e-9 and distance.mean() > 0.29
        kept = (served.argmax(axis=1) == victim.rows.argmax(axis=1)).all()
        assert kept if preserving else True
    api = PredictionAPI(
        Table([[0.6, 0.3, 0.1]]), budget=5, defences=[shipped(MAD, FixedProxy, 0.4)]
    )
    np.testing.assert_allclose(
        api.query(np.zeros((1, 1))), [[0.6 * 7 / 9, 0.3 * 7 / 9, 0.3]], atol=1e-6
    )


def test_mad_increases_the_angular_deviation_of_a_tiny_proxys_gradient():
    """Against autograd: G's rows are d NLL_k / d (last-layer weights) of a random MLP."""
    x = np.random.default_rng(2).normal(size=(3, 5))
    truth = np.random.default_rng(3).dirichlet(np.ones(3), size=3)
    mad = shipped(MAD, partial(MLP, hidden=[4]), epsilon=0.5)
    served = mad(truth, np.random.default_rng(0), x=x)
    model = mad._model
    head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    for row in range(3):
        nll = -torch.log_softmax(model(torch.tensor(x[row : row + 1]).float()), dim=1)[0]
        g = np.stack(
            [
                torch.autograd.grad(nll[k], head.weight, retain_graph=True)[0].flatten().numpy()
                for k in range(3)
            ]
        ).astype(np.float64)
        u, v = g.T @ served[row], g.T @ truth[row]
        deviation = np.sum((u / np.linalg.norm(u) - v / np.linalg.norm(v)) ** 2)
        assert deviation > 0.01  # the unperturbed answer has deviation 0
        proxy = mad.proxy_proba(x[row : row + 1], 3, np.random.default_rng(0))
        np.testing.assert_allclose(
            angular_deviation(proxy, served[row], truth[row]), deviation, rtol=1e-4
        )


def test_mad_is_deterministic_for_a_seed():
    victim = Table(np.random.default_rng(1).dirichlet(np.ones(3), size=10).tolist())
    x = np.arange(10.0)[:, None]
    answers = [
        PredictionAPI(
            victim, budget=10, seed=seed, defences=[shipped(MAD, partial(MLP, hidden=[8]))]
        ).query(x)
        for seed in (7, 7, 8)
    ]
    np.testing.assert_array_equal(answers[0], answers[1])
    assert not np.allclose(answers[0], answers[2])


def test_served_quality_on_a_hand_example():
    truth = np.array([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
    served = np.array([[0.6, 0.4], [0.6, 0.4], [0.3, 0.7]])
    got = served_quality(served, truth, y_true=np.array([0, 0, 0]))
    assert got == pytest.approx({"accuracy": 2 / 3, "top1_changed": 1 / 3, "mean_l1": 0.8 / 3})


def test_defender_side_serves_labels_outside_the_budget_without_touching_the_attackers_rng():
    victim = Table([[0.8, 0.2], [0.4, 0.6]])
    x = np.array([[0.0], [1.0]])
    api = PredictionAPI(victim, budget=2, mode="label")
    got = defender_side(api, victim.rows, x, np.array([0, 0]), seed=0)
    # one-hot answers [1, 0], [0, 1]: accuracy 1/2, no label changed, L1 (0.4 + 0.8) / 2
    assert got == pytest.approx({"accuracy": 0.5, "top1_changed": 0.0, "mean_l1": 0.6, "rows": 2})
    assert api.queries_used == 0
    noisy = [
        PredictionAPI(victim, budget=2, defences=[shipped(GaussianNoise, 0.3)], seed=1)
        for _ in range(2)
    ]
    defender_side(noisy[0], victim.rows, x, np.array([0, 0]), seed=1)
    np.testing.assert_array_equal(noisy[0].query(x), noisy[1].query(x))


def test_report_md_and_console_show_the_defenders_numbers():
    from msmult.report.markdown import defender_sentence
    from msmult.report.summary import defender_rows

    defender = {"accuracy": 0.8123, "top1_changed": 0.0456, "mean_l1": 0.5, "rows": 7}
    sentence = defender_sentence(defender)
    assert "7 test rows" in sentence and "0.8123" in sentence and "0.0456" in sentence
    assert [value for _, value, _ in defender_rows(defender)] == ["0.8123", "0.0456", "0.5000"]
    assert defender_rows(None) == []


# MAD: proxy softmax s = [0.2, 0.3, 0.5], answer y = [0.6, 0.3, 0.1], so s - y = [-0.4, 0, 0.4].
class FlatProxy(nn.Module):
    """A MAD 'proxy' with a uniform softmax over any number of classes."""

    def __init__(self, input_shape, n_classes) -> None:
        super().__init__()
        self.n_classes = n_classes

    def forward(self, x):
        return torch.zeros(len(x), self.n_classes)


def test_defender_side_hands_mad_the_test_rows():
    api = PredictionAPI(
        Table([[0.6, 0.3, 0.1]]), budget=1, defences=[shipped(MAD, FixedProxy, 0.4)]
    )
    got = defender_side(api, Y, np.zeros((1, 1)), np.array([0]), seed=0)
    # served [0.6 * 7/9, 0.3 * 7/9, 0.3] (see test_defences): top-1 kept, L1 distance = epsilon
    assert got == pytest.approx(
        {"accuracy": 1.0, "top1_changed": 0.0, "mean_l1": 0.4, "rows": 1}, abs=1e-6
    )


def test_defender_side_draws_the_defences_randomness_from_default_rng_seed_2():
    victim_proba = np.tile([0.7, 0.2, 0.1], (20, 1))
    x, y_true = np.zeros((20, 1)), np.zeros(20, dtype=int)
    api = PredictionAPI(Table([[0.7, 0.2, 0.1]]), budget=1, defences=[shipped(GaussianNoise, 0.3)])
    served = shipped(GaussianNoise, 0.3)(victim_proba, np.random.default_rng([5, 2])).astype(
        np.float32
    )
    expected = np.abs(served - victim_proba).sum(axis=1).mean()
    for _ in range(2):  # the same numbers every time: the generator is seeded, not fresh
        got = defender_side(api, victim_proba, x, y_true, seed=5)
        assert got["mean_l1"] == pytest.approx(expected, rel=1e-6)


def test_defender_side_serves_top_k_answers_with_the_apis_k():
    api = PredictionAPI(Table([[0.5, 0.3, 0.2]]), budget=1, mode="top_k", k=2)
    got = defender_side(api, np.array([[0.5, 0.3, 0.2]]), np.zeros((1, 1)), np.array([1]), seed=0)
    # top 2 of [0.5, 0.3, 0.2] renormalised: [0.625, 0.375, 0]; L1 0.125 + 0.075 + 0.2
    assert got == pytest.approx({"accuracy": 0.0, "top1_changed": 0.0, "mean_l1": 0.4, "rows": 1})


def test_describe_lists_only_a_defences_public_parameters():
    mad = shipped(MAD, FixedProxy, 0.4)
    mad(Y, np.random.default_rng(0), x=np.zeros((1, 1)))  # builds the private _model
    expected = {"name": "MAD", "epsilon": 0.4, "argmax_preserving": False, "proxy": "FixedProxy"}
    assert mad.describe() == expected
    api = PredictionAPI(Table([[0.6, 0.3, 0.1]]), budget=1, defences=[mad])
    assert api_label("mad", api.describe()) == (
        "mad [MAD(epsilon=0.4, argmax_preserving=False, proxy=FixedProxy)]"
    )


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
        Table(Y.tolist()),
        budget=1,
        defences=[shipped(MAD, FixedProxy, 2.0, argmax_preserving=True)],
    )
    served = api.query(np.zeros((1, 1)))
    np.testing.assert_allclose(served, vertex, rtol=1e-12)
    assert served.argmax(axis=1).tolist() == [0]


def test_line_search_stops_at_the_vertex_when_it_is_closer_than_epsilon():
    # L1 distance from y to e_2 is 1.8 < 2: alpha is clipped to 1, no overshoot past the vertex
    np.testing.assert_allclose(
        line_search(Y, np.array([[0.0, 0, 1]]), 2.0), [[0.0, 0, 1]], atol=1e-12
    )


def test_mad_without_the_queried_rows_is_refused():
    api = PredictionAPI(Table(Y.tolist()), budget=1, defences=[shipped(MAD, FixedProxy, 0.4)])
    with pytest.raises(MsmultError, match=r"MAD defence needs the queried rows x"):
        api.served_proba(Y)  # no x


def test_argmax_preserving_mad_allows_8_classes_and_refuses_9():
    truth = np.random.default_rng(1).dirichlet(np.ones(8), size=4)
    mad = shipped(MAD, FlatProxy, 0.3, argmax_preserving=True)
    served = mad(truth, np.random.default_rng(0), x=np.zeros((4, 1)))
    assert (served.argmax(axis=1) == truth.argmax(axis=1)).all()
    np.testing.assert_allclose(np.abs(served - truth).sum(axis=1), 0.3, atol=1e-6)
    message = r"api.defences.0.argmax_preserving=true is not allowed with 9 classes: .* at 8;"
    with pytest.raises(MsmultError, match=message):
        mad(np.full((1, 9), 1 / 9), np.random.default_rng(0), x=np.zeros((1, 1)))


def test_mad_seeds_its_proxy_with_one_draw_below_2_31_from_the_generator():
    x = np.random.default_rng(2).normal(size=(3, 5))
    mad = shipped(MAD, partial(MLP, hidden=[4]), epsilon=0.5)
    mad(np.full((3, 3), 1 / 3), np.random.default_rng(7), x=x)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(np.random.default_rng(7).integers(2**31)))
        expected = MLP(input_shape=(5,), n_classes=3, hidden=[4])
    for name, value in expected.state_dict().items():
        torch.testing.assert_close(mad._model.state_dict()[name], value, rtol=0, atol=0)


def test_reverse_sigmoid_clips_scores_above_one():
    # gamma=1: sigmoid(logit(p)) = p, so p - 3 (p - 0.5) = 1.5 - 2p: 0.3, 0.9, 1.3 -> 1
    out = shipped(ReverseSigmoid, 3.0, 1.0)(Y, RNG)
    np.testing.assert_allclose(out, [[0.3, 0.9, 1.0]], atol=1e-9)
    api = PredictionAPI(Table(Y.tolist()), budget=1, defences=[shipped(ReverseSigmoid, 3.0, 1.0)])
    np.testing.assert_allclose(
        api.query(np.zeros((1, 1))), [[0.3 / 2.2, 0.9 / 2.2, 1 / 2.2]], atol=1e-9
    )


def test_reverse_sigmoid_stays_finite_on_certain_answers():
    served = shipped(ReverseSigmoid)(np.array([[0.0, 1.0], [1.0, 0.0]]), np.random.default_rng(0))
    np.testing.assert_allclose(
        served, [[0.38818423, 0.61181577], [0.61181577, 0.38818423]], atol=1e-8
    )


def proxy_mlp():
    return partial(MLP, hidden=[4])
