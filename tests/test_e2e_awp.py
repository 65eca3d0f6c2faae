"""rashomon=awp with extremes=search end to end, in-process, and extremes=search on a dataset whose
attacker pool has no groups."""

from __future__ import annotations

import pytest
from helpers import compose_config, refusal_of, run_in_process

from msmult import pipeline

pytestmark = pytest.mark.e2e

# not debug=fast: it sets the dropout explorer's keys, which the AWP explorer does not take
SMALL = ("surrogate.epochs=5", "victim.epochs=2", "budget=500")


def test_awp_with_extremes_reports_per_row_metrics_and_attainable_gaps(tmp_path):
    run_dir = tmp_path
    report = run_in_process(
        run_dir,
        "rashomon=awp",
        "rashomon.rows=20",
        "extremes=search",
        "extremes.steps=5",
        "extremes.multipliers=[0]",
        "extremes.pool_rows=500",
        *SMALL,
        fast=False,
    )
    assert report["per_row"]["rows"] == 20 and report["multiplicity"]["per_row_only"]
    assert "ambiguity_vs_victim" not in report["multiplicity"]
    assert [p["epsilon"] for p in report["per_row"]["epsilon_curve"]][:2] == [0.0, 0.005]
    gaps = report["extremes"]["gaps"]
    assert set(gaps) == {
        "demographic_parity_difference",
        "equalized_odds_difference",
        "equal_opportunity_difference",
    }
    for entry in gaps.values():  # the AWP set is the base alone: inside the attainable range
        attainable, sampled = entry["attainable"], entry["sampled"]["awp"]
        assert attainable["min"] <= sampled["min"] <= sampled["max"] <= attainable["max"]
    text = (run_dir / "report.md").read_text()
    assert "Per-row multiplicity" in text and "Extremal fairness" in text
    assert "ambiguity vs victim" not in text


NO_POOL_GROUPS = """
from dataclasses import replace

from msmult.data.adult import AdultDataset


class NoPoolGroups(AdultDataset):
    def load(self, seed):
        return replace(super().load(seed=seed), group_pool=None)
"""

NO_POOL_GROUPS_YAML = """# @package _global_
defaults:
  - adult
  - _self_
dataset:
  _target_: nogroups.NoPoolGroups
"""


def test_extremes_on_a_pool_without_groups_is_refused_before_training(tmp_path, monkeypatch):
    (tmp_path / "nogroups.py").write_text(NO_POOL_GROUPS)
    (tmp_path / "myconf" / "dataset").mkdir(parents=True)
    (tmp_path / "myconf" / "dataset" / "nogroups.yaml").write_text(NO_POOL_GROUPS_YAML)
    monkeypatch.syspath_prepend(str(tmp_path))
    searchpath = f"hydra.searchpath=[file://{tmp_path}/myconf]"
    cfg = compose_config(searchpath, "dataset=nogroups", "extremes=search", *SMALL)
    message = refusal_of(lambda: pipeline.run(cfg, tmp_path / "run"))
    assert "fewer than two known sensitive groups" in message
    assert not (tmp_path / "run" / "report.json").exists()
