"""Davidson et al. (2017) hate speech / offensive language tweets, with an inferred-dialect group
(TwitterAAE) and the HateCheck functional test suite as a second, identity-labelled evaluation
set (``data/davidson_hate_speech``, ``data/hatecheck``; see their PROVENANCE.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msmult.data.files import shipped_hashes, verified_path
from msmult.data.options import TaskDataset, check_fractions
from msmult.data.splits import EvalSet, InputDomain, Splits, count_test_rows, three_way_split
from msmult.data.text import hash_ids
from msmult.errors import MsmultError
from msmult.validation import flag, whole

FOLDER = "davidson_hate_speech"
TWEETS = ("labeled_data.csv", "fcb8bc7c68120ae4af04a5b9acd58585513ede11e1548ebf36a5c2040b6f6281")
DIALECT = (
    "dialect_twitteraae.csv",
    "c8bee696462ecf9f573780410cd476657cb813b3aea258f6b191e4a2fef7be7e",
)
HATECHECK_FOLDER = "hatecheck"
HATECHECK = (
    "test_suite_cases.csv",
    "ecf0dc1e93fccc90b6f880e632b19e635c0f0a68b3157915a9e20b6938f121cf",
)

DIALECT_GROUPS = ("aae", "white_aligned")
DIALECT_NOTE = (
    "Groups are inferred dialect, not author race: 'aae' marks tweets whose TwitterAAE dialect "
    "proportions (Blodgett et al. 2016) give p_aa > p_white, 'white_aligned' the others; they "
    "describe the language of a tweet, not who wrote it."
)


@dataclass
class DavidsonDataset(TaskDataset):
    """Davidson et al. (2017): 24,783 tweets labelled hate / offensive / neither by crowd majority.

    Groups are inferred dialect, not author race: ``aae_vs_white`` is "aae" when the TwitterAAE
    dialect model (Blodgett, Green & O'Connor 2016) gives the tweet p_aa > p_white, else
    "white_aligned"; the 3 tweets the model could not score get "" (left out of group metrics).

    Splits: seeded disjoint victim / attacker pool / test rows in the proportions ``fractions``.
    Tasks: ``3class`` (hate, offensive, neither; one-vs-rest fairness for ``positive_class``,
    default ``hate``) or ``binary`` (neither vs offensive_or_hate; positive offensive_or_hate).
    Text becomes hashed uni+bi-gram ids (``msmult.data.text``), (n, ``max_len``) int64, so no
    vocabulary is fitted on any split.

    With ``hatecheck`` the HateCheck suite (Röttger et al. 2021, 3,728 templated cases) is added as
    ``extra_eval["hatecheck"]``: "hateful" cases are labelled ``hate`` (3class) or
    ``offensive_or_hate`` (binary), "non-hateful" ones ``neither``; the group is the targeted
    identity (``target_ident``, 7 groups). The 292 cases that target no identity are kept for
    overall scores with group "" (left out of group metrics only).

    Tweet text never leaves this loader: only hashed ids and labels are returned.
    """

    CLASSES = {
        "3class": ("hate", "offensive", "neither"),  # Davidson's class ids 0, 1, 2
        "binary": ("neither", "offensive_or_hate"),
    }
    DEFAULT_POSITIVE = {"3class": "hate", "binary": "offensive_or_hate"}
    SENSITIVES = ("aae_vs_white",)

    task: str = "3class"
    sensitive: str = "aae_vs_white"
    fractions: Sequence[float] = (0.4, 0.4, 0.2)
    hatecheck: bool = True
    n_buckets: int = 2**15
    max_len: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        self.fractions = check_fractions(self.fractions)
        self.hatecheck = flag("dataset.hatecheck", self.hatecheck)
        self.n_buckets = whole(
            "dataset.n_buckets", self.n_buckets, 2, example="dataset.n_buckets=32768"
        )
        self.max_len = whole("dataset.max_len", self.max_len, 1, example="dataset.max_len=64")

    def read(self) -> pd.DataFrame:
        """Verified tweets joined with their dialect columns on ``row_id``."""
        tweets = pd.read_csv(verified_path(FOLDER, *TWEETS))
        tweets = tweets.rename(columns={tweets.columns[0]: "row_id"})
        dialect = pd.read_csv(verified_path(FOLDER, *DIALECT))
        frame = tweets.merge(dialect, on="row_id", how="left", validate="one_to_one")
        if frame[self.sensitive].isna().any():
            raise MsmultError(
                f"{FOLDER}: {int(frame[self.sensitive].isna().sum())} tweets have no row in "
                f"{DIALECT[0]}; restore both files from the repository."
            )
        return frame

    def labels(self, davidson_class: np.ndarray) -> np.ndarray:
        """Davidson's class ids (0 hate, 1 offensive, 2 neither) as this task's class ids."""
        if self.task == "3class":
            return davidson_class.astype(np.int64)
        return (davidson_class != 2).astype(np.int64)

    def load(self, seed: int) -> Splits:
        frame = self.read()
        if self.subsample < 1:
            keep = np.random.default_rng(seed).random(len(frame)) < self.subsample
            frame = frame[keep].reset_index(drop=True)
        ids = hash_ids(frame["tweet"], self.n_buckets, self.max_len)
        y = self.labels(frame["class"].to_numpy())
        group = frame[self.sensitive].where(frame[self.sensitive].isin(DIALECT_GROUPS), "")
        group = group.to_numpy(str)
        victim, pool, test = three_way_split(len(frame), self.fractions, seed)
        if min(len(victim), len(pool), len(test)) == 0:
            raise MsmultError(
                f"dataset.fractions={list(self.fractions)} with subsample={self.subsample} leaves "
                "an empty victim, pool or test split; raise the smallest fraction or the subsample."
            )
        extra = {"hatecheck": self.load_hatecheck()} if self.hatecheck else {}
        info = {
            "source": "Davidson et al. (2017) tweets (MIT; tweet text under Twitter/X terms)",
            "task": self.task,
            "group_note": DIALECT_NOTE,
            "tokenizer": (
                f"hashed uni+bi-grams, {self.n_buckets} buckets, {self.max_len} ids per tweet"
            ),
            "n_victim": len(victim),
            "n_pool": len(pool),
            "n_test": len(test),
            **count_test_rows(y[test], group[test], self.classes),
        }
        if self.hatecheck:
            info["hatecheck_note"] = (
                "HateCheck (Röttger et al. 2021, CC BY 4.0): hateful -> "
                f"{self.classes[self.hate_label()]}, non-hateful -> neither; group = target_ident; "
                "the cases without a target identity count overall but not per group."
            )
        return Splits(
            name="davidson",
            x_victim=ids[victim],
            y_victim=y[victim],
            x_pool=ids[pool],
            x_test=ids[test],
            y_test=y[test],
            group_test=group[test],
            classes=self.classes,
            sensitive=self.sensitive,
            positive_class=self.classes.index(self.positive_class),
            info=info,
            extra_eval=extra,
            data_sha256={
                **shipped_hashes(FOLDER, TWEETS, DIALECT),
                **(shipped_hashes(HATECHECK_FOLDER, HATECHECK) if self.hatecheck else {}),
            },
            y_pool=y[pool],
            group_pool=group[pool],
            domain=InputDomain("tokens"),
        )

    def hate_label(self) -> int:
        return self.classes.index("hate" if self.task == "3class" else "offensive_or_hate")

    def load_hatecheck(self) -> EvalSet:
        cases = pd.read_csv(verified_path(HATECHECK_FOLDER, *HATECHECK))
        gold = cases["label_gold"]
        if not gold.isin(["hateful", "non-hateful"]).all():
            raise MsmultError(
                f"{HATECHECK[0]}: label_gold holds values other than hateful / non-hateful; "
                "restore the file from the repository."
            )
        y = np.where(gold == "hateful", self.hate_label(), self.classes.index("neither"))
        group = cases["target_ident"].astype("string").fillna("").to_numpy(str)
        return EvalSet(
            x=hash_ids(cases["test_case"], self.n_buckets, self.max_len),
            y=y.astype(np.int64),
            group=group,
            sensitive="target_ident",
        )
