"""Extremal fairness (extremes=search): the search moves each gap the asked way, inside the set."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd
import pytest
from helpers import assert_not_allowed, shipped

from msmult.data.splits import Splits
from msmult.errors import MsmultError
from msmult.metrics import fairness_gaps
from msmult.models.mlp import MLP
from msmult.models.torch_classifier import TorchClassifier
from msmult.rashomon import ExplorationTask, fidelity_loss
from msmult.rashomon.extremes import (
    OUTSIDE_REASON,
    ExtremeSearch,
    extremal_report,
    per_explorer,
)


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
    search = shipped(ExtremeSearch, steps=60, lr=1e-2, multipliers=[0.0, 1.0], pool_rows=1000)
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
    search = shipped(ExtremeSearch, steps=5, lr=1e-1, multipliers=[0.0], pool_rows=1000)
    found = search.search(tight, splits, base_loss)
    # a big first step on the gap alone leaves the set at once (loss above the base's)
    assert not any(f["found"] for f in found)


def test_the_smallest_allowed_values_are_kept():
    built = shipped(ExtremeSearch, steps=1, lr=0.5, multipliers=(0, 2), pool_rows=1, seed=0)
    assert (
        built.steps,
        built.lr,
        built.multipliers,
        built.pool_rows,
        built.seed,
    ) == (1, 0.5, [0.0, 2.0], 1, 0)
    assert shipped(ExtremeSearch, seed=7).seed == 7


DP, EODDS, EOPP = (
    "demographic_parity_difference",
    "equalized_odds_difference",
    "equal_opportunity_difference",
)


POOL_LABELS = np.zeros(4, int)


def pool_splits(groups, y_pool=POOL_LABELS) -> Splits:
    return Splits(
        "nogroups",
        np.zeros((4, 1)),
        np.zeros(4, int),
        np.zeros((4, 1)),
        np.zeros((4, 1)),
        np.zeros(4, int),
        np.array(["a", "b"] * 2),
        ("0", "1"),
        "g",
        y_pool=y_pool,
        group_pool=groups,
    )


def test_a_pool_with_labels_and_exactly_two_known_groups_passes():
    assert shipped(ExtremeSearch).check(pool_splits(np.array(["a", "b", "", "a"]))) is None


@pytest.mark.parametrize(
    ("groups", "y_pool", "found"),
    [
        (None, np.zeros(4, int), 0),
        (np.array(["a", "a", "", "a"]), np.zeros(4, int), 1),
        (np.array(["a", "b", "a", "b"]), None, 2),
    ],
)
def test_a_pool_without_labels_or_two_known_groups_is_refused(groups, y_pool, found):
    splits = pool_splits(groups, y_pool)
    with pytest.raises(MsmultError) as refused:
        shipped(ExtremeSearch).check(splits)
    message = str(refused.value)
    assert assert_not_allowed(message, "extremes", "'search'") == "null"
    assert (
        f"labels or fewer than two known sensitive groups for its attacker pool ({found} found)"
        in message
    )


# row 0: the shared base; dropout only in row 1 (right after the base); retrain's m0003 is no member
TABLE = pd.DataFrame(
    {
        "model": ["m0000", "m0001", "m0002", "m0003", "m0004"],
        "explorer": ["base", "dropout", "retrain", "retrain", "retrain"],
        "in_set": [True, True, True, False, True],
        DP: [0.30, 0.05, 0.90, 0.99, 0.35],
        EODDS: [0.20, 0.20, 0.20, 0.99, 0.20],
        EOPP: [0.10, 0.08 - 1e-12, 0.12 + 1e-12, 0.99, 0.08],
    }
)


FOUND = [
    {
        "gap": DP,
        "direction": "min",
        "multiplier": 0.0,
        "found": True,
        "loss": 0.4,
        DP: 0.20,
        EODDS: 0.15,
        EOPP: 0.12,
    },
    {"gap": DP, "direction": "max", "multiplier": 0.0, "found": False},
    {
        "gap": EOPP,
        "direction": "max",
        "multiplier": 1.0,
        "found": True,
        "loss": 0.41,
        DP: 0.40,
        EODDS: 0.25,
        EOPP: 0.08,
    },
]


VICTIM = {DP: 0.5, EODDS: 0.22, EOPP: 0.11}


def test_per_explorer_splits_a_compare_table_with_the_base_first():
    sampled = per_explorer(TABLE, "compare")
    assert list(sampled) == ["dropout", "retrain"]
    assert sampled["dropout"]["model"].tolist() == ["m0000", "m0001"]
    assert sampled["retrain"]["model"].tolist() == ["m0000", "m0002", "m0003", "m0004"]
    plain = TABLE.drop(columns="explorer")
    assert list(per_explorer(plain, "dropout")) == ["dropout"]
    assert per_explorer(plain, "dropout")["dropout"] is plain


def test_the_report_from_a_hand_made_input():
    report = extremal_report(FOUND, VICTIM, per_explorer(TABLE, "compare"))
    outside = lambda explorer, model, value: {
        "explorer": explorer,
        "model": model,
        "value": value,
        "reason": OUTSIDE_REASON,
    }
    assert report == {
        "gaps": {
            # attainable: the base 0.30 and the found 0.20, 0.40; 0.05 below, 0.90 above
            DP: {
                "victim": 0.5,
                "attainable": {"min": 0.20, "max": 0.40},
                "sampled": {
                    "dropout": {"min": 0.05, "max": 0.30},
                    "retrain": {"min": 0.30, "max": 0.90},
                },
                "outside": [outside("dropout", "m0001", 0.05), outside("retrain", "m0002", 0.90)],
            },
            EODDS: {
                "victim": 0.22,
                "attainable": {"min": 0.15, "max": 0.25},
                "sampled": {
                    "dropout": {"min": 0.20, "max": 0.20},
                    "retrain": {"min": 0.20, "max": 0.20},
                },
                "outside": [],
            },
            # 0.08 - 1e-12, 0.08 and 0.12 + 1e-12 lie within the 1e-12 float tolerance of 0.08..0.12
            EOPP: {
                "victim": 0.11,
                "attainable": {"min": 0.08, "max": 0.12},
                "sampled": {
                    "dropout": {"min": 0.08 - 1e-12, "max": 0.10},
                    "retrain": {"min": 0.08, "max": 0.12 + 1e-12},
                },
                "outside": [],
            },
        },
        "models_found": 2,
        "paths": 3,
        "runs": FOUND,
    }


def test_a_member_just_beyond_the_float_tolerance_is_outside():
    table = TABLE.assign(**{EOPP: [0.10, 0.08 - 1e-9, 0.12 + 1e-9, 0.99, 0.08]})
    eopp = extremal_report(FOUND, VICTIM, per_explorer(table, "compare"))["gaps"][EOPP]
    assert [(o["explorer"], o["model"]) for o in eopp["outside"]] == [
        ("dropout", "m0001"),
        ("retrain", "m0002"),
    ]
