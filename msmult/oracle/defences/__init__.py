"""API defences: callables that perturb the victim's probabilities before the API answers.

A defence derives from ``Defence`` (``msmult.oracle.defences.base``: every optional hook has a
default) or is any callable ``(proba, rng) -> proba`` (``DefenceProtocol``), which the API wraps
with ``as_defence``. Configure them as a list of ``_target_`` entries in ``api.defences``.
"""

from msmult.oracle.defences.base import Defence, DefenceProtocol, as_defence

__all__ = ["Defence", "DefenceProtocol", "as_defence"]
