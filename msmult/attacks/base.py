"""The attack contract: ``Attack``, the base class of msmult's attacks (in the spirit of IBM ART's
``ExtractionAttack``), with a default for every optional hook, and ``as_attack``, which gives a
duck-typed plugin (any object with ``run``) the same defaults.

An attack queries ``api`` (at most ``api.remaining`` rows) about rows it builds from ``pool`` (the
attacker's own unlabelled data) and may train surrogates between rounds with
``new_surrogate(seed)`` (an unfitted estimator configured like the run's surrogate:
``fit(x, targets)`` / ``predict_proba(x)`` on arrays). It may hand over a fitted surrogate in
``TransferSet.surrogate``, used instead of fitting one. ``msmult.attacks.stealing`` says how the
fidelity holdout is obtained.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import numpy as np

from msmult.attacks.transfer_set import TransferSet
from msmult.data.splits import InputDomain
from msmult.oracle import PredictionAPI
from msmult.validation import Configured

SurrogateFactory = Callable[[int], Any]  # seed -> unfitted estimator with fit / predict_proba


class AttackProtocol(Protocol):
    """What a duck-typed attack plugin needs: ``run``; every other hook is optional."""

    def run(
        self, api: PredictionAPI, pool: np.ndarray, new_surrogate: SurrogateFactory
    ) -> TransferSet: ...


class Attack(Configured):
    """Base class of attacks. Hooks and their defaults:

    - ``name``: the report's name of the attack (default: the class name);
    - ``exchangeable_rows``: True when the rows do not depend on the answers (random draws), so a
      random share of them is an unbiased fidelity holdout (default False);
    - ``use_domain(domain)``: receives the dataset's ``InputDomain`` (what a valid input looks
      like) before ``check``, for attacks that synthesise rows (default: ignores it);
    - ``check(budget, pool_rows)``: refuses a budget before any work (default: accepts any);
    - ``run(api, pool, new_surrogate) -> TransferSet``: the attack itself (required)."""

    config_key: ClassVar[str] = "attack"
    name: ClassVar[str] = "attack"
    exchangeable_rows: ClassVar[bool] = False

    def use_domain(self, domain: InputDomain | None) -> None:
        return None

    def check(self, budget: int, pool_rows: int) -> None:
        return None

    def run(
        self, api: PredictionAPI, pool: np.ndarray, new_surrogate: SurrogateFactory
    ) -> TransferSet:
        raise NotImplementedError(
            f"{type(self).__name__} must define run(api, pool, new_surrogate)"
        )


class PluginAttack(Attack):
    """A duck-typed attack with the base class's defaults for the hooks it does not define."""

    def __init__(self, plugin: AttackProtocol) -> None:
        self.plugin = plugin
        self.name = str(getattr(plugin, "name", type(plugin).__name__))  # type: ignore[misc]
        self.exchangeable_rows = bool(getattr(plugin, "exchangeable_rows", False))  # type: ignore[misc]

    def use_domain(self, domain: InputDomain | None) -> None:
        if hasattr(self.plugin, "use_domain"):
            self.plugin.use_domain(domain)

    def check(self, budget: int, pool_rows: int) -> None:
        if hasattr(self.plugin, "check"):
            self.plugin.check(budget, pool_rows)

    def run(
        self, api: PredictionAPI, pool: np.ndarray, new_surrogate: SurrogateFactory
    ) -> TransferSet:
        return self.plugin.run(api, pool, new_surrogate)


def as_attack(attack: Any) -> Attack:
    """``attack`` itself when it derives from ``Attack``, else wrapped in ``PluginAttack``."""
    return attack if isinstance(attack, Attack) else PluginAttack(attack)
