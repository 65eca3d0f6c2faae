"""The defence contract: ``Defence``, the base class of msmult's API defences (in the spirit of IBM
ART's postprocessor defences: a chain of small callables), with a default for every optional
hook, and ``as_defence``, which gives a duck-typed plugin (any callable) the same defaults.

A defence perturbs the victim's (n, c) probabilities before the API answers; ``rng`` is the API's
seeded generator (draw all randomness from it, so a defence is deterministic for a given API
seed). The API applies its defences in order, before the output mode, then checks and
renormalises the rows.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np

from msmult.errors import MsmultError
from msmult.validation import Configured


class DefenceProtocol(Protocol):
    """What a duck-typed defence plugin needs: ``__call__(proba, rng)``."""

    def __call__(self, proba: np.ndarray, rng: np.random.Generator) -> np.ndarray: ...


class Defence(Configured):
    """Base class of defences. Hooks and their defaults:

    - ``needs_inputs``: True to be called as ``defence(proba, rng, x=x)`` with the queried rows
      ``x`` too, e.g. to run a proxy model on them (default False);
    - ``describe()``: its name and parameters for the report (default: the class name and the
      declared ``parameters``);
    - ``__call__(proba, rng[, x]) -> proba``: the defence itself (required)."""

    config_key: ClassVar[str] = "api.defences.0"
    needs_inputs: ClassVar[bool] = False

    def describe(self) -> dict:
        return {"name": type(self).__name__, **{p: getattr(self, p) for p in self.parameters}}

    def __call__(
        self, proba: np.ndarray, rng: np.random.Generator, x: np.ndarray | None = None
    ) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(proba, rng)")


class PluginDefence(Defence):
    """A duck-typed defence with the base class's defaults for the hooks it does not define."""

    def __init__(self, plugin: DefenceProtocol) -> None:
        self.plugin = plugin
        self.needs_inputs = bool(getattr(plugin, "needs_inputs", False))  # type: ignore[misc]

    def describe(self) -> dict:
        name = getattr(self.plugin, "__name__", None) or type(self.plugin).__name__
        params = {k: v for k, v in vars(self.plugin).items() if not k.startswith("_")}
        return {"name": name, **params} if hasattr(self.plugin, "__dict__") else {"name": name}

    def __call__(
        self, proba: np.ndarray, rng: np.random.Generator, x: np.ndarray | None = None
    ) -> np.ndarray:
        if self.needs_inputs:
            return self.plugin(proba, rng, x=x)  # type: ignore[call-arg]
        return self.plugin(proba, rng)


def as_defence(defence: Any) -> Defence:
    """``defence`` itself when it derives from ``Defence``, else wrapped in ``PluginDefence``;
    refuses an object that cannot be called."""
    if isinstance(defence, Defence):
        return defence
    if not callable(defence):
        raise MsmultError(
            f"api.defences holds {defence!r}, which is not callable; a defence is an object "
            "with __call__(proba, rng) -> proba (see msmult.oracle.defences)."
        )
    return PluginDefence(defence)
