"""Checks of the top-level config values, before any data is loaded or model trained."""

from __future__ import annotations

from omegaconf import DictConfig

from msmult.errors import MsmultError
from msmult.models.device import resolve_device
from msmult.oracle import check_budget


def is_whole(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_run_config(cfg: DictConfig) -> None:
    """Raise a one-paragraph ``MsmultError`` naming the first bad top-level value."""
    check_budget(cfg.budget)
    if not is_whole(cfg.seed, 0):
        raise MsmultError(f"seed={cfg.seed!r} must be a whole number >= 0, e.g. seed=0.")
    if not is_whole(cfg.threads, 1):
        raise MsmultError(
            f"threads={cfg.threads!r} must be a whole number >= 1 (torch CPU threads)."
        )
    if not (is_number(cfg.fidelity_holdout) and 0 < cfg.fidelity_holdout < 1):
        raise MsmultError(
            f"fidelity_holdout={cfg.fidelity_holdout!r} must be a number strictly between 0 and 1 "
            "(the share of the transfer set held out to measure fidelity loss), e.g. 0.2."
        )
    if not (is_number(cfg.capacity_tol) and cfg.capacity_tol > 0):
        raise MsmultError(
            f"capacity_tol={cfg.capacity_tol!r} must be a number > 0 (bits, e.g. 1e-9)."
        )
    resolve_device(str(cfg.device))
