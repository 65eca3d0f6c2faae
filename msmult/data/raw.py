"""The tabular rows as the dataset holds them, beside the model-ready arrays.

A victim that msmult did not train (``victim=remote``, ``msmult.audit``) takes rows in its own
input schema: the dataset's raw columns with their names and types, never msmult's encoded
features. ``RawInputs`` keeps those rows for the victim / pool / test splits and the fitted
preprocessing, so a model-ready row can be mapped back: a pool or test row exactly (by lookup,
``msmult.remote.rows``), a row an attack synthesised (``jacobian``, ``random``) through the
inverse of the preprocessing (``decode``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer


@dataclass(frozen=True)
class RawInputs:
    """``victim`` / ``pool`` / ``test``: one raw row (every column but the target) per row of
    ``Splits.x_victim`` / ``x_pool`` / ``x_test``, in the same order, missing values as NaN;
    ``features``: the raw columns the model inputs are encoded from (the dataset's inputs, without
    its dropped and, unless ``sensitive_as_feature``, sensitive columns); ``encoder``: the fitted
    ``ColumnTransformer`` over ``features`` (numbers standardised, then categories one-hot)."""

    victim: pd.DataFrame
    pool: pd.DataFrame
    test: pd.DataFrame
    features: tuple[str, ...]
    encoder: ColumnTransformer

    @property
    def columns(self) -> tuple[str, ...]:
        """Every raw column but the target, in the dataset's order."""
        return tuple(map(str, self.pool.columns))

    def numeric(self, column: str) -> bool:
        return pd.api.types.is_numeric_dtype(self.pool[column]) and not pd.api.types.is_bool_dtype(
            self.pool[column]
        )

    def integer(self, column: str) -> bool:
        return pd.api.types.is_integer_dtype(self.pool[column])

    def datatype(self, column: str) -> str:
        """The column's Open Inference Protocol v2 datatype: INT64, FP64 or BYTES (text)."""
        if not self.numeric(column):
            return "BYTES"
        return "INT64" if self.integer(column) else "FP64"

    def encode(self, rows: pd.DataFrame) -> np.ndarray:
        """Model-ready float32 rows for raw ``rows`` (the preprocessing msmult's models see)."""
        return self.encoder.transform(rows[list(self.features)]).astype(np.float32)

    def decode(self, x: np.ndarray) -> pd.DataFrame:
        """The raw rows whose encoding is nearest ``x`` (the inverse of the preprocessing): numbers
        un-standardised (rounded in integer columns), each one-hot block read as its largest
        entry's category, an all-zero block as a missing value (NaN)."""
        numeric = list(self.encoder.transformers_[0][2])
        categorical = list(self.encoder.transformers_[1][2])
        decoded: dict[str, np.ndarray] = {}
        if numeric:
            scaler = self.encoder.named_transformers_["numeric"][-1]
            values = scaler.inverse_transform(np.asarray(x[:, : len(numeric)], np.float64))
            for j, column in enumerate(numeric):
                decoded[column] = (
                    np.rint(values[:, j]).astype(np.int64) if self.integer(column) else values[:, j]
                )
        if categorical:
            encoder = self.encoder.named_transformers_["categorical"][-1]
            categories = encoder.inverse_transform(x[:, len(numeric) :])
            for j, column in enumerate(categorical):
                decoded[column] = np.where(pd.isna(categories[:, j]), np.nan, categories[:, j])
        return pd.DataFrame({column: decoded[column] for column in self.features})
