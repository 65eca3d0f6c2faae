"""End to end, in-process: small subsets of the shipped HAM10000 and Davidson data."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import FAST, run_in_process
from report_checks import check_run_outputs

pytestmark = pytest.mark.e2e


def run_domain(tmp_path_factory, name: str, *overrides: str) -> tuple[dict, Path]:
    """A small run with the dataset's own victim (CNN or text model, its own epochs)."""
    run_dir = tmp_path_factory.mktemp(name) / "run"
    args = (f"dataset={name}", "budget=300", *FAST, *overrides)
    report = run_in_process(run_dir, *args, fast=False)
    check_run_outputs(run_dir, report)  # membership, set size, capacity, victim > majority class
    return report, run_dir


@pytest.fixture(scope="module")
def ham_run(tmp_path_factory):
    return run_domain(tmp_path_factory, "ham10000", "dataset.subsample=0.3")


@pytest.fixture(scope="module")
def davidson_run(tmp_path_factory):
    return run_domain(tmp_path_factory, "davidson", "dataset.subsample=0.1")


def check_common(report: dict, candidates: int = 1 + 2 * 3 * 2) -> None:
    assert report["attack"]["budget"] == report["attack"]["queries_used"] == 300
    assert 0 < report["surrogate"]["fidelity"] <= 1
    m = report["multiplicity"]
    assert report["rashomon"]["candidates"] == candidates
    assert 0 <= m["ambiguity_vs_base"] <= 1
    assert report["fairness"]
    for gap, values in report["fairness"].items():
        assert values["min"] <= values["base"] <= values["max"], gap


def test_ham10000_report(ham_run):
    report, _ = ham_run
    dataset = report["dataset"]
    assert dataset["name"] == "ham10000" and dataset["classes"] == 7
    assert dataset["positive_class"] == "mel" and dataset["sensitive"] == "sex"
    assert dataset["test_rows"] == dataset["n_test"] > 400  # ~30 % of 1,811
    assert set(dataset["group_counts_test"]) <= {"female", "male", "unknown"}
    assert report["victim"]["model"] == "CNN"  # the dataset config picks the CNN
    assert report["victim"]["accuracy"] > 0.5  # a nevus-only guess scores ~0.73
    check_common(report)
    assert report["extra_eval"] == {}


def test_davidson_report_with_hatecheck(davidson_run):
    report, run_dir = davidson_run
    dataset = report["dataset"]
    assert dataset["name"] == "davidson"
    assert dataset["class_names"] == ["hate", "offensive", "neither"]
    assert dataset["positive_class"] == "hate" and dataset["sensitive"] == "aae_vs_white"
    assert "not author race" in dataset["group_note"]
    assert report["victim"]["model"] == "EmbeddingBagClassifier"
    assert report["victim"]["accuracy"] > 0.6  # an offensive-only guess scores ~0.77
    check_common(report)
    hatecheck = report["extra_eval"]["hatecheck"]
    assert hatecheck["rows"] == 3728
    assert 0 <= hatecheck["victim_accuracy"] <= 1
    assert hatecheck["fairness"]
    # the loader keeps tweet text out of every output: nothing but ids reaches the pipeline
    for name in ("report.md", "report.json", "surrogates.csv", "config.yaml"):
        assert "RT @" not in (run_dir / name).read_text(), name
