"""What an extraction attack returns: the queried rows and the API's answers, round by round."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TransferSet:
    """Queried rows ``x`` and the API's answers as (n, c) probability ``targets``, in the order
    the attack queried them; ``queries_used`` is the API's counter after the last round and
    ``rounds`` the number of rows each round added (one round for a one-shot attack).
    ``surrogate``: optional, a fitted model the attack hands over ready (e.g. the exact model an
    equation-solving attack recovered); the pipeline then uses it as the base surrogate instead
    of fitting one on the rows."""

    x: np.ndarray
    targets: np.ndarray
    queries_used: int
    attack: str
    rounds: tuple[int, ...] = ()
    surrogate: Any = None

    def __post_init__(self) -> None:
        if not self.rounds:
            object.__setattr__(self, "rounds", (len(self.x),))

    def extend(self, other: TransferSet) -> TransferSet:
        """This set followed by ``other``'s rows as further rounds (an attack's next queries)."""
        return TransferSet(
            np.concatenate([self.x, other.x]),
            np.concatenate([self.targets, other.targets]),
            other.queries_used,
            self.attack,
            self.rounds + other.rounds,
        )

    def split(self, holdout: float, seed: int) -> tuple[TransferSet, TransferSet]:
        """Seeded (fit, holdout) parts; the holdout measures the fidelity loss. Only for attacks
        whose rows are exchangeable (drawn independently of the answers): see ``steal``. Both
        parts keep query order, so a prefix of the fit rows is what the attack had queried by
        then (``msmult.analysis.budget_curve``)."""
        order = np.random.default_rng(seed).permutation(len(self.x))
        n_holdout = max(1, int(round(holdout * len(self.x))))
        fit, held = np.sort(order[n_holdout:]), np.sort(order[:n_holdout])
        return (
            TransferSet(self.x[fit], self.targets[fit], self.queries_used, self.attack),
            TransferSet(self.x[held], self.targets[held], self.queries_used, self.attack),
        )
