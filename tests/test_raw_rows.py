"""The data layer keeps each pool and test row's raw values and the fitted preprocessing, so a
victim msmult did not train receives rows in its own schema."""

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from msmult.attacks.jacobian import project
from msmult.data.adult import AdultDataset
from msmult.data.csv import CsvDataset
from msmult.errors import MsmultError
from msmult.remote import obtain_victim
from tests.http_fakes import small_table


@pytest.fixture(scope="module")
def adult():
    return AdultDataset().load(seed=0)


def test_raw_rows_encode_to_the_model_ready_rows_of_each_split(adult):
    raw = adult.raw
    np.testing.assert_array_equal(raw.encode(raw.victim), adult.x_victim)
    np.testing.assert_array_equal(raw.encode(raw.pool), adult.x_pool)
    np.testing.assert_array_equal(raw.encode(raw.test), adult.x_test)
    assert "income" not in raw.columns  # the target is never a raw input
    assert {"fnlwgt", "education", "sex"} <= set(raw.columns) - set(raw.features)


def test_decoding_gives_back_the_raw_values_of_complete_rows(adult):
    raw = adult.raw
    complete = raw.pool[list(raw.features)].notna().all(axis=1).to_numpy()
    decoded = raw.decode(adult.x_pool[complete])
    expected = raw.pool.loc[complete, list(raw.features)].reset_index(drop=True)
    for column in raw.features:
        if raw.numeric(column):
            np.testing.assert_allclose(decoded[column], expected[column], rtol=1e-5, atol=1e-3)
        else:
            assert decoded[column].tolist() == expected[column].tolist()
    assert decoded["age"].dtype == np.int64  # integer columns stay whole numbers


def test_a_synthesised_row_decodes_to_a_raw_row_that_encodes_back_to_it(adult):
    rng = np.random.default_rng(0)
    x = project(
        adult.x_pool[:50] + rng.normal(scale=0.3, size=adult.x_pool[:50].shape), adult.domain
    )
    again = adult.raw.encode(adult.raw.decode(x))
    blocks = [slice(a, b) for a, b in adult.domain.one_hot_blocks]
    for block in blocks:  # the same categories
        np.testing.assert_array_equal(again[:, block], x[:, block])
    numeric = slice(0, adult.domain.one_hot_blocks[0][0])
    np.testing.assert_allclose(again[:, numeric], x[:, numeric], atol=0.2)  # whole-number rounding


def test_a_csv_without_victim_rows_and_with_its_own_test_file_serves_a_remote_victim(tmp_path):
    table = small_table(300)
    table.iloc[:200].to_csv(tmp_path / "pool.csv", index=False)
    table.iloc[200:].to_csv(tmp_path / "test.csv", index=False)
    data = CsvDataset(
        path=str(tmp_path / "pool.csv"),
        test_path=str(tmp_path / "test.csv"),
        target="label",
        sensitive="group",
        fractions=[0, 1, 0.2],
    )
    splits = data.load(seed=0)
    assert (len(splits.x_victim), len(splits.x_pool), len(splits.x_test)) == (0, 200, 100)
    pd.testing.assert_frame_equal(
        splits.raw.test, table.iloc[200:].drop(columns="label").reset_index(drop=True)
    )
    assert len(splits.data_sha256) == 2
    cfg = OmegaConf.create({"cache": {"victims": False, "dir": str(tmp_path)}})
    with pytest.raises(MsmultError, match="has no victim rows .* victim=remote"):
        obtain_victim(object(), splits, cfg)


def test_a_test_file_with_other_columns_is_refused(tmp_path):
    small_table(100).to_csv(tmp_path / "a.csv", index=False)
    small_table(50).drop(columns="x3").to_csv(tmp_path / "b.csv", index=False)
    data = CsvDataset(
        path=str(tmp_path / "a.csv"),
        test_path=str(tmp_path / "b.csv"),
        target="label",
        sensitive="group",
    )
    with pytest.raises(MsmultError, match="dataset.test_path=.* its columns"):
        data.load(seed=0)


def test_only_a_csv_may_give_the_victim_no_rows():
    with pytest.raises(MsmultError, match="three numbers > 0"):
        CsvDataset(fractions=[0, 0, 1])
    from msmult.data.compas import CompasDataset

    with pytest.raises(MsmultError, match="three numbers > 0"):
        CompasDataset(fractions=[0, 0.8, 0.2])
