"""rashomon=awp and extremes=true through the real CLI: a small run, and bad input."""

from __future__ import annotations

import pytest
from conftest import read_report

pytestmark = pytest.mark.e2e

# not debug=fast: it sets the dropout explorer's keys, which the AWP explorer does not take
SMALL = ("surrogate.epochs=5", "victim.epochs=2", "budget=500")


def test_awp_with_extremes_reports_per_row_metrics_and_attainable_gaps(msmult_run):
    process, run_dir = msmult_run(
        "rashomon=awp",
        "rashomon.rows=20",
        "extremes=true",
        "extremes_search.steps=5",
        "extremes_search.multipliers=[0]",
        "extremes_search.pool_rows=500",
        *SMALL,
        fast=False,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    report = read_report(run_dir)
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


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("rashomon=awp", "rashomon.rows=0"), "rashomon.rows=0 is not allowed"),
        (("rashomon=awp", "rashomon.rows=20000"), "the test split has 16281"),
        (("extremes=yes",), "extremes='yes' is not allowed"),
        (("dataset=nogroups", "extremes=true"), "fewer than two known sensitive groups"),
    ],
    ids=["rows0", "rows-too-many", "extremes-not-bool", "no-pool-groups"],
)
def test_bad_input_is_one_paragraph(msmult_run, tmp_path, overrides, message):
    (tmp_path / "nogroups.py").write_text(NO_POOL_GROUPS)
    (tmp_path / "myconf" / "dataset").mkdir(parents=True)
    (tmp_path / "myconf" / "dataset" / "nogroups.yaml").write_text(NO_POOL_GROUPS_YAML)
    process, run_dir = msmult_run(
        *overrides, f"hydra.searchpath=[file://{tmp_path}/myconf]", *SMALL, fast=False
    )
    output = process.stdout + process.stderr
    assert process.returncode != 0
    assert message in output, output[-2000:]
    assert "Traceback" not in output
    assert not (run_dir / "report.json").exists()
