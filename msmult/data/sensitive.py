"""The sensitive attribute of tabular datasets: optional binning of a numeric column at given
edges (ages: ``dataset.sensitive_bins=[25,60]``) and a bound on the number of groups, so a
continuous column is refused instead of turning every distinct value into a group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msmult.errors import MsmultError
from msmult.validation import bad_value, flag, numbers, whole

BINS_KEY = "dataset.sensitive_bins"


@dataclass(kw_only=True)
class GroupOptions:
    """Sensitive-attribute options shared by the tabular dataset configs: ``sensitive_as_feature``
    (the attribute is a model input too; default no), ``max_groups`` (the most distinct sensitive
    values accepted, default 10) and ``sensitive_bins`` (edges at which a numeric sensitive column
    is cut into groups: "< 25", "[25, 60)", ">= 60" for ``[25, 60]``; null uses the values as
    they are)."""

    sensitive_as_feature: bool = False
    max_groups: int = 10
    sensitive_bins: Sequence[float] | None = None

    def check_group_options(self) -> None:
        self.sensitive_as_feature = flag("dataset.sensitive_as_feature", self.sensitive_as_feature)
        self.max_groups = whole(
            "dataset.max_groups", self.max_groups, 2, example="dataset.max_groups=10"
        )
        if self.sensitive_bins is not None:
            self.sensitive_bins = check_bins(self.sensitive_bins)


def check_bins(values: Sequence[float]) -> tuple[float, ...]:
    """A non-empty, strictly increasing list of numbers."""
    edges = numbers(BINS_KEY, values, what=", strictly increasing", example=f"{BINS_KEY}=[25,60]")
    if any(b <= a for a, b in zip(edges, edges[1:])):
        raise bad_value(
            BINS_KEY, edges, "the edges must be strictly increasing", f"{BINS_KEY}=[25,60]"
        )
    return tuple(edges)


def bin_labels(edges: Sequence[float]) -> list[str]:
    """One label per bin: ``< e0``, ``[e0, e1)``, ..., ``>= en``."""
    inner = [f"[{a:g}, {b:g})" for a, b in zip(edges, edges[1:])]
    return [f"< {edges[0]:g}", *inner, f">= {edges[-1]:g}"]


def binned(column: pd.Series, edges: Sequence[float]) -> pd.Series:
    """``column``'s values cut at ``edges`` (missing values stay missing)."""
    values = pd.to_numeric(column, errors="coerce")
    if (values.isna() & column.notna()).any():
        example = column[values.isna() & column.notna()].iloc[0]
        raise MsmultError(
            f"{BINS_KEY} needs a numeric sensitive column, but {column.name!r} holds "
            f"{example!r}. Drop {BINS_KEY} (use the values as groups) or choose a numeric column."
        )
    codes = np.searchsorted(np.asarray(edges), values.to_numpy(float), side="right")
    labels = np.asarray(bin_labels(edges), dtype=object)[np.minimum(codes, len(edges))]
    return pd.Series(np.where(values.isna(), None, labels), index=column.index, name=column.name)


def check_group_count(column: pd.Series, dataset: str, max_groups: int) -> None:
    """Refuse a sensitive column with fewer than 2 or more than ``max_groups`` distinct values."""
    groups = column.dropna().astype(str).unique()
    name = column.name
    if len(groups) < 2:
        raise MsmultError(
            f"Sensitive column {name!r} of dataset {dataset!r} has a single group "
            f"({', '.join(groups) or 'none'}); group fairness needs at least two groups. "
            "Choose another sensitive column."
        )
    if len(groups) > max_groups:
        numeric = pd.to_numeric(column.dropna(), errors="coerce")
        hint = (
            f"bin it with {BINS_KEY}=[{numeric.quantile(1 / 3):g},{numeric.quantile(2 / 3):g}] "
            "(edges of your choice)"
            if numeric.notna().all()
            else "choose a column with fewer values"
        )
        raise MsmultError(
            f"dataset.sensitive={name!r} has {len(groups)} distinct values, more than "
            f"dataset.max_groups={max_groups}: each value would be its own group and every "
            f"fairness gap meaningless. For a numeric column, {hint}; or raise dataset.max_groups."
        )
