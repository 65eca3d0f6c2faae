"""Probability of superiority with its DeLong / logit interval, against hand-computed cases."""

import math

import numpy as np
import pytest

from msmult.metrics.superiority import superiority


def test_pairs_closer_count_one_and_ties_count_half():
    # copies [1, 2, 3] against retrains [2, 4]: pairs (1,2)=1 (1,4)=1 (2,2)=.5 (2,4)=1 (3,2)=0
    # (3,4)=1, so A = 4.5 / 6 = 0.75
    result = superiority(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0]))
    assert result.estimate == 0.75
    assert (result.copies, result.retrains) == (3, 2)


def test_the_interval_is_delong_on_the_logit_scale():
    # placements: V10 = [1, .75, .5] (var .0625), V01 = [.5, 1] (var .125), so the variance is
    # .0625 / 3 + .125 / 2 = 1/12; logit(.75) = 1.0986, SE on the logit scale
    # sqrt(1/12) / (.75 * .25) = 1.5396; 1.96 * that = 3.0176 -> expit: 0.12798 .. 0.98395
    result = superiority(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0]))
    assert (result.low, result.high) == pytest.approx((0.1279787, 0.9839549), abs=1e-6)


def test_all_ties_give_one_half():
    result = superiority(np.array([0.2, 0.2]), np.array([0.2, 0.2, 0.2]))
    assert (result.estimate, result.low, result.high) == (0.5, 0.5, 0.5)


def test_complete_separation_ties_the_closest_pair_for_its_interval():
    # copies [3, 4] all farther than retrains [1, 2]: A = 0. The interval ties the closest
    # pair (3, 2): scores [[0, .5], [0, 0]], A' = .125, V10 = [.25, 0], V01 = [0, .25], variance
    # .03125 / 2 + .03125 / 2; upper end expit(logit(.125) + 1.96 * .17678 / (.125 * .875))
    result = superiority(np.array([3.0, 4.0]), np.array([1.0, 2.0]))
    se = math.sqrt(0.03125) / (0.125 * 0.875)
    high = 1 / (1 + math.exp(-(math.log(0.125 / 0.875) + 1.959963984540054 * se)))
    assert result.estimate == 0.0 and result.low == 0.0
    assert result.high == pytest.approx(high) == pytest.approx(0.7723925, abs=1e-6)
    mirrored = superiority(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert mirrored.estimate == 1.0 and mirrored.high == 1.0
    assert mirrored.low == pytest.approx(1 - high)


def test_one_copy_against_one_retrain_still_has_an_interval():
    result = superiority(np.array([0.1]), np.array([0.3]))
    assert (result.estimate, result.low, result.high) == (1.0, 0.5, 1.0)


def test_swapping_the_samples_mirrors_the_estimate_and_interval():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=12), rng.normal(0.3, size=7)
    forward, backward = superiority(x, y), superiority(y, x)
    assert forward.estimate == pytest.approx(1 - backward.estimate)
    assert (forward.low, forward.high) == pytest.approx((1 - backward.high, 1 - backward.low))
