"""Comparing explorers: stacking their explorations, and the comparison table of a tiny
synthetic exploration whose numbers are checked by hand."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers import Recorder, constant_task, modelless_task, shipped

import msmult.rashomon.compare as compare_module
from msmult.analysis.comparison import compare_explorers, covered, equal_size_ambiguity
from msmult.errors import MsmultError
from msmult.rashomon import Exploration
from msmult.rashomon.compare import CompareExplorer, stack
from msmult.rashomon.refit import (
    refit_seeds,
)


def part(kind, losses, value):
    m = len(losses)
    scores = np.full((m, 2, 2), 0.5, np.float32)
    scores[1:, :, 1] = value  # row 0, the base, scores 0.5 in every part
    return Exploration(
        pd.DataFrame({"kind": ["base"] + [kind] * (m - 1)}), np.array(losses), {"test": scores}, 0.1
    )


def test_stack_keeps_one_base_row_and_labels_every_candidate_with_its_explorer():
    task = modelless_task(eval_sets={"test": np.zeros((2, 1))})
    joined = stack(
        [
            ("dropout", part("bernoulli", [1.0, 1.05, 1.3], 0.6), 0.5),
            ("retrain", part("retrain", [1.0, 1.02], 0.7), 2.0),
        ],
        task,
    )
    assert joined.candidates["explorer"].tolist() == ["base", "dropout", "dropout", "retrain"]
    assert joined.candidates["seconds"].tolist() == [0.5, 0.5, 0.5, 2.0]
    np.testing.assert_allclose(joined.losses, [1.0, 1.05, 1.3, 1.02])
    np.testing.assert_allclose(joined.scores["test"][:, 0, 1], [0.5, 0.6, 0.6, 0.7])
    assert joined.in_set.tolist() == [True, True, False, True]
    assert joined.scored is None


def test_compare_refuses_an_unknown_explorer_by_name():
    with pytest.raises(MsmultError, match="rashomon.explorers"):
        shipped(CompareExplorer, explorers=["dropout", "nosuch"])


def test_covered_share_of_a_reference_range():
    assert covered((0.1, 0.2), (0.0, 0.15)) == pytest.approx(0.5)
    assert covered((0.1, 0.2), (0.05, 0.3)) == pytest.approx(1.0)
    assert covered((0.1, 0.2), (0.3, 0.4)) == 0.0
    assert covered((0.1, 0.1), (0.0, 0.2)) == 1.0  # a one-point reference inside
    assert covered((0.1, 0.1), (0.2, 0.3)) == 0.0


def test_equal_size_ambiguity_is_exact_at_full_size_and_a_mean_below_it():
    # three models, four rows: each model flips a different single row
    flips = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], bool)
    assert equal_size_ambiguity(flips, 3) == pytest.approx(0.75)
    # any two of the three flip two distinct rows: ambiguity 0.5 whatever the draw
    assert equal_size_ambiguity(flips, 2) == pytest.approx(0.5)
    assert equal_size_ambiguity(flips, 1) == pytest.approx(0.25)


def synthetic_table():
    """Base, two dropout members (one far less faithful), one dropout non-member, two retrained
    members. Decisions on 4 rows; the victim's are all 0."""
    table = pd.DataFrame(
        {
            "explorer": ["base", "dropout", "dropout", "dropout", "retrain", "retrain"],
            "seconds": [0.1, 0.1, 0.1, 0.1, 2.0, 4.0],
            "in_set": [True, True, True, False, True, True],
            "fidelity": [1.0, 0.75, 0.5, 0.0, 1.0, 0.75],
            "demographic_parity_difference": [0.10, 0.05, 0.30, 0.9, 0.12, 0.40],
            "equalized_odds_difference": [0.2, 0.2, 0.2, 0.9, 0.2, 0.2],
            "equal_opportunity_difference": [0.1, 0.0, 0.2, 0.9, 0.15, 0.2],
        }
    )
    decisions = np.array(
        [[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 1]]
    )
    return table, decisions[table["in_set"].to_numpy()]


def test_comparison_table_and_coverage_lines_by_hand():
    table, member_decisions = synthetic_table()
    result = compare_explorers(table, member_decisions, np.zeros(4, int))
    rows = {row["explorer"]: row for row in result["table"]}
    dropout, retrain = rows["dropout"], rows["retrain"]
    assert (dropout["models"], dropout["members"]) == (4, 3)  # base + 3 tried, base + 2 in
    assert (retrain["models"], retrain["members"]) == (3, 3)
    assert dropout["seconds_per_candidate"] == pytest.approx(0.1)
    assert retrain["seconds_per_candidate"] == pytest.approx(3.0)  # its own rows, not the base
    assert (dropout["fidelity_min"], dropout["fidelity_max"]) == (0.5, 1.0)
    assert (dropout["fidelity_tried_min"], dropout["fidelity_tried_max"]) == (0.0, 1.0)
    # dropout members flip rows {0} and {0, 1}: ambiguity 2/4, discrepancy 2/4
    assert (dropout["ambiguity_vs_victim"], dropout["discrepancy_vs_victim"]) == (0.5, 0.5)
    assert (retrain["ambiguity_vs_victim"], retrain["discrepancy_vs_victim"]) == (0.25, 0.25)
    assert result["equal_size"] == 3  # both have 3 members: equal-size ambiguity is exact
    assert dropout["ambiguity_equal_size"] == 0.5
    dp = "demographic_parity_difference"
    assert (dropout[f"{dp}_min"], dropout[f"{dp}_max"]) == (0.05, 0.30)
    [line] = result["coverage"]
    assert (line["explorer"], line["reference"]) == ("dropout", "retrain")
    # retrain's range [0.10, 0.40] (the base included), dropout's [0.05, 0.30]: 0.2 of 0.3
    assert line[f"{dp}_covered"] == pytest.approx(2 / 3)
    # retrain equal opportunity [0.1, 0.2] inside dropout's [0.0, 0.2]; equalized odds a point
    assert line["equal_opportunity_difference_covered"] == pytest.approx(1.0)
    assert line["equalized_odds_difference_covered"] == 1.0
    # worst retrained fidelity 0.75: dropout members 1.0 and 0.75 reach it, 0.5 does not
    assert line["fidelity_at_least_worst"] == pytest.approx(2 / 3)


def test_no_comparison_without_an_explorer_column():
    table, decisions = synthetic_table()
    assert compare_explorers(table.drop(columns="explorer"), decisions, np.zeros(4, int)) is None


def test_seconds_and_tried_fidelity_count_candidates_outside_the_set():
    # Davidson: no refit was a member; its row must still give the refits' cost and fidelity
    table, _ = synthetic_table()
    table.loc[[4, 5], "in_set"] = False
    decisions = np.zeros((int(table["in_set"].sum()), 4), int)
    result = compare_explorers(table, decisions, np.zeros(4, int))
    rows = {row["explorer"]: row for row in result["table"]}
    retrain = rows["retrain"]
    assert (retrain["models"], retrain["members"]) == (3, 1)
    assert retrain["seconds_per_candidate"] == pytest.approx(3.0)
    assert (retrain["fidelity_tried_min"], retrain["fidelity_tried_max"]) == (0.75, 1.0)


def test_compare_passes_its_settings_to_each_explorer():
    built = shipped(
        CompareExplorer,
        ["bootstrap", "dropout", "retrain", "bootstrap"],
        retrain_models=3,
        bootstrap_models=4,
        seed=5,
        rates=[0.2],
        draws_per_rate=3,
    )
    assert list(built.explorers) == ["bootstrap", "dropout", "retrain"]  # once each, in order
    dropout = built.explorers["dropout"]
    assert (dropout.seed, dropout.rates, dropout.draws_per_rate) == (5, [0.2], 3)
    assert (built.explorers["retrain"].n_models, built.explorers["retrain"].seed) == (3, 5)
    assert (built.explorers["bootstrap"].n_models, built.explorers["bootstrap"].seed) == (4, 5)
    assert list(shipped(CompareExplorer, ["retrain"]).explorers) == ["retrain"]


def scored_part(kind, losses, value, scored=None):
    m = len(losses)
    keep = m if scored is None else int(np.sum(scored))
    scores = np.full((keep, 2, 2), 0.5, np.float32)
    scores[1:, :, 1] = value
    return Exploration(
        pd.DataFrame({"kind": ["base"] + [kind] * (m - 1)}),
        np.array(losses),
        {"test": scores},
        0.1,
        scored=scored,
    )


def test_stack_keeps_a_fresh_index_the_grid_and_the_scored_mask():
    task = constant_task(Recorder, epsilon=0.1, grid=(0.0, 0.2))
    joined = stack(
        [
            ("dropout", scored_part("bernoulli", [1.0, 1.05, 1.3], 0.6), 0.5),
            (
                "retrain",
                scored_part("retrain", [1.0, 1.02, 9.0], 0.7, np.array([True, True, False])),
                2.0,
            ),
        ],
        task,
    )
    assert joined.candidates.index.tolist() == [0, 1, 2, 3, 4]
    assert joined.candidates["explorer"].tolist() == [
        "base",
        "dropout",
        "dropout",
        "retrain",
        "retrain",
    ]
    assert joined.epsilon_grid == (0.0, 0.2)
    assert joined.scored.tolist() == [True, True, True, True, False]
    np.testing.assert_allclose(joined.scores["test"][:, 0, 1], [0.5, 0.6, 0.6, 0.7])


def test_compare_explore_stacks_the_refits_with_seconds_per_candidate(monkeypatch):
    clock = iter([100.0, 106.0, 200.0, 212.0])
    monkeypatch.setattr(compare_module, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    task = constant_task(Recorder)
    explored = shipped(
        CompareExplorer, ["retrain", "bootstrap"], retrain_models=3, bootstrap_models=4, seed=7
    ).explore(task)
    table = explored.candidates
    assert table["explorer"].tolist() == ["base", "retrain", "retrain"] + ["bootstrap"] * 3
    assert table["kind"].tolist() == ["base", "retrain", "retrain"] + ["bootstrap"] * 3
    assert table["seconds"].tolist() == [2.0, 2.0, 2.0, 3.0, 3.0, 3.0]  # 6 s / 3, 12 s / 4
    assert table["model_seed"].tolist() == [7, *refit_seeds(7, 0, 2), *refit_seeds(7, 1, 3)]
    assert explored.scores["test"].shape == (6, 3, 2)
    assert explored.losses[0] == explored.losses[1] == explored.losses[2]  # same rows, same p
