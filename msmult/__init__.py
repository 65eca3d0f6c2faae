"""msmult: measure what a model-stealing attacker actually gets.

A stolen surrogate is one member of a Rashomon set of surrogates that fit the attacker's queries
about equally well; msmult explores that set and reports its predictive multiplicity and the spread
of its group-fairness gaps next to the victim's own.
"""

__version__ = "0.1.0"
