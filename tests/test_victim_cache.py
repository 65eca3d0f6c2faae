"""The victim cache: reuse on a hit, rebuild (never trust) a corrupt or mismatching entry."""

import json
import re
import shlex
from functools import partial

import numpy as np
import pytest
from helpers import ROOT, run_in_process
from omegaconf import OmegaConf

from msmult.data.splits import Splits
from msmult.models.mlp import MLP
from msmult.models.sklearn_classifier import SklearnClassifier
from msmult.models.torch_classifier import TorchClassifier
from msmult.models.victim_cache import cache_key, fit_victim


@pytest.fixture
def splits():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    groups = np.array(["a", "b"] * 50)
    return Splits("toy", x[:200], y[:200], x[:0], x[200:], y[200:], groups, ("0", "1"), "g")


def config(tmp_path, **changes):
    values = {
        "dataset": {"name": "toy"},
        "victim": {"epochs": 3},
        "seed": 0,
        "threads": 1,
        "cache": {"victims": True, "dir": str(tmp_path)},
    }
    return OmegaConf.create({**values, **changes})


def victim(epochs: int = 3) -> TorchClassifier:
    return TorchClassifier(partial(MLP, hidden=(8,)), n_classes=2, epochs=epochs, batch_size=32)


def entry(tmp_path, cfg):
    return tmp_path / "victims" / cache_key(cfg)[0]


def test_second_fit_is_a_hit_with_identical_predictions(tmp_path, splits):
    cfg = config(tmp_path)
    first, how = fit_victim(victim(), splits, cfg)
    assert how == "miss" and (entry(tmp_path, cfg) / "weights.pt").is_file()
    untrained = victim()
    untrained.fit = lambda *args: pytest.fail("a cache hit must not retrain the victim")
    second, how = fit_victim(untrained, splits, cfg)
    assert how == "hit"
    np.testing.assert_array_equal(
        first.predict_proba(splits.x_test), second.predict_proba(splits.x_test)
    )


def test_key_changes_with_dataset_victim_seed_and_threads(tmp_path):
    keys = {
        cache_key(config(tmp_path, **change))[0]
        for change in (
            {},
            {"seed": 1},
            {"threads": 2},
            {"victim": {"epochs": 4}},
            {"dataset": {"name": "other"}},
        )
    }
    assert len(keys) == 5
    assert (
        cache_key(config(tmp_path, cache={"victims": True, "dir": "/elsewhere"}))[0]
        == cache_key(config(tmp_path))[0]
    )


@pytest.mark.parametrize("damage", ["weights", "meta", "probe"])
def test_a_damaged_entry_is_rebuilt(tmp_path, splits, damage, caplog):
    cfg = config(tmp_path)
    trained, _ = fit_victim(victim(), splits, cfg)
    folder = entry(tmp_path, cfg)
    if damage == "weights":
        (folder / "weights.pt").write_bytes(b"not a state dict")
    elif damage == "meta":
        (folder / "meta.json").write_text("{truncated")
    else:
        meta = json.loads((folder / "meta.json").read_text())
        (folder / "meta.json").write_text(json.dumps({**meta, "probe_sha256": "0" * 64}))
    rebuilt, how = fit_victim(victim(), splits, cfg)
    assert how == "miss" and "ignored because" in caplog.text
    np.testing.assert_array_equal(
        trained.predict_proba(splits.x_test), rebuilt.predict_proba(splits.x_test)
    )
    assert fit_victim(victim(), splits, cfg)[1] == "hit"  # the rebuilt entry is valid again


def test_sklearn_victims_and_disabled_cache_are_retrained(tmp_path, splits):
    from sklearn.linear_model import LogisticRegression

    logreg = SklearnClassifier(LogisticRegression(), n_classes=2)
    assert fit_victim(logreg, splits, config(tmp_path))[1] == "off"
    assert (
        fit_victim(
            victim(), splits, config(tmp_path, cache={"victims": False, "dir": str(tmp_path)})
        )[1]
        == "off"
    )
    assert not (tmp_path / "victims").exists()


def test_changed_data_files_change_the_key_and_retrain(tmp_path, splits):
    """Same config, same path, other bytes: the victim is retrained, never reused."""
    from dataclasses import replace

    cfg = config(tmp_path)
    old = replace(splits, data_sha256={"/data/my.csv": "a" * 64})
    new = replace(splits, y_victim=1 - splits.y_victim, data_sha256={"/data/my.csv": "b" * 64})
    assert cache_key(cfg, old.data_sha256)[0] != cache_key(cfg, new.data_sha256)[0]
    assert cache_key(cfg, old.data_sha256)[0] == cache_key(cfg, dict(old.data_sha256))[0]
    first, how = fit_victim(victim(epochs=40), old, cfg)
    assert how == "miss"
    second, how = fit_victim(victim(epochs=40), new, cfg)
    assert how == "miss"  # a hit would serve the victim of the old labels
    flipped = 1 - new.y_test
    assert (second.predict(new.x_test) == flipped).mean() > 0.75  # trained on the new labels
    assert (first.predict(new.x_test) == flipped).mean() < 0.25
    assert fit_victim(victim(epochs=40), old, cfg)[1] == "hit"  # both entries live side by side
    meta = json.loads(
        (tmp_path / "victims" / cache_key(cfg, new.data_sha256)[0] / "meta.json").read_text()
    )
    assert meta["data_sha256"] == {"/data/my.csv": "b" * 64}


def write_csv(path, rows: int = 600, flip: bool = False) -> None:
    """Two numeric features and a category; label = sign of a linear score (``flip`` swaps the
    labels); one missing target, two missing features, one missing group."""
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    positive = (x1 + 0.5 * x2 > 0) != flip
    lines = ["x1,x2,colour,group,label"]
    for i in range(rows):
        a = "" if i in (3, 4) else f"{x1[i]:.4f}"
        group = "" if i == 5 else "ab"[i % 2]
        label = "" if i == 6 else ("yes" if positive[i] else "no")
        lines.append(f"{a},{x2[i]:.4f},{'rgb'[i % 3]},{group},{label}")
    path.write_text("\n".join(lines) + "\n")


def documented_csv_command(path) -> list[str]:
    """The documented CSV example (README or docs), pointed at ``path``: its overrides."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    line = next(
        line
        for page in pages
        for line in page.read_text().splitlines()
        if line.startswith("msmult run dataset=csv")
    )
    assert re.search(r"\bbudget=\d+", line), "the CSV example must set a budget"
    return [arg.replace("my.csv", str(path)) for arg in shlex.split(line)[2:]]


@pytest.mark.e2e
def test_csv_edited_in_place_retrains_the_victim(tmp_path, monkeypatch):
    monkeypatch.setenv("MSMULT_CACHE_DIR", str(tmp_path / "cache"))  # counts hits and misses
    data = tmp_path / "my.csv"
    command = [*documented_csv_command(data), "victim.epochs=20"]
    write_csv(data)
    first = run_in_process(tmp_path / "first", *command)
    assert first["victim"]["cache"] == "miss" and first["victim"]["accuracy"] > 0.75
    missing = first["dataset"]["missing"]
    assert missing["target_rows_dropped"] == 1
    assert sum(missing["feature_values_imputed"].values()) == 2
    assert sum(missing["sensitive_unknown_rows"].values()) == 1
    write_csv(data, flip=True)  # same path, same config, opposite labels
    flipped = run_in_process(tmp_path / "flipped", *command)
    assert flipped["victim"]["cache"] == "miss"  # a stale hit would score about 1 - 0.85
    assert flipped["victim"]["accuracy"] > 0.75
    assert run_in_process(tmp_path / "again", *command)["victim"]["cache"] == "hit"
