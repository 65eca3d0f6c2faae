"""Davidson tweets + HateCheck loader: checksums, shapes, disjoint splits, dialect groups, labels.

No tweet or test-case text is printed or compared in assertion messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import msmult.data.davidson as davidson
import msmult.data.files as files
from msmult.data.davidson import DavidsonDataset
from msmult.errors import MsmultError


@pytest.fixture(scope="module")
def splits():
    return DavidsonDataset().load(seed=0)


def test_shapes_dtypes_and_sizes(splits):
    assert splits.name == "davidson"
    assert splits.classes == ("hate", "offensive", "neither")
    assert splits.classes[splits.positive_class] == "hate"
    for x in (splits.x_victim, splits.x_pool, splits.x_test):
        assert x.dtype == np.int64 and x.shape[1] == 64
        assert x.min() >= 0 and x.max() < 2**15  # the default n_buckets
    assert (len(splits.x_victim), len(splits.x_pool), len(splits.x_test)) == (9913, 9913, 4957)
    assert len(splits.y_test) == len(splits.group_test) == 4957


def test_splits_are_disjoint_and_cover_all_rows(monkeypatch):
    # replace the tokenizer by "row position + 1" so each x row names the tweet it came from
    monkeypatch.setattr(
        davidson, "hash_ids", lambda texts, *_: np.arange(1, len(texts) + 1)[:, None]
    )
    splits = DavidsonDataset(hatecheck=False).load(seed=0)
    victim, pool, test = (set(x[:, 0]) for x in (splits.x_victim, splits.x_pool, splits.x_test))
    assert not (victim & pool or victim & test or pool & test)
    assert victim | pool | test == set(range(1, 24784))


def test_joined_counts_match_provenance():
    frame = DavidsonDataset().read()
    assert len(frame) == 24783
    assert frame["class"].value_counts().to_dict() == {1: 19190, 2: 4163, 0: 1430}
    groups = frame["aae_vs_white"].value_counts().to_dict()
    assert groups == {"aae": 15660, "white_aligned": 9120, "unknown": 3}


def test_dialect_groups_and_note(splits):
    assert set(splits.group_test) <= {"aae", "white_aligned", ""}
    counts = splits.info["group_counts_test"]
    assert counts["aae"] + counts["white_aligned"] + counts.get("unknown", 0) == 4957
    assert splits.sensitive == "aae_vs_white"
    assert "inferred dialect, not author race" in splits.info["group_note"]
    assert "inferred dialect, not author race" in DavidsonDataset.__doc__


def test_binary_task_maps_offensive_and_hate_together(splits):
    binary = DavidsonDataset(task="binary").load(seed=0)
    assert binary.classes == ("neither", "offensive_or_hate") and binary.positive_class == 1
    np.testing.assert_array_equal(binary.x_test, splits.x_test)
    np.testing.assert_array_equal(binary.y_test, (splits.y_test != 2).astype(np.int64))
    hc = binary.extra_eval["hatecheck"]
    np.testing.assert_array_equal(hc.y, (splits.extra_eval["hatecheck"].y == 0).astype(np.int64))


def test_hatecheck_eval_set(splits):
    hc = splits.extra_eval["hatecheck"]
    assert hc.x.shape == (3728, 64) and hc.x.dtype == np.int64
    assert hc.sensitive == "target_ident"
    assert np.bincount(hc.y, minlength=3).tolist() == [2563, 0, 1165]  # hateful -> hate
    counts = pd.Series(hc.group).value_counts().to_dict()
    assert counts == {
        "gay people": 551,
        "women": 509,
        "disabled people": 484,
        "Muslims": 484,
        "black people": 482,
        "trans people": 463,
        "immigrants": 463,
        "": 292,
    }
    assert DavidsonDataset(hatecheck=False).load(seed=0).extra_eval == {}


def test_same_seed_same_arrays(splits):
    again = DavidsonDataset().load(seed=0)
    for name in ("x_victim", "y_victim", "x_pool", "x_test", "y_test", "group_test"):
        np.testing.assert_array_equal(getattr(again, name), getattr(splits, name))
    other = DavidsonDataset(hatecheck=False).load(seed=1)
    assert not np.array_equal(other.y_test, splits.y_test)


def test_no_text_leaves_the_loader(splits):
    tweets = DavidsonDataset().read()["tweet"].head(300)
    blob = repr(splits.info) + repr(splits.group_test.tolist())
    found = sum(t in blob for t in tweets if len(t) > 20)
    assert found == 0
    for x in (splits.x_victim, splits.x_pool, splits.x_test, splits.extra_eval["hatecheck"].x):
        assert np.issubdtype(x.dtype, np.integer)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"task": "5class"},
        {"sensitive": "race"},
        {"positive_class": "offensive_or_hate"},
        {"task": "binary", "positive_class": "hate"},
        {"fractions": [0.5, 0.5]},
        {"fractions": [0.5, 0.5, 0.0]},
        {"subsample": 1.5},
    ],
)
def test_bad_config_values_raise(kwargs):
    with pytest.raises(MsmultError):
        DavidsonDataset(**kwargs)


@pytest.fixture
def shipped_copy(tmp_path: Path, monkeypatch):
    """Writable copies of the shipped Davidson and HateCheck folders, read instead of them."""
    for folder in (davidson.FOLDER, davidson.HATECHECK_FOLDER):
        shutil.copytree(files.data_root() / folder, tmp_path / folder)
    monkeypatch.setattr(files, "data_root", lambda: tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "folder, name",
    [
        (davidson.FOLDER, "dialect_twitteraae.csv"),
        (davidson.FOLDER, "labeled_data.csv"),
        (davidson.HATECHECK_FOLDER, "test_suite_cases.csv"),
    ],
)
def test_corrupted_file_raises_checksum_error(shipped_copy, folder, name):
    path = shipped_copy / folder / name
    data = bytearray(path.read_bytes())
    data[-2] ^= 1  # flip one bit near the end
    path.write_bytes(bytes(data))
    with pytest.raises(MsmultError, match="Checksum mismatch"):
        DavidsonDataset().load(seed=0)
