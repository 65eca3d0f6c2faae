"""Where the shipped datasets live, and sha256 verification of every file read from there."""

from __future__ import annotations

from pathlib import Path

from msmult.errors import MsmultError
from msmult.fileio import sha256_of, shipped_folder


def data_root() -> Path:
    """The folder of the shipped datasets (packaged copy first, else the repository's data/)."""
    return shipped_folder("data")


def shipped_hashes(folder: str, *files: tuple[str, str]) -> dict[str, str]:
    """``{"<folder>/<name>": sha256}`` for shipped files read through ``verified_path`` (their
    bytes match these hashes): what ``Splits.data_sha256`` records for the victim cache."""
    return {f"{folder}/{name}": sha256 for name, sha256 in files}


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
