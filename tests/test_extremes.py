"""Extremal fairness (extremes=true): the search moves each gap the asked way, inside the set."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd
import pytest
from test_awp import one_thread  # noqa: F401  (autouse: one torch thread, as msmult runs)

from msmult.data.splits import Splits
from msmult.errors import MsmultError
from msmult.metrics import fairness_gaps
from msmult.models.mlp import MLP
from msmult.models.torch_classifier import TorchClassifier
from msmult.rashomon import ExplorationTask, fidelity_loss
from msmult.rashomon.extremes import ExtremeSearch, extremal_report, per_explorer


def rows(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Group b is shifted up by 1 on feature 1 (a proxy) and more often positive: a model can
    lean on the proxy (a large demographic-parity gap) or on feature 0 (a small one)."""
    group = rng.random(n) < 0.5
    x = np.stack([rng.normal(size=n), group + 0.3 * rng.normal(size=n)], 1).astype(np.float32)
    score = x[:, 0] + 1.0 * group
    p1 = 1 / (1 + np.exp(-3 * (score - 0.5)))
    y = (rng.random(n) < p1).astype(int)
    return x, np.stack([1 - p1, p1], 1), y, np.where(group, "b", "a")


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(0)
    (fx, ft, _, _), (hx, ht, _, _) = rows(400, rng), rows(200, rng)
    px, _, py, pg = rows(1000, rng)
    tx, _, ty, tg = rows(1000, rng)
    new = partial(TorchClassifier, partial(MLP, hidden=[16]), 2, epochs=40, batch_size=100, lr=1e-2)
    surrogate = new(seed=0).fit(fx, ft)
    task = ExplorationTask(surrogate, lambda s: new(seed=s), fx, ft, hx, ht, {"test": tx}, 0.3)
    splits = Splits(
        "synthetic", fx, ft.argmax(1), px, tx, ty, tg, ("no", "yes"), "g", y_pool=py, group_pool=pg
    )
    base_loss = fidelity_loss(surrogate.predict_proba(hx), ht)
    base_gaps = fairness_gaps(ty, surrogate.predict(tx), tg)
    search = ExtremeSearch(enabled=True, steps=60, lr=1e-2, multipliers=[0.0, 1.0], pool_rows=1000)
    return task, splits, base_loss, base_gaps, search.search(task, splits, base_loss)


def test_the_search_moves_each_gap_the_asked_way(synthetic):
    _, _, _, base_gaps, found = synthetic
    for gap in base_gaps:
        runs = [f for f in found if f["gap"] == gap and f["found"]]
        lowest = min(f[gap] for f in runs if f["direction"] == "min")
        highest = max(f[gap] for f in runs if f["direction"] == "max")
        assert lowest < base_gaps[gap] < base_gaps[gap] + 0.05 < highest, gap
    # the known answer for parity: leaning on feature 0 instead of the proxy shrinks the gap
    dp = [
        f["demographic_parity_difference"]
        for f in found
        if f["gap"] == "demographic_parity_difference" and f["direction"] == "min"
    ]
    assert min(dp) < base_gaps["demographic_parity_difference"] - 0.05


def test_every_model_kept_is_a_member(synthetic):
    task, _, base_loss, _, found = synthetic
    kept = [f for f in found if f["found"]]
    assert kept and all(f["loss"] <= base_loss + task.epsilon for f in kept)


def test_no_member_is_found_without_tolerance(synthetic):
    task, splits, base_loss, _, _ = synthetic
    tight = replace(task, epsilon=0.0)
    search = ExtremeSearch(enabled=True, steps=5, lr=1e-1, multipliers=[0.0], pool_rows=1000)
    found = search.search(tight, splits, base_loss)
    # a big first step on the gap alone leaves the set at once (loss above the base's)
    assert not any(f["found"] for f in found)


def test_the_report_names_a_sampled_member_outside_the_attainable_range():
    found = [
        {
            "gap": g,
            "direction": "min",
            "multiplier": 0.0,
            "found": True,
            "loss": 0.1,
            "demographic_parity_difference": 0.05,
            "equalized_odds_difference": 0.04,
            "equal_opportunity_difference": 0.03,
        }
        for g in ("demographic_parity_difference",)
    ]
    table = pd.DataFrame(
        {
            "model": ["m0000", "m0001", "m0002"],
            "in_set": [True, True, False],
            "demographic_parity_difference": [0.10, 0.20, 0.90],
            "equalized_odds_difference": [0.06, 0.05, 0.9],
            "equal_opportunity_difference": [0.04, 0.035, 0.9],
        }
    )
    victim = {
        "demographic_parity_difference": 0.12,
        "equalized_odds_difference": 0.05,
        "equal_opportunity_difference": 0.04,
    }
    gaps = extremal_report(found, victim, {"dropout": table})["gaps"]
    dp = gaps["demographic_parity_difference"]
    # attainable: base 0.10 and the found 0.05; the member at 0.20 lies above, m0002 is no member
    assert dp["attainable"] == {"min": 0.05, "max": 0.10}
    assert dp["sampled"]["dropout"] == {"min": 0.10, "max": 0.20}
    assert [(o["model"], o["value"]) for o in dp["outside"]] == [("m0001", 0.20)]
    assert gaps["equal_opportunity_difference"]["outside"] == []  # 0.035 within 0.03 .. 0.04


@pytest.mark.parametrize("groups", [None, np.array([""] * 4), np.array(["a", "a", "", "a"])])
def test_extremes_refuse_a_pool_without_two_known_groups(groups):
    splits = Splits(
        "nogroups",
        np.zeros((4, 1)),
        np.zeros(4, int),
        np.zeros((4, 1)),
        np.zeros((4, 1)),
        np.zeros(4, int),
        np.array(["a", "b"] * 2),
        ("0", "1"),
        "g",
        y_pool=np.zeros(4, int),
        group_pool=groups,
    )
    with pytest.raises(MsmultError, match="extremes=True is not allowed: dataset nogroups"):
        ExtremeSearch(enabled=True).check(splits)
    ExtremeSearch(enabled=False).check(splits)  # off: nothing to check


def test_extremes_must_be_a_boolean():
    with pytest.raises(MsmultError, match="extremes='yes' is not allowed"):
        ExtremeSearch(enabled="yes")


def test_a_compare_table_gives_one_sampled_range_per_explorer():
    table = pd.DataFrame(
        {
            "model": ["m0000", "m0001", "m0002", "m0003"],
            "explorer": ["base", "dropout", "dropout", "retrain"],
            "in_set": [True, True, True, True],
            "demographic_parity_difference": [0.10, 0.05, 0.20, 0.12],
            "equalized_odds_difference": [0.05] * 4,
            "equal_opportunity_difference": [0.04] * 4,
        }
    )
    victim = dict.fromkeys(table.columns[3:], 0.1)
    dp = extremal_report([], victim, per_explorer(table, "compare"))["gaps"]
    ranges = dp["demographic_parity_difference"]["sampled"]
    # every explorer's set holds the base surrogate (0.10)
    assert ranges == {"dropout": {"min": 0.05, "max": 0.20}, "retrain": {"min": 0.10, "max": 0.12}}
