"""Train each victim once per (dataset config and data files, victim config, seed) and reuse it
across runs.

An entry is ``<cache.dir>/victims/<key>/`` with ``weights.pt`` (a torch state dict, loaded with
``weights_only=True``) and ``meta.json`` (the key's inputs, the weights' sha256 and a probe: the
sha256 of the victim's rounded probabilities on the first test rows). An entry that is missing a
file, fails a checksum or gives a different probe is rebuilt, never trusted. Scikit-learn victims
are not stored (nothing is unpickled): they are retrained, deterministically, from their seed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from msmult.config_keys import result_relevant
from msmult.data.splits import Splits
from msmult.fileio import sha256_of, sha256_of_value, write_json, write_with
from msmult.models.torch_classifier import TorchClassifier
from msmult.models.training import TRAINER

log = logging.getLogger("msmult")
PROBE_ROWS = 256


def cache_key(cfg: DictConfig, data_sha256: dict[str, str] | None = None) -> tuple[str, dict]:
    """sha256 over the resolved dataset and victim configs, the sha256 of every data file the
    dataset read (``Splits.data_sha256``: a CSV edited in place retrains the victim), the seed
    the torch thread count (float sums, hence trained weights, depend on it) and the training
    code's version (``TRAINER``), with those inputs; result-neutral keys (``msmult.config_keys``,
    e.g. ``memory_gb``) are left out."""
    victim = result_relevant(OmegaConf.to_container(cfg.victim, resolve=True), "victim.")
    inputs = {
        "dataset": OmegaConf.to_container(cfg.dataset, resolve=True),
        "data_sha256": dict(sorted((data_sha256 or {}).items())),
        "victim": victim,
        "seed": int(cfg.seed),
        "threads": int(cfg.threads),
        "trainer": TRAINER,
    }
    return sha256_of_value(inputs)[:24], inputs


def probe(victim: TorchClassifier, splits: Splits) -> str:
    proba = victim.predict_proba(splits.x_test[:PROBE_ROWS])
    return hashlib.sha256(np.round(proba, 5).tobytes()).hexdigest()


def load_entry(entry: Path, key: str, victim: TorchClassifier, splits: Splits) -> str | None:
    """Restore ``victim`` from ``entry``; ``None`` on success, else why the entry is not usable."""
    try:
        meta = json.loads((entry / "meta.json").read_text())
        weights = entry / "weights.pt"
        if meta.get("key") != key:
            return "its key does not match"
        if sha256_of(weights) != meta.get("weights_sha256"):
            return "its weights fail their checksum"
        victim.load(str(weights), splits.x_victim.shape[1:])
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        return f"it cannot be read ({type(err).__name__}: {err})"
    if probe(victim, splits) != meta.get("probe_sha256"):
        return "its predictions on the probe rows differ"
    return None


def fit_victim(victim: object, splits: Splits, cfg: DictConfig) -> tuple[object, str]:
    """The trained victim and how it was obtained: ``hit``, ``miss`` (trained, stored), ``off``."""
    if not cfg.cache.victims or not isinstance(victim, TorchClassifier):
        return victim.fit(splits.x_victim, splits.y_victim), "off"
    key, inputs = cache_key(cfg, splits.data_sha256)
    entry = Path(cfg.cache.dir) / "victims" / key
    if entry.is_dir():
        problem = load_entry(entry, key, victim, splits)
        if problem is None:
            log.info("victim: cache hit %s", entry)
            return victim, "hit"
        log.warning("victim: cache entry %s ignored because %s; retraining", entry, problem)
    victim.fit(splits.x_victim, splits.y_victim)
    write_with(entry / "weights.pt", lambda path: victim.save(str(path)))
    write_json(
        entry / "meta.json",
        {
            "key": key,
            **inputs,
            "weights_sha256": sha256_of(entry / "weights.pt"),
            "probe_sha256": probe(victim, splits),
        },
    )
    log.info("victim: trained and cached in %s", entry)
    return victim, "miss"
