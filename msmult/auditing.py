"""``msmult.audit(...)``: the whole msmult run against a model held in memory, from Python.

    report = msmult.audit(victim=model, pool=pool_frame, test=test_frame, labels=y_test,
                          groups=test_frame["sex"], overrides=["budget=500"])

``victim`` is any object with ``predict_proba`` on raw rows (a pandas DataFrame in the columns of
``pool``), e.g. a fitted scikit-learn ``Pipeline``: the role of IBM ART's ``BlackBoxClassifier``.
msmult fits its own preprocessing on the attacker's ``pool`` (numbers standardised, categories
one-hot), steals the victim through its ``PredictionAPI`` from those rows, and measures the
Rashomon set on ``test`` against ``labels`` and ``groups``. The output folder is written as for
``msmult run``; the report comes back as a dict.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.errors import HydraException
from omegaconf import open_dict

from msmult import pipeline
from msmult.compose import compose_config
from msmult.data.raw import RawInputs
from msmult.data.splits import InputDomain, Splits, count_test_rows
from msmult.data.tabular import feature_transformer, group_labels, one_hot_blocks
from msmult.errors import MsmultError
from msmult.remote.answers import checked_probabilities
from msmult.remote.rows import RawRows
from msmult.remote.victim import raw_rows
from msmult.validation import choice

HELD: dict[str, tuple[Splits, Any]] = {}  # audit key -> (splits, model) while an audit runs


def audit(
    victim: Any,
    pool: pd.DataFrame,
    test: pd.DataFrame,
    labels: Sequence,
    groups: Sequence,
    overrides: Sequence[str] = (),
    output_dir: str | Path | None = None,
    classes: Sequence | None = None,
    positive_class: Any = None,
    sensitive: str = "group",
    name: str = "audit",
) -> dict:
    """Run msmult against ``victim`` and return ``report.json``'s content.

    ``pool``: the attacker's raw rows (no labels); ``test``: raw rows in the same columns, with
    their true ``labels`` and sensitive ``groups`` (missing groups: in no group); ``classes``: the
    order of ``predict_proba``'s columns (default: ``victim.classes_``, else the sorted labels);
    ``positive_class``: the favourable class of the fairness gaps (default as ``msmult run``);
    ``overrides``: ``msmult run`` config overrides (not ``dataset`` or ``victim``), e.g.
    ``["budget=500", "debug=fast"]``; ``output_dir``: default ``outputs/audit/<date>/<time>``."""
    if not callable(getattr(victim, "predict_proba", None)):
        raise MsmultError(
            f"msmult.audit needs a victim with predict_proba(rows) -> (rows, classes) "
            f"probabilities; {type(victim).__name__} has none."
        )
    for override in overrides:
        if override.split("=", 1)[0].lstrip("+~").split(".")[0] in ("dataset", "victim"):
            raise MsmultError(
                f"msmult.audit's overrides set neither the dataset nor the victim (they are "
                f"the frames and the model given); drop {override!r}."
            )
    order = classes if classes is not None else getattr(victim, "classes_", None)
    splits = splits_from_frames(name, pool, test, labels, groups, order, positive_class, sensitive)
    run_dir = Path(
        output_dir or Path("outputs", "audit", datetime.now().strftime("%Y-%m-%d/%H-%M-%S"))
    )
    with held(splits, victim) as key:
        try:
            cfg = compose_config(list(overrides))
        except HydraException as err:
            raise MsmultError(
                f"msmult.audit could not compose overrides {list(overrides)}: {err}"
            ) from None
        with open_dict(cfg):
            cfg.dataset = {"_target_": "msmult.auditing.FramesDataset", "key": key}
            cfg.victim = {"_target_": "msmult.auditing.ModelInMemory", "key": key}
        return pipeline.run(cfg, run_dir)


@contextmanager
def held(splits: Splits, model: Any) -> Iterator[str]:
    """A key under which the config's dataset and victim find the frames and the model."""
    key = uuid.uuid4().hex
    HELD[key] = (splits, model)
    try:
        yield key
    finally:
        del HELD[key]


def splits_from_frames(
    name: str,
    pool: pd.DataFrame,
    test: pd.DataFrame,
    labels: Sequence,
    groups: Sequence,
    classes: Sequence | None,
    positive_class: Any,
    sensitive: str,
) -> Splits:
    """Model-ready splits from raw frames: preprocessing fitted on the pool, no victim rows."""
    for what, frame in (("pool", pool), ("test", test)):
        if not isinstance(frame, pd.DataFrame) or frame.empty:
            raise MsmultError(
                f"msmult.audit's {what} must be a non-empty pandas DataFrame of raw rows."
            )
    if list(test.columns) != list(pool.columns):
        raise MsmultError(
            f"msmult.audit's test columns {list(test.columns)} must be the pool's "
            f"{list(pool.columns)}, in the same order."
        )
    labels, groups = pd.Series(np.asarray(labels)), pd.Series(np.asarray(groups, dtype=object))
    if len(labels) != len(test) or len(groups) != len(test):
        raise MsmultError(
            f"msmult.audit got {len(labels)} labels and {len(groups)} groups for {len(test)} "
            "test rows; give one of each per test row."
        )
    names = [
        str(c) for c in (classes if classes is not None else sorted(labels.astype(str).unique()))
    ]
    unknown = sorted(set(labels.astype(str)) - set(names))
    if unknown:
        raise MsmultError(f"msmult.audit's labels {unknown} are not among the classes {names}.")
    if positive_class is None:
        positive = len(names) - 1 if len(names) == 2 else 0  # as msmult run: the larger of two
    else:
        positive = names.index(choice("positive_class", str(positive_class), names))
    pool, test = pool.reset_index(drop=True), test.reset_index(drop=True)
    transformer = feature_transformer(pool).fit(pool)
    x_pool = transformer.transform(pool).astype(np.float32)
    x_test = transformer.transform(test).astype(np.float32)
    y_test = labels.astype(str).map(names.index).to_numpy(np.int64)
    group_test = group_labels(groups)
    return Splits(
        name=name,
        x_victim=x_pool[:0],
        y_victim=y_test[:0],
        x_pool=x_pool,
        x_test=x_test,
        y_test=y_test,
        group_test=group_test,
        classes=tuple(names),
        sensitive=sensitive,
        positive_class=positive,
        domain=InputDomain.observed("tabular", x_pool, one_hot_blocks=one_hot_blocks(transformer)),
        info={
            "rows": {"victim": 0, "pool": len(pool), "test": len(test)},
            "features": int(x_pool.shape[1]),
            **count_test_rows(y_test, group_test, names),
        },
        raw=RawInputs(pool.iloc[:0], pool, test, tuple(map(str, pool.columns)), transformer),
    )


class FramesDataset:
    """The dataset of an ``audit`` call (its frames, held under ``key`` while it runs)."""

    def __init__(self, key: str) -> None:
        self.splits = held_item(key)[0]

    def load(self, seed: int) -> Splits:
        return self.splits


class ModelInMemory:
    """The model of an ``audit`` call as msmult's victim: ``predict_proba`` on raw rows."""

    def __init__(self, n_classes: int, key: str) -> None:
        self.n_classes = n_classes
        self.model = held_item(key)[1]
        self.rows: RawRows | None = None

    def connect(self, splits: Splits, cache_dir: str | None) -> None:
        self.rows = raw_rows(splits, None, "msmult.audit")

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        scores = np.asarray(self.model.predict_proba(self.rows.table(x)), dtype=np.float64)
        return checked_probabilities(
            scores,
            len(x),
            self.n_classes,
            1e-3,
            f"the victim's predict_proba ({type(self.model).__name__})",
        )


def held_item(key: str) -> tuple[Splits, Any]:
    if key not in HELD:
        raise MsmultError(
            "msmult.auditing.FramesDataset and ModelInMemory exist only inside an msmult.audit(...) "
            "call; from the command line use a dataset and victim config (e.g. victim=remote)."
        )
    return HELD[key]
