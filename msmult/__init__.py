"""msmult: measure what a model-stealing attacker actually gets.

A stolen surrogate is one member of a Rashomon set of surrogates that fit the attacker's queries
about equally well; msmult explores that set and reports its predictive multiplicity and the spread
of its group-fairness gaps next to the victim's own.
"""

from importlib.metadata import version

__version__ = version("msmult")  # the one version number lives in pyproject.toml
