"""UCI Adult (Census Income): income > 50K, sensitive attribute sex (or race)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from msmult.data.files import shipped_hashes, verified_path
from msmult.data.options import victim_share
from msmult.data.sensitive import GroupOptions
from msmult.data.splits import Splits
from msmult.data.tabular import prepare_tabular
from msmult.validation import as_list

COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]
TRAIN_SHA256 = "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d"
TEST_SHA256 = "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05"


def read_adult(name: str, sha256: str, skiprows: int) -> pd.DataFrame:
    path = verified_path("adult", name, sha256)
    frame = pd.read_csv(
        path, header=None, names=COLUMNS, skipinitialspace=True, na_values="?", skiprows=skiprows
    )
    frame = frame.dropna(subset=["income"])
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


@dataclass
class AdultDataset(GroupOptions):
    """Victim-train and attacker pool are disjoint parts of ``adult.data`` (``victim_share`` for
    the victim); the test split is the official ``adult.test`` (16,281 rows)."""

    sensitive: str = "sex"
    victim_share: float = 0.5
    drop_columns: Sequence[str] = ("fnlwgt", "education")

    def __post_init__(self) -> None:
        self.victim_share = victim_share(self.victim_share)
        self.drop_columns = tuple(as_list("dataset.drop_columns", self.drop_columns))
        self.check_group_options()

    def load(self, seed: int) -> Splits:
        return prepare_tabular(
            "adult",
            read_adult("adult.data", TRAIN_SHA256, skiprows=0),
            target="income",
            sensitive=self.sensitive,
            seed=seed,
            fractions=(self.victim_share, 1 - self.victim_share, 0.0),
            test_frame=read_adult("adult.test", TEST_SHA256, skiprows=1),
            sensitive_as_feature=self.sensitive_as_feature,
            drop_columns=self.drop_columns,
            positive_class=">50K",
            groups=self,
            data_sha256=shipped_hashes(
                "adult", ("adult.data", TRAIN_SHA256), ("adult.test", TEST_SHA256)
            ),
        )
