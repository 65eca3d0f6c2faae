"""Rashomon membership: the epsilon (a number, or ``auto``, calibrated on the thief's own data)
and the epsilons of the epsilon curve (``membership.*`` in the config).

``epsilon=auto``: ``calibration_models`` surrogates are refitted on bootstrap resamples of the
answers (the same code as ``rashomon=bootstrap``, their own seed stream); epsilon is the largest
excess of their out-of-sample fidelity loss over the base surrogate's (0 when none is worse), so
every such plausible alternative surrogate is a member. Both losses are out of sample: in split
mode on the held-out rows; with cross-fitting, a refit's loss is on its out-of-bag rows (the loss
rows its resample left out) and the base surrogate's is its out-of-fold loss
(``ExplorationTask.base_loss``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from msmult.rashomon.exploration import ExplorationTask
from msmult.rashomon.refit import fit_refits, refit_losses
from msmult.seeding import CALIBRATION
from msmult.validation import as_list, number, numbers, whole

AUTO = "auto"


@dataclass(frozen=True)
class Membership:
    """``epsilon`` (nats, or ``auto``), ``epsilon_grid`` and ``calibration_models`` (>= 2,
    read when epsilon is ``auto``), each checked here."""

    epsilon: Any = AUTO
    epsilon_grid: tuple[float, ...] = ()
    calibration_models: int = 10

    def __post_init__(self) -> None:
        if self.epsilon != AUTO:
            number(
                "membership.epsilon",
                self.epsilon,
                0,
                what=" (a fidelity-loss tolerance in nats) or auto (calibrated by bootstrap refits)",
                example="membership.epsilon=0.02",
            )
        grid = as_list("membership.epsilon_grid", self.epsilon_grid)
        if grid:
            numbers("membership.epsilon_grid", grid, 0, example="membership.epsilon_grid=[0,0.01]")
        object.__setattr__(self, "epsilon_grid", tuple(float(e) for e in grid))
        whole(
            "membership.calibration_models",
            self.calibration_models,
            2,
            what=" (bootstrap surrogates that calibrate membership.epsilon=auto)",
            example="membership.calibration_models=10",
        )

    @property
    def calibrated(self) -> bool:
        return self.epsilon == AUTO

    def resolve(self, task: ExplorationTask) -> tuple[ExplorationTask, dict]:
        """``task`` with its epsilon: calibrated when ``auto``, else as given; and how it was
        obtained (``{"source": "config"}`` for a number)."""
        if not self.calibrated:
            return replace(task, epsilon=float(self.epsilon)), {"source": "config"}
        value, how = calibrate_epsilon(task, self.calibration_models)
        return replace(task, epsilon=value), how


def calibrate_epsilon(task: ExplorationTask, models: int) -> tuple[float, dict]:
    """The largest excess out-of-sample fidelity loss of ``models`` bootstrap refits over the base
    surrogate's (at least 0), and a JSON-ready description of how it was obtained."""
    fitted, table, resamples = fit_refits(
        task, models, task.seed, True, "epsilon calibration", stream=CALIBRATION
    )
    excess = refit_losses(task, fitted, resamples) - task.base_loss()
    where = "out-of-bag loss rows" if task.folds else "held-out rows"
    return max(0.0, float(excess.max())), {
        "source": "auto",
        "models": int(models),
        "excess_losses": [float(e) for e in excess],
        "how": f"largest excess fidelity loss over the base surrogate of {models} surrogates "
        f"refitted on bootstrap resamples of the answers, each measured on its {where}",
    }
