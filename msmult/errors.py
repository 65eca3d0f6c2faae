"""The one error type msmult raises for bad input (config values, files, columns, plugins)."""


class MsmultError(ValueError):
    """Bad input, explained in one paragraph that names the value and what is allowed.

    Plain Python, so the library raises it without the CLI; ``msmult run`` turns it into Hydra's
    compact error (the message alone, no traceback, non-zero exit)."""
