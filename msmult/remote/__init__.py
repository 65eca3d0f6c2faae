"""Victims msmult does not train: an HTTP endpoint (``victim=remote``) with its query ledger.

``obtain_victim`` / ``victim_section`` are what ``pipeline.run`` calls; ``RemoteVictim`` is the
``victim=remote`` config's class.
"""

from msmult.remote.obtain import obtain_victim, victim_section
from msmult.remote.victim import RemoteVictim

__all__ = ["RemoteVictim", "obtain_victim", "victim_section"]
