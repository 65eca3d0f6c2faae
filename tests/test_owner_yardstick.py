"""The owner's yardstick in a real run: its figures, the probability of superiority and the verdict
recomputed from the run's own output files, against the victim (not the base surrogate)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    true_positive_rate,
)
from hydra import compose, initialize_config_dir

from msmult import pipeline
from msmult.app import CONFIG_DIR

pytestmark = pytest.mark.e2e
FIGURES = [
    "disagreement",
    "accuracy_diff",
    "demographic_parity_difference_diff",
    "equalized_odds_difference_diff",
    "equal_opportunity_difference_diff",
    "probability_distance",
]
SMALL = [
    "dataset=german",
    "budget=150",
    "surrogate.epochs=8",
    "rashomon=lenses",
    "rashomon.rates=[0.05,0.2]",
    "rashomon.draws_per_rate=3",
    "rashomon.bootstrap_models=6",
    "membership.calibration_models=3",
    "owner.models=4",
    "verdict.owner_quantile=0.5",
]


def config(tmp_path: Path, *overrides: str):
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        return compose("config", [*SMALL, f"cache.dir={tmp_path / 'cache'}", *overrides])


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A small German run with the three lenses' outputs (module-scoped: several checks read it)."""
    tmp_path = tmp_path_factory.mktemp("yardstick")
    run_dir = tmp_path / "run"
    report = pipeline.run(config(tmp_path), run_dir)
    return report, run_dir


def scores(frame: pd.DataFrame, model: str, report: dict) -> np.ndarray:
    """(n, 2) probabilities of ``model`` from predictions.parquet (positive class stored)."""
    names, positive = report["dataset"]["class_names"], report["dataset"]["positive_class"]
    p = frame[f"{model}:p_{positive}"].to_numpy(np.float64)
    pair = np.stack([1 - p, p], axis=1)
    return pair if names.index(positive) == 1 else pair[:, ::-1]


def figures(proba: np.ndarray, reference: np.ndarray, frame: pd.DataFrame, positive: int) -> dict:
    """One model's closeness figures against ``reference`` probabilities, with fairlearn."""
    y, group = frame["y_true"].to_numpy(), frame["group"].astype(str).to_numpy()
    known = group != ""

    def gaps(decisions: np.ndarray) -> np.ndarray:
        yt, yp = (y[known] == positive).astype(int), (decisions[known] == positive).astype(int)
        g = group[known]
        tpr = MetricFrame(metrics=true_positive_rate, y_true=yt, y_pred=yp, sensitive_features=g)
        return np.array(
            [
                demographic_parity_difference(yt, yp, sensitive_features=g),
                equalized_odds_difference(yt, yp, sensitive_features=g),
                tpr.difference(),
            ]
        )

    mine, theirs = proba.argmax(1), reference.argmax(1)
    return dict(
        zip(
            FIGURES,
            [
                1 - (mine == theirs).mean(),
                abs((mine == y).mean() - (theirs == y).mean()),
                *np.abs(gaps(mine) - gaps(theirs)),
                0.5 * np.abs(proba - reference).sum(1).mean(),
            ],
        )
    )


def pairwise_superiority(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean([[1.0 if a < b else 0.5 if a == b else 0.0 for b in y] for a in x]))


def recomputed(report: dict, run_dir: Path, reference_model: str = "victim"):
    """Owner and member distances to ``reference_model``, recomputed from the output files."""
    frame = pd.read_parquet(run_dir / "predictions.parquet")
    table = pd.read_csv(run_dir / "surrogates.csv")
    positive = report["dataset"]["class_names"].index(report["dataset"]["positive_class"])
    reference = scores(frame, reference_model, report)
    owners = [c.split(":")[0] for c in frame.columns if c.startswith("o")]
    owner = pd.DataFrame(
        [figures(scores(frame, o, report), reference, frame, positive) for o in owners]
    )
    members = table[table["in_set"]]
    member = pd.DataFrame(
        [figures(scores(frame, m, report), reference, frame, positive) for m in members["model"]],
        index=members.index,
    )
    return owner, member, members


def test_the_owner_figures_match_the_output_files(finished):
    report, run_dir = finished
    owner, _, _ = recomputed(report, run_dir)
    written = pd.read_csv(run_dir / "owner.csv")
    assert len(owner) == report["owner"]["models"] == 4
    assert owner["disagreement"].max() > 0  # retrains differ from the victim: a real yardstick
    for figure in FIGURES:
        np.testing.assert_allclose(written[figure], owner[figure], atol=1e-6)
    agreement = 1 - owner["disagreement"]
    assert report["owner"]["agreement"]["min"] == pytest.approx(agreement.min(), abs=1e-9)


def test_superiority_matches_a_pairwise_count_from_the_files(finished):
    report, run_dir = finished
    owner, member, members = recomputed(report, run_dir)
    for lens, entry in report["yardstick"].items():
        rows = members["explorer"].isin([lens, "base"])
        for figure in FIGURES:
            expected = pairwise_superiority(
                member.loc[rows, figure].to_numpy(), owner[figure].to_numpy()
            )
            assert entry["superiority"][figure]["estimate"] == pytest.approx(expected, abs=1e-9)


def test_the_verdict_judges_members_against_the_victim_not_the_base_surrogate(finished):
    report, run_dir = finished
    verdict = report["verdict"]
    assert verdict["tolerances"]["mode"] == "owner"
    owner, member, members = recomputed(report, run_dir)
    envelope = owner.quantile(0.5)  # verdict.owner_quantile=0.5 (linear interpolation)
    for figure in FIGURES:  # the files hold float32 probabilities: agree to 1e-6
        assert verdict["tolerances"][figure] == pytest.approx(envelope[figure], abs=1e-6)
    margin = (envelope - member).min(axis=1)  # >= 0: within the envelope
    clear = margin.abs() > 1e-6  # members not on the envelope's edge, up to float32 noise
    written = members["passes"]
    assert clear.sum() >= len(members) - 1
    assert (written[clear] == (margin[clear] > 0)).all() and written.sum() == verdict["passed"]


def test_the_answer_speaks_of_each_lens_and_the_owner(finished):
    report, run_dir = finished
    sentences = report["answer"]
    assert [s.split(" (")[0] for s in sentences] == [
        "The paper's lens",
        "The thieves' lens",
        "The owner's yardstick",
    ]
    markdown = (run_dir / "report.md").read_text()
    assert sentences[0] in markdown.split("\n\n")[1]


def test_the_owners_retrains_are_cached_and_the_cache_follows_the_owner_settings(tmp_path):
    first = pipeline.run(config(tmp_path), tmp_path / "first")
    again = pipeline.run(config(tmp_path), tmp_path / "again")
    more = pipeline.run(config(tmp_path, "owner.models=5"), tmp_path / "more")
    assert (first["owner"]["cache"], again["owner"]["cache"], more["owner"]["cache"]) == (
        "miss",
        "hit",
        "miss",
    )
    assert first["owner"]["retrains"] == again["owner"]["retrains"]
    assert more["owner"]["models"] == 5  # the seed stream extends: the first 4 are the same
    assert more["owner"]["retrains"][:4] == first["owner"]["retrains"]


def test_a_deterministic_victim_has_a_zero_spread_yardstick_and_says_so(tmp_path):
    report = pipeline.run(config(tmp_path, "victim=logreg"), tmp_path / "run")
    owner = report["owner"]
    assert owner["note"].startswith("The victim's training is deterministic")
    assert all(owner["distances"][f]["max"] == 0.0 for f in FIGURES)
    assert owner["note"] in report["answer"][-1]
