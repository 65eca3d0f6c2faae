"""Shared tabular preparation: seeded disjoint splits, sensitive-attribute handling, and
preprocessing fitted on the victim's rows only (scikit-learn ColumnTransformer)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from msmult.data.raw import RawInputs
from msmult.data.sensitive import GroupOptions, binned, check_group_count
from msmult.data.splits import InputDomain, Splits, three_way_split
from msmult.errors import MsmultError
from msmult.validation import choice, choices

log = logging.getLogger("msmult")


def feature_transformer(features: pd.DataFrame) -> ColumnTransformer:
    """Standardise numeric columns and one-hot encode the rest (categories detected by dtype)."""
    numeric = features.select_dtypes(include="number").columns.tolist()
    categorical = [c for c in features.columns if c not in numeric]
    return ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                categorical,
            ),
        ]
    )


def one_hot_blocks(transformer: ColumnTransformer) -> tuple[tuple[int, int], ...]:
    """Column ranges of the fitted transformer's one-hot categories (after the numeric columns)."""
    start = len(transformer.transformers_[0][2])
    blocks: list[tuple[int, int]] = []
    if not len(transformer.transformers_[1][2]):  # no categorical column: the encoder is unfitted
        return ()
    for categories in transformer.named_transformers_["categorical"][-1].categories_:
        blocks.append((start, start + len(categories)))
        start += len(categories)
    return tuple(blocks)


def encode_target(
    target: pd.Series, positive_class: str | None
) -> tuple[np.ndarray, tuple[str, ...], int]:
    """Class ids for the target, class names (sorted), and the positive class's id."""
    names = target.astype(str)
    classes = tuple(sorted(names.unique()))
    if len(classes) < 2:
        raise MsmultError(
            f"Target column {target.name!r} has a single class ({classes[0]!r}); msmult needs a "
            "target with two or more classes."
        )
    if positive_class is None:
        positive = len(classes) - 1 if len(classes) == 2 else 0
    else:
        positive = classes.index(choice("dataset.positive_class", str(positive_class), classes))
    return names.map(classes.index).to_numpy(np.int64), classes, positive


def group_labels(sensitive: pd.Series) -> np.ndarray:
    """Sensitive values as strings; missing values become "" (left out of group metrics)."""
    return sensitive.astype("string").fillna("").to_numpy(str)


def prepare_tabular(
    name: str,
    frame: pd.DataFrame,
    target: str,
    sensitive: str,
    seed: int,
    fractions: Sequence[float] = (0.4, 0.4, 0.2),
    test_frame: pd.DataFrame | None = None,
    sensitive_as_feature: bool = False,
    drop_columns: Sequence[str] = (),
    positive_class: str | None = None,
    info: dict | None = None,
    groups: GroupOptions | None = None,
    data_sha256: dict[str, str] | None = None,
) -> Splits:
    """Split ``frame`` into victim / attacker pool / test (or victim / pool when ``test_frame``
    is given), fit the feature transformer on the victim rows (on the pool rows when the victim
    has none: a victim msmult does not train), and return model-ready arrays with their raw rows
    (``Splits.raw``).

    Rows without a target are dropped; missing feature values are imputed (median / most
    frequent, fitted on the victim rows); rows without a sensitive value are kept, in no group.
    ``info["missing"]`` counts all three."""
    columns = list(map(str, frame.columns))
    for key, column in (("dataset.target", target), ("dataset.sensitive", sensitive)):
        choice(key, column, columns)
    if drop_columns:
        choices("dataset.drop_columns", drop_columns, columns)
    groups = groups or GroupOptions()
    n_rows = len(frame) + (0 if test_frame is None else len(test_frame))
    frame = frame.dropna(subset=[target]).reset_index(drop=True)
    if test_frame is not None:
        test_frame = test_frame.dropna(subset=[target]).reset_index(drop=True)
    all_rows = frame if test_frame is None else pd.concat([frame, test_frame], ignore_index=True)

    def group_of(rows: pd.DataFrame) -> np.ndarray:
        column = rows[sensitive]
        return group_labels(
            binned(column, groups.sensitive_bins) if groups.sensitive_bins else column
        )

    all_groups = pd.Series(group_of(all_rows), name=sensitive).replace("", None)
    check_group_count(all_groups, name, groups.max_groups)
    y_all, classes, positive = encode_target(all_rows[target], positive_class)
    if test_frame is None:
        victim, pool, test = three_way_split(len(frame), tuple(fractions), seed)
        test_rows = frame.iloc[test]
        y_test = y_all[test]
    else:
        victim, pool, rounding = three_way_split(
            len(frame), (fractions[0], fractions[1], 0.0), seed
        )
        pool = np.concatenate([pool, rounding])  # every non-victim row belongs to the attacker
        test_rows = test_frame
        y_test = y_all[len(frame) :]
    dropped = [target, *drop_columns] + ([] if sensitive_as_feature else [sensitive])
    features = frame.drop(columns=[c for c in dropped if c in frame.columns])
    fit_rows = features.iloc[victim if len(victim) else pool]
    transformer = feature_transformer(fit_rows).fit(fit_rows)

    def transform(rows: pd.DataFrame) -> np.ndarray:
        if not len(rows):  # no victim rows (victim=remote): scikit-learn refuses empty input
            return transformer.transform(fit_rows.iloc[:1])[:0].astype(np.float32)
        return transformer.transform(rows[features.columns]).astype(np.float32)

    def raw(rows: pd.DataFrame) -> pd.DataFrame:
        return rows.drop(columns=[target]).reset_index(drop=True)

    x_victim = transform(features.iloc[victim])
    group_test, group_pool = group_of(test_rows), group_of(frame.iloc[pool])
    missing = {
        "target_rows_dropped": n_rows - len(all_rows),
        "sensitive_unknown_rows": {
            "victim": int((group_of(frame.iloc[victim]) == "").sum()),
            "pool": int((group_pool == "").sum()),
            "test": int((group_test == "").sum()),
        },
        "feature_values_imputed": {
            split: int(rows[features.columns].isna().to_numpy().sum())
            for split, rows in (
                ("victim", frame.iloc[victim]),
                ("pool", frame.iloc[pool]),
                ("test", test_rows),
            )
        },
    }
    if missing["target_rows_dropped"] or any(missing["feature_values_imputed"].values()):
        log.info("data: missing values %s", missing)
    return Splits(
        name=name,
        x_victim=x_victim,
        y_victim=y_all[victim],
        x_pool=transform(features.iloc[pool]),
        x_test=transform(test_rows),
        y_test=y_test,
        group_test=group_test,
        classes=classes,
        sensitive=sensitive,
        positive_class=positive,
        y_pool=y_all[pool],
        group_pool=group_pool,
        domain=InputDomain.observed(
            "tabular",
            x_victim if len(victim) else transform(fit_rows),
            one_hot_blocks=one_hot_blocks(transformer),
        ),
        info={
            "rows": {"victim": len(victim), "pool": len(pool), "test": len(test_rows)},
            "features": int(transformer.transform(features.iloc[:1]).shape[1]),
            "missing": missing,
            **({"sensitive_bins": list(groups.sensitive_bins)} if groups.sensitive_bins else {}),
            **(info or {}),
        },
        data_sha256=dict(data_sha256 or {}),
        raw=RawInputs(
            victim=raw(frame.iloc[victim]),
            pool=raw(frame.iloc[pool]),
            test=raw(test_rows),
            features=tuple(map(str, features.columns)),
            encoder=transformer,
        ),
    )
