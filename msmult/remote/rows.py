"""Model-ready rows back to raw rows, in the columns a victim msmult did not train takes.

A whole split asked in order (the test rows, for the victim's own scores) maps to its raw rows
one to one. Any other pool or test row is found by lookup of its encoded bytes: rows whose
encodings coincide (a missing value and the value it is imputed with, categories the
preprocessing never saw, columns that are not model inputs) send the first such raw row. A row
an attack synthesised (``jacobian``, ``random``) is decoded through the inverse of the
preprocessing (``RawInputs.decode``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from msmult.data.raw import RawInputs
from msmult.errors import MsmultError
from msmult.remote.protocols import Schema


class RawRows:
    """Raw rows for model-ready rows of one dataset, restricted to ``columns``."""

    def __init__(
        self,
        raw: RawInputs,
        known: Sequence[tuple[np.ndarray, pd.DataFrame]],
        columns: Sequence[str],
    ) -> None:
        self.raw = raw
        self.columns = list(columns)
        self.known = [(x, rows[self.columns].reset_index(drop=True)) for x, rows in known]
        self.frame = pd.concat([rows for _, rows in self.known], ignore_index=True)
        self.index: dict[bytes, int] = {}
        start = 0
        for x, _ in known:
            for i, row in enumerate(np.ascontiguousarray(x, dtype=np.float32)):
                self.index.setdefault(row.tobytes(), start + i)
            start += len(x)
        self.synthesised = 0

    def schema(self) -> Schema:
        """The columns and their v2 datatypes (INT64 / FP64 numbers, BYTES text)."""
        return Schema(tuple(self.columns), tuple(map(self.raw.datatype, self.columns)))

    def table(self, x: np.ndarray) -> pd.DataFrame:
        """The raw rows of ``x`` (pool and test rows found, others decoded), NaN for missing."""
        for split, rows in self.known:
            if x.shape == split.shape and np.array_equal(x, split):
                return rows
        found = np.array(
            [self.index.get(r.tobytes(), -1) for r in np.ascontiguousarray(x, dtype=np.float32)],
            dtype=np.int64,
        )
        frame = self.frame.iloc[np.maximum(found, 0)].reset_index(drop=True)
        new = np.flatnonzero(found < 0)
        if len(new):
            self.synthesised += len(new)
            decoded = self.decoded(x[new]).set_axis(new)
            frame = pd.concat([frame.drop(index=new), decoded]).sort_index()
        return frame

    def rows(self, x: np.ndarray) -> list[list]:
        """One list of JSON-ready values (``None`` for missing) per row of ``x``."""
        return json_rows(self.table(x))

    def decoded(self, x: np.ndarray) -> pd.DataFrame:
        outside = [c for c in self.columns if c not in self.raw.features]
        if outside:
            raise MsmultError(
                f"The attack synthesised {len(x)} rows, which msmult decodes from its model "
                f"inputs, but victim.columns also lists {', '.join(outside)}, which are not "
                "model inputs, so their values are unknown. Send model inputs only (leave "
                "victim.columns unset) or use an attack that picks pool rows (e.g. knockoff)."
            )
        return self.raw.decode(x)[self.columns]


def json_rows(frame: pd.DataFrame) -> list[list]:
    """Rows of ``frame`` as lists of plain Python values, missing values as ``None``."""
    columns = []
    for name in frame.columns:
        values = frame[name].astype(object).tolist()
        columns.append([None if v is None or v != v else _plain(v) for v in values])
    return [list(row) for row in zip(*columns)] if columns else [[] for _ in range(len(frame))]


def _plain(value: object) -> object:
    """numpy scalars as the Python value JSON writes (``item()``), others unchanged."""
    return value.item() if isinstance(value, np.generic) else value
