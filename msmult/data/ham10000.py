"""HAM10000 dermoscopy at 28x28 RGB: 7-class diagnosis or malignant-vs-benign, sensitive attribute
patient sex or age group (``data/ham10000_derm28``, see its PROVENANCE.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from msmult.data.files import shipped_hashes, verified_path
from msmult.data.options import TaskDataset, victim_share
from msmult.data.splits import InputDomain, Splits, count_test_rows
from msmult.errors import MsmultError
from msmult.validation import bad_value, choices, number, whole

FOLDER = "ham10000_derm28"
IMAGES = (
    "ham10000_28x28_rgb.npz",
    "7d149a47fd8936ea4a3b0c5db68edbdbf70660de561fe92e810ca3553fa2f150",
)
META = (
    "ham10000_28x28_meta.csv",
    "e660052d95178499618cdfb66cf5df11ea1c38bdb3693ca6cc40c2b0126af4f5",
)

# label ids of the shipped arrays (PROVENANCE.md: akiec 0, bcc 1, bkl 2, df 3, mel 4, nv 5, vasc 6)
DIAGNOSES = ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")
DIAGNOSIS_NAMES = {
    "akiec": "actinic keratosis / intraepithelial carcinoma",
    "bcc": "basal cell carcinoma",
    "bkl": "benign keratosis",
    "df": "dermatofibroma",
    "mel": "melanoma",
    "nv": "melanocytic nevus",
    "vasc": "vascular lesion",
}
MALIGNANT = ("benign", "malignant")  # malignant = mel, bcc, akiec
SOURCE_SPLITS = ("train", "val", "test")
MAX_SHIFT = 2  # pixels, for the attacker's augmented pool copies


def augment(images: np.ndarray, copies: int, rng: np.random.Generator) -> np.ndarray:
    """``copies`` transformed versions of each (n, C, H, W) image, grouped copy by copy: random
    horizontal / vertical flips and shifts of up to ``MAX_SHIFT`` pixels (edges replicated). A
    draw that would reproduce the original image is flipped horizontally instead."""
    n, _, height, width = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (MAX_SHIFT,) * 2, (MAX_SHIFT,) * 2), mode="edge")
    out = []
    for _ in range(copies):
        hflip, vflip = rng.random(n) < 0.5, rng.random(n) < 0.5
        dy, dx = rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=(2, n))
        hflip |= ~(hflip | vflip | (dy != 0) | (dx != 0))
        batch = np.empty_like(images)
        for i in range(n):
            top, left = MAX_SHIFT + dy[i], MAX_SHIFT + dx[i]
            image = padded[i, :, top : top + height, left : left + width]
            if hflip[i]:
                image = image[:, :, ::-1]
            if vflip[i]:
                image = image[:, ::-1, :]
            batch[i] = image
        out.append(batch)
    return np.concatenate(out) if out else images[:0]


@dataclass
class Ham10000Dataset(TaskDataset):
    """HAM10000 (Tschandl et al. 2018), 5,984 images (one per lesion) at 28x28 RGB.

    Splits: the test split is the union of the shipped lesion-disjoint source splits named in
    ``test_splits`` (default ``test`` + ``val`` = 1,811 images); the remaining source splits
    (default ``train``, 4,173 images) are divided, seeded and stratified by class, into the
    victim's training split (``victim_share``) and the attacker's pool (the rest). Every image is
    its own lesion, so all three parts are lesion-disjoint. ``pool_augment`` adds that many
    augmented copies (flips, shifts of up to 2 px) of every pool image, seeded, after the originals.

    Pixels are scaled to [0, 1] and standardised per channel with the mean / std of the victim
    split only; arrays are (n, 3, 28, 28) float32.

    Tasks: ``diagnosis`` (7 classes akiec, bcc, bkl, df, mel, nv, vasc; one-vs-rest fairness for
    ``positive_class``, default ``mel`` = melanoma) or ``malignant`` (benign / malignant =
    mel + bcc + akiec; positive ``malignant``). Groups: ``sex`` ("male" / "female") or ``age``
    ("age>=T" / "age<T" with T = ``age_threshold``); unknown sex or missing age -> "" (left out
    of group metrics only).
    """

    CLASSES = {"diagnosis": DIAGNOSES, "malignant": MALIGNANT}
    DEFAULT_POSITIVE = {"diagnosis": "mel", "malignant": "malignant"}
    SENSITIVES = ("sex", "age")

    task: str = "diagnosis"
    sensitive: str = "sex"
    age_threshold: float = 60
    victim_share: float = 0.5
    test_splits: Sequence[str] = ("test", "val")
    pool_augment: int = 0
    min_hmnist_corr: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.victim_share = victim_share(self.victim_share)
        self.test_splits = tuple(choices("dataset.test_splits", self.test_splits, SOURCE_SPLITS))
        if set(self.test_splits) == set(SOURCE_SPLITS):
            raise bad_value(
                "dataset.test_splits",
                list(self.test_splits),
                "name one or two of the shipped splits; the others feed victim / pool",
                "dataset.test_splits=[test,val]",
            )
        self.pool_augment = whole(
            "dataset.pool_augment",
            self.pool_augment,
            0,
            what=" (augmented copies per pool image)",
            example="dataset.pool_augment=2",
        )
        self.age_threshold = number(
            "dataset.age_threshold",
            self.age_threshold,
            0,
            what=" (years)",
            example="dataset.age_threshold=60",
        )
        if self.min_hmnist_corr is not None:
            self.min_hmnist_corr = number(
                "dataset.min_hmnist_corr",
                self.min_hmnist_corr,
                -1,
                1,
                what=", or null to keep every image",
                example="dataset.min_hmnist_corr=0.5",
            )

    def read(self) -> tuple[np.ndarray, pd.DataFrame]:
        """The verified uint8 images (n, 28, 28, 3) and their metadata rows, same order."""
        with np.load(verified_path(FOLDER, *IMAGES)) as arrays:
            images, image_ids = arrays["images"], arrays["image_id"]
        meta = pd.read_csv(verified_path(FOLDER, *META))
        if len(meta) != len(images) or not (meta["image_id"].to_numpy(str) == image_ids).all():
            raise MsmultError(
                f"{FOLDER}: the metadata rows do not match the image arrays row for row; restore "
                "both files from the repository."
            )
        return images, meta

    def groups(self, meta: pd.DataFrame) -> np.ndarray:
        if self.sensitive == "sex":
            sex = meta["sex"].astype("string").str.lower()
            return np.where(sex.isin(["male", "female"]), sex.fillna(""), "").astype(str)
        age = meta["age"].to_numpy(float)
        threshold = f"{self.age_threshold:g}"
        labels = np.where(age >= self.age_threshold, f"age>={threshold}", f"age<{threshold}")
        return np.where(np.isnan(age) | (age < 0), "", labels).astype(str)

    def load(self, seed: int) -> Splits:
        images, meta = self.read()
        if self.task == "diagnosis":
            y = meta["label"].to_numpy(np.int64)
        else:
            y = meta["malignant"].to_numpy(np.int64)
        group = self.groups(meta)
        keep = np.ones(len(meta), bool)
        if self.min_hmnist_corr is not None:
            keep &= meta["hmnist8_corr"].to_numpy(float) >= self.min_hmnist_corr
        rng = np.random.default_rng(seed)
        if self.subsample < 1:
            keep &= rng.random(len(meta)) < self.subsample
        in_test = meta["split"].isin(self.test_splits).to_numpy()
        test = np.flatnonzero(keep & in_test)
        rest = np.flatnonzero(keep & ~in_test)
        victim, pool = self.divide(rest, y, seed)

        pixels = images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        mean = pixels[victim].mean(axis=(0, 2, 3), keepdims=True, dtype=np.float64)
        std = pixels[victim].std(axis=(0, 2, 3), keepdims=True, dtype=np.float64) + 1e-6
        x_pool = pixels[pool]
        if self.pool_augment:
            x_pool = np.concatenate([x_pool, augment(x_pool, self.pool_augment, rng)])

        def standardise(x: np.ndarray) -> np.ndarray:
            return ((x - mean) / std).astype(np.float32)

        positive = self.classes.index(self.positive_class)
        info = {
            "source": (
                "HAM10000 (Tschandl et al. 2018, CC BY-NC-SA 4.0), 28x28 RGB, one image per lesion"
            ),
            "task": self.task,
            "classes_long": {c: DIAGNOSIS_NAMES.get(c, c) for c in self.classes},
            "test_splits": list(self.test_splits),
            "n_victim": len(victim),
            "n_pool": len(x_pool),
            "n_pool_original": len(pool),
            "pool_augment": self.pool_augment,
            "n_test": len(test),
            **count_test_rows(y[test], group[test], self.classes),
            "positive_class_note": (
                f"fairness metrics are one-vs-rest for {self.positive_class!r}"
                if len(self.classes) > 2
                else f"positive class {self.positive_class!r}"
            ),
            "preprocessing": "pixels / 255, per-channel standardisation fitted on the victim split",
        }
        copies = 1 + self.pool_augment  # augmented copies come block by block after the originals
        x_victim = standardise(pixels[victim])
        return Splits(
            name="ham10000",
            x_victim=x_victim,
            y_victim=y[victim],
            x_pool=standardise(x_pool),
            x_test=standardise(pixels[test]),
            y_test=y[test],
            group_test=group[test],
            classes=self.classes,
            sensitive=self.sensitive,
            positive_class=positive,
            info=info,
            data_sha256=shipped_hashes(FOLDER, IMAGES, META),
            y_pool=np.tile(y[pool], copies),
            group_pool=np.tile(group[pool], copies),
            domain=InputDomain.observed("image", x_victim, axes=(0, 2, 3)),
        )

    def divide(self, rows: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Seeded victim / pool division of ``rows``, stratified by class where every class has
        at least two rows (else plain shuffled)."""
        counts = np.bincount(y[rows], minlength=len(self.classes))
        stratify = y[rows] if counts[counts > 0].min() >= 2 else None
        try:
            victim, pool = train_test_split(
                rows, train_size=self.victim_share, random_state=seed, stratify=stratify
            )
        except ValueError as error:
            raise MsmultError(
                f"Cannot divide {len(rows)} HAM10000 images into victim and pool with "
                f"victim_share={self.victim_share} ({error}); use a larger dataset.subsample."
            ) from error
        return np.sort(victim), np.sort(pool)
