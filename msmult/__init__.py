"""msmult: measure what a model-stealing attacker actually gets.

A stolen surrogate is one member of a Rashomon set of surrogates that fit the attacker's queries
about equally well; msmult explores that set and reports its predictive multiplicity and the spread
of its group-fairness gaps next to the victim's own. ``msmult.audit(victim=model, pool=...,
test=..., labels=..., groups=...)`` runs it against a model held in memory.
"""

import os

# Idle OpenMP threads sleep instead of spinning: with the default spinning, torch's two-thread
# passes ran about 4x slower when another process held one of two cores; sleeping keeps that
# under 2x. It must be set before torch loads its OpenMP runtime, so here; set the variable
# yourself to override it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from importlib.metadata import version  # noqa: E402

__version__ = version("msmult")  # the one version number lives in pyproject.toml


def __getattr__(name: str):
    """``msmult.audit`` (``msmult.auditing.audit``), imported on first use: ``import msmult``
    stays light."""
    if name == "audit":
        from msmult.auditing import audit

        return audit
    raise AttributeError(f"module 'msmult' has no attribute {name!r}")
