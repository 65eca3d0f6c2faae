"""Run-wide fixtures: one victim cache for the whole test run, one torch thread per test.

Helpers that tests import live in ``tests/helpers.py``; this file is never imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def shared_victim_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One victim cache per test run, shared by every xdist worker and by the ``msmult``
    subprocesses (``MSMULT_CACHE_DIR``, read by ``cache_dir`` in conf/config.yaml): a victim the
    tests train once is a cache hit for every later run with the same settings. Tests that count
    hits and misses set their own cache."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' common folder
    cache = root / "victim-cache"
    cache.mkdir(exist_ok=True)
    before = os.environ.get("MSMULT_CACHE_DIR")
    os.environ["MSMULT_CACHE_DIR"] = str(cache)
    yield cache
    if before is None:
        os.environ.pop("MSMULT_CACHE_DIR", None)
    else:
        os.environ["MSMULT_CACHE_DIR"] = before


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Train in-process models as the pipeline does (threads: 1, fastest for these small models,
    and one per pytest-xdist worker); restore the setting after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
