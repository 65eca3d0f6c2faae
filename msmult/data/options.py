"""Config checks shared by the dataset loaders (``dataset.*`` keys), built on msmult.validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from msmult.validation import as_list, bad_value, choice, is_number, number


def check_fractions(
    values: Sequence[float], victim_may_be_empty: bool = False
) -> tuple[float, float, float]:
    """``dataset.fractions``: three positive shares (victim, attacker pool, test); with
    ``victim_may_be_empty`` the victim's may be 0 (a victim msmult does not train)."""
    key = "dataset.fractions"
    shares = as_list(key, values)
    positive = [
        is_number(s) and (s > 0 or (i == 0 and victim_may_be_empty and s == 0))
        for i, s in enumerate(shares)
    ]
    if len(shares) != 3 or not all(positive):
        allowed = "it must be three numbers > 0, the shares of victim, attacker pool and test"
        if victim_may_be_empty:
            allowed += " (the victim's may be 0 for victim=remote, which trains nothing)"
        raise bad_value(key, shares, allowed, f"{key}=[0.4,0.4,0.2]")
    victim, pool, test = (float(s) for s in shares)
    return victim, pool, test


def victim_share(value: float) -> float:
    """``dataset.victim_share``: the victim's share of the non-test rows (the rest is the
    attacker's pool), strictly between 0 and 1."""
    key = "dataset.victim_share"
    return number(key, value, 0, 1, open_low=True, open_high=True, example=f"{key}=0.5")


@dataclass
class TaskDataset:
    """The options of a dataset with several tasks (image, text): ``task`` picks the classes,
    ``positive_class`` (default: the task's own) the class of one-vs-rest fairness, ``sensitive``
    the group attribute, ``subsample`` the seeded share of rows kept, in (0, 1].

    A subclass names what it offers in ``CLASSES`` (task -> class names), ``DEFAULT_POSITIVE``
    (task -> class) and ``SENSITIVES``, and extends ``__post_init__`` with its own checks."""

    CLASSES: ClassVar[Mapping[str, tuple[str, ...]]]
    DEFAULT_POSITIVE: ClassVar[Mapping[str, str]]
    SENSITIVES: ClassVar[tuple[str, ...]]

    task: str
    sensitive: str
    positive_class: str | None = None
    subsample: float = 1.0
    classes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.classes = self.CLASSES[choice("dataset.task", self.task, tuple(self.CLASSES))]
        positive = self.positive_class or self.DEFAULT_POSITIVE[self.task]
        self.positive_class = choice("dataset.positive_class", positive, self.classes)
        choice("dataset.sensitive", self.sensitive, self.SENSITIVES)
        key = "dataset.subsample"
        self.subsample = number(key, self.subsample, 0, 1, open_low=True, example=f"{key}=0.3")
