"""Where the shipped datasets live, and sha256 verification of every file read from there."""

from __future__ import annotations

import hashlib
from pathlib import Path

from msmult.errors import MsmultError

_PACKAGED = Path(__file__).resolve().parent.parent / "datasets"  # wheel: force-included copy
_REPOSITORY = Path(__file__).resolve().parents[2] / "data"  # source tree / editable install


def data_root() -> Path:
    """The folder holding the shipped datasets (packaged copy first, else the repository's data/)."""
    return _PACKAGED if _PACKAGED.is_dir() else _REPOSITORY


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_path(folder: str, name: str, sha256: str) -> Path:
    """Path of a shipped data file after checking it exists and matches its published sha256."""
    path = data_root() / folder / name
    if not path.is_file():
        raise MsmultError(
            f"Shipped data file {path} is missing. msmult ships its datasets inside the package; "
            f"reinstall msmult or restore data/{folder}/{name} from the repository."
        )
    actual = sha256_of(path)
    if actual != sha256:
        raise MsmultError(
            f"Checksum mismatch for {path}: sha256 is {actual}, expected {sha256} "
            f"(see data/{folder}/PROVENANCE.md). The file is corrupt or was modified; restore it "
            "from the repository."
        )
    return path
