"""ProPublica COMPAS two-year recidivism (no-PII file), sensitive attribute race."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from msmult.data.files import shipped_hashes, verified_path
from msmult.data.options import check_fractions
from msmult.data.sensitive import GroupOptions
from msmult.data.splits import Splits
from msmult.data.tabular import prepare_tabular
from msmult.validation import bad_value, choices

FILE = "compas-scores-two-years.nopii.csv"
SHA256 = "a5e5c34bfd2d1f065bb12a44c0323421baf74b98b97d585915a0c2e1513ecaba"
# COMPAS's own decile_score / score_text are left out: the victim predicts from facts.
FEATURES = [
    "sex",
    "age",
    "race",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "c_charge_degree",
]


def read_compas() -> pd.DataFrame:
    """The file with ProPublica's standard filter (6,172 rows)."""
    frame = pd.read_csv(verified_path("compas", FILE, SHA256))
    keep = (
        frame["days_b_screening_arrest"].between(-30, 30)
        & (frame["is_recid"] != -1)
        & (frame["c_charge_degree"] != "O")
        & (frame["score_text"] != "N/A")
    )
    return frame.loc[keep, [*FEATURES, "two_year_recid"]].reset_index(drop=True)


@dataclass
class CompasDataset(GroupOptions):
    """Target ``two_year_recid`` (positive = reoffended). ``race_groups``: a list of race values
    to keep (default African-American vs Caucasian, as in ProPublica's analysis) or ``all``."""

    sensitive: str = "race"
    race_groups: str | Sequence[str] = ("African-American", "Caucasian")
    fractions: Sequence[float] = (0.4, 0.4, 0.2)

    def __post_init__(self) -> None:
        self.fractions = check_fractions(self.fractions)
        self.check_group_options()

    def load(self, seed: int) -> Splits:
        frame = read_compas()
        if self.race_groups != "all":
            races = sorted(frame["race"].unique())
            if isinstance(self.race_groups, str):
                raise bad_value(
                    "dataset.race_groups",
                    self.race_groups,
                    f"it must be all or a list of COMPAS races ({', '.join(races)})",
                    "dataset.race_groups=[African-American,Caucasian]",
                )
            groups = choices("dataset.race_groups", self.race_groups, races)
            frame = frame[frame["race"].isin(groups)].reset_index(drop=True)
        return prepare_tabular(
            "compas",
            frame,
            target="two_year_recid",
            sensitive=self.sensitive,
            seed=seed,
            fractions=self.fractions,
            sensitive_as_feature=self.sensitive_as_feature,
            positive_class="1",
            groups=self,
            data_sha256=shipped_hashes("compas", (FILE, SHA256)),
        )
