"""Per-row multiplicity (msmult.rashomon.per_row): the metrics of each sampled row's reachable
models, the report sections and console lines that replace the set-level numbers."""

from __future__ import annotations

import numpy as np
import pytest

from msmult.metrics import rashomon_capacity
from msmult.rashomon.per_row import RowReach, row_metrics
from msmult.report.assemble import per_row_sections
from msmult.report.schema import PER_ROW_LABELS, per_row_lines

THREE = np.array([[0.4, 0.6, 0.0], [0.2, 0.0, 0.8], [0.5, 0.4, 0.1], [0.3, 0.7, 0.0]])


def three_class_reach():
    """One sampled row (test row 1), three classes, two epsilons: at 0.0 nothing moves, at 0.05
    the models pushed to each class give THREE[1:]."""
    base = THREE[:1]
    still = np.tile(base, (3, 1))[None]  # (r, pushed class, classes)
    reached = np.stack([still, THREE[1:][None]])
    return RowReach(
        np.array([1]), np.array([0.0, 0.05]), base, reached, np.array([[0, 3, 5]]), 0.05
    )


def test_row_metrics_summary_keys_and_default_tolerance():
    models = THREE[:, None]
    tight, loose = rashomon_capacity(models, 1e-9)[0], rashomon_capacity(models, 0.5)[0]
    assert tight - loose > 1e-3  # the tolerance shows in the number
    summary, capacity = row_metrics(three_class_reach(), np.array([0, 0, 2]), np.array([0, 1, 0]))
    assert capacity[0] == pytest.approx(tight, rel=1e-7)
    assert summary == {
        "rows": 1,
        "epsilon": 0.05,
        "rashomon_capacity_mean": pytest.approx(tight, rel=1e-7),
        "rashomon_capacity_max": pytest.approx(tight, rel=1e-7),
        "viable_prediction_range_mean": pytest.approx(0.7),  # row 1 true class 1: 0 to 0.7
        "flip_share": 1.0,
        "victim_disagreement_share": 1.0,  # the victim says 0 on row 1; the base says 1
        "steps_mean": pytest.approx(8 / 3),
        "steps_max": 5,
        "epsilon_curve": [
            {
                "epsilon": 0.0,
                "rashomon_capacity_mean": 1.0,
                "rashomon_capacity_max": 1.0,
                "viable_prediction_range_mean": 0.0,
                "flip_share": 0.0,
                "victim_disagreement_share": 1.0,
            },
            {
                "epsilon": 0.05,
                "rashomon_capacity_mean": pytest.approx(tight, rel=1e-7),
                "rashomon_capacity_max": pytest.approx(tight, rel=1e-7),
                "viable_prediction_range_mean": pytest.approx(0.7),
                "flip_share": 1.0,
                "victim_disagreement_share": 1.0,
            },
        ],
    }
    _, coarse = row_metrics(three_class_reach(), np.array([0, 0, 2]), np.array([0, 1, 0]), 0.5)
    assert coarse[0] == pytest.approx(loose, rel=1e-7)


def test_victim_disagreement_is_a_share_of_rows_not_of_models():
    # 2 rows, 2 classes: row 0 every model says 0 (victim 0); row 1 only the model pushed to
    # class 0 says 0 (victim 1). Per row: [no, yes] -> 0.5 (per model it would read 1/3).
    base = np.array([[0.9, 0.1], [0.2, 0.8]])
    reached = np.array([[[[0.8, 0.2], [0.7, 0.3]], [[0.6, 0.4], [0.1, 0.9]]]])
    reach = RowReach(np.array([0, 1]), np.array([0.1]), base, reached, np.ones((2, 2), int), 0.1)
    summary, _ = row_metrics(reach, np.array([0, 1]), np.array([0, 1]))
    assert summary["victim_disagreement_share"] == 0.5
    assert summary["flip_share"] == 0.5


def test_per_row_sections_replace_the_set_level_numbers():
    assert per_row_sections(None) == {}
    summary = {"rows": 2}
    assert per_row_sections(summary) == {
        "multiplicity": {
            "set_size": 1,
            "per_row_only": True,
            "note": "per-row search: each sampled row has its own reachable models, so only "
            "per-row metrics are reported (see per_row); set-level metrics do not apply",
            "epsilon_curve": [],
        },
        "per_row": summary,
    }


def test_per_row_lines_are_labelled_and_rounded():
    per_row = {
        "rows": 200,
        "rashomon_capacity_mean": 1.23456,
        "rashomon_capacity_max": 2.0,
        "viable_prediction_range_mean": 0.5,
        "flip_share": 0.125,
        "victim_disagreement_share": 0.33333,
        "steps_mean": 12.345,
        "steps_max": 40,
    }
    assert per_row_lines(per_row) == [
        ("sampled test rows", "200"),
        ("Rashomon Capacity (mean over sampled rows, 2**C, 1 to c)", "1.2346"),
        ("Rashomon Capacity (max over sampled rows, 2**C, 1 to c)", "2.0000"),
        ("viable prediction range (mean, true-class score, 0-1)", "0.5000"),
        ("sampled rows whose decision can flip vs the base surrogate (share, 0-1)", "0.1250"),
        (
            "sampled rows where some reachable model disagrees with the victim (share, 0-1)",
            "0.3333",
        ),
        ("gradient steps per row and class", "12.3 (max 40)"),
    ]
    assert len(PER_ROW_LABELS) == 5


def test_per_row_metrics_on_a_hand_example():
    base = np.array([[0.8, 0.2], [0.6, 0.4]])
    reached = np.array([[[[0.9, 0.1], [0.3, 0.7]], [[0.7, 0.3], [0.55, 0.45]]]])
    reach = RowReach(np.array([0, 2]), np.array([0.02]), base, reached, np.ones((2, 2), int), 0.02)
    labels = np.array([1, 0, 0])  # rows 0 and 2 are sampled
    victim = np.array([0, 1, 1])
    summary, capacity = row_metrics(reach, victim, labels)
    # row 0: the model pushed to class 1 says class 1 (a flip); row 2: every model says class 0
    assert summary["flip_share"] == 0.5
    assert summary["victim_disagreement_share"] == 1.0  # victim says 0 then 1; models differ both
    # true-class score ranges: row 0 {0.2, 0.1, 0.7} -> 0.6; row 2 {0.6, 0.7, 0.55} -> 0.15
    assert summary["viable_prediction_range_mean"] == pytest.approx(0.375)
    # row 0's capacity: the binary channel between Bernoulli(0.1) and Bernoulli(0.7), maximised
    # over the input distribution by brute force
    q = np.linspace(0, 1, 100001)[:, None]
    h = lambda p: -(p * np.log2(p) + (1 - p) * np.log2(1 - p))  # noqa: E731
    mix = q * 0.1 + (1 - q) * 0.7
    best = (h(mix) - q * h(0.1) - (1 - q) * h(0.7)).max()
    assert capacity[0] == pytest.approx(2**best, abs=1e-6)
