"""ProPublica COMPAS two-year recidivism (no-PII file), sensitive attribute race."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from msmult.data.files import verified_path
from msmult.data.splits import Splits
from msmult.data.tabular import prepare_tabular
from msmult.errors import MsmultError

SHA256 = "a5e5c34bfd2d1f065bb12a44c0323421baf74b98b97d585915a0c2e1513ecaba"
FEATURES = [
    "sex",
    "age",
    "race",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "c_charge_degree",
]  # fmt: skip  (COMPAS's own decile_score / score_text are left out: the victim predicts from facts)


def read_compas() -> pd.DataFrame:
    """The file with ProPublica's standard filter (6,172 rows)."""
    frame = pd.read_csv(verified_path("compas", "compas-scores-two-years.nopii.csv", SHA256))
    keep = (
        frame["days_b_screening_arrest"].between(-30, 30)
        & (frame["is_recid"] != -1)
        & (frame["c_charge_degree"] != "O")
        & (frame["score_text"] != "N/A")
    )
    return frame.loc[keep, [*FEATURES, "two_year_recid"]].reset_index(drop=True)


class CompasDataset:
    """Target ``two_year_recid`` (positive = reoffended). ``race_groups``: a list of race values
    to keep (default African-American vs Caucasian, as in ProPublica's analysis) or ``all``."""

    def __init__(
        self,
        sensitive: str = "race",
        race_groups: str | Sequence[str] = ("African-American", "Caucasian"),
        fractions: Sequence[float] = (0.4, 0.4, 0.2),
        sensitive_as_feature: bool = False,
    ) -> None:
        self.sensitive = sensitive
        self.race_groups = race_groups
        self.fractions = tuple(fractions)
        self.sensitive_as_feature = sensitive_as_feature

    def load(self, seed: int) -> Splits:
        frame = read_compas()
        if self.race_groups != "all":
            known = set(frame["race"].unique())
            unknown = [g for g in self.race_groups if g not in known]
            if unknown or isinstance(self.race_groups, str):
                raise MsmultError(
                    f"dataset.race_groups={self.race_groups!r} is not 'all' or a list of races "
                    f"in COMPAS; allowed races: {', '.join(sorted(known))}."
                )
            frame = frame[frame["race"].isin(list(self.race_groups))].reset_index(drop=True)
        return prepare_tabular(
            "compas",
            frame,
            target="two_year_recid",
            sensitive=self.sensitive,
            seed=seed,
            fractions=self.fractions,
            sensitive_as_feature=self.sensitive_as_feature,
            positive_class="1",
        )
