"""``rashomon.epsilon=auto``: an epsilon calibrated on the thief's own data.

``calibration_models`` surrogates are refitted on bootstrap resamples of the fit rows (the same
code as ``rashomon=bootstrap``); epsilon is the largest excess of their holdout fidelity loss over
the base surrogate's (0 when none is worse), so every such plausible alternative surrogate is a
member. The loss is the one that defines membership (``fidelity_loss``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from msmult.rashomon.exploration import AUTO, ExplorationTask, fidelity_loss
from msmult.rashomon.refit import fit_refits
from msmult.seeding import CALIBRATION
from msmult.validation import whole


def check_calibration(epsilon: Any, models: Any) -> int:
    """``rashomon.calibration_models``: a whole number >= 2, checked when epsilon is ``auto``."""
    if epsilon != AUTO:
        return 0
    return whole(
        "rashomon.calibration_models",
        models,
        2,
        what=" (bootstrap surrogates that calibrate rashomon.epsilon=auto)",
        example="rashomon.calibration_models=10",
    )


def calibrate_epsilon(task: ExplorationTask, models: int) -> tuple[float, dict]:
    """The largest excess fidelity loss of ``models`` bootstrap refits over the base surrogate
    (at least 0), and a JSON-ready description of how it was obtained."""
    fitted, _ = fit_refits(task, models, task.seed, True, "epsilon calibration", stream=CALIBRATION)
    base = fidelity_loss(task.surrogate.predict_proba(task.holdout_x), task.holdout_targets)
    excess = (
        np.array(
            [fidelity_loss(m.predict_proba(task.holdout_x), task.holdout_targets) for m in fitted]
        )
        - base
    )
    epsilon = max(0.0, float(excess.max()))
    return epsilon, {
        "source": "auto",
        "models": int(models),
        "excess_losses": [float(e) for e in excess],
        "how": f"largest excess fidelity loss over the base surrogate of {models} surrogates "
        "refitted on bootstrap resamples of the fit rows",
    }


def with_epsilon(task: ExplorationTask, epsilon: Any, models: int) -> tuple[ExplorationTask, dict]:
    """``task`` with its epsilon resolved: calibrated when ``epsilon`` is ``auto``, else as given;
    plus how it was obtained (``{"source": "config"}`` for a number)."""
    if epsilon != AUTO:
        return task, {"source": "config"}
    value, how = calibrate_epsilon(task, models)
    return replace(task, epsilon=value), how
