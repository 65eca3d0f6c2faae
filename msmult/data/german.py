"""Statlog German credit: good / bad credit risk, sensitive attribute sex or age group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from msmult.data.files import shipped_hashes, verified_path
from msmult.data.options import check_fractions
from msmult.data.splits import Splits
from msmult.data.tabular import prepare_tabular
from msmult.validation import choice, flag, whole

SHA256 = "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871"
COLUMNS = [f"A{i}" for i in range(1, 21)] + ["credit"]
STATUS_SEX = {"A91": "male", "A92": "female", "A93": "male", "A94": "male", "A95": "female"}


def read_german(age_threshold: int) -> pd.DataFrame:
    """Codebook columns A1..A20 (german.doc), label 1 good / 2 bad, derived sex and age group."""
    path = verified_path("german_credit", "german.data", SHA256)
    frame = pd.read_csv(path, sep=" ", header=None, names=COLUMNS)
    frame["credit"] = frame["credit"].map({1: "good", 2: "bad"})
    frame["sex"] = frame["A9"].map(STATUS_SEX)
    frame["age_group"] = frame["A13"].map(
        lambda age: f"age>={age_threshold}" if age >= age_threshold else f"age<{age_threshold}"
    )
    return frame


@dataclass
class GermanCreditDataset:
    """``sensitive``: ``sex`` (from attribute 9, personal status and sex, which is then dropped
    from the inputs) or ``age`` (attribute 13 split at ``age_threshold``, dropped from the inputs).
    Positive class is ``good`` credit (the favourable outcome)."""

    sensitive: str = "sex"
    age_threshold: int = 25
    fractions: Sequence[float] = (0.4, 0.4, 0.2)
    sensitive_as_feature: bool = False

    def __post_init__(self) -> None:
        choice("dataset.sensitive", self.sensitive, ("sex", "age"))
        self.age_threshold = whole(
            "dataset.age_threshold", self.age_threshold, 0, example="dataset.age_threshold=25"
        )
        self.fractions = check_fractions(self.fractions)
        self.sensitive_as_feature = flag("dataset.sensitive_as_feature", self.sensitive_as_feature)

    def load(self, seed: int) -> Splits:
        column, source, other = (
            ("sex", "A9", "age_group") if self.sensitive == "sex" else ("age_group", "A13", "sex")
        )
        return prepare_tabular(
            "german",
            read_german(self.age_threshold),
            target="credit",
            sensitive=column,
            seed=seed,
            fractions=self.fractions,
            sensitive_as_feature=self.sensitive_as_feature,
            drop_columns=[other] + ([] if self.sensitive_as_feature else [source]),
            positive_class="good",
            data_sha256=shipped_hashes("german_credit", ("german.data", SHA256)),
        )
