"""msmult: measure what a model-stealing attacker actually gets.

A stolen surrogate is one member of a Rashomon set of surrogates that fit the attacker's queries
about equally well; msmult explores that set and reports its predictive multiplicity and the spread
of its group-fairness gaps next to the victim's own. ``msmult.audit(victim=model, pool=...,
test=..., labels=..., groups=...)`` runs it against a model held in memory.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``msmult.audit`` (``msmult.auditing.audit``), imported on first use: ``import msmult``
    stays light."""
    if name == "audit":
        from msmult.auditing import audit

        return audit
    raise AttributeError(f"module 'msmult' has no attribute {name!r}")
