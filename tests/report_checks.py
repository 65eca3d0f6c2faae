"""Content checks of a finished run: the report's numbers recomputed from its own output files
(surrogates.csv, predictions.parquet), so a wrong membership rule, set size, capacity or
ambiguity fails, not only a missing key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msmult.metrics import ambiguity, rashomon_capacity


def member_scores(run_dir: Path, report: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(members, n, c) member scores (columns ``m<index>:p_<class>``; the owner's retrains are
    ``o<index>``), (n, c) victim scores and (n,) labels from the parquet."""
    frame = pd.read_parquet(run_dir / "predictions.parquet")
    names = report["dataset"]["class_names"]
    models = sorted({c.split(":p_")[0] for c in frame.columns if c.startswith("m")})

    def scores(model: str) -> np.ndarray:
        if len(names) == 2:  # only the positive class is stored
            positive = report["dataset"]["positive_class"]
            p = frame[f"{model}:p_{positive}"].to_numpy(float)
            pair = np.stack([1 - p, p], axis=1)
            return pair if names.index(positive) == 1 else pair[:, ::-1]
        return np.stack([frame[f"{model}:p_{name}"].to_numpy(float) for name in names], axis=1)

    return np.stack([scores(m) for m in models]), scores("victim"), frame["y_true"].to_numpy()


def check_run_outputs(run_dir: Path, report: dict, beats_majority: bool = True) -> None:
    """Membership, set size, Rashomon Capacity, ambiguity and victim accuracy against the files;
    ``beats_majority``: the victim must beat always guessing the most frequent class (else only
    match it: a 2-epoch victim on 200 German rows predicts the majority class)."""
    table = pd.read_csv(run_dir / "surrogates.csv")
    epsilon = report["rashomon"]["epsilon"]
    members = table["loss"] <= table["loss"].iloc[0] + epsilon  # the membership rule itself
    assert table["in_set"].tolist() == members.tolist()
    m = report["multiplicity"]
    assert m["set_size"] == int(members.sum()) == int(table["in_set"].sum())
    scores, victim, labels = member_scores(run_dir, report)
    assert len(scores) == m["set_size"]
    capacity = rashomon_capacity(scores)
    assert m["rashomon_capacity_mean"] == pytest.approx(capacity.mean(), rel=1e-5)
    assert m["rashomon_capacity_max"] == pytest.approx(capacity.max(), rel=1e-5)
    flips = ambiguity(scores.argmax(-1), victim.argmax(-1))
    assert m["ambiguity_vs_victim"] == pytest.approx(flips, abs=2 / len(labels))
    accuracy = (victim.argmax(-1) == labels).mean()
    assert report["victim"]["accuracy"] == pytest.approx(accuracy, abs=1e-9)
    majority = np.bincount(labels).max() / len(labels)
    if beats_majority:
        assert report["victim"]["accuracy"] > majority  # better than always guessing one class
    else:
        assert report["victim"]["accuracy"] >= majority - 1e-12
