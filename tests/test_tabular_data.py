"""Tabular loaders on the shipped data: checksums, splits, sensitive handling, CSV errors."""

import shutil

import numpy as np
import pandas as pd
import pytest

from msmult.data import files
from msmult.data.adult import AdultDataset
from msmult.data.compas import CompasDataset
from msmult.data.csv import CsvDataset
from msmult.data.german import GermanCreditDataset
from msmult.errors import MsmultError


@pytest.fixture(scope="module")
def adult():
    return AdultDataset().load(seed=0)


def test_adult_uses_the_official_test_file_and_disjoint_halves(adult):
    assert adult.x_test.shape[0] == 16_281
    assert adult.x_victim.shape[0] + adult.x_pool.shape[0] == 32_561
    assert adult.classes == ("<=50K", ">50K") and adult.positive_class == 1
    assert sorted(set(adult.group_test)) == ["Female", "Male"]
    assert (adult.group_test == "Female").sum() == 5_421  # official test file


def test_adult_preprocessing_is_fitted_on_the_victim_split_only(adult):
    # numeric columns are standardised with victim statistics: mean ~0 on victim rows only
    assert np.abs(adult.x_victim[:, 0].mean()) < 1e-5
    assert np.abs(adult.x_pool[:, 0].mean()) > 1e-4


def test_same_seed_same_arrays_other_seed_other_split(adult):
    again = AdultDataset().load(seed=0)
    np.testing.assert_array_equal(adult.x_victim, again.x_victim)
    other = AdultDataset().load(seed=1)
    assert not np.array_equal(adult.y_victim, other.y_victim)


def test_sensitive_attribute_is_not_an_input_unless_configured(adult):
    with_sex = AdultDataset(sensitive_as_feature=True).load(seed=0)
    assert with_sex.x_victim.shape[1] == adult.x_victim.shape[1] + 2  # one-hot Female / Male


def test_compas_keeps_two_races_by_default_or_all():
    two = CompasDataset().load(seed=0)
    assert sorted(set(two.group_test)) == ["African-American", "Caucasian"]
    assert sum(two.info["rows"].values()) == 3_175 + 2_103  # ProPublica filter, two races
    every = CompasDataset(race_groups="all").load(seed=0)
    assert sum(every.info["rows"].values()) == 6_172
    with pytest.raises(MsmultError, match=r"dataset.race_groups=\['Martian'\] is not allowed"):
        CompasDataset(race_groups=["Martian"]).load(seed=0)
    with pytest.raises(MsmultError, match="it must be all or a list of COMPAS races"):
        CompasDataset(race_groups="Caucasian").load(seed=0)


def test_german_sex_or_age_groups():
    by_sex = GermanCreditDataset().load(seed=0)
    assert sorted(set(by_sex.group_test)) == ["female", "male"]
    assert by_sex.classes[by_sex.positive_class] == "good"
    by_age = GermanCreditDataset(sensitive="age").load(seed=0)
    assert sorted(set(by_age.group_test)) == ["age<25", "age>=25"]
    with pytest.raises(MsmultError, match="allowed: sex, age"):
        GermanCreditDataset(sensitive="race")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: AdultDataset(victim_share=1.0), "dataset.victim_share=1.0 is not allowed"),
        (lambda: AdultDataset(drop_columns="fnlwgt"), "dataset.drop_columns='fnlwgt'"),
        (lambda: CompasDataset(fractions=[0.4, 0.6]), r"dataset.fractions=\[0.4, 0.6\]"),
        (lambda: GermanCreditDataset(fractions=[0.5, 0.5, 0]), "three numbers > 0"),
        (lambda: GermanCreditDataset(age_threshold=25.5), "dataset.age_threshold=25.5"),
    ],
)
def test_tabular_config_values_are_checked_on_construction(make, message):
    with pytest.raises(MsmultError, match=message):
        make()


def test_checksum_mismatch_is_a_clear_error(tmp_path, monkeypatch):
    shutil.copytree(files.data_root() / "german_credit", tmp_path / "german_credit")
    with open(tmp_path / "german_credit" / "german.data", "a") as handle:
        handle.write("tampered\n")
    monkeypatch.setattr(files, "data_root", lambda: tmp_path)
    with pytest.raises(MsmultError, match="Checksum mismatch"):
        GermanCreditDataset().load(seed=0)


def write_csv(path, **columns):
    pd.DataFrame(columns).to_csv(path, index=False)
    return str(path)


def test_csv_detects_categoricals_and_multiclass_targets(tmp_path):
    rng = np.random.default_rng(0)
    path = write_csv(
        tmp_path / "toy.csv",
        x=rng.normal(size=300), colour=rng.choice(["red", "blue"], 300),
        group=rng.choice(["a", "b"], 300), label=rng.choice(["lo", "mid", "hi"], 300),
    )  # fmt: skip
    splits = CsvDataset(path=path, target="label", sensitive="group").load(seed=0)
    assert splits.classes == ("hi", "lo", "mid")
    assert splits.x_victim.shape[1] == 1 + 2  # standardised x, one-hot colour; group excluded
    assert len(splits.x_victim) + len(splits.x_pool) + len(splits.x_test) == 300


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"path": "/nonexistent.csv", "target": "y", "sensitive": "g"}, "does not exist"),
        ({"path": None, "target": "y", "sensitive": "g"}, "dataset.path=None is not allowed"),
        ({"target": "nope", "sensitive": "g"}, "dataset.target='nope' is not allowed: allowed"),
        ({"target": "y", "sensitive": "nope"}, "dataset.sensitive='nope' is not allowed"),
        ({"sensitive": "g"}, "dataset.target=None is not allowed: dataset=csv needs a column"),
        ({"target": "y", "sensitive": "g", "positive_class": "2"}, "dataset.positive_class='2'"),
        ({"target": "y", "sensitive": "g", "fractions": [0.5, 0.5]}, "dataset.fractions="),
        ({"target": "y", "sensitive": "g", "drop_columns": "x"}, "dataset.drop_columns='x'"),
        ({"target": "y", "sensitive": "one"}, "has a single group"),
        ({"target": "one", "sensitive": "g"}, "has a single class"),
    ],
)
def test_csv_bad_input(tmp_path, kwargs, message):
    path = write_csv(
        tmp_path / "t.csv", x=[1, 2, 3, 4], y=[0, 1, 0, 1], g=list("abab"), one=["z"] * 4
    )
    with pytest.raises(MsmultError, match=message):
        CsvDataset(**{"path": path, **kwargs}).load(seed=0)


def test_unreadable_csv(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00\x00" * 100)
    with pytest.raises(MsmultError, match="could not be read"):
        CsvDataset(path=str(path), target="y", sensitive="g").load(seed=0)
