"""The one error type msmult raises for bad input (config values, files, columns)."""

from hydra.errors import CompactHydraException


class MsmultError(CompactHydraException):
    """Bad input: Hydra prints the one-paragraph message without a traceback and exits non-zero."""
