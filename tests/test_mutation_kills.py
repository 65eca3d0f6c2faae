"""Tests written to kill surviving mutants of scripts/mutation.sh: each pins a value or a boundary
that a mutated operator or constant would change."""

from __future__ import annotations

import numpy as np
import pytest

from msmult.metrics import decisions_of
from msmult.metrics.nested_capacity import NestedCapacity


def test_decisions_of_equals_argmax_with_ties_going_to_the_first_class():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 3, size=(4, 50, 4)).astype(np.float32)  # many exact ties
    np.testing.assert_array_equal(decisions_of(scores), scores.argmax(axis=2))
    assert decisions_of(np.array([[[0.5, 0.5]]])).tolist() == [[0]]


def test_nested_capacity_needs_a_positive_tolerance():
    with pytest.raises(ValueError, match="tol"):
        NestedCapacity(np.ones((2, 3, 3)) / 3, tol=0.0)
