"""The typed hand-off from the data stage: seeded, disjoint victim / attacker / test splits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from msmult.data.raw import RawInputs


@dataclass(frozen=True)
class Splits:
    """Model-ready arrays for one dataset, already preprocessed with transforms fitted on the
    victim's split only.

    ``x_*`` may have any shape after the row axis (tabular (n, d), images (n, 3, H, W), token ids
    (n, L)); ``y_*`` are integer class ids in ``range(len(classes))``. ``group_test`` holds the
    sensitive attribute of each test row as a string; rows whose group is unknown hold ``""`` and
    are left out of group metrics only. ``y_pool`` / ``group_pool`` are the attacker pool's true
    labels and groups: never given to an attack, only to auditor-side analyses (extremal
    fairness) and reports. ``domain`` says what a valid model input looks like.
    ``data_sha256`` maps every data file the loader read to its sha256 (part of the victim cache
    key, so changed data retrains the victim). ``raw``: the tabular rows as the dataset holds them
    and the fitted preprocessing (``msmult.data.raw``), for a victim msmult did not train; ``None``
    for images and text.
    """

    name: str
    x_victim: np.ndarray
    y_victim: np.ndarray
    x_pool: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    group_test: np.ndarray
    classes: tuple[str, ...]
    sensitive: str
    positive_class: int = 1
    info: dict = field(default_factory=dict)
    extra_eval: dict[str, EvalSet] = field(default_factory=dict)
    y_pool: np.ndarray | None = None
    group_pool: np.ndarray | None = None
    domain: InputDomain | None = None
    data_sha256: dict[str, str] = field(default_factory=dict)
    raw: RawInputs | None = None

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def eval_sets(self) -> dict[str, np.ndarray]:
        """Evaluation-set name -> rows to score: ``test``, then each extra set (e.g. HateCheck)."""
        return {"test": self.x_test, **{name: ev.x for name, ev in self.extra_eval.items()}}


@dataclass(frozen=True)
class InputDomain:
    """What a valid model input looks like, for attacks that synthesise rows.

    ``kind``: ``tabular`` (features), ``image`` (channels, height, width) or ``tokens`` (integer
    ids: not a continuous space); ``low`` / ``high``: the smallest and largest value seen in the
    victim's split, broadcastable to one row (per feature, or per channel for images);
    ``one_hot_blocks``: ``(start, stop)`` column ranges that each hold one one-hot category.
    """

    kind: str
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    one_hot_blocks: tuple[tuple[int, int], ...] = ()

    @classmethod
    def observed(
        cls, kind: str, x: np.ndarray, axes: tuple[int, ...] = (0,), **kwargs
    ) -> InputDomain:
        """The range of ``x`` (the victim's split) over ``axes``, kept broadcastable to a row."""
        low, high = x.min(axis=axes, keepdims=True)[0], x.max(axis=axes, keepdims=True)[0]
        return cls(kind, low, high, **kwargs)


@dataclass(frozen=True)
class EvalSet:
    """An optional second evaluation set (e.g. HateCheck), preprocessed like the test split."""

    x: np.ndarray
    y: np.ndarray
    group: np.ndarray
    sensitive: str


def three_way_split(
    n_rows: int, fractions: tuple[float, float, float], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded disjoint row indices for (victim, pool, test) in the given proportions."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_rows)
    total = sum(fractions)
    n_victim = int(round(n_rows * fractions[0] / total))
    n_pool = int(round(n_rows * fractions[1] / total))
    return order[:n_victim], order[n_victim : n_victim + n_pool], order[n_victim + n_pool :]


def count_test_rows(y_test: np.ndarray, group_test: np.ndarray, classes: Sequence[str]) -> dict:
    """Test rows per class and per group (the unknown group "" reported as "unknown")."""
    return {
        "class_counts_test": {c: int((y_test == k).sum()) for k, c in enumerate(classes)},
        "group_counts_test": {
            str(g) or "unknown": int((group_test == g).sum()) for g in sorted(set(group_test))
        },
    }
