"""Rashomon-set explorers and their contract.

An explorer derives from ``Explorer`` (``msmult.rashomon.base``: every optional hook has a
default) or is any object with ``explore(task: ExplorationTask) -> Exploration``
(``ExplorerProtocol``), which the run wraps with ``as_explorer``; what it is given and returns:
``msmult.rashomon.exploration``.
"""

from msmult.rashomon.base import Explorer, ExplorerProtocol, as_explorer
from msmult.rashomon.exploration import Exploration, ExplorationTask, fidelity_loss

__all__ = [
    "Exploration",
    "ExplorationTask",
    "Explorer",
    "ExplorerProtocol",
    "as_explorer",
    "fidelity_loss",
]
