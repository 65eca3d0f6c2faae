"""Scoring what the explorers found against the victim: the evaluation of a set, the comparison of
explorers, the owner's yardstick and the budget curve. Between the explorers and the report."""
