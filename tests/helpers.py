"""Shared test helpers: compose a config in-process, check a refusal's shape, run the real CLI.

Test modules import this module (``from helpers import ...``), never each other or conftest.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict
from scipy.special import xlogy

from msmult import pipeline
from msmult.app import CONFIG_DIR
from msmult.errors import MsmultError
from msmult.rashomon import ExplorationTask

ROOT = Path(__file__).resolve().parents[1]
# Small but real: the shipped data, few epochs, few dropout draws (conf/debug/fast.yaml).
FAST = ("debug=fast",)
# The victim's epochs stay out of debug=fast: scikit-learn victims (victim=logreg, gbdt) have no
# `epochs` key. Every small run uses this one setting, so the shared victim cache hits.
SMALL_VICTIM = ("victim.epochs=2",)

# ``<key>=<value> is not allowed: <what is allowed>[, e.g. <example>].``
REFUSAL = re.compile(
    r"(?P<key>[\w.\[\]]+)=(?P<value>.+?) is not allowed: (?P<allowed>.+?)"
    r"(?:, e\.g\. (?P<example>\S+?))?\.$",
    re.S,
)


class Table:
    """A victim answering fixed probability rows, chosen by the first feature."""

    def __init__(self, rows: list[list[float]]) -> None:
        self.rows = np.array(rows)
        self.n_classes = self.rows.shape[1]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.rows[x[:, 0].astype(int)]


def compose_config(*overrides: str) -> DictConfig:
    """The config ``msmult run OVERRIDES`` would run, composed in-process (no subprocess).

    Hydra's own node is registered (``${hydra:runtime.cwd}``, the ``api`` choice) and then left
    out, as in a Hydra app."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("config", overrides=list(overrides), return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def small(*overrides: str) -> tuple[str, ...]:
    """``overrides`` with the small-run settings (a torch victim also gets few epochs)."""
    torch_victim = not any(o.startswith("victim=") for o in overrides)
    return (*FAST, *(SMALL_VICTIM if torch_victim else ()), *overrides)


def run_in_process(run_dir: Path, *overrides: str, fast: bool = True) -> dict:
    """``msmult run OVERRIDES`` in this process, into ``run_dir``, with the small-run settings
    unless ``fast=False``; returns the report."""
    return pipeline.run(compose_config(*(small(*overrides) if fast else overrides)), run_dir)


def refusal_of(action: Callable[[], Any]) -> str:
    """The one-paragraph message ``action`` is refused with."""
    with pytest.raises(MsmultError) as refused:
        action()
    message = str(refused.value)
    assert "\n" not in message.strip() and "Traceback" not in message
    return message


# what a value checked by msmult.validation may be: a kind, its bounds, a note in parentheses
ALLOWED = re.compile(
    r"it must be (?:a number|a whole number|true or false|a list|a non-empty list of numbers)"
    r"(?: (?:>=|>) -?[\d.e+-]+)?(?: and (?:<=|<) -?[\d.e+-]+| (?:<=|<) -?[\d.e+-]+)?"
    r"(?: \((?:[^()]|\([^()]*\))*\))?(?: or auto \([^()]*\))?"
    r"|allowed: [\w, ]+|each entry must be one of [\w, ]+"
)


def assert_not_allowed(
    message: str, key: str, value: str | None = None, checked: bool = False
) -> str | None:
    """``message`` has the shape ``<key>=<value> is not allowed: <what>[, e.g. <key>=<ok>].`` and
    names ``key`` (and ``value``, as the message writes it); ``checked``: ``<what>`` is one of the
    shapes msmult.validation writes (a kind, its bounds, a note). Returns the example's value."""
    found = REFUSAL.fullmatch(message)
    assert found, message
    assert found["key"] == key, message
    if value is not None:
        assert found["value"] == value, message
    if checked:
        assert ALLOWED.fullmatch(found["allowed"]), message
    if found["example"] is None:
        return None
    example_key, _, example = found["example"].partition("=")
    assert example_key == key, message
    return example


def run_cli(
    *args: str, cwd: Path, cache: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The real ``msmult`` command in a subprocess, with ``env`` added to the environment; the
    victim cache is the shared one (or ``cache``)."""
    env = {**os.environ, **(env or {}), "HYDRA_FULL_ERROR": "0"}
    if cache is not None:
        env["MSMULT_CACHE_DIR"] = str(cache)
    return subprocess.run(
        [sys.executable, "-m", "msmult", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def read_report(run_dir: Path) -> dict:
    return json.loads((run_dir / "report.json").read_text())


def assert_refused_cleanly(process: subprocess.CompletedProcess, run_dir: Path, text: str) -> None:
    """A refusal at the CLI: non-zero exit, ``text`` in the output, no traceback, no report."""
    output = process.stdout + process.stderr
    assert process.returncode != 0, output[-2000:]
    assert text in output, output[-2000:]
    assert "Traceback" not in output
    assert not (run_dir / "report.json").exists()


# --- a tiny exploration task whose surrogate predicts a constant ----------------------------------

FIT_P = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0])  # class-1 share 3/8
HOLDOUT_P = np.array([0.0, 1.0, 0.0, 1.0])  # class-1 share 1/2


def two_class(p: np.ndarray) -> np.ndarray:
    return np.stack([1 - p, p], axis=1)


class Recorder:
    """P(class 1) = the fitted targets' class-1 share (plus ``offset`` times seed % 3, at most
    0.95); remembers the rows it was fitted on."""

    offset = 0.0
    fitted: ClassVar[list] = []

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def fit(self, x: np.ndarray, targets: np.ndarray) -> Recorder:
        Recorder.fitted.append(np.array(x))
        self.p = float(targets[:, 1].mean()) + self.offset * (self.seed % 3)
        self.p = min(0.95, self.p) if self.offset else self.p
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.tile([1 - self.p, self.p], (len(x), 1))


def constant_task(
    model: type = Recorder,
    epsilon: float = 0.02,
    grid: tuple[float, ...] = (),
    seed: int = 7,
    base_seed: int | None = None,
) -> ExplorationTask:
    """8 fit rows (FIT_P), 4 holdout rows (HOLDOUT_P), 3 test rows; the base is ``model`` fitted
    with ``base_seed`` (default ``seed``)."""
    x = np.arange(8.0)[:, None]
    targets = two_class(FIT_P)
    base = model(seed if base_seed is None else base_seed).fit(x, targets)
    Recorder.fitted.clear()
    return ExplorationTask(
        base,
        model,
        x,
        targets,
        np.zeros((4, 1)),
        two_class(HOLDOUT_P),
        {"test": np.zeros((3, 1))},
        epsilon,
        grid,
        seed=seed,
    )


def record_bars(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[dict]:
    """Replace ``module``'s progress bars; returns the (description, total, steps advanced) of
    each bar opened."""
    opened = []

    class Bar:
        def __init__(self, description: str, total: int) -> None:
            self.record = {"description": description, "total": total, "advanced": 0}
            opened.append(self.record)

        def __enter__(self) -> Callable[..., None]:
            return lambda steps=1: self.record.__setitem__(
                "advanced", self.record["advanced"] + steps
            )

        def __exit__(self, *exc: object) -> bool:
            return False

    monkeypatch.setattr(module, "progress_bar", Bar)
    return opened


def shipped(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``cls`` built with the values of its shipped config (the ``conf/`` entry whose
    ``_target_`` names it, where its defaults live), ``args`` / ``kwargs`` replacing some."""
    values = shipped_values(f"{cls.__module__}.{cls.__qualname__}")
    bound = inspect.signature(cls).bind_partial(*args, **kwargs).arguments
    for name, parameter in inspect.signature(cls).parameters.items():
        if name in bound and parameter.kind is inspect.Parameter.VAR_KEYWORD:
            values.update(bound.pop(name))
    return cls(**{**values, **bound})


def shipped_values(target: str) -> dict:
    """The keyword arguments the shipped config gives ``target`` (a class path)."""
    for group, option, path in SHIPPED_NODES:
        cfg = compose_config(f"{group}={option}", "cache.dir=unused")
        node = OmegaConf.select(cfg, path)
        if node is not None and node.get("_target_") == target:
            values = OmegaConf.to_container(node, resolve=True)
            values.pop("_target_")
            return values
    raise LookupError(f"no shipped config builds {target}")


SHIPPED_NODES = [
    ("rashomon", "dropout", "rashomon"),
    ("rashomon", "retrain", "rashomon"),
    ("rashomon", "bootstrap", "rashomon"),
    ("rashomon", "compare", "rashomon"),
    ("rashomon", "awp", "rashomon"),
    ("extremes", "search", "extremes"),
    *(
        ("attack", name, "attack")
        for name in (
            "knockoff",
            "random",
            "active",
            "jacobian",
            "knockoff_adaptive",
            "equation_solving",
        )
    ),
    *(
        ("api", name, "api.defences.0")
        for name in ("rounded", "gaussian_noise", "reverse_sigmoid", "mad")
    ),
]


def modelless_task(
    epsilon: float = 0.1, grid: tuple[float, ...] = (), eval_sets: dict | None = None
) -> ExplorationTask:
    """A task without models (2 fit and 2 holdout rows of uniform targets, 3 test rows): enough
    for the checks that read only its shapes and epsilons."""
    x, targets = np.zeros((2, 1)), np.full((2, 2), 0.5)
    eval_sets = eval_sets or {"test": np.zeros((3, 1))}
    return ExplorationTask(None, None, x, targets, x, targets, eval_sets, epsilon, grid)


# --- capacity solver internals (tests/test_capacity_*internals.py) ---------------------------


def channel_rows(*channels) -> tuple[np.ndarray, np.ndarray]:
    """(r, m, c) channels W and their sum W log W."""
    W = np.array(channels, float)
    return W, xlogy(W, W).sum(-1)


def information(W: np.ndarray, L: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Each row's mutual information (nats) between input p and channel W."""
    from msmult.metrics.capacity import _divergences

    return (p * _divergences(W, L, p)[1]).sum(1)


TWO_ROWS = channel_rows(
    [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.3, 0.4, 0.3]],
    [[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.2, 0.2, 0.6]],
)
