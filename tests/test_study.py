"""Study tooling: collecting finished runs, mean/std across seeds, tables and figures."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import ROOT, run_in_process
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.utils import instantiate
from omegaconf import OmegaConf

from msmult.app import CONFIG_DIR
from msmult.errors import MsmultError
from msmult.fileio import write_json
from msmult.metrics import GAPS, SET_METRICS
from msmult.report.outputs import MARKER, marker
from msmult.study import main
from msmult.study.collect import (
    KEYS,
    across_seeds,
    capacities,
    checkpoint_points,
    collect,
    decision_verdicts,
    member_scores,
    repeated_seeds,
)

EPSILONS = (0.0, 0.01, 0.02)


def fake_run(
    run_dir: Path,
    dataset: str = "adult",
    attack: str = "knockoff",
    api: str = "probabilities",
    budget: int = 500,
    seed: int = 0,
    complete: bool = True,
    checkpoints: tuple[int, ...] = (),
) -> Path:
    """A run dir as ``msmult run`` leaves it, with numbers that depend on the seed: fidelity
    0.8 + 0.01 * seed, set size 3 + seed, ambiguity vs victim 0.1 * (seed + 1)."""
    rng = np.random.default_rng(seed)
    models = [f"m{i:04d}" for i in range(3 + seed)]
    gaps = {
        gap: {
            "victim": 0.1,
            "base": 0.12,
            "min": 0.05 + 0.01 * seed,
            "max": 0.2,
            "range": 0.15,
            "mean": 0.1,
        }
        for gap in GAPS
    }
    report = {
        "dataset": {
            "name": dataset,
            "classes": 2,
            "class_names": ["<=50K", ">50K"],
            "positive_class": ">50K",
            "sensitive": "sex",
            "test_rows": 40,
        },
        "victim": {
            "model": "TorchClassifier",
            "accuracy": 0.85,
            "fairness": {g: 0.1 for g in GAPS},
        },
        "api": {"choice": api, "mode": api, "label": api},
        "attack": {"name": attack, "budget": budget, "queries_used": budget},
        "surrogate": {"fidelity": 0.8 + 0.01 * seed, "accuracy": 0.8, "loss": 0.3},
        "rashomon": {"explorer": "DropoutExplorer", "epsilon": 0.02, "candidates": 10},
        "multiplicity": {
            "set_size": len(models),
            **{metric.name: 0.05 for metric in SET_METRICS},
            "ambiguity_vs_victim": 0.1 * (seed + 1),
            "rashomon_capacity_mean": 1.1,
            "rashomon_capacity_max": 1.6,
            "rashomon_capacity_quantiles": {"p50": 1.05, "p90": 1.3},
            "epsilon_curve": [
                {
                    "epsilon": e,
                    "set_size": 1 + 100 * e,
                    **{metric.name: e for metric in SET_METRICS},
                    "ambiguity_vs_victim": e + 0.1 * seed,
                    "rashomon_capacity_mean": 1 + e,
                }
                for e in EPSILONS
            ],
        },
        "fairness": gaps,
        "extra_eval": {},
        "seed": seed,
        "timing": {"total_s": 1.0},
    }
    if checkpoints:  # share of thieves passing: 0.2 * seed at the first checkpoint, then 1
        report["budget_curve"] = [
            {"budget": b, "fidelity": 0.9, "ambiguity_vs_victim": 0.1, "thieves_share": share}
            for b, share in zip(checkpoints, [0.2 * seed, *[1.0] * len(checkpoints)])
        ]
    n = report["dataset"]["test_rows"]
    predictions = pd.DataFrame(
        {
            "row": np.arange(n),
            "y_true": rng.integers(0, 2, n),
            "group": rng.choice(["Female", "Male"], n),
        }
    )
    for model in ["victim", *models]:
        predictions[f"{model}:p_>50K"] = rng.random(n).astype(np.float32)
    surrogates = pd.DataFrame(
        {
            "model": models + ["m9999"],
            "in_set": [True] * len(models) + [False],
            "fidelity": rng.uniform(0.7, 0.9, len(models) + 1),
        }
    )
    for gap in GAPS:
        surrogates[gap] = rng.uniform(0.05, 0.2, len(surrogates))
    run_dir.mkdir(parents=True)
    config = f"seed: {seed}\nbudget: {budget}\n"
    (run_dir / "config.yaml").write_text(config)
    predictions.to_parquet(run_dir / "predictions.parquet", index=False)
    surrogates.to_csv(run_dir / "surrogates.csv", index=False)
    write_json(run_dir / "report.json", report)
    if complete:
        write_json(run_dir / MARKER, marker(run_dir, OmegaConf.create(config)))
    return run_dir


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    """adult/knockoff/probabilities/500 with seeds 0, 1, 2; adult/random/label/2000 with seed 0;
    one run without a marker and one whose report changed after its marker was written."""
    root = tmp_path / "sweep"
    for seed in range(3):
        fake_run(root / f"seed={seed}", seed=seed)
    fake_run(root / "random", attack="random", api="label", budget=2000)
    fake_run(root / "killed", seed=5, complete=False)
    tampered = fake_run(root / "tampered", seed=6)
    (tampered / "report.json").write_text("{}")
    return root


def test_collect_keeps_complete_runs_and_counts_the_rest(study_dir: Path):
    study = collect([study_dir])
    assert sorted(study.runs["seed"]) == [0, 0, 1, 2]
    assert sorted(path.name for path in study.incomplete) == ["killed", "tampered"]
    assert (study_dir / "killed" / "report.json").exists() and not (
        study_dir / "killed" / MARKER
    ).exists()
    assert study.runs.loc[0, "fairness.equalized_odds_difference.victim"] == 0.1


def test_across_seeds_gives_mean_std_and_seed_count(study_dir: Path):
    runs = collect([study_dir]).runs
    stats = across_seeds(runs, KEYS, ["surrogate.fidelity", "multiplicity.set_size"])
    three = stats.loc[("adult", "knockoff", "probabilities", 500)]
    assert three[("seeds", "")] == 3
    assert three[("surrogate.fidelity", "mean")] == pytest.approx(0.81)
    assert three[("surrogate.fidelity", "std")] == pytest.approx(0.01)  # sample std (n - 1)
    assert three[("multiplicity.set_size", "mean")] == pytest.approx(4.0)
    one = stats.loc[("adult", "random", "label", 2000)]
    assert one[("seeds", "")] == 1 and np.isnan(one[("surrogate.fidelity", "std")])


def test_a_study_row_with_a_seed_twice_is_flagged(study_dir: Path):
    assert repeated_seeds(collect([study_dir]).runs).empty
    fake_run(study_dir / "other_victim", seed=1)  # same keys and seed, e.g. another victim
    flagged = repeated_seeds(collect([study_dir]).runs)
    assert flagged.index.tolist() == [("adult", "knockoff", "probabilities", 500)]


def test_member_scores_rebuild_the_classes_stored_in_predictions():
    predictions = pd.DataFrame(
        {"victim:p_b": [0.5, 0.5], "m0000:p_b": [0.2, 0.9], "m0001:p_b": [0.4, 0.1]}
    )
    scores = member_scores(predictions, ["a", "b"], "b")
    np.testing.assert_allclose(scores[1], [[0.6, 0.4], [0.9, 0.1]])
    flipped = member_scores(
        predictions.rename(columns=lambda c: c.replace("p_b", "p_a")), ["a", "b"], "a"
    )
    np.testing.assert_allclose(flipped[0], [[0.2, 0.8], [0.9, 0.1]])
    three = pd.DataFrame(
        {f"m{m}:p_{c}": [m + k / 10, m + k / 100] for m in range(2) for k, c in enumerate("xyz")}
    )
    np.testing.assert_allclose(member_scores(three, list("xyz"), "x")[1, 0], [1.0, 1.1, 1.2])


def test_tables_writes_csv_markdown_latex_and_figures(study_dir: Path, capsys):
    out = study_dir / "out"
    main("tables", [str(study_dir), "--out", str(out), "--by-epsilon"])
    printed = capsys.readouterr()
    assert "skipped 2 incomplete run(s)" in printed.err
    numbers = pd.read_csv(out / "study_multiplicity.csv")
    row = numbers[numbers["attack.name"] == "knockoff"].iloc[0]
    assert row["seeds"] == 3 and row["surrogate.fidelity.mean"] == pytest.approx(0.81)
    assert row["multiplicity.ambiguity_vs_victim.std"] == pytest.approx(0.1)
    markdown = (out / "study_multiplicity.md").read_text()
    assert "| dataset | attack | API | budget | seeds | surrogate fidelity |" in markdown
    assert "0.810 ± 0.010" in markdown
    latex = (out / "study_fairness.tex").read_text()
    assert "\\toprule" in latex and "$\\pm$" in latex and "equal opportunity" in latex
    epsilon = pd.read_csv(out / "study_epsilon.csv")
    assert len(epsilon) == 2 * len(EPSILONS)
    first = epsilon.iloc[0]  # knockoff at epsilon 0: ambiguity 0, 0.1, 0.2 over seeds 0, 1, 2
    assert first["curve.ambiguity_vs_victim.mean"] == pytest.approx(0.1)
    listed = pd.read_csv(out / "runs.csv")  # runs named relative to the folder given
    assert sorted(listed["run_dir"]) == ["random", "seed=0", "seed=1", "seed=2"]
    for kind in ("epsilon", "capacity_cdf", "fairness", "fidelity_fairness", "budget"):
        assert (out / f"{kind}_adult.png").stat().st_size > 10_000


def test_runs_with_budget_checkpoints_get_a_point_per_checkpoint_and_a_figure(tmp_path: Path):
    for seed in range(2):
        fake_run(tmp_path / f"seed={seed}", budget=1000, seed=seed, checkpoints=(500, 1000))
    fake_run(tmp_path / "no-checkpoints", attack="random")
    points = checkpoint_points(collect([tmp_path]).runs)
    assert sorted(zip(points["seed"], points["checkpoint.budget"])) == [
        (0, 500),
        (0, 1000),
        (1, 500),
        (1, 1000),
    ]
    first = points[points["checkpoint.budget"] == 500]
    assert first["checkpoint.thieves_share"].mean() == pytest.approx(0.1)
    main("plots", [str(tmp_path)])
    assert (tmp_path / "study" / "equivalence_adult.png").stat().st_size > 10_000


def test_plots_writes_only_figures_into_the_default_folder(study_dir: Path):
    main("plots", [str(study_dir)])
    written = {path.name for path in (study_dir / "study").iterdir()}
    assert written == {
        f"{kind}_adult.png"
        for kind in ("epsilon", "capacity_cdf", "fairness", "fidelity_fairness", "budget")
    }


def test_a_folder_without_finished_runs_is_one_message_and_exit_1(tmp_path: Path, capsys):
    fake_run(tmp_path / "killed", complete=False)
    with pytest.raises(SystemExit) as stop:
        main("tables", [str(tmp_path)])
    assert stop.value.code == 1
    message = capsys.readouterr().err
    assert (
        "No finished msmult run" in message
        and "1 of them without a valid completion marker" in message
    )
    with pytest.raises(MsmultError, match="no such folder"):
        collect([tmp_path / "nowhere"])


SWEEPS = sorted(
    path.stem
    for path in (ROOT / "conf" / "experiment").glob("*.yaml")
    if "sweeper" in path.read_text()  # study blocks; experiment=paper is a single run's setting
)


@pytest.mark.parametrize("block", SWEEPS)
def test_every_study_job_composes_with_a_budget_its_attack_accepts(block: str):
    """Compose each job of a study block (seeds and API settings aside: they change neither budget
    nor pool) and check its budget against the attacker pool of its dataset, as the attack does
    at run time."""
    pools: dict[str, int] = {}
    with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
        params = compose(
            "config", [f"experiment={block}"], return_hydra_config=True
        ).hydra.sweeper.params
        sweeps = OverridesParser.create().parse_overrides(
            [f"{k}={v}" for k, v in params.items() if k not in ("seed", "api")]
        )
        axes = [
            [f"{o.key_or_group}={value}" for value in o.sweep_string_iterator()] for o in sweeps
        ]
        for job in itertools.product(*axes):
            cfg = compose("config", [f"experiment={block}", *job], return_hydra_config=True)
            HydraConfig.instance().set_config(cfg)  # for ${hydra:runtime.choices.dataset}
            dataset = cfg.hydra.runtime.choices.dataset
            if dataset not in pools:
                pools[dataset] = len(instantiate(cfg.dataset).load(seed=0).x_pool)
            attack = instantiate(cfg.attack)
            if hasattr(attack, "check"):  # attacks with a pool limit (knockoff) refuse early
                attack.check(cfg.budget, pools[dataset])
    assert params.seed == "0,1,2"  # every block: three seeds for mean ± std


@pytest.mark.e2e
def test_two_real_runs_then_tables(tmp_path: Path):
    """Two tiny real runs on German credit (seeds 0 and 1), then ``msmult tables`` over both."""
    for seed in (0, 1):
        run_dir = tmp_path / "runs" / str(seed)
        run_in_process(run_dir, "dataset=german", "holdout.mode=split", f"seed={seed}")
    main("tables", [str(tmp_path / "runs")])
    numbers = pd.read_csv(tmp_path / "runs" / "study" / "study_multiplicity.csv")
    assert numbers[["dataset.name", "attack.budget", "seeds"]].values.tolist() == [
        ["german", 300, 2]
    ]
    reports = [json.loads((tmp_path / "runs" / s / "report.json").read_text()) for s in ("0", "1")]
    fidelity = [report["surrogate"]["fidelity"] for report in reports]
    assert numbers["surrogate.fidelity.mean"].iloc[0] == pytest.approx(np.mean(fidelity))
    assert numbers["surrogate.fidelity.std"].iloc[0] == pytest.approx(np.std(fidelity, ddof=1))
    assert (tmp_path / "runs" / "study" / "capacity_cdf_german.png").exists()
    runs = collect([tmp_path / "runs"]).runs  # capacity rebuilt from predictions = reported
    rebuilt = capacities(runs).groupby("run_dir")["rashomon_capacity"].mean()
    expected = runs["multiplicity.rashomon_capacity_mean"]
    np.testing.assert_allclose(rebuilt[runs["run_dir"]], expected, rtol=1e-5)
    judged = decision_verdicts(runs)  # judging on fewer figures never passes fewer members
    assert (judged["decisions.share"] >= judged["verdict.share"]).all()


def test_decision_verdicts_leave_out_the_probability_distance_only(tmp_path: Path):
    """Three members of one lens beside the base: one within the envelope, one outside it on
    the probability distance alone, one outside it on disagreement."""
    table = pd.DataFrame(
        {
            "model": ["m0000", "m0001", "m0002", "m0003"],
            "explorer": ["base", "dropout", "dropout", "dropout"],
            "in_set": [True, True, True, True],
            "fidelity": [0.99, 0.99, 0.99, 0.90],
            "accuracy": [0.80] * 4,
            **{gap: [0.10] * 4 for gap in GAPS},
            "probability_distance": [0.01, 0.01, 0.30, 0.01],
        }
    )
    table.to_csv(tmp_path / "surrogates.csv", index=False)
    envelope = {"disagreement": 0.05, "accuracy_diff": 0.01, "probability_distance": 0.05}
    envelope |= {f"{gap}_diff": 0.01 for gap in GAPS}
    row = {
        "run_dir": str(tmp_path),
        "victim.accuracy": 0.80,
        **{f"victim.fairness.{gap}": 0.10 for gap in GAPS},
        "verdict.tolerances.mode": "owner",
        **{f"verdict.tolerances.{figure}": value for figure, value in envelope.items()},
    }
    fixed = {"run_dir": str(tmp_path), "verdict.tolerances.mode": "fixed"}
    judged = decision_verdicts(pd.DataFrame([row, fixed]))
    assert judged["decisions.dropout.share"].iloc[0] == pytest.approx(3 / 4)
    assert np.isnan(judged["decisions.dropout.share"].iloc[1])  # fixed tolerances: no envelope
