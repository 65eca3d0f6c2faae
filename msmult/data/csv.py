"""Any CSV file: ``dataset=csv dataset.path=FILE dataset.target=COL dataset.sensitive=COL``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from msmult.data.options import check_fractions
from msmult.data.sensitive import GroupOptions
from msmult.data.splits import Splits
from msmult.data.tabular import prepare_tabular
from msmult.errors import MsmultError
from msmult.fileio import sha256_of
from msmult.validation import as_list, bad_value


def read_csv(path: str | None) -> pd.DataFrame:
    if not path or not Path(path).expanduser().is_file():
        missing = " (this one does not exist)" if path else ""
        allowed = f"dataset=csv needs an existing CSV file with a header row{missing}"
        raise bad_value("dataset.path", path, allowed, "dataset.path=data/my.csv")
    try:
        frame = pd.read_csv(Path(path).expanduser())
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise MsmultError(
            f"dataset.path={path!r} could not be read as a CSV file ({err}). Give a readable "
            "comma-separated file with a header row."
        ) from None
    return frame


@dataclass
class CsvDataset(GroupOptions):
    """Categorical columns are detected by dtype (text, booleans); the target may have two or
    more classes. Rows are split by ``fractions`` into victim / attacker pool / test. The file's
    sha256 is recorded (victim cache key): editing the file retrains the victim."""

    path: str | None = None
    target: str | None = None
    sensitive: str | None = None
    positive_class: str | None = None
    fractions: Sequence[float] = (0.4, 0.4, 0.2)
    drop_columns: Sequence[str] = ()

    def __post_init__(self) -> None:
        self.fractions = check_fractions(self.fractions)
        self.drop_columns = tuple(as_list("dataset.drop_columns", self.drop_columns))
        self.check_group_options()

    def load(self, seed: int) -> Splits:
        frame = read_csv(self.path)
        columns = list(map(str, frame.columns))
        for role, value in (("target", self.target), ("sensitive", self.sensitive)):
            if not value:
                allowed = f"dataset=csv needs a column of {self.path} ({', '.join(columns)})"
                raise bad_value(f"dataset.{role}", value, allowed, f"dataset.{role}={columns[-1]}")
        return prepare_tabular(
            Path(self.path).stem,
            frame,
            target=self.target,
            sensitive=self.sensitive,
            seed=seed,
            fractions=self.fractions,
            sensitive_as_feature=self.sensitive_as_feature,
            drop_columns=self.drop_columns,
            positive_class=self.positive_class,
            info={"path": str(Path(self.path).resolve())},
            groups=self,
            data_sha256={
                str(Path(self.path).expanduser().resolve()): sha256_of(Path(self.path).expanduser())
            },
        )
