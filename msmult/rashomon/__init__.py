"""Rashomon-set explorers and their contract.

An explorer is any object with ``explore(task: ExplorationTask) -> Exploration`` (and, for
reports, an optional ``name``); see ``msmult.rashomon.exploration``.
"""

from msmult.rashomon.exploration import Exploration, ExplorationTask, Explorer, fidelity_loss

__all__ = ["Exploration", "ExplorationTask", "Explorer", "fidelity_loss"]
