"""Extraction attacks: how the thief chooses queries and what the API answered.

An attack derives from ``Attack`` (``msmult.attacks.base``: every optional hook has a default) or
is any object with ``run(api, pool, new_surrogate) -> TransferSet`` (``AttackProtocol``), which
the run wraps with ``as_attack``. ``steal`` runs one and sets aside the fidelity holdout.
"""

from msmult.attacks.base import Attack, AttackProtocol, as_attack
from msmult.attacks.stealing import SurrogateFactory, Theft, prepare, steal
from msmult.attacks.transfer_set import TransferSet

__all__ = [
    "Attack",
    "AttackProtocol",
    "SurrogateFactory",
    "Theft",
    "TransferSet",
    "as_attack",
    "prepare",
    "steal",
]
