"""Tabular loaders on the shipped data: checksums, splits, sensitive handling, CSV errors."""

import shutil

import numpy as np
import pandas as pd
import pytest

from msmult.data import files
from msmult.data.adult import TRAIN_SHA256, AdultDataset, read_adult
from msmult.data.compas import CompasDataset
from msmult.data.csv import CsvDataset
from msmult.data.german import GermanCreditDataset
from msmult.data.splits import three_way_split
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
    # every training row lands in exactly one half: the halves' label counts add up to the
    # file's (a half drawn with replacement, or rows in both halves, would not)
    train = read_adult("adult.data", TRAIN_SHA256, skiprows=0)
    positives = int(train["income"].str.strip().eq(">50K").sum())
    assert positives == 7_841
    assert int((adult.y_victim == 1).sum() + (adult.y_pool == 1).sum()) == positives


@pytest.mark.parametrize("fractions", [(0.5, 0.5, 0.0), (0.4, 0.35, 0.25)])
def test_three_way_split_is_disjoint_and_covers_every_row(fractions):
    parts = three_way_split(101, fractions, seed=3)
    joined = np.concatenate(parts)
    assert sorted(joined.tolist()) == list(range(101))  # disjoint and complete
    assert [len(p) for p in parts[:2]] == [round(101 * f / sum(fractions)) for f in fractions[:2]]


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
        x=rng.normal(size=300),
        colour=rng.choice(["red", "blue"], 300),
        group=rng.choice(["a", "b"], 300),
        label=rng.choice(["lo", "mid", "hi"], 300),
    )
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


# --- sensitive column out of the inputs, groups, missing values, data hashes -----------


def shuffled(column: pd.Series, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).permutation(column.to_numpy())


@pytest.mark.parametrize("dataset", ["adult_race", "compas", "german_sex", "german_age"])
def test_the_sensitive_column_is_not_an_input(monkeypatch, dataset):
    """Shuffling the sensitive column (and its source column) changes the groups but not one
    input value: the models never see it."""
    from msmult.data import adult as adult_module
    from msmult.data import compas as compas_module
    from msmult.data import german as german_module

    if dataset == "adult_race":
        make, module, reader = lambda: AdultDataset(sensitive="race"), adult_module, "read_adult"

        def tamper(frame):
            return frame.assign(race=shuffled(frame["race"]))
    elif dataset == "compas":
        make, module, reader = CompasDataset, compas_module, "read_compas"

        def tamper(frame):
            two = frame["race"].isin(["African-American", "Caucasian"])
            frame = frame.copy()
            frame.loc[two, "race"] = shuffled(frame.loc[two, "race"])
            return frame
    else:
        by = dataset.split("_")[1]
        make, module, reader = (
            lambda: GermanCreditDataset(sensitive=by),
            german_module,
            "read_german",
        )
        source, derived = ("A9", "sex") if by == "sex" else ("A13", "age_group")

        def tamper(frame):
            order = np.random.default_rng(1).permutation(len(frame))
            return frame.assign(
                **{
                    source: frame[source].to_numpy()[order],
                    derived: frame[derived].to_numpy()[order],
                }
            )

    honest = make().load(seed=0)
    original = getattr(module, reader)
    monkeypatch.setattr(module, reader, lambda *a, **k: tamper(original(*a, **k)))
    tampered = make().load(seed=0)
    assert not np.array_equal(honest.group_test, tampered.group_test)
    for split in ("x_victim", "x_pool", "x_test"):
        np.testing.assert_array_equal(getattr(honest, split), getattr(tampered, split))


def test_loaders_record_the_sha256_of_every_file_they_read(tmp_path):
    assert set(AdultDataset().load(seed=0).data_sha256) == {"adult/adult.data", "adult/adult.test"}
    german = GermanCreditDataset().load(seed=0)
    assert german.data_sha256 == {
        "german_credit/german.data": files.sha256_of(
            files.data_root() / "german_credit" / "german.data"
        )
    }
    path = write_csv(tmp_path / "t.csv", x=range(20), y=[0, 1] * 10, g=list("ab") * 10)
    before = CsvDataset(path=path, target="y", sensitive="g").load(seed=0).data_sha256
    write_csv(tmp_path / "t.csv", x=range(20), y=[1, 0] * 10, g=list("ab") * 10)
    after = CsvDataset(path=path, target="y", sensitive="g").load(seed=0).data_sha256
    assert list(before) == list(after) == [str(tmp_path / "t.csv")] and before != after


def test_missing_values_are_counted_dropped_imputed_or_left_out_of_groups(tmp_path):
    n = 100
    x = [float(i) for i in range(n)]
    x[10] = x[11] = None  # two missing numbers
    colour = ["red", "blue"] * (n // 2)
    colour[12] = None  # one missing category
    group = list("ab") * (n // 2)
    group[13] = None  # kept, in no group
    label = [0, 1] * (n // 2)
    label[14] = label[15] = None  # dropped
    path = write_csv(tmp_path / "m.csv", x=x, colour=colour, g=group, y=label)
    splits = CsvDataset(path=path, target="y", sensitive="g").load(seed=0)
    missing = splits.info["missing"]
    assert missing["target_rows_dropped"] == 2
    assert sum(missing["feature_values_imputed"].values()) == 3
    assert sum(missing["sensitive_unknown_rows"].values()) == 1
    assert len(splits.x_victim) + len(splits.x_pool) + len(splits.x_test) == n - 2
    assert not np.isnan(splits.x_victim).any() and not np.isnan(splits.x_test).any()
    unknown = (splits.group_test == "").sum() + (splits.group_pool == "").sum()
    assert (
        unknown
        == missing["sensitive_unknown_rows"]["test"] + missing["sensitive_unknown_rows"]["pool"]
    )


def test_imputation_is_fitted_on_the_victim_rows(tmp_path):
    """The median filling a missing test value is the victim split's, not the whole file's."""
    n = 200
    x = np.arange(n, dtype=float)
    path = write_csv(tmp_path / "v.csv", x=x, g=list("ab") * (n // 2), y=[0, 1] * (n // 2))
    data = CsvDataset(path=path, target="y", sensitive="g", fractions=[0.5, 0.25, 0.25])
    from msmult.data.splits import three_way_split

    victim, _, test = three_way_split(n, (0.5, 0.25, 0.25), 0)
    x_missing = x.copy()
    x_missing[test[0]] = np.nan
    write_csv(tmp_path / "v.csv", x=x_missing, g=list("ab") * (n // 2), y=[0, 1] * (n // 2))
    splits = data.load(seed=0)
    scaled_median = (np.median(x[victim]) - x[victim].mean()) / x[victim].std()
    assert splits.x_test[0, 0] == pytest.approx(scaled_median, abs=1e-5)


def test_too_many_groups_are_refused_with_a_bins_hint_and_bins_make_groups(tmp_path):
    ages = [18 + (i * 7) % 60 for i in range(120)]
    path = write_csv(tmp_path / "a.csv", x=range(120), age=ages, y=[0, 1] * 60)
    with pytest.raises(
        MsmultError,
        match=r"dataset.sensitive='age' has 60 distinct values, more "
        r"than dataset.max_groups=10.*dataset.sensitive_bins=\[",
    ):
        CsvDataset(path=path, target="y", sensitive="age").load(seed=0)
    splits = CsvDataset(path=path, target="y", sensitive="age", sensitive_bins=[25, 60]).load(0)
    assert set(splits.group_test) | set(splits.group_pool) == {"< 25", "[25, 60)", ">= 60"}
    expected = ["< 25" if a < 25 else "[25, 60)" if a < 60 else ">= 60" for a in ages]
    from msmult.data.splits import three_way_split

    _, pool, test = three_way_split(120, (0.4, 0.4, 0.2), 0)
    assert list(splits.group_test) == [expected[i] for i in test]
    assert splits.x_victim.shape[1] == 1  # the age column is not an input
    many = CsvDataset(path=path, target="y", sensitive="age", max_groups=60).load(seed=0)
    assert len(set(many.group_test) | set(many.group_pool)) > 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_groups": 1}, "dataset.max_groups=1 is not allowed"),
        ({"max_groups": "ten"}, "dataset.max_groups='ten' is not allowed"),
        ({"sensitive_bins": [60, 25]}, "strictly increasing"),
        ({"sensitive_bins": []}, r"dataset.sensitive_bins=\[\] is not allowed"),
        ({"sensitive_bins": "25"}, "dataset.sensitive_bins='25' is not allowed"),
        ({"sensitive_as_feature": "yes"}, "dataset.sensitive_as_feature='yes' is not allowed"),
    ],
)
def test_group_options_are_checked_on_construction(kwargs, message):
    with pytest.raises(MsmultError, match=message):
        CsvDataset(path="x.csv", target="y", sensitive="g", **kwargs)
