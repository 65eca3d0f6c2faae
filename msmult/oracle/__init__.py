"""The prediction API (the attacker's only door to the victim) and its defences."""

from msmult.oracle.api import BudgetExceeded, Classifier, PredictionAPI

__all__ = ["BudgetExceeded", "Classifier", "PredictionAPI"]
