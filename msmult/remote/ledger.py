"""The query ledger: every row sent to an endpoint and its answer, durable before the answer is used.

A JSON-lines file. Line 1 names what the ledger belongs to (the endpoint and the dataset); each
further line is one answered row, ``{"row": [raw values], "answer": [probabilities]}``. A batch is
appended with one write, flushed and fsynced before its answers go back to msmult, so a run killed
at any moment loses at most the batch in flight, and its rerun replays every answered row instead
of paying for it again. A line cut short by a kill is dropped when the ledger is opened (the
complete records are kept). A ledger written for another endpoint or dataset is refused, never
mixed. Appends hold an exclusive ``flock``, so runs that share a ledger do not interleave lines.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from msmult.errors import MsmultError

log = logging.getLogger("msmult")
FORMAT = 1


def row_key(values: Sequence) -> str:
    """The ledger's key of one raw row: its values as compact JSON."""
    return json.dumps(list(values), separators=(",", ":"))


class Ledger:
    """Answers by row key, read from ``path`` (created with ``identity`` when missing)."""

    def __init__(self, path: Path, identity: dict) -> None:
        self.path = Path(path)
        self.identity = identity
        self.answers: dict[str, list[float]] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        with self.locked():
            self.load()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive ``flock`` on the ledger while the block runs."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def load(self) -> None:
        """Read every complete record; write the identity line into a new ledger."""
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) < len(data):
            log.warning(
                "ledger %s ended in a record cut short (a run killed while writing): dropped "
                "%d bytes, kept every complete record",
                self.path,
                len(data) - len(complete),
            )
            os.ftruncate(self._fd, len(complete))
        lines = complete.splitlines()
        if not lines:
            self.write([{"msmult_ledger": FORMAT, **self.identity}])
            return
        self.check_identity(self.parse(lines[0], 1))
        for number, line in enumerate(lines[1:], start=2):
            record = self.parse(line, number)
            self.answers[row_key(record["row"])] = record["answer"]

    def parse(self, line: bytes, number: int) -> dict:
        try:
            record = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None
        wanted = ("msmult_ledger",) if number == 1 else ("row", "answer")
        if not isinstance(record, dict) or any(k not in record for k in wanted):
            raise MsmultError(
                f"Ledger {self.path} has an unreadable line {number} ({line[:60]!r}); it is not "
                "a file msmult wrote whole. Move it away (msmult then starts a new ledger and "
                "pays for every row again) or delete that line."
            )
        return record

    def check_identity(self, header: dict) -> None:
        found = {k: header.get(k) for k in self.identity}
        if found != self.identity:
            raise MsmultError(
                f"Ledger {self.path} was written for {json.dumps(found)}, not for this run's "
                f"{json.dumps(self.identity)}; msmult does not mix answers of different endpoints "
                "or datasets. Give another victim.ledger, or leave it unset (one ledger per "
                "endpoint and dataset under cache.dir/ledgers/)."
            )

    def append(self, keys: Sequence[str], answers: Sequence[Sequence[float]]) -> None:
        """Record answered rows (``keys`` from ``row_key``) durably, then make them readable."""
        with self.locked():
            self.write({"row": json.loads(k), "answer": list(a)} for k, a in zip(keys, answers))
        self.answers.update(zip(keys, (list(a) for a in answers)))

    def write(self, records: Iterable[dict]) -> None:
        """Append ``records`` as lines with one write, then fsync (the caller holds the lock)."""
        text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        os.write(self._fd, text.encode())
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)
