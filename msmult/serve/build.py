"""The served victim and its app, from a composed run config (as ``msmult run`` builds them)."""

from __future__ import annotations

import logging

import torch
from fastapi import FastAPI
from omegaconf import DictConfig

from msmult.errors import MsmultError
from msmult.models.victim_cache import fit_victim
from msmult.serve.app import create_app
from msmult.serve.limits import KeyLimits
from msmult.serve.model import ServedModel
from msmult.settings import Settings, build

log = logging.getLogger("msmult")


def build_app(
    cfg: DictConfig,
    name: str,
    keys: frozenset[str] | None,
    budget: int | None,
    rate: float | None,
) -> tuple[FastAPI, str]:
    """The app serving ``cfg``'s victim (trained, or loaded from the victim cache) behind
    ``cfg.api``'s defences, and a one-line description of it."""
    Settings.from_config(cfg)  # every value checked, as msmult run does
    torch.set_num_threads(cfg.threads)  # the victim cache key and the answers depend on it
    splits = build(cfg.dataset).load(seed=cfg.seed)
    if splits.raw is None:
        raise MsmultError(
            f"msmult serve takes raw table rows, and dataset {splits.name} holds images or "
            "token ids; serve a tabular dataset (adult, compas, german, csv)."
        )
    victim = build(cfg.victim, n_classes=splits.n_classes)
    if hasattr(victim, "connect"):
        raise MsmultError("msmult serve serves a victim msmult trains; victim=remote is not one.")
    victim, cache = fit_victim(victim, splits, cfg)
    api = build(cfg.api, victim=victim)
    model = ServedModel(splits.raw, victim, api, splits.classes)
    what = f"{type(victim).__name__} victim of {splits.name} (seed {cfg.seed}, cache {cache})"
    return create_app(model, KeyLimits(keys, budget, rate), name), what
