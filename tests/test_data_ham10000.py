"""HAM10000 loader: checksums, shapes, disjoint splits, groups and counts from PROVENANCE.md."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import msmult.data.files as files
from msmult.data.ham10000 import DIAGNOSES, FOLDER, Ham10000Dataset
from msmult.errors import MsmultError


@pytest.fixture(scope="module")
def splits():
    return Ham10000Dataset().load(seed=0)


def row_keys(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in x}


def test_shapes_dtypes_and_sizes(splits):
    assert splits.name == "ham10000"
    assert splits.classes == DIAGNOSES and splits.n_classes == 7
    assert splits.classes[splits.positive_class] == "mel"
    for x in (splits.x_victim, splits.x_pool, splits.x_test):
        assert x.dtype == np.float32 and x.shape[1:] == (3, 28, 28)
    # test = shipped test (1,191) + val (620); the shipped train split (4,173) halves
    assert len(splits.x_test) == len(splits.y_test) == len(splits.group_test) == 1811
    assert len(splits.x_victim) == 2086 and len(splits.x_pool) == 2087
    assert splits.y_victim.dtype == np.int64 and set(np.unique(splits.y_victim)) == set(range(7))


def test_standardised_on_victim_split_only(splits):
    mean = splits.x_victim.mean(axis=(0, 2, 3))
    std = splits.x_victim.std(axis=(0, 2, 3))
    np.testing.assert_allclose(mean, 0, atol=1e-3)
    np.testing.assert_allclose(std, 1, atol=1e-3)
    assert np.abs(splits.x_test.mean(axis=(0, 2, 3))).max() > 1e-3  # not refitted on test


def test_splits_are_disjoint(splits):
    victim, pool, test = (row_keys(x) for x in (splits.x_victim, splits.x_pool, splits.x_test))
    assert len(victim) + len(pool) + len(test) == 5984  # no image repeated anywhere
    assert not (victim & pool or victim & test or pool & test)


def test_counts_match_provenance():
    test_part = Ham10000Dataset(test_splits=["test", "val"]).load(seed=0).info
    train_part = Ham10000Dataset(test_splits=["train"]).load(seed=0).info
    both = [test_part, train_part]
    dx = {c: sum(p["class_counts_test"][c] for p in both) for c in DIAGNOSES}
    assert dx == {
        "nv": 4323,
        "bkl": 583,
        "mel": 491,
        "bcc": 264,
        "akiec": 183,
        "vasc": 80,
        "df": 60,
    }
    sex = {g: sum(p["group_counts_test"][g] for p in both) for g in ("male", "female", "unknown")}
    assert sex == {"male": 3211, "female": 2737, "unknown": 36}
    assert test_part["n_test"] == 1191 + 620 and train_part["n_test"] == 4173


def test_malignant_task_and_age_groups():
    splits = Ham10000Dataset(task="malignant", sensitive="age", age_threshold=60).load(seed=0)
    assert splits.classes == ("benign", "malignant") and splits.positive_class == 1
    assert splits.sensitive == "age"
    assert set(splits.group_test) == {"age>=60", "age<60", ""}
    full = Ham10000Dataset(task="malignant", test_splits=["train"]).load(seed=0).info
    rest = Ham10000Dataset(task="malignant").load(seed=0).info
    assert full["class_counts_test"]["malignant"] + rest["class_counts_test"]["malignant"] == 938


def test_sex_groups(splits):
    assert set(splits.group_test) == {"male", "female", ""}
    assert splits.info["group_counts_test"] == {"female": 822, "male": 979, "unknown": 10}


def test_same_seed_same_arrays_other_seed_other_division(splits):
    again = Ham10000Dataset().load(seed=0)
    for name in ("x_victim", "y_victim", "x_pool", "x_test", "y_test", "group_test"):
        np.testing.assert_array_equal(getattr(again, name), getattr(splits, name))
    other = Ham10000Dataset().load(seed=1)
    assert row_keys(other.x_victim) != row_keys(splits.x_victim)
    np.testing.assert_array_equal(other.y_test, splits.y_test)  # the test set is fixed


def test_pool_augment_adds_seeded_transformed_copies():
    base = Ham10000Dataset(subsample=0.2).load(seed=3)
    augmented = Ham10000Dataset(subsample=0.2, pool_augment=2).load(seed=3)
    n = len(base.x_pool)
    assert augmented.x_pool.shape == (3 * n, 3, 28, 28)
    np.testing.assert_array_equal(augmented.x_pool[:n], base.x_pool)
    np.testing.assert_array_equal(augmented.x_victim, base.x_victim)
    copies = augmented.x_pool[n:].reshape(2, n, 3, 28, 28)
    assert not np.any(np.all(copies == base.x_pool[None], axis=(2, 3, 4)))  # each copy changed
    again = Ham10000Dataset(subsample=0.2, pool_augment=2).load(seed=3)
    np.testing.assert_array_equal(again.x_pool, augmented.x_pool)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"task": "segmentation"},
        {"sensitive": "race"},
        {"positive_class": "melanoma"},
        {"task": "malignant", "positive_class": "mel"},
        {"victim_share": 1.0},
        {"test_splits": ["holdout"]},
        {"test_splits": ["train", "val", "test"]},
        {"pool_augment": -1},
        {"subsample": 0},
        {"age_threshold": "sixty"},
        {"min_hmnist_corr": "high"},
    ],
)
def test_bad_config_values_raise(kwargs):
    with pytest.raises(MsmultError):
        Ham10000Dataset(**kwargs)


@pytest.fixture
def shipped_copy(tmp_path: Path, monkeypatch):
    """A writable copy of the shipped HAM10000 folder that the loader reads instead."""
    shutil.copytree(files.data_root() / FOLDER, tmp_path / FOLDER)
    monkeypatch.setattr(files, "data_root", lambda: tmp_path)
    return tmp_path / FOLDER


def test_corrupted_file_raises_checksum_error(shipped_copy):
    meta = shipped_copy / "ham10000_28x28_meta.csv"
    meta.write_text(meta.read_text().replace("female", "Female", 1))
    with pytest.raises(MsmultError, match="Checksum mismatch"):
        Ham10000Dataset().load(seed=0)


def test_missing_file_raises(shipped_copy):
    (shipped_copy / "ham10000_28x28_rgb.npz").unlink()
    with pytest.raises(MsmultError, match="missing"):
        Ham10000Dataset().load(seed=0)
