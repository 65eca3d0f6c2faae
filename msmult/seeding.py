"""Seeds of the models msmult refits, derived from the run's seed: one independent stream per use,
so adding models to one use never changes another's."""

from __future__ import annotations

import numpy as np

RETRAIN, BOOTSTRAP, CALIBRATION, OWNER = 0, 1, 2, 3  # rashomon=retrain, =bootstrap, epsilon=auto,
# the owner's retrains of the victim


def refit_seeds(seed: int, stream: int, count: int) -> list[int]:
    """``count`` independent 32-bit seeds derived from the run's seed and a stream number."""
    states = np.random.SeedSequence([seed, stream]).generate_state(count)
    return [int(s) for s in states]
