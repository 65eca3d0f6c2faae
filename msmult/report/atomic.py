"""Atomic file writes: write to a temporary sibling, then rename over the target."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path in ``target``'s folder; on success it replaces ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_text(target: Path, text: str) -> None:
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(target: Path, payload: dict) -> None:
    write_text(target, json.dumps(payload, indent=2, sort_keys=False) + "\n")


def write_with(target: Path, writer: Callable[[Path], None]) -> None:
    """Atomic write through a library writer that takes a path (pandas, matplotlib)."""
    with atomic_path(target) as temporary:
        writer(temporary)
