"""Any CSV file: ``dataset=csv dataset.path=FILE dataset.target=COL dataset.sensitive=COL``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from msmult.data.splits import Splits
from msmult.data.tabular import prepare_tabular
from msmult.errors import MsmultError


def read_csv(path: str | None) -> pd.DataFrame:
    if not path:
        raise MsmultError(
            "dataset=csv needs dataset.path=FILE (a CSV file with a header row), plus "
            "dataset.target=COLUMN and dataset.sensitive=COLUMN."
        )
    file = Path(path).expanduser()
    if not file.is_file():
        raise MsmultError(
            f"dataset.path={path!r} does not exist or is not a file; give a CSV file."
        )
    try:
        frame = pd.read_csv(file)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise MsmultError(
            f"dataset.path={path!r} could not be read as a CSV file ({err}). Give a readable "
            "comma-separated file with a header row."
        ) from None
    return frame


class CsvDataset:
    """Categorical columns are detected by dtype (text, booleans); the target may have two or
    more classes. Rows are split by ``fractions`` into victim / attacker pool / test."""

    def __init__(
        self,
        path: str | None = None,
        target: str | None = None,
        sensitive: str | None = None,
        positive_class: str | None = None,
        fractions: Sequence[float] = (0.4, 0.4, 0.2),
        sensitive_as_feature: bool = False,
        drop_columns: Sequence[str] = (),
    ) -> None:
        self.path = path
        self.target = target
        self.sensitive = sensitive
        self.positive_class = positive_class
        self.fractions = tuple(fractions)
        self.sensitive_as_feature = sensitive_as_feature
        self.drop_columns = tuple(drop_columns)

    def load(self, seed: int) -> Splits:
        frame = read_csv(self.path)
        for role, value in (("target", self.target), ("sensitive", self.sensitive)):
            if not value:
                raise MsmultError(
                    f"dataset=csv needs dataset.{role}=COLUMN; columns of {self.path}: "
                    f"{', '.join(map(str, frame.columns))}."
                )
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
        )
