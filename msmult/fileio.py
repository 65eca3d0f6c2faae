"""File helpers shared by every stage: atomic writes (temporary sibling, then rename), sha256 of
files and of JSON-ready values, and the packaged-or-repository lookup of shipped folders."""

from __future__ import annotations

import hashlib
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
    os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp makes 0600; honour the umask
    try:
        yield Path(temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def current_umask() -> int:
    """The process umask (read by setting and restoring it: ``os`` offers no plain getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text(target: Path, text: str) -> None:
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(target: Path, payload: dict) -> None:
    write_text(target, json.dumps(payload, indent=2, sort_keys=False) + "\n")


def write_with(target: Path, writer: Callable[[Path], None]) -> None:
    """Atomic write through a library writer that takes a path (pandas, matplotlib)."""
    with atomic_path(target) as temporary:
        writer(temporary)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of_value(value: object) -> str:
    """Hex sha256 of a JSON-ready value (keys sorted): the hash of a resolved config."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def shipped_folder(name: str) -> Path:
    """A folder shipped with msmult: the wheel's packaged copy (``msmult/<packaged>``) when it
    exists, else the repository's top-level folder (source tree, editable install)."""
    package = Path(__file__).resolve().parent
    packaged = package / PACKAGED_NAMES.get(name, name)
    return packaged if packaged.is_dir() else package.parent / name


PACKAGED_NAMES = {"data": "datasets"}  # pyproject's force-include renames data/ in the wheel
