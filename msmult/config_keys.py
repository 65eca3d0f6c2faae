"""The config keys that cannot change a run's results: where victims are cached, how a run is
logged, how much memory models trained together may take. One list, read by the run folder's name
(Hydra's ``override_dirname``), the completion fingerprint and the victim cache key.

``threads`` and ``device`` are not in it: torch's sums, hence trained weights, may differ with
them, so runs that differ only in them get their own folders and victims."""

from __future__ import annotations

import copy
from typing import Any

from omegaconf import OmegaConf

RESULT_NEUTRAL = (
    "cache",
    "cache.victims",
    "cache.dir",
    "tracking",
    "tracking.tracking_uri",
    "tracking.experiment",
    "memory_gb",
    "victim.memory_gb",
    "surrogate.memory_gb",
)


def result_relevant(values: dict, prefix: str = "") -> dict:
    """A copy of the (resolved) config ``values`` without the result-neutral keys; ``prefix``:
    the dotted path of ``values`` in the whole config (e.g. ``victim.`` for the victim node)."""
    kept = copy.deepcopy(values)
    for key in RESULT_NEUTRAL:
        if not key.startswith(prefix):
            continue
        *parents, leaf = key[len(prefix) :].split(".")
        node: Any = kept
        for parent in parents:
            node = node.get(parent) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return kept


def folder_name_excludes() -> list[str]:
    """Override keys left out of a sweep job's folder name: the result-neutral ones and
    ``experiment`` (a study block's sweep dir is the block itself)."""
    return [*RESULT_NEUTRAL, "experiment"]


def register_resolver() -> None:
    """``${msmult_folder_name_excludes:}``, which conf/hydra/default.yaml reads; needed before
    Hydra composes a config with its own settings (``msmult run``, ``msmult serve``)."""
    OmegaConf.register_new_resolver(
        "msmult_folder_name_excludes", folder_name_excludes, replace=True
    )
