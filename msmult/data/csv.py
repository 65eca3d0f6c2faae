"""Any CSV file: ``dataset=csv dataset.path=FILE dataset.target=COL dataset.sensitive=COL``, and
optionally a labelled test file ``dataset.test_path``."""

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


def read_csv(path: str | None, key: str = "dataset.path") -> pd.DataFrame:
    if not path or not Path(path).expanduser().is_file():
        missing = " (this one does not exist)" if path else ""
        allowed = f"dataset=csv needs an existing CSV file with a header row{missing}"
        raise bad_value(key, path, allowed, f"{key}=data/my.csv")
    try:
        frame = pd.read_csv(Path(path).expanduser())
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise MsmultError(
            f"{key}={path!r} could not be read as a CSV file ({err}). Give a readable "
            "comma-separated file with a header row."
        ) from None
    return frame


@dataclass
class CsvDataset(GroupOptions):
    """Categorical columns are detected by dtype (text, booleans); the target may have two or
    more classes. Rows are split by ``fractions`` into victim / attacker pool / test; with
    ``test_path`` (a second file with the same columns) that file is the test split and the rows
    of ``path`` are shared between victim and pool as ``fractions[0]:fractions[1]``. The victim's
    share may be 0 (``victim=remote``: the attacker's pool and a labelled test set, nothing to
    train). Each file's sha256 is recorded (victim cache key): editing a file retrains the
    victim."""

    path: str | None = None
    target: str | None = None
    sensitive: str | None = None
    positive_class: str | None = None
    fractions: Sequence[float] = (0.4, 0.4, 0.2)
    drop_columns: Sequence[str] = ()
    test_path: str | None = None

    def __post_init__(self) -> None:
        self.fractions = check_fractions(self.fractions, victim_may_be_empty=True)
        self.drop_columns = tuple(as_list("dataset.drop_columns", self.drop_columns))
        self.check_group_options()

    def load(self, seed: int) -> Splits:
        frame = read_csv(self.path)
        test = None if self.test_path is None else read_csv(self.test_path, "dataset.test_path")
        columns = list(map(str, frame.columns))
        for role, value in (("target", self.target), ("sensitive", self.sensitive)):
            if not value:
                allowed = f"dataset=csv needs a column of {self.path} ({', '.join(columns)})"
                raise bad_value(f"dataset.{role}", value, allowed, f"dataset.{role}={columns[-1]}")
        if test is not None and sorted(map(str, test.columns)) != sorted(columns):
            raise bad_value(
                "dataset.test_path",
                self.test_path,
                f"its columns ({', '.join(map(str, test.columns))}) must be those of "
                f"dataset.path ({', '.join(columns)})",
            )
        files = [self.path] + ([] if self.test_path is None else [self.test_path])
        return prepare_tabular(
            Path(self.path).stem,
            frame,
            target=self.target,
            sensitive=self.sensitive,
            seed=seed,
            fractions=self.fractions if test is None else (*self.fractions[:2], 0.0),
            test_frame=None if test is None else test[frame.columns],
            sensitive_as_feature=self.sensitive_as_feature,
            drop_columns=self.drop_columns,
            positive_class=self.positive_class,
            info={
                "path": str(Path(self.path).resolve()),
                **({} if test is None else {"test_path": str(Path(self.test_path).resolve())}),
            },
            groups=self,
            data_sha256={
                str(Path(f).expanduser().resolve()): sha256_of(Path(f).expanduser()) for f in files
            },
        )
