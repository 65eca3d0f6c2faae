"""The owner's retrains of the victim: its config and rows, other seeds (``owner.models``).

Training is random: an owner who retrains the deployed architecture on the same rows with another
seed gets another model, and would deploy it without a second thought. Those retrains are the
yardstick for "as close to the victim as the victim's own retrain" (``msmult.analysis.owner``).

Torch retrains train together (``fit_many``) and are cached beside the victim's cache entry, in
``owner-<key>/`` (``<key>``: the sha256 of the retrains' seeds), one ``weights-<i>.pt`` state
dict each (loaded with ``weights_only=True``) and ``meta.json`` with their checksums and a probe
of their predictions; an entry that fails either is retrained. Scikit-learn victims are not
stored: two retrains are fitted first, and when they equal the victim (a deterministic fit) the
yardstick is reported with zero spread, no more are fitted. A victim msmult cannot fit (a remote
endpoint) has no yardstick.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig

from msmult.data.splits import Splits
from msmult.fileio import sha256_of, sha256_of_value, write_json, write_with
from msmult.models.fitting import FitData, fit_many
from msmult.models.torch_classifier import TorchClassifier
from msmult.models.victim_cache import cache_key, probe
from msmult.seeding import OWNER, refit_seeds

log = logging.getLogger("msmult")
DETERMINISTIC = (
    "The victim's training is deterministic: every retrain with another seed equals the "
    "deployed victim, so the owner's yardstick has zero spread, and only a copy that matches "
    "the victim exactly lies within it."
)
NOT_RETRAINABLE = (
    "The victim is not trained by msmult (e.g. a remote endpoint), so its owner's retrains, and "
    "the yardstick they give, are not available; the verdict uses the fixed tolerances."
)


@dataclass(frozen=True)
class OwnerRetrains:
    """The fitted retrains (empty when off), their seeds, the cache outcome (``hit``, ``miss``,
    ``off``) and a sentence when the yardstick is degenerate or unavailable."""

    models: list[Any] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    cache: str = "off"
    note: str | None = None


def owner_retrains(
    new_victim: Callable[[int], Any], victim: Any, splits: Splits, cfg: DictConfig, count: int
) -> OwnerRetrains:
    """``count`` retrains of the victim (``new_victim(seed)``: an unfitted victim with that
    seed), fitted on the victim's rows or loaded from the cache (see the module docstring)."""
    if count == 0:
        return OwnerRetrains()
    if hasattr(victim, "connect"):  # an endpoint or a model in memory: msmult does not train it
        return OwnerRetrains(note=NOT_RETRAINABLE)
    seeds = refit_seeds(int(cfg.seed), OWNER, count)
    if not isinstance(victim, TorchClassifier):
        return untrained_sklearn(new_victim, victim, splits, seeds)
    models = [new_victim(seed) for seed in seeds]
    entry = None
    if cfg.cache.victims:
        key, _ = cache_key(cfg, splits.data_sha256)
        entry = Path(cfg.cache.dir) / "victims" / key / f"owner-{sha256_of_value(seeds)[:16]}"
        problem = load(entry, models, splits) if entry.is_dir() else "it does not exist"
        if problem is None:
            log.info("owner's retrains: cache hit %s", entry)
            return OwnerRetrains(models, seeds, "hit")
        log.info("owner's retrains: training %d (cache entry %s: %s)", count, entry.name, problem)
    fit_many(models, [FitData(splits.x_victim, splits.y_victim)] * count)
    if entry is None:
        return OwnerRetrains(models, seeds, "off")
    store(entry, models, seeds, splits)
    return OwnerRetrains(models, seeds, "miss")


def untrained_sklearn(
    new_victim: Callable[[int], Any], victim: Any, splits: Splits, seeds: list[int]
) -> OwnerRetrains:
    """Scikit-learn retrains, fitted each run; two first, the rest only when they differ."""
    probe_rows = splits.x_test
    first = fit_many(
        [new_victim(seed) for seed in seeds[:2]],
        [FitData(splits.x_victim, splits.y_victim)] * min(2, len(seeds)),
    )
    reference = victim.predict_proba(probe_rows)
    if all(np.array_equal(model.predict_proba(probe_rows), reference) for model in first):
        return OwnerRetrains(
            first + [victim] * (len(seeds) - len(first)), seeds, "off", DETERMINISTIC
        )
    rest = fit_many(
        [new_victim(seed) for seed in seeds[2:]],
        [FitData(splits.x_victim, splits.y_victim)] * (len(seeds) - 2),
    )
    return OwnerRetrains(first + rest, seeds, "off")


def load(entry: Path, models: list[TorchClassifier], splits: Splits) -> str | None:
    """Restore ``models`` from ``entry``; ``None`` on success, else why it is not usable."""
    try:
        meta = json.loads((entry / "meta.json").read_text())
        for index, model in enumerate(models):
            weights = entry / f"weights-{index}.pt"
            if sha256_of(weights) != meta["weights_sha256"][index]:
                return f"weights-{index}.pt fails its checksum"
            model.load(str(weights), splits.x_victim.shape[1:])
            if probe(model, splits) != meta["probe_sha256"][index]:
                return f"retrain {index}'s predictions on the probe rows differ"
    except (OSError, ValueError, KeyError, IndexError, RuntimeError) as err:
        return f"it cannot be read ({type(err).__name__}: {err})"
    return None


def store(entry: Path, models: list[TorchClassifier], seeds: list[int], splits: Splits) -> None:
    """Write every retrain's weights, then ``meta.json`` (last, so a half-written entry fails)."""
    for index, model in enumerate(models):
        write_with(entry / f"weights-{index}.pt", lambda path, m=model: m.save(str(path)))
    write_json(
        entry / "meta.json",
        {
            "seeds": seeds,
            "weights_sha256": [sha256_of(entry / f"weights-{i}.pt") for i in range(len(models))],
            "probe_sha256": [probe(model, splits) for model in models],
        },
    )
    log.info("owner's retrains: trained and cached in %s", entry)
