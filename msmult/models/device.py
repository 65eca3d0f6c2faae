"""Choosing the torch device from the ``device`` config value."""

from __future__ import annotations

import torch

from msmult.errors import MsmultError


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA when present, else CPU)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu" or (name.startswith("cuda") and torch.cuda.is_available()):
        return torch.device(name)
    if name.startswith("cuda"):
        raise MsmultError(
            f"device={name!r} was requested but CUDA is not available on this machine. "
            "Use device=cpu (the default) or device=auto, which picks CUDA only when present."
        )
    raise MsmultError(f"device={name!r} is not a device; allowed: cpu, auto, cuda, cuda:N.")
