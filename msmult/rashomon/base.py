"""The explorer contract: ``Explorer``, the base class of msmult's explorers, with a default for
every optional hook, and ``as_explorer``, which gives a duck-typed plugin (any object with
``explore``) the same defaults. What an explorer is given and returns: ``ExplorationTask`` and
``Exploration`` (``msmult.rashomon.exploration``)."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from msmult.rashomon.exploration import Exploration, ExplorationTask
from msmult.validation import Configured


class ExplorerProtocol(Protocol):
    """What a duck-typed explorer plugin needs: ``explore``; every other hook is optional."""

    def explore(self, task: ExplorationTask) -> Exploration: ...


class Explorer(Configured):
    """Base class of explorers. Hooks and their defaults:

    - ``name``: the report's name of the explorer (default: the class name);
    - ``crossfit``: True when ``explore`` reads ``ExplorationTask.folds`` (cross-fitted,
      out-of-sample membership losses); otherwise the run uses a held-out split (default False);
    - ``check(test_rows)``: refuses a setting against the test split before any training
      (default: accepts it);
    - ``explore(task) -> Exploration``: the exploration itself (required)."""

    config_key: ClassVar[str] = "rashomon"
    name: ClassVar[str] = "explorer"
    crossfit: ClassVar[bool] = False

    def check(self, test_rows: int) -> None:
        return None

    def explore(self, task: ExplorationTask) -> Exploration:
        raise NotImplementedError(f"{type(self).__name__} must define explore(task)")


class PluginExplorer(Explorer):
    """A duck-typed explorer with the base class's defaults for the hooks it does not define."""

    def __init__(self, plugin: ExplorerProtocol) -> None:
        self.plugin = plugin
        self.name = str(getattr(plugin, "name", type(plugin).__name__))  # type: ignore[misc]
        self.crossfit = bool(getattr(plugin, "crossfit", False))  # type: ignore[misc]

    def check(self, test_rows: int) -> None:
        if hasattr(self.plugin, "check"):
            self.plugin.check(test_rows)

    def explore(self, task: ExplorationTask) -> Exploration:
        return self.plugin.explore(task)


def as_explorer(explorer: Any) -> Explorer:
    """``explorer`` itself when it derives from ``Explorer``, else wrapped in ``PluginExplorer``."""
    return explorer if isinstance(explorer, Explorer) else PluginExplorer(explorer)
