"""Where the pipeline gets its victim: trained by msmult, or one it does not train.

``obtain_victim`` replaces ``fit_victim`` in ``pipeline.run``: a victim with ``connect`` (a remote
endpoint, ``victim=remote``; a model in memory, ``msmult.audit``) is connected to the data and
never trained; any other is trained or loaded from the victim cache. ``victim_section`` is what
such a victim adds to the report (the ``remote`` section: rows sent, replayed, retries, ...).
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from msmult.data.splits import Splits
from msmult.errors import MsmultError
from msmult.models.victim_cache import fit_victim
from msmult.oracle import PredictionAPI


def obtain_victim(victim: Any, splits: Splits, cfg: DictConfig) -> tuple[Any, str]:
    """The victim ready to answer and how it was obtained (``hit | miss | off``, as
    ``fit_victim``; ``off`` for a victim msmult does not train)."""
    if hasattr(victim, "connect"):
        victim.connect(splits, cfg.cache.dir)
        return victim, "off"
    if len(splits.y_victim) == 0:
        raise MsmultError(
            f"Dataset {splits.name} has no victim rows (dataset.fractions gives the victim a "
            "share of 0), and this victim is trained on them. Give the victim a share, e.g. "
            "dataset.fractions=[0.4,0.4,0.2], or steal from an endpoint with victim=remote."
        )
    return fit_victim(victim, splits, cfg)


def victim_section(victim: Any, api: PredictionAPI) -> dict[str, dict]:
    """``{section: ...}`` for a victim msmult does not train (``remote``), else nothing."""
    section = getattr(victim, "section", None)
    return {section: victim.describe(api.queries_used)} if section else {}
