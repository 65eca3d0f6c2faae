"""Optional experiment tracking: ``msmult run tracking=mlflow`` logs each run (each job of a sweep)
as one MLflow run: the flattened config as params, the report's numbers as metrics, and
``report.md``, ``report.json`` and the figures as artifacts. ``tracking=none`` (the default) logs
nothing. MLflow is an optional dependency: ``pip install 'msmult[mlflow]'``.

The default store is a SQLite database, ``mlruns.db`` in the folder msmult runs in (what MLflow 3
expects); a file store is used only when asked for (a folder or ``file:`` URI), and MLflow 3
accepts that only with ``MLFLOW_ALLOW_FILE_STORE=true`` set by the user."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from msmult.errors import MsmultError
from msmult.validation import bad_value

log = logging.getLogger("msmult")
ARTIFACTS = ("report.md", "report.json", "*.png")
MAX_PARAM_CHARS = 6000  # MLflow's limit on one param value


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted.key, leaf)`` pairs of nested dicts and lists (list items keyed by index)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from flatten(inner, f"{prefix}{key}.")
    elif isinstance(value, (list, tuple)) and any(isinstance(v, (dict, list)) for v in value):
        for index, inner in enumerate(value):
            yield from flatten(inner, f"{prefix}{index}.")
    else:
        yield prefix[:-1], value


def metric_name(key: str) -> str:
    """A key in the characters MLflow accepts (letters, digits, ``_-. /``)."""
    return re.sub(r"[^\w\-. /]", "_", key)


def report_metrics(report: dict) -> dict[str, float]:
    """Every finite number of the report (booleans and lists of numbers left out), by dotted key."""
    return {
        metric_name(key): float(value)
        for key, value in flatten(report)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    }


def config_params(config: dict) -> dict[str, str]:
    """The flattened, resolved config as MLflow params (values as text, cut to MLflow's limit)."""
    return {metric_name(key): str(value)[:MAX_PARAM_CHARS] for key, value in flatten(config)}


class NoTracking:
    """``tracking=none``: nothing is logged."""

    def log_run(self, config: dict, report: dict, run_dir: Path, run_name: str) -> None:
        return None


class MlflowTracking:
    """Logs a finished run to MLflow at ``tracking_uri`` (``sqlite:///mlruns.db``, the default; a
    server URL, e.g. from ``MLFLOW_TRACKING_URI``; a folder or ``file:`` URI is a file store), in
    ``experiment``."""

    def __init__(self, tracking_uri: str, experiment: str = "msmult") -> None:
        if not isinstance(tracking_uri, str) or not tracking_uri.strip():
            raise bad_value(
                "tracking.tracking_uri",
                tracking_uri,
                "it must be a folder or URL",
                "tracking.tracking_uri=mlruns",
            )
        if not isinstance(experiment, str) or not experiment.strip():
            raise bad_value(
                "tracking.experiment",
                experiment,
                "it must be a non-empty name",
                "tracking.experiment=msmult",
            )
        try:
            import mlflow  # noqa: F401  (optional dependency, checked before any work)
        except ImportError:
            raise MsmultError(
                "tracking=mlflow needs MLflow, which is not installed: pip install "
                "'msmult[mlflow]' (or drop tracking=mlflow)."
            ) from None
        self.tracking_uri = file_store_uri(tracking_uri)
        self.experiment = experiment
        if self.tracking_uri.startswith("file:") and not file_store_opens(self.tracking_uri):
            raise bad_value(
                "tracking.tracking_uri",
                tracking_uri,
                "it is a file store, which MLflow refuses unless MLFLOW_ALLOW_FILE_STORE=true is "
                "set; use a database or a server",
                "tracking.tracking_uri=sqlite:///mlruns.db",
            )

    def log_run(self, config: dict, report: dict, run_dir: Path, run_name: str) -> None:
        """Log the run; a tracking failure is a warning (the run's own outputs are complete)."""
        try:
            run_id = self.send(config, report, run_dir, run_name)
        except Exception as err:  # noqa: BLE001  (server down, store unreadable: warn, keep outputs)
            log.warning(
                "tracking: MLflow logging to %s failed (%s: %s); the run's outputs in %s "
                "are complete",
                self.tracking_uri,
                type(err).__name__,
                err,
                run_dir,
            )
            return
        log.info("tracking: logged MLflow run %s to %s", run_id, self.tracking_uri)

    def send(self, config: dict, report: dict, run_dir: Path, run_name: str) -> str:
        import mlflow

        client = mlflow.MlflowClient(self.tracking_uri)
        found = client.get_experiment_by_name(self.experiment)
        experiment_id = found.experiment_id if found else client.create_experiment(self.experiment)
        run = client.create_run(experiment_id, run_name=run_name, tags={"run_dir": str(run_dir)})
        run_id = run.info.run_id
        params = [mlflow.entities.Param(k, v) for k, v in config_params(config).items()]
        metrics = [mlflow.entities.Metric(k, v, 0, 0) for k, v in report_metrics(report).items()]
        for start in range(0, len(params), 100):  # MLflow's batch limit on params
            client.log_batch(run_id, params=params[start : start + 100])
        for start in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[start : start + 1000])
        for pattern in ARTIFACTS:
            for path in sorted(run_dir.glob(pattern)):
                client.log_artifact(run_id, str(path))
        client.set_terminated(run_id)
        return run_id


def file_store_uri(uri: str) -> str:
    """A plain folder becomes an absolute ``file:`` URI; URLs (``http:``, ``file:``, ...) stay."""
    if re.match(r"^[a-zA-Z][\w+.-]+:", uri):
        return uri
    return Path(uri).expanduser().resolve().as_uri()


def file_store_opens(uri: str) -> bool:
    """Whether MLflow opens the file store at ``uri`` (MLflow 3 only with
    ``MLFLOW_ALLOW_FILE_STORE=true``), checked before any work."""
    import mlflow

    try:
        mlflow.MlflowClient(uri)
    except mlflow.exceptions.MlflowException:
        return False
    return True
